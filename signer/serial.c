/* A balanced Feistel network over the 64-bit sequence number, SipHash-2-4
 * (libsodium) as the round function.  Eight rounds: far more than the
 * four a pseudorandom permutation needs, at ~15 ns each. */
#include <stddef.h>

#include <sodium.h>

#include "serial.h"

#define ROUNDS 8

static uint32_t
round_fn(const uint8_t key[PGL_SERIAL_KEY_LEN], unsigned i, uint32_t half)
{
	uint8_t in[8], out[crypto_shorthash_siphash24_BYTES];
	size_t k;

	/* Little-endian round number and half: the same on every host. */
	for (k = 0; k < 4; k++) {
		in[k] = (uint8_t)(half >> (8 * k));
		in[4 + k] = (uint8_t)(i >> (8 * k));
	}
	crypto_shorthash_siphash24(out, in, sizeof(in), key);
	return (uint32_t)out[0] | (uint32_t)out[1] << 8 |
	    (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
}

uint64_t
pgl_serial_permute(const uint8_t key[PGL_SERIAL_KEY_LEN], uint64_t n)
{
	uint32_t l = (uint32_t)(n >> 32), r = (uint32_t)n, t;
	unsigned i;

	for (i = 0; i < ROUNDS; i++) {
		t = l ^ round_fn(key, i, r);
		l = r;
		r = t;
	}
	return (uint64_t)l << 32 | r;
}

uint64_t
pgl_serial_unpermute(const uint8_t key[PGL_SERIAL_KEY_LEN], uint64_t s)
{
	uint32_t l = (uint32_t)(s >> 32), r = (uint32_t)s, t;
	unsigned i;

	for (i = ROUNDS; i-- > 0;) {
		t = r ^ round_fn(key, i, l);
		r = l;
		l = t;
	}
	return (uint64_t)l << 32 | r;
}
