/* A fixed-size open hash of token buckets.  When full, the stalest
 * bucket is reused: a flood of distinct keys costs memory bounded by
 * the table, and at worst forgets old, idle buckets. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "rate.h"

#define SLOTS 4096
#define PROBE 16
#define KEY_MAX 64

struct bucket {
	char key[KEY_MAX];
	double tokens;
	double last;            /* seconds, monotonic */
};

struct pgl_rate {
	pthread_mutex_t lock;
	double per_second;
	double burst;
	struct bucket b[SLOTS];
};

int
pgl_rate_new(unsigned per_minute, unsigned burst, struct pgl_rate **out)
{
	struct pgl_rate *r;

	if (per_minute == 0 || burst == 0)
		return PGL_E_INVALID_ARG;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return PGL_E_NOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->per_second = per_minute / 60.0;
	r->burst = burst;
	*out = r;
	return 0;
}

void
pgl_rate_free(struct pgl_rate *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static uint32_t
hash(const char *s)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

unsigned
pgl_rate_take(struct pgl_rate *r, const char *key)
{
	struct timespec ts;
	struct bucket *b = NULL, *stalest = NULL;
	double now, wait;
	uint32_t h = hash(key);
	unsigned i, ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_lock(&r->lock);
	for (i = 0; i < PROBE; i++) {
		struct bucket *c = &r->b[(h + i) % SLOTS];

		if (strncmp(c->key, key, KEY_MAX - 1) == 0 && c->key[0] != '\0') {
			b = c;
			break;
		}
		if (stalest == NULL || c->last < stalest->last)
			stalest = c;
	}
	if (b == NULL) {
		b = stalest;
		strncpy(b->key, key, KEY_MAX - 1);
		b->key[KEY_MAX - 1] = '\0';
		b->tokens = r->burst;
		b->last = now;
	}
	b->tokens += (now - b->last) * r->per_second;
	if (b->tokens > r->burst)
		b->tokens = r->burst;
	b->last = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else {
		wait = (1.0 - b->tokens) / r->per_second;
		ret = wait < 1.0 ? 1 : (unsigned)(wait + 0.999);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}
