/* libFuzzer target: private key files (OpenSSH format and PEM). */
#include <stdint.h>
#include <stdlib.h>

#include "sshkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgl_key *k = NULL, *k2 = NULL;
	struct pgl_buf *b;

	if (pgl_key_parse_private((const char *)data, size, &k) != 0)
		return 0;
	/* A key that loads must survive a write and a re-read. */
	if ((b = pgl_buf_new()) == NULL ||
	    pgl_key_format_private(k, "fuzz", b) != 0 ||
	    pgl_key_parse_private((const char *)pgl_buf_ptr(b), pgl_buf_len(b),
	    &k2) != 0 || !pgl_key_equal_public(k, k2))
		abort();
	pgl_buf_free(b);
	pgl_key_free(k2);
	pgl_key_free(k);
	return 0;
}
