/* libFuzzer target: the pgl client's parsers of the signer's answers
 * (cli/response.c).  The first byte picks the parser: 0 GET /v1/me,
 * 1 POST /v1/certs/user, 2 GET /v1/ca, 3 an error body, 4 a certificate
 * line's validity.  Whatever is accepted must hold only what the client
 * may write into ssh arguments, ssh_config and known_hosts: valid
 * resource names and addresses, a valid username, no control
 * characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"
#include "response.h"
#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_resources(const struct pgl_resource_info *v, size_t n, int signed_)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!pgl_valid_resource_name(v[i].name) ||
		    !pgl_valid_address(v[i].address) ||
		    v[i].port < 1 || v[i].port > 65535 ||
		    (v[i].via != NULL && !pgl_valid_resource_name(v[i].via)) ||
		    (signed_ && (v[i].principal == NULL ||
		    pgl_has_ctrl(v[i].principal))))
			abort();
		for (j = 0; j < v[i].naliases; j++)
			if (!pgl_valid_resource_name(v[i].aliases[j]))
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pgl_me *me = NULL;
	struct pgl_signed *sg = NULL;
	char **keys = NULL, *msg = NULL, *line;
	const char *s = (const char *)data + 1;
	uint64_t va, vb;
	size_t n = size > 0 ? size - 1 : 0, nkeys = 0, i;

	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0:
		if (pgl_resp_me(s, n, &me) == 0) {
			if (me->identity == NULL || pgl_has_ctrl(me->identity) ||
			    (me->username != NULL &&
			    !pgl_username_valid(me->username)))
				abort();
			check_resources(me->res, me->nres, 0);
			if (me->nres > 0 && pgl_me_find(me, me->res[0].name) !=
			    &me->res[0])
				abort();
		}
		pgl_me_free(me);
		break;
	case 1:
		if (pgl_resp_signed(s, n, &sg) == 0) {
			if (!pgl_username_valid(sg->username) || sg->nres == 0 ||
			    sg->valid_after >= sg->valid_before ||
			    pgl_has_ctrl(sg->certificate) ||
			    pgl_has_ctrl(sg->host_ca) ||
			    pgl_cert_line_validity(sg->certificate, &va, &vb) != 0 ||
			    va != sg->valid_after || vb != sg->valid_before)
				abort();
			check_resources(sg->res, sg->nres, 1);
		}
		pgl_signed_free(sg);
		break;
	case 2:
		if (pgl_resp_ca(s, n, &keys, &nkeys) == 0)
			for (i = 0; i < nkeys; i++)
				if (pgl_has_ctrl(keys[i]))
					abort();
		pgl_strv_free(keys, nkeys);
		break;
	case 3:
		if (pgl_resp_error(s, n, &msg) == 0 && pgl_has_ctrl(msg))
			abort();
		free(msg);
		break;
	default:
		/* A C string, as the client reads a line. */
		if ((line = strndup(s, n)) == NULL)
			return 0;
		pgl_cert_line_validity(line, &va, &vb);
		free(line);
		break;
	}
	return 0;
}
