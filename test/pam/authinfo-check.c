/* authinfo-check: reads an SSH_AUTH_INFO_0 value on stdin and prints
 * what pam_pgl.so reads from it:
 *
 *   type=TYPE serial=N cert_type=N key_id=ESCAPED
 *   error=MESSAGE
 *
 * With --mutate, also parses every truncation of the input and every
 * one-character change of each base64 character (the blob's bits), and
 * checks that each either fails or gives a printable key ID; prints
 * "mutations=N ok" or exits 1.  Run under ASan, a read past the input
 * would abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authinfo.h"
#include "err.h"

#define IN_MAX (1024 * 1024)

static int
check(const char *s, size_t n)
{
	struct pgl_authinfo ai;
	char *copy;
	size_t i;
	int r;

	/* An exact-size copy, so ASan sees a read past the end. */
	if ((copy = malloc(n == 0 ? 1 : n)) == NULL)
		return -1;
	memcpy(copy, s, n);
	r = pgl_authinfo_parse(copy, n, &ai);
	free(copy);
	if (r != 0)
		return 0;
	for (i = 0; ai.key_id[i] != '\0'; i++)
		if (ai.key_id[i] < 0x20 || ai.key_id[i] >= 0x7f ||
		    i > PGL_AUTHINFO_KEYID_MAX)
			return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct pgl_authinfo ai;
	char *in, *m;
	size_t n, i, count = 0;
	int r;

	if ((in = malloc(IN_MAX)) == NULL)
		return 2;
	n = fread(in, 1, IN_MAX, stdin);
	if ((r = pgl_authinfo_parse(in, n, &ai)) == 0)
		printf("type=%s serial=%llu cert_type=%u key_id=%s\n", ai.type,
		    (unsigned long long)ai.serial, ai.cert_type, ai.key_id);
	else
		printf("error=%s\n", pgl_strerror(r));
	if (argc > 1 && strcmp(argv[1], "--mutate") == 0) {
		if ((m = malloc(n == 0 ? 1 : n)) == NULL)
			return 2;
		for (i = 0; i <= n; i++, count++)
			if (check(in, i) != 0) {
				printf("truncation at %zu: bad key ID\n", i);
				return 1;
			}
		for (i = 0; i < n; i++) {
			const char *p = strchr(b64, in[i]);

			if (in[i] == '\0' || p == NULL)
				continue;
			memcpy(m, in, n);
			m[i] = b64[(size_t)(p - b64 + 1) % 64];
			count++;
			if (check(m, n) != 0) {
				printf("change at %zu: bad key ID\n", i);
				return 1;
			}
		}
		printf("mutations=%zu ok\n", count);
		free(m);
	}
	free(in);
	return 0;
}
