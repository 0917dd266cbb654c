/* pgl-signer init: the user and host CA key pairs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "fileio.h"

enum { NFILES = 4 };

static const struct {
	const char *name;
	enum pgl_key_type type;
} key_types[] = {
	{ "ed25519", PGL_KEY_ED25519 },
	{ "ecdsa-p256", PGL_KEY_ECDSA_P256 },
	{ "ecdsa-p384", PGL_KEY_ECDSA_P384 },
	{ "rsa", PGL_KEY_RSA },
};

/* The private and public halves of one CA, ready to write. */
static int
make_ca(enum pgl_key_type t, const char *comment, struct pgl_buf *priv,
    char **pub, char **fp)
{
	struct pgl_key *k = NULL;
	int r;

	if ((r = pgl_key_generate(t, 0, &k)) != 0 ||
	    (r = pgl_key_format_private(k, comment, priv)) != 0 ||
	    (r = pgl_key_format_public_line(k, comment, pub)) != 0 ||
	    (r = pgl_key_fingerprint(k, fp)) != 0)
		goto out;
 out:
	pgl_key_free(k);
	return r;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key-type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const ca_names[2] = { "user_ca", "host_ca" };
	static const char *const comments[2] = { "pgl user CA", "pgl host CA" };
	const char *dir = NULL, *type_name = "ed25519";
	enum pgl_key_type t = PGL_KEY_UNSPEC;
	char *paths[NFILES] = { 0 }, *tmps[NFILES] = { 0 }, *pubs[2] = { 0 };
	char *fps[2] = { 0 }, *line = NULL;
	struct pgl_buf *privs[2] = { 0 };
	int committed[NFILES] = { 0 };
	struct stat st;
	size_t i;
	int c, r, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 't': type_name = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc || dir == NULL) {
		cli_error("init", "usage: init --dir DIR [--key-type TYPE]");
		return 2;
	}
	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strcmp(type_name, key_types[i].name) == 0)
			t = key_types[i].type;
	if (t == PGL_KEY_UNSPEC) {
		cli_error("--key-type", "unknown key type '%s' (use ed25519, "
		    "ecdsa-p256, ecdsa-p384 or rsa)", type_name);
		return 2;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		cli_error(dir, "%s", strerror(errno));
		return 1;
	}
	for (i = 0; i < NFILES; i++) {
		if (asprintf(&paths[i], "%s/%s%s", dir, ca_names[i / 2],
		    i % 2 ? ".pub" : "") < 0) {
			cli_error_code(NULL, PGL_E_NOMEM);
			goto out;
		}
		/* Refuse before generating anything. */
		if (lstat(paths[i], &st) == 0) {
			cli_error(paths[i], "already exists; refusing to "
			    "overwrite a CA key");
			goto out;
		}
	}
	for (i = 0; i < 2; i++) {
		if ((privs[i] = pgl_buf_new()) == NULL) {
			cli_error_code(NULL, PGL_E_NOMEM);
			goto out;
		}
		if ((r = make_ca(t, comments[i], privs[i], &pubs[i], &fps[i])) != 0) {
			cli_error("key generation", "%s", pgl_strerror(r));
			goto out;
		}
	}
	/* Stage all four files, then move them in place; any failure
	 * removes what this run created, so no half-made CA remains. */
	for (i = 0; i < NFILES; i++) {
		const void *p;
		size_t n;

		free(line);
		line = NULL;
		if (i % 2 == 0) {
			p = pgl_buf_ptr(privs[i / 2]);
			n = pgl_buf_len(privs[i / 2]);
		} else {
			if (asprintf(&line, "%s\n", pubs[i / 2]) < 0) {
				cli_error_code(NULL, PGL_E_NOMEM);
				goto out;
			}
			p = line;
			n = strlen(line);
		}
		if ((r = pgl_file_stage(paths[i], p, n, i % 2 ? 0644 : 0600,
		    &tmps[i])) != 0) {
			cli_error_code(paths[i], r);
			goto out;
		}
	}
	for (i = 0; i < NFILES; i++) {
		if ((r = pgl_file_commit(tmps[i], paths[i],
		    PGL_WRITE_NO_REPLACE)) != 0) {
			cli_error(paths[i], "%s", r == PGL_E_EXISTS ?
			    "already exists; refusing to overwrite a CA key" :
			    pgl_strerror(r));
			goto out;
		}
		committed[i] = 1;
	}
	for (i = 0; i < 2; i++)
		printf("%s: %s %s %s\n", ca_names[i], paths[i * 2 + 1],
		    pgl_key_type_name(t), fps[i]);
	ret = 0;
 out:
	for (i = 0; i < NFILES; i++) {
		if (ret != 0 && committed[i])
			(void)unlink(paths[i]);
		if (committed[i])
			free(tmps[i]);
		else
			pgl_file_abort(tmps[i]);
		free(paths[i]);
	}
	for (i = 0; i < 2; i++) {
		pgl_buf_free(privs[i]);
		free(pubs[i]);
		free(fps[i]);
	}
	free(line);
	return ret;
}
