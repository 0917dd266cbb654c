/* libFuzzer target: SSH_AUTH_INFO_0 as pam_pgl.so reads it (lines of
 * "publickey TYPE BASE64" with a certificate blob).  Any bytes either
 * fail or give a NUL-terminated, printable key ID of bounded length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgl_authinfo ai;
	char *copy;
	size_t i, n;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (pgl_authinfo_parse(copy, size, &ai) == 0) {
		n = strnlen(ai.key_id, sizeof(ai.key_id));
		if (n >= sizeof(ai.key_id) || n > PGL_AUTHINFO_KEYID_MAX ||
		    strnlen(ai.type, sizeof(ai.type)) >= sizeof(ai.type) ||
		    (ai.cert_type != 1 && ai.cert_type != 2))
			abort();
		for (i = 0; i < n; i++)
			if (ai.key_id[i] < 0x20 || ai.key_id[i] >= 0x7f)
				abort();
	}
	free(copy);
	return 0;
}
