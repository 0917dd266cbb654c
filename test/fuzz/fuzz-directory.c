/* libFuzzer target: the host directory parser (pgl-host sync and
 * resolve).  Any bytes are either refused or give a directory whose
 * every entry the cache writer then checks again; what the writer
 * accepts must read back as a valid cache. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "directory.h"
#include "../host/cache-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_err e;
	struct directory *d = NULL;
	struct pgl_cache_builder *b = NULL;
	struct pgl_cache c;
	uint8_t *copy, *out = NULL;
	size_t outlen = 0, skipped = 0;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (directory_parse(copy, size, &d, &e) != 0)
		goto out;
	(void)directory_user(d, "alice");
	if ((b = pgl_cache_builder_new("vm-01", d->uid_min, d->uid_max)) == NULL)
		goto out;
	(void)pgl_cache_builder_set_local(b, NULL, NULL);
	if (directory_add(d, b, NULL, 1, NULL, &skipped, &e) != 0)
		goto out;
	if (pgl_cache_builder_encode(b, PGL_CACHE_USERS, &out, &outlen) == 0) {
		if (pgl_cache_from_memory(&c, out, outlen, PGL_CACHE_USERS) != 0 ||
		    cc_check_users(&c) != 0)
			abort();
	}
 out:
	free(out);
	pgl_cache_builder_free(b);
	directory_free(d);
	free(copy);
	return 0;
}
