/* Unit tests for signer/config.c: the example and the defaults, paths
 * resolved against the file's directory, and every refusal with the
 * line it names. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "err.h"
#include "examples.h"
#include "util.h"
#include "refusal.h"

static char *dir;       /* realpath'd: the loader resolves symlinks */
static int nfile;

static char *
write_config(const char *text)
{
	char *path = tu_fmt("%s/signer-%d.conf", dir, ++nfile);

	if (tu_write_file(path, text, strlen(text), 0644) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	return path;
}

static void
refused(const char *text, int want_r, const char *want, const char *label)
{
	struct pgl_signer_config *c = (struct pgl_signer_config *)&c;   /* sentinel: must stay */
	char err[1024] = "", *path = write_config(text);
	int r = pgl_config_load(path, &c, err, sizeof(err));

	check_refusal(text, path, r, err, want_r, want,
	    c == (struct pgl_signer_config *)&c, label);
	if (r == 0 && c != (struct pgl_signer_config *)&c)
		pgl_config_free(c);
	free(path);
}

static struct pgl_signer_config *
accepted(const char *text, const char *label)
{
	struct pgl_signer_config *c = NULL;
	char err[1024] = "", *path = write_config(text);
	int r = pgl_config_load(path, &c, err, sizeof(err));

	tap_ok(r == 0 && c != NULL, "accepts %s", label);
	if (r != 0)
		tap_diag("r=%d err \"%s\"", r, tu_esc(err));
	free(path);
	return c;
}

static int
path_is(const char *got, const char *name)
{
	char *want = tu_fmt("%s/%s", dir, name);
	int ok = got != NULL && strcmp(got, want) == 0;

	if (!ok)
		tap_diag("path \"%s\", want \"%s\"", got ? got : "NULL", want);
	free(want);
	return ok;
}

/* Every default, as config.h lists them. */
static void
check_defaults(const struct pgl_signer_config *c, const char *label)
{
	tap_ok(strcmp(c->listen, "127.0.0.1:8443") == 0 && c->tls == 1,
	    "%s: listen 127.0.0.1:8443 with TLS", label);
	tap_ok(path_is(c->tls_cert, "tls.crt") && path_is(c->tls_key, "tls.key") &&
	    (strcmp(c->ca_dir, dir) == 0 || path_is(c->ca_dir, ".")) &&
	    path_is(c->state_dir, "state") &&
	    path_is(c->policy, "policy.conf") &&
	    path_is(c->audit_log, "audit.log"),
	    "%s: paths resolved against the file's directory", label);
	tap_ok(c->uid_min == 100000 && c->uid_max == 199999,
	    "%s: uid range 100000-199999", label);
	tap_ok(strcmp(c->home_base, "/home") == 0 &&
	    strcmp(c->default_shell, "/bin/bash") == 0,
	    "%s: /home and /bin/bash", label);
	tap_ok(c->workers == 4 && c->max_body == 65536 &&
	    c->request_timeout == 10 && c->rate_limit == 60 &&
	    c->rate_burst == 30 && c->metrics_public == 1 &&
	    c->enroll_token_ttl == 3600 && c->host_cert_ttl == 2592000,
	    "%s: numbers", label);
}

static void
test_example(void)
{
	struct pgl_signer_config *c;
	char *path, *want;

	if ((c = accepted(pgl_example_config, "the example config")) != NULL) {
		check_defaults(c, "example");
		want = tu_fmt("%s/signer-%d.conf", dir, nfile);
		tap_ok(strcmp(c->path, want) == 0, "path is the file, absolute");
		free(want);
	}
	pgl_config_free(c);
	if ((c = accepted("", "an empty config")) != NULL)
		check_defaults(c, "empty");
	pgl_config_free(c);

	/* A relative name, from the file's directory and from elsewhere. */
	path = write_config("tls_cert = \"certs/tls.crt\";\n"
	    "state_dir = \"/var/lib/pgl\";\n");
	if (chdir(dir) != 0)
		exit(99);
	want = tu_fmt("signer-%d.conf", nfile);
	c = NULL;
	tap_ok(pgl_config_load(want, &c, NULL, 0) == 0 && c != NULL &&
	    strcmp(c->path, path) == 0 && path_is(c->tls_cert, "certs/tls.crt") &&
	    strcmp(c->state_dir, "/var/lib/pgl") == 0,
	    "relative file name: absolute paths; absolute values kept");
	pgl_config_free(c);
	free(want);
	if (chdir("/") != 0)
		exit(99);
	want = tu_fmt("..%s/signer-%d.conf", dir, nfile);
	c = NULL;
	tap_ok(pgl_config_load(want, &c, NULL, 0) == 0 && c != NULL &&
	    strcmp(c->path, path) == 0 && path_is(c->tls_cert, "certs/tls.crt"),
	    "a path through ..: resolved");
	pgl_config_free(c);
	free(want);
	free(path);
}

static void
test_file_errors(void)
{
	struct pgl_signer_config *c = NULL;
	char err[512] = "", *path, *want;
	int r;

	path = tu_path(dir, "none.conf");
	r = pgl_config_load(path, &c, err, sizeof(err));
	want = tu_fmt("%s: ", path);
	tap_ok(r == PGL_E_SYSTEM && c == NULL &&
	    strncmp(err, want, strlen(want)) == 0,
	    "missing file: \"PATH: reason\" (%s)", tu_esc(err));
	free(want);
	free(path);
	refused("workers = 4;\nlisten = ; #<\n", PGL_E_FORMAT,
	    "syntax error", "a syntax error");
	refused("uid_max = 4294967296; #<\n", PGL_E_FORMAT,
	    "number out of range", "a number libconfig would truncate");
	refused("@include \"/etc/passwd\" #<\n", PGL_E_FORMAT,
	    "@include is not supported", "@include");
}

static void
test_keys_types(void)
{
	refused("workers = 4;\nlisten_address = \"0.0.0.0:1\"; #<\n",
	    PGL_E_UNKNOWN_OPTION, "unknown key 'listen_address' in the "
	    "configuration", "an unknown key");
	refused("cfg = { workers = 4; }; #<\n", PGL_E_UNKNOWN_OPTION,
	    "unknown key 'cfg'", "a group");
	refused("workers = \"4\"; #<\n", PGL_E_FORMAT,
	    "workers must be an integer, not a string", "a string number");
	refused("tls = 1; #<\n", PGL_E_FORMAT, "tls must be true or false",
	    "a number for a boolean");
	refused("metrics_public = \"no\"; #<\n", PGL_E_FORMAT,
	    "metrics_public must be true or false", "a string boolean");
	refused("policy = [ \"a\" ]; #<\n", PGL_E_FORMAT,
	    "policy must be a string", "an array for a path");
	refused("max_body = 65536.0; #<\n", PGL_E_FORMAT,
	    "must be an integer, not a floating-point", "a float");
}

static void
test_listen(void)
{
	static const struct {
		const char *listen;
		int ok_without_tls;
	} cases[] = {
		{ "127.0.0.1:8443", 1 },
		{ "127.3.2.1:1", 1 },
		{ "[::1]:8443", 1 },
		{ "[::ffff:127.0.0.1]:8443", 1 },
		{ "localhost:8080", 1 },
		{ "unix:/run/pgl/signer.sock", 1 },
		{ "unix:signer.sock", 1 },
		{ "0.0.0.0:8443", 0 },
		{ "[::]:8443", 0 },
		{ "10.0.0.1:443", 0 },
		{ "128.0.0.1:443", 0 },
		{ "signer.example.com:443", 0 },
		{ "localhost.example.com:443", 0 },
		{ "[::2]:443", 0 },
	};
	static const char *const bad[] = {
		"8443", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:+1", "127.0.0.1:1x", "::1:8443",
		"[::1]", "[127.0.0.1]:1", ":8443", "a b:1", "-a:1", "[::1:1",
		"unix:",
	};
	struct pgl_signer_config *c;
	char *text, *label, *want;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		text = tu_fmt("listen = \"%s\";\ntls = false; #<\n",
		    cases[i].listen);
		label = tu_fmt("tls = false on %s", cases[i].listen);
		if (cases[i].ok_without_tls) {
			c = accepted(text, label);
			if (c != NULL)
				tap_ok(c->tls == 0, "tls off");
			pgl_config_free(c);
		} else
			refused(text, PGL_E_NOT_ALLOWED, "tls = false is allowed "
			    "only when listen is on loopback", label);
		free(text);
		free(label);
		text = tu_fmt("listen = \"%s\";\n", cases[i].listen);
		label = tu_fmt("%s with TLS", cases[i].listen);
		pgl_config_free(accepted(text, label));
		free(text);
		free(label);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		text = tu_fmt("\nlisten = \"%s\"; #<\n", bad[i]);
		label = tu_fmt("listen \"%s\"", bad[i]);
		refused(text, 0, "listen", label);
		free(text);
		free(label);
	}
	if ((c = accepted("listen = \"unix:run/s.sock\";\n", "a relative "
	    "socket path")) != NULL) {
		want = tu_fmt("unix:%s/run/s.sock", dir);
		tap_ok(strcmp(c->listen, want) == 0,
		    "relative socket path resolved (%s)", c->listen);
		free(want);
	}
	pgl_config_free(c);
	text = tu_fmt("listen = \"unix:/%0120d\"; #<\n", 0);
	refused(text, PGL_E_TOO_LARGE, "longer than a unix socket allows",
	    "a socket path too long");
	free(text);
}

