/* pgl-signer init: the user and host CA key pairs, the TLS key and
 * certificate, a starting configuration and policy, and the state
 * directory. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "examples.h"
#include "fileio.h"
#include "tls.h"

/* Long enough not to need renewing; clients pin the key anyway. */
#define TLS_DAYS        3650
#define STATE_DIR       "state"

/* What init writes, in commit order. */
enum {
	USER_CA, USER_CA_PUB, HOST_CA, HOST_CA_PUB, TLS_KEY, TLS_CRT, CONFIG,
	POLICY, NFILES
};

static const struct {
	const char *name;
	mode_t mode;
	const char *what;       /* for "refusing to overwrite ..." */
} files[NFILES] = {
	[USER_CA] = { "user_ca", 0600, "a CA key" },
	[USER_CA_PUB] = { "user_ca.pub", 0644, "a CA key" },
	[HOST_CA] = { "host_ca", 0600, "a CA key" },
	[HOST_CA_PUB] = { "host_ca.pub", 0644, "a CA key" },
	[TLS_KEY] = { "tls.key", 0600, "the TLS key" },
	[TLS_CRT] = { "tls.crt", 0644, "the TLS certificate" },
	[CONFIG] = { "pgl-signer.conf", 0640, "the configuration" },
	[POLICY] = { "policy.conf", 0640, "the policy" },
};

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

/* Adds a --tls-name; a repeat of one already there is dropped. */
static int
add_name(const char **names, size_t *n, const char *name)
{
	size_t i;

	if (pgl_tls_check_name(name) != 0) {
		cli_error("--tls-name", "'%s' is not a DNS name or an IP "
		    "address", name);
		return -1;
	}
	for (i = 0; i < *n; i++)
		if (strcasecmp(names[i], name) == 0)
			return 0;
	if (*n == PGL_TLS_MAX_NAMES) {
		cli_error("--tls-name", "at most %d names", PGL_TLS_MAX_NAMES);
		return -1;
	}
	names[(*n)++] = name;
	return 0;
}

