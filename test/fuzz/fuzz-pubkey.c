/* libFuzzer target: OpenSSH public key lines and wire blobs. */
#include <stdint.h>
#include <stdlib.h>

#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgl_key *k = NULL;
	struct pgl_buf *b;
	char *comment = NULL;

	if (pgl_key_parse_public_line((const char *)data, size, &k,
	    &comment) == 0) {
		/* Whatever parses must re-encode to a blob that parses to
		 * the same key. */
		if ((b = pgl_buf_new()) == NULL ||
		    pgl_key_put_public(k, b) != 0)
			abort();
		{
			struct pgl_key *k2 = NULL;

			if (pgl_key_from_blob(pgl_buf_ptr(b), pgl_buf_len(b),
			    &k2) != 0 || !pgl_key_equal_public(k, k2))
				abort();
			pgl_key_free(k2);
		}
		pgl_buf_free(b);
		free(comment);
		pgl_key_free(k);
	}
	k = NULL;
	if (pgl_key_from_blob(data, size, &k) == 0)
		pgl_key_free(k);
	return 0;
}
