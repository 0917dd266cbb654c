/* Per-key token buckets: `rate` requests a minute, bursts of `burst`. */
#ifndef PGL_RATE_H
#define PGL_RATE_H

#include <stdint.h>

struct pgl_rate;

int pgl_rate_new(unsigned per_minute, unsigned burst, struct pgl_rate **out);
void pgl_rate_free(struct pgl_rate *r);
/* 0 if key may proceed now; else the seconds to wait (>= 1). */
unsigned pgl_rate_take(struct pgl_rate *r, const char *key);

#endif
