/* Parsing of command-line values: numbers, times, serial ranges. */
#ifndef PGL_ARGS_H
#define PGL_ARGS_H

#include <stdint.h>

#include "krl.h"

/* A decimal unsigned 64-bit number, nothing else. */
int pgl_parse_u64(const char *s, uint64_t *out);
/* A duration: N with an optional s/m/h/d/w suffix, in seconds. */
int pgl_parse_duration(const char *s, uint64_t *out);
/* now, forever (if allow_forever), @EPOCH, +DURATION, -DURATION, or
 * YYYYMMDD[HHMM[SS]] in UTC. */
int pgl_parse_time(const char *s, uint64_t now, int allow_forever,
    uint64_t *out);
/* N or A-B, non-zero, A <= B. */
int pgl_parse_serial_range(const char *s, struct pgl_serial_range *out);

#endif
