/* Certificate serials: a keyed permutation of the issue sequence.
 *
 * Serials look random to anyone without the key, yet two certificates
 * never share one (a permutation is a bijection), so the store needs no
 * index over scattered random values and can append its records. */
#ifndef PGL_SERIAL_H
#define PGL_SERIAL_H

#include <stdint.h>

#define PGL_SERIAL_KEY_LEN 16

/* The serial of sequence number n. */
uint64_t pgl_serial_permute(const uint8_t key[PGL_SERIAL_KEY_LEN],
    uint64_t n);
/* The sequence number of serial s (the inverse). */
uint64_t pgl_serial_unpermute(const uint8_t key[PGL_SERIAL_KEY_LEN],
    uint64_t s);

#endif
