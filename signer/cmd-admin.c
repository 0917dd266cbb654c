/* Administration on the state database: tokens and revocations. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "store.h"
#include "text.h"

/* Config and store for a command given -c CONFIG. */
static int
open_state(const char *config, struct pgl_signer_config **cfg,
    struct pgl_store **store)
{
	char err[1024];
	int r;

	err[0] = '\0';
	if ((r = pgl_config_load(config, cfg, err, sizeof(err))) != 0) {
		cli_error(NULL, "%s", err[0] ? err : pgl_strerror(r));
		return r;
	}
	if ((r = pgl_store_open((*cfg)->state_dir, (*cfg)->uid_min,
	    (*cfg)->uid_max, store)) != 0) {
		cli_error((*cfg)->state_dir, "%s", pgl_strerror(r));
		pgl_config_free(*cfg);
		*cfg = NULL;
	}
	return r;
}

/* name@domain in printable ASCII, as the policy accepts identities. */
static int
valid_identity(const char *s)
{
	const char *at = strrchr(s, '@'), *p;

	if (at == NULL || at == s || at[1] == '\0' || strlen(s) >= 256)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static void
lowercase(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* "VERB -c CONFIG NAME" after the command word: the config and the
 * name, or NULL after printing usage. */
static char *
config_and_name(int argc, char **argv, const char *usage, const char **config)
{
	int c;

	*config = NULL;
	optind = 2;
	while ((c = getopt(argc, argv, "c:")) != -1) {
		if (c != 'c')
			return NULL;
		*config = optarg;
	}
	if (*config == NULL || optind != argc - 1) {
		cli_error(argv[0], "usage: %s", usage);
		return NULL;
	}
	return argv[optind];
}

/* pgl-signer token add|revoke -c CONFIG IDENTITY */
int
cmd_token(int argc, char **argv)
{
	static const char usage[] = "token add|revoke -c CONFIG IDENTITY";
	const char *config;
	struct pgl_signer_config *cfg = NULL;
	struct pgl_store *store = NULL;
	char *token = NULL, *identity;
	int r, ret = 1, revoke;

	if (argc < 2 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "revoke") != 0)) {
		cli_error("token", "usage: %s", usage);
		return 2;
	}
	revoke = strcmp(argv[1], "revoke") == 0;
	if ((identity = config_and_name(argc, argv, usage, &config)) == NULL)
		return 2;
	if (!valid_identity(identity)) {
		cli_error(identity, "an identity looks like name@domain");
		return 1;
	}
	/* Identities are compared ignoring case (as the policy does):
	 * store them lowercased so one person is one username. */
	lowercase(identity);
	if (open_state(config, &cfg, &store) != 0)
		return 1;
	if (revoke) {
		if ((r = pgl_store_token_revoke(store, identity)) != 0) {
			cli_error(identity, "%s", r == PGL_E_NOT_FOUND ?
			    "has no token to revoke" : pgl_strerror(r));
			goto out;
		}
		fprintf(stderr, "revoked every API token of %s (a running "
		    "signer refuses them within 10 seconds)\n", identity);
		ret = 0;
		goto out;
	}
	if ((r = pgl_store_token_add(store, identity, &token)) != 0) {
		cli_error("token", "%s", pgl_strerror(r));
		goto out;
	}
	/* The only time the token exists outside its owner's hands. */
	printf("%s\n", token);
	ret = 0;
 out:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	pgl_store_close(store);
	pgl_config_free(cfg);
	return ret;
}

/* pgl-signer revoke -c CONFIG (--serial N | --key-id ID | --identity ID) */
int
cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "serial", required_argument, NULL, 's' },
		{ "key-id", required_argument, NULL, 'k' },
		{ "identity", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *kind = NULL, *value = NULL;
	struct pgl_signer_config *cfg = NULL;
	struct pgl_store *store = NULL;
	char num[24], *lowered = NULL;
	uint64_t serial;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == 'c') {
			config = optarg;
			continue;
		}
		if (c != 's' && c != 'k' && c != 'i')
			return 2;
		if (kind != NULL) {
			cli_error("revoke", "give one of --serial, --key-id, --identity");
			return 2;
		}
		kind = c == 's' ? "serial" : c == 'k' ? "key_id" : "identity";
		value = optarg;
	}
	if (config == NULL || kind == NULL || optind != argc) {
		cli_error("revoke", "usage: revoke -c CONFIG (--serial N | "
		    "--key-id ID | --identity IDENTITY)");
		return 2;
	}
	if (strcmp(kind, "serial") == 0) {
		if (pgl_parse_u64(value, &serial) != 0 || serial == 0) {
			cli_error("--serial", "invalid serial '%s'", value);
			return 1;
		}
		snprintf(num, sizeof(num), "%llu", (unsigned long long)serial);
		value = num;
	} else if (*value == '\0' || pgl_has_ctrl(value) || strlen(value) > 1024) {
		cli_error(kind, "must be non-empty printable text");
		return 1;
	} else if (strcmp(kind, "identity") == 0) {
		/* Stored lowercased by token add: match that. */
		if ((lowered = strdup(value)) == NULL) {
			cli_error_code(NULL, PGL_E_NOMEM);
			return 1;
		}
		lowercase(lowered);
		value = lowered;
	}
	if (open_state(config, &cfg, &store) != 0) {
		free(lowered);
		return 1;
	}
	r = pgl_store_revoke(store, kind, value);
	if (r != 0)
		cli_error("revoke", "%s", pgl_strerror(r));
	else
		printf("revoked %s %s\n", kind, value);
	free(lowered);
	pgl_store_close(store);
	pgl_config_free(cfg);
	return r == 0 ? 0 : 1;
}

static int
valid_host_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return 0;
	}
	return 1;
}

/* pgl-signer host add|revoke -c CONFIG NAME */
int
cmd_host(int argc, char **argv)
{
	static const char usage[] = "host add|revoke -c CONFIG NAME";
	const char *config, *verb, *name;
	struct pgl_signer_config *cfg = NULL;
	struct pgl_store *store = NULL;
	char *token = NULL;
	int r, ret = 1;

	if (argc < 2 || (strcmp(argv[1], "add") != 0 &&
	    strcmp(argv[1], "revoke") != 0)) {
		cli_error("host", "usage: %s", usage);
		return 2;
	}
	verb = argv[1];
	if ((name = config_and_name(argc, argv, usage, &config)) == NULL)
		return 2;
	if (!valid_host_name(name)) {
		cli_error(name, "a host name has letters, digits, '.', "
		    "'-' and '_' only");
		return 1;
	}
	if (open_state(config, &cfg, &store) != 0)
		return 1;
	if (strcmp(verb, "add") == 0) {
		if ((r = pgl_store_host_add(store, name,
		    cfg->enroll_token_ttl, &token)) != 0) {
			cli_error("host add", "%s", pgl_strerror(r));
			goto out;
		}
		/* Single-use and short-lived; shown once, stored hashed. */
		printf("%s\n", token);
		fprintf(stderr, "%s: enrollment token for %s, valid %u seconds, "
		    "usable once\n", PGL_SIGNER_PROG, name,
		    cfg->enroll_token_ttl);
	} else {
		if ((r = pgl_store_host_revoke(store, name)) != 0) {
			cli_error(name, "%s", r == PGL_E_NOT_FOUND ?
			    "no such host" : pgl_strerror(r));
			goto out;
		}
		printf("revoked host %s\n", name);
	}
	ret = 0;
 out:
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	pgl_store_close(store);
	pgl_config_free(cfg);
	return ret;
}
