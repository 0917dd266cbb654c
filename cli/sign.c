/* pgl sign [--ttl T] RESOURCE... --key-file KEY.pub [--out CERT]
 *
 * Signs an existing public key for tools that manage their own keys.
 * The certificate is written atomically, 0644 (it is public), by default
 * beside the key as ssh expects it: KEY-cert.pub. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fileio.h"
#include "pgl.h"

#define MAX_RESOURCES 8

static void
usage_sign(void)
{
	fprintf(stderr, "usage: pgl sign [--ttl SECONDS] RESOURCE... "
	    "--key-file KEY.pub [--out CERT]\n");
}

int
cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-file", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pgl_config *cfg = NULL;
	struct pgl_signed *sg = NULL;
	struct pgl_key *key = NULL;
	struct pgl_buf *b = NULL;
	struct cli_err e = { 0, "" };
	const char *keyfile = NULL, *outarg = NULL;
	const char *res[MAX_RESOURCES];
	char *out = NULL, *line = NULL, va[32], vb[32];
	size_t n, i, nres = 0;
	long ttl = 0;
	time_t t;
	int c, r, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'o':
			outarg = optarg;
			break;
		case 't':
			if (parse_ttl(optarg, &ttl) != 0) {
				fprintf(stderr, "%s: --ttl %s: not a duration\n",
				    PGL_PROG, optarg);
				return PGL_EXIT_USAGE;
			}
			break;
		case 'h':
			usage_sign();
			return PGL_EXIT_OK;
		default:
			usage_sign();
			return PGL_EXIT_USAGE;
		}
	}
	if (keyfile == NULL || optind == argc ||
	    argc - optind > MAX_RESOURCES) {
		usage_sign();
		return PGL_EXIT_USAGE;
	}
	for (; optind < argc; optind++)
		res[nres++] = argv[optind];
	/* A public key only: never send (or read) a private one. */
	if ((r = pgl_file_read(keyfile, PGL_PUBKEY_LINE_MAX, &b)) != 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "%s: %s", keyfile,
		    r == PGL_E_SYSTEM ? strerror(errno) : pgl_strerror(r));
		goto fail;
	}
	n = pgl_buf_len(b);
	while (n > 0 && (pgl_buf_ptr(b)[n - 1] == '\n' ||
	    pgl_buf_ptr(b)[n - 1] == '\r'))
		n--;
	if ((r = pgl_key_parse_public_line((const char *)pgl_buf_ptr(b), n,
	    &key, NULL)) != 0 ||
	    (r = pgl_key_format_public_line(key, NULL, &line)) != 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "%s: not an OpenSSH public key "
		    "line: %s", keyfile, pgl_strerror(r));
		goto fail;
	}
	if (outarg != NULL)
		out = strdup(outarg);
	else {
		n = strlen(keyfile);
		if (n > 4 && strcmp(keyfile + n - 4, ".pub") == 0)
			n -= 4;
		if (asprintf(&out, "%.*s-cert.pub", (int)n, keyfile) < 0)
			out = NULL;
	}
	if (out == NULL) {
		cli_seterr(&e, PGL_EXIT_ERROR, "out of memory");
		goto fail;
	}
	if (cfg_load(&cfg, &e) != 0 ||
	    signer_sign(cfg, line, res, nres, ttl, &sg, &e) != 0)
		goto fail;
	pgl_buf_reset(b);
	if ((r = pgl_buf_put(b, sg->certificate, strlen(sg->certificate))) != 0 ||
	    (r = pgl_buf_put(b, "\n", 1)) != 0 ||
	    (r = pgl_file_write_atomic(out, pgl_buf_ptr(b), pgl_buf_len(b),
	    0644, 0)) != 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "%s: %s", out, r == PGL_E_SYSTEM ?
		    strerror(errno) : pgl_strerror(r));
		goto fail;
	}
	t = (time_t)sg->valid_after;
	strftime(va, sizeof(va), "%Y-%m-%dT%H:%M:%S", localtime(&t));
	t = (time_t)sg->valid_before;
	strftime(vb, sizeof(vb), "%Y-%m-%dT%H:%M:%S", localtime(&t));
	fprintf(stderr, "%s: wrote %s: serial %s, valid %s to %s, as %s on",
	    PGL_PROG, out, sg->serial, va, vb, sg->username);
	for (i = 0; i < sg->nres; i++)
		fprintf(stderr, " %s (%s:%u)", sg->res[i].name,
		    sg->res[i].address, sg->res[i].port);
	fputc('\n', stderr);
	ret = PGL_EXIT_OK;
	goto out;
 fail:
	ret = cli_report(&e);
 out:
	pgl_buf_free(b);
	pgl_key_free(key);
	pgl_signed_free(sg);
	cfg_free(cfg);
	free(line);
	free(out);
	return ret;
}