static void
test_uids(void)
{
	struct pgl_signer_config *c;

	refused("uid_min = 999; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "uid_min must be between 1000 and 2147483646, not 999",
	    "uid_min below 1000");
	refused("uid_min = 1000;\nuid_max = 2147483647; #<\n",
	    PGL_E_BAD_OPTION_VALUE, "not 2147483647", "uid_max of 2^31-1");
	refused("uid_min = 2000;\nuid_max = 2000; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "uid_max (2000) must be greater than uid_min (2000)",
	    "an empty uid range");
	refused("uid_min = 300000; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "uid_max (199999) must be greater than uid_min (300000)",
	    "uid_min above the default uid_max");
	refused("uid_min = 60000;\nuid_max = 70000; #<\n",
	    PGL_E_BAD_OPTION_VALUE, "contains 65534", "a range over 65534");
	refused("uid_min = 65535;\nuid_max = 70000; #<\n",
	    PGL_E_BAD_OPTION_VALUE, "contains 65534", "a range from 65535");
	refused("uid_min = 1000;\nuid_max = 65534; #<\n",
	    PGL_E_BAD_OPTION_VALUE, "contains 65534", "a range up to 65534");
	refused("uid_min = -1; #<\n", PGL_E_BAD_OPTION_VALUE, "not -1",
	    "a negative uid");
	if ((c = accepted("uid_min = 1000;\nuid_max = 65533;\n",
	    "a range below 65534")) != NULL)
		tap_ok(c->uid_min == 1000 && c->uid_max == 65533, "range kept");
	pgl_config_free(c);
	if ((c = accepted("uid_min = 65536;\nuid_max = 2147483646;\n",
	    "a range above 65535 up to 2^31-2")) != NULL)
		tap_ok(c->uid_min == 65536 && c->uid_max == 2147483646,
		    "range kept");
	pgl_config_free(c);
}

