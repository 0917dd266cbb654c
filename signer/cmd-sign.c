/* pgl-signer sign: one certificate for one public key, like
 * ssh-keygen -s.  Nothing is written unless everything checks out. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "args.h"
#include "cert.h"
#include "cli.h"
#include "err.h"
#include "fileio.h"

#define BACKDATE 60             /* seconds, for clock skew */
#define DEFAULT_TTL 300

/* Splits NAME=VALUE in place; a bare NAME is a flag. */
static int
add_option(struct pgl_cert_option *o, size_t *n, char *arg)
{
	char *eq;

	if (*n >= PGL_CERT_MAX_OPTIONS)
		return PGL_E_TOO_LARGE;
	o[*n].name = arg;
	o[*n].value = NULL;
	if ((eq = strchr(arg, '=')) != NULL) {
		*eq = '\0';
		o[*n].value = eq + 1;
	}
	(*n)++;
	return 0;
}

static char *
cert_path_for(const char *key_path)
{
	size_t len = strlen(key_path);
	char *out = NULL;

	if (len > 4 && strcmp(key_path + len - 4, ".pub") == 0)
		len -= 4;
	if (asprintf(&out, "%.*s-cert.pub", (int)len, key_path) < 0)
		return NULL;
	return out;
}

static int
random_serial(uint64_t *out)
{
	uint64_t v = 0;

	while (v == 0)
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return PGL_E_CRYPTO;
	*out = v;
	return 0;
}

int
cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "principal", required_argument, NULL, 'n' },
		{ "key-id", required_argument, NULL, 'I' },
		{ "serial", required_argument, NULL, 'z' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "valid-from", required_argument, NULL, 'F' },
		{ "valid-to", required_argument, NULL, 'V' },
		{ "host", no_argument, NULL, 'h' },
		{ "extension", required_argument, NULL, 'e' },
		{ "critical-option", required_argument, NULL, 'O' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ca_path = NULL, *key_path = NULL, *out_path = NULL;
	const char *serial_arg = NULL, *ttl_arg = NULL, *from_arg = NULL;
	const char *to_arg = NULL, *what = NULL;
	const char **principals = NULL;
	struct pgl_cert_option crit[PGL_CERT_MAX_OPTIONS];
	struct pgl_cert_option ext[PGL_CERT_MAX_OPTIONS];
	struct pgl_cert_req req;
	struct pgl_key *ca = NULL, *subject = NULL;
	struct pgl_buf *blob = NULL;
	char *comment = NULL, *body = NULL, *line = NULL, *cert_path = NULL;
	size_t nprincipals = 0, ncrit = 0, next = 0;
	uint64_t now = (uint64_t)time(NULL), ttl = DEFAULT_TTL;
	int c, r, host = 0, ret = 1;

	memset(&req, 0, sizeof(req));
	if ((principals = calloc((size_t)argc, sizeof(*principals))) == NULL) {
		cli_error_code(NULL, PGL_E_NOMEM);
		return 1;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ca_path = optarg; break;
		case 'k': key_path = optarg; break;
		case 'n': principals[nprincipals++] = optarg; break;
		case 'I': req.key_id = optarg; break;
		case 'z': serial_arg = optarg; break;
		case 'T': ttl_arg = optarg; break;
		case 'F': from_arg = optarg; break;
		case 'V': to_arg = optarg; break;
		case 'h': host = 1; break;
		case 'o': out_path = optarg; break;
		case 'e':
		case 'O':
			if (add_option(c == 'e' ? ext : crit, c == 'e' ? &next :
			    &ncrit, optarg) != 0) {
				cli_error(c == 'e' ? "--extension" :
				    "--critical-option", "too many options");
				ret = 2;
				goto out;
			}
			break;
		default:
			ret = 2;
			goto out;
		}
	}
	if (optind != argc || ca_path == NULL || key_path == NULL ||
	    req.key_id == NULL) {
		cli_error("sign", "--ca, --key and --key-id are required "
		    "(see pgl-signer --help)");
		ret = 2;
		goto out;
	}
	if (ttl_arg != NULL && (from_arg != NULL || to_arg != NULL)) {
		cli_error("--ttl", "cannot be combined with --valid-from/--valid-to");
		ret = 2;
		goto out;
	}
	if (ttl_arg != NULL && (pgl_parse_duration(ttl_arg, &ttl) != 0 ||
	    ttl == 0 || ttl > UINT64_MAX - now)) {
		cli_error("--ttl", "invalid duration '%s'", ttl_arg);
		goto out;
	}
	req.valid_after = now - BACKDATE;
	req.valid_before = now + ttl;
	if (from_arg != NULL && pgl_parse_time(from_arg, now, 0,
	    &req.valid_after) != 0) {
		cli_error("--valid-from", "invalid time '%s'", from_arg);
		goto out;
	}
	if (to_arg != NULL && pgl_parse_time(to_arg, now, 1,
	    &req.valid_before) != 0) {
		cli_error("--valid-to", "invalid time '%s'", to_arg);
		goto out;
	}
	if (serial_arg != NULL) {
		if (pgl_parse_u64(serial_arg, &req.serial) != 0) {
			cli_error("--serial", "invalid number '%s'", serial_arg);
			goto out;
		}
	} else if ((r = random_serial(&req.serial)) != 0) {
		cli_error_code("serial", r);
		goto out;
	}
	req.type = host ? PGL_CERT_TYPE_HOST : PGL_CERT_TYPE_USER;
	req.principals = principals;
	req.nprincipals = nprincipals;
	req.critical = crit;
	req.ncritical = ncrit;
	if (next > 0) {
		req.extensions = ext;
		req.nextensions = next;
	} else if (!host) {
		req.extensions = pgl_cert_default_extensions;
		req.nextensions = pgl_cert_ndefault_extensions;
	}
	/* Check the request before touching any key file. */
	if ((r = pgl_cert_check(&req, &what)) != 0) {
		cli_error(what, "%s", pgl_strerror(r));
		goto out;
	}
	if (cli_load_public_key(key_path, &subject, &comment) != 0 ||
	    cli_load_private_key(ca_path, &ca) != 0)
		goto out;
	if ((blob = pgl_buf_new()) == NULL) {
		cli_error_code(NULL, PGL_E_NOMEM);
		goto out;
	}
	if ((r = pgl_cert_sign(subject, ca, &req, blob, &what)) != 0) {
		cli_error(what != NULL ? what : "signing", "%s", pgl_strerror(r));
		goto out;
	}
	if ((r = pgl_cert_format_line(subject->type, blob, comment, &body)) != 0 ||
	    asprintf(&line, "%s\n", body) < 0) {
		cli_error_code("encoding", r != 0 ? r : PGL_E_NOMEM);
		goto out;
	}
	if (out_path == NULL && (out_path = cert_path = cert_path_for(key_path)) == NULL) {
		cli_error_code(NULL, PGL_E_NOMEM);
		goto out;
	}
	if ((r = pgl_file_write_atomic(out_path, line, strlen(line), 0644,
	    0)) != 0) {
		cli_error_code(out_path, r);
		goto out;
	}
	printf("%s\n", out_path);
	ret = 0;
 out:
	pgl_key_free(ca);
	pgl_key_free(subject);
	pgl_buf_free(blob);
	free(principals);
	free(comment);
	free(body);
	free(line);
	free(cert_path);
	return ret;
}
