/* pgl-host: enroll this host with the signer, keep its user cache in
 * sync, resolve cache misses on demand, and report its state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host.h"
#include "http.h"

static void
usage(FILE *f)
{
	fputs(
	    "usage: pgl-host [-c CONFIG] [--root DIR] COMMAND [ARGS]\n"
	    "  enroll --signer URL --token TOKEN|- [--pin sha256//...|--ca-file PEM]\n"
	    "         [--host-key /etc/ssh/ssh_host_ed25519_key.pub] [--configure]\n"
	    "  sync [--force]\n"
	    "  resolve [--listen PATH]\n"
	    "  status\n"
	    "See pgl-host(8).\n", f);
}

int
main(int argc, char **argv)
{
	struct host_config c;
	struct host_err e = { "" };
	const char *conf = NULL, *root = NULL, *cmd;
	int i, rc;

	umask(022);
	/* Before anything can look a user up: pgl-host's own lookups must
	 * never ask the resolver (docs/resolver.md, recursion guard). */
	if (setenv("PGL_NSS_NO_RESOLVE", "1", 1) != 0)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("%s %s\n", HOST_PROG, PGL_VERSION);
			return 0;
		} else
			break;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	if (conf != NULL && conf[0] != '/') {
		fprintf(stderr, "%s: -c needs an absolute path\n", HOST_PROG);
		return 2;
	}
	if (hconf_init(&c, root, conf, &e) != 0) {
		fprintf(stderr, "%s: %s\n", HOST_PROG, e.msg);
		hconf_free(&c);
		return 2;
	}
	http_global_init();
	if (strcmp(cmd, "enroll") == 0)
		rc = cmd_enroll(&c, argc - i, argv + i);
	else if (strcmp(cmd, "sync") == 0)
		rc = cmd_sync(&c, argc - i, argv + i);
	else if (strcmp(cmd, "resolve") == 0)
		rc = cmd_resolve(&c, argc - i, argv + i);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&c, argc - i, argv + i);
	else {
		fprintf(stderr, "%s: unknown command '%s'\n", HOST_PROG, cmd);
		usage(stderr);
		rc = 2;
	}
	hconf_free(&c);
	return rc;
}