static void
test_numbers(void)
{
	static const struct {
		const char *key;
		long long lo, hi;
	} ranges[] = {
		{ "workers", 1, 64 },
		{ "max_body", 1024, 16 * 1024 * 1024 },
		{ "request_timeout", 1, 300 },
		{ "rate_limit", 1, 100000000 },
		{ "rate_burst", 1, 1000000 },
		{ "enroll_token_ttl", 60, 7 * 86400 },
		{ "host_cert_ttl", 3600, 365 * 86400 },
	};
	struct pgl_signer_config *c;
	char *text, *label, *want;
	size_t i;

	for (i = 0; i < sizeof(ranges) / sizeof(*ranges); i++) {
		want = tu_fmt("between %lld and %lld", ranges[i].lo,
		    ranges[i].hi);
		text = tu_fmt("\n%s = %lld; #<\n", ranges[i].key,
		    ranges[i].lo - 1);
		label = tu_fmt("%s below %lld", ranges[i].key, ranges[i].lo);
		refused(text, PGL_E_BAD_OPTION_VALUE, want, label);
		free(text);
		free(label);
		text = tu_fmt("\n%s = %lld; #<\n", ranges[i].key,
		    ranges[i].hi + 1);
		label = tu_fmt("%s above %lld", ranges[i].key, ranges[i].hi);
		refused(text, PGL_E_BAD_OPTION_VALUE, want, label);
		free(text);
		free(label);
		free(want);
	}
	c = accepted("workers = 64;\nmax_body = 1024;\nrequest_timeout = 300;\n"
	    "rate_limit = 1;\nrate_burst = 100000;\nmetrics_public = false;\n"
	    "enroll_token_ttl = 60;\nhost_cert_ttl = 31536000;\n",
	    "every number at a bound");
	if (c != NULL)
		tap_ok(c->workers == 64 && c->max_body == 1024 &&
		    c->request_timeout == 300 && c->rate_limit == 1 &&
		    c->rate_burst == 100000 && c->metrics_public == 0 &&
		    c->enroll_token_ttl == 60 && c->host_cert_ttl == 31536000,
		    "values stored");
	pgl_config_free(c);
}