int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "key-type", required_argument, NULL, 't' },
		{ "tls-name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const ca_names[2] = { "user_ca", "host_ca" };
	static const char *const comments[2] = { "pgl user CA", "pgl host CA" };
	const char *names[PGL_TLS_MAX_NAMES] = { "localhost", "127.0.0.1", "::1" };
	const char *dir = NULL, *type_name = "ed25519";
	enum pgl_key_type t = PGL_KEY_UNSPEC;
	char *paths[NFILES] = { 0 }, *tmps[NFILES] = { 0 }, *pubs[2] = { 0 };
	char *fps[2] = { 0 }, *lines[2] = { 0 }, *state = NULL, *pin = NULL;
	struct pgl_buf *privs[2] = { 0 }, *tls_key = NULL, *tls_crt = NULL;
	const void *data[NFILES];
	size_t len[NFILES];
	int committed[NFILES] = { 0 }, state_made = 0;
	struct stat st;
	size_t i, nnames = 3;
	int c, r, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 't': type_name = optarg; break;
		case 'n':
			if (add_name(names, &nnames, optarg) != 0)
				return 2;
			break;
		default: return 2;
		}
	}
	if (optind != argc || dir == NULL) {
		cli_error("init", "usage: init --dir DIR [--key-type TYPE] "
		    "[--tls-name NAME]...");
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
	if (asprintf(&state, "%s/%s", dir, STATE_DIR) < 0) {
		state = NULL;
		cli_error_code(NULL, PGL_E_NOMEM);
		goto out;
	}
	for (i = 0; i < NFILES; i++) {
		if (asprintf(&paths[i], "%s/%s", dir, files[i].name) < 0) {
			paths[i] = NULL;
			cli_error_code(NULL, PGL_E_NOMEM);
			goto out;
		}
	}
	/* Refuse before generating anything. */
	for (i = 0; i < NFILES; i++) {
		if (lstat(paths[i], &st) == 0) {
			cli_error(paths[i], "already exists; refusing to "
			    "overwrite %s", files[i].what);
			goto out;
		}
	}
	if (lstat(state, &st) == 0) {
		cli_error(state, "already exists; refusing to reuse a state "
		    "directory");
		goto out;
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
		if (asprintf(&lines[i], "%s\n", pubs[i]) < 0) {
			lines[i] = NULL;
			cli_error_code(NULL, PGL_E_NOMEM);
			goto out;
		}
	}
	if ((tls_key = pgl_buf_new()) == NULL ||
	    (tls_crt = pgl_buf_new()) == NULL) {
		cli_error_code(NULL, PGL_E_NOMEM);
		goto out;
	}
	if ((r = pgl_tls_generate(names, nnames, TLS_DAYS, tls_key,
	    tls_crt)) != 0 ||
	    (r = pgl_tls_pin((const char *)pgl_buf_ptr(tls_crt),
	    pgl_buf_len(tls_crt), &pin)) != 0) {
		cli_error("TLS certificate", "%s", pgl_strerror(r));
		goto out;
	}

	data[USER_CA] = pgl_buf_ptr(privs[0]);
	len[USER_CA] = pgl_buf_len(privs[0]);
	data[USER_CA_PUB] = lines[0];
	len[USER_CA_PUB] = strlen(lines[0]);
	data[HOST_CA] = pgl_buf_ptr(privs[1]);
	len[HOST_CA] = pgl_buf_len(privs[1]);
	data[HOST_CA_PUB] = lines[1];
	len[HOST_CA_PUB] = strlen(lines[1]);
	data[TLS_KEY] = pgl_buf_ptr(tls_key);
	len[TLS_KEY] = pgl_buf_len(tls_key);
	data[TLS_CRT] = pgl_buf_ptr(tls_crt);
	len[TLS_CRT] = pgl_buf_len(tls_crt);
	data[CONFIG] = pgl_example_config;
	len[CONFIG] = strlen(pgl_example_config);
	data[POLICY] = pgl_example_policy;
	len[POLICY] = strlen(pgl_example_policy);

	/* Stage every file, make the state directory, then move the files
	 * in place; any failure removes what this run created, so no
	 * half-made installation remains. */
	for (i = 0; i < NFILES; i++) {
		if ((r = pgl_file_stage(paths[i], data[i], len[i],
		    files[i].mode, &tmps[i])) != 0) {
			cli_error_code(paths[i], r);
			goto out;
		}
	}
	if (mkdir(state, 0700) == -1) {
		cli_error(state, "%s", errno == EEXIST ? "already exists; "
		    "refusing to reuse a state directory" : strerror(errno));
		goto out;
	}
	state_made = 1;
	for (i = 0; i < NFILES; i++) {
		if ((r = pgl_file_commit(tmps[i], paths[i],
		    PGL_WRITE_NO_REPLACE)) != 0) {
			if (r == PGL_E_EXISTS)
				cli_error(paths[i], "already exists; refusing "
				    "to overwrite %s", files[i].what);
			else
				cli_error_code(paths[i], r);
			goto out;
		}
		committed[i] = 1;
	}
	for (i = 0; i < 2; i++)
		printf("%s: %s %s %s\n", ca_names[i], paths[i * 2 + 1],
		    pgl_key_type_name(t), fps[i]);
	printf("tls: %s pin %s\n", paths[TLS_CRT], pin);
	printf("next: %s check -c %s\n", PGL_SIGNER_PROG, paths[CONFIG]);
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
	if (ret != 0 && state_made)
		(void)rmdir(state);
	for (i = 0; i < 2; i++) {
		pgl_buf_free(privs[i]);
		free(pubs[i]);
		free(fps[i]);
		free(lines[i]);
	}
	pgl_buf_free(tls_key);
	pgl_buf_free(tls_crt);
	free(state);
	free(pin);
	return ret;
}
