/* libFuzzer target: the cache reader.  Any bytes, read as a users cache
 * and as a shadow cache, are either refused by the header check or give
 * lookups that stay inside the data and answer only what was asked for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "../host/cache-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgl_cache c;
	uint8_t *copy;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (pgl_cache_from_memory(&c, copy, size, PGL_CACHE_USERS) == 0 &&
	    cc_check_users(&c) != 0)
		abort();
	if (pgl_cache_from_memory(&c, copy, size, PGL_CACHE_SHADOW) == 0 &&
	    cc_check_shadow(&c) != 0)
		abort();
	free(copy);
	return 0;
}