static void
test_paths(void)
{
	static const char *const bad_host_path[] = {
		"home", "/", "/home/", "/ho me", "/home:x", "//home", "/a/../b",
		"/a/./b", "/a/..", "",
	};
	static const char *const keys[] = {
		"tls_cert", "tls_key", "ca_dir", "state_dir", "policy", "audit_log",
	};
	struct pgl_signer_config *c;
	char *text, *label;
	size_t i;

	for (i = 0; i < sizeof(bad_host_path) / sizeof(*bad_host_path); i++) {
		text = tu_fmt("home_base = \"%s\"; #<\n", bad_host_path[i]);
		label = tu_fmt("home_base \"%s\"", bad_host_path[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "normalized absolute path",
		    label);
		free(text);
		free(label);
		text = tu_fmt("\ndefault_shell = \"%s\"; #<\n", bad_host_path[i]);
		label = tu_fmt("default_shell \"%s\"", bad_host_path[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "normalized absolute path",
		    label);
		free(text);
		free(label);
	}
	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		text = tu_fmt("%s = \"\"; #<\n", keys[i]);
		label = tu_fmt("an empty %s", keys[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "must be a path", label);
		free(text);
		free(label);
		text = tu_fmt("%s = \"a\\tb\"; #<\n", keys[i]);
		label = tu_fmt("a control character in %s", keys[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "without control", label);
		free(text);
		free(label);
	}
	c = accepted("home_base = \"/srv/home\";\ndefault_shell = \"/usr/bin/zsh\";\n"
	    "audit_log = \"/var/log/pgl/audit.log\";\nca_dir = \"keys/ca\";\n",
	    "host paths and absolute and relative local paths");
	if (c != NULL)
		tap_ok(strcmp(c->home_base, "/srv/home") == 0 &&
		    strcmp(c->default_shell, "/usr/bin/zsh") == 0 &&
		    strcmp(c->audit_log, "/var/log/pgl/audit.log") == 0 &&
		    path_is(c->ca_dir, "keys/ca"), "paths stored");
	pgl_config_free(c);
}

int
main(void)
{
	char *tmp = tu_mkdtemp();

	if ((dir = realpath(tmp, NULL)) == NULL)
		exit(99);
	test_example();
	test_file_errors();
	test_keys_types();
	test_listen();
	test_uids();
	test_numbers();
	test_paths();
	pgl_config_free(NULL);
	tap_ok(1, "pgl_config_free(NULL)");
	free(dir);
	tu_rmtree(tmp);
	return tap_done();
}
