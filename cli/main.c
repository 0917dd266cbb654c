/* pgl: the user's client of the pgl signer (pgl(1)). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "pgl.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	int network;
} commands[] = {
	{ "login", cmd_login, 1 },
	{ "logout", cmd_logout, 0 },
	{ "whoami", cmd_whoami, 1 },
	{ "resources", cmd_whoami, 1 },
	{ "ssh", cmd_ssh, 1 },
	{ "sign", cmd_sign, 1 },
	{ "agent-add", cmd_agent_add, 1 },
	{ "config", cmd_config, 1 },
	{ "ensure", cmd_ensure, 1 },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: pgl login --signer URL [--pin sha256//...] [--token T]\n"
	    "       pgl ssh [--ttl T] [user@]RESOURCE [ssh arguments...]\n"
	    "       pgl sign [--ttl T] RESOURCE --key-file KEY.pub [--out CERT]\n"
	    "       pgl agent-add [--ttl T] RESOURCE...\n"
	    "       pgl config ssh [--install]\n"
	    "       pgl ensure RESOURCE\n"
	    "       pgl whoami | resources | logout | version\n"
	    "See pgl(1).\n");
}

int
main(int argc, char **argv)
{
	size_t i;
	int ret;

	/* Nothing pgl writes is for anyone else. */
	umask(077);
	if (argc < 2) {
		usage(stderr);
		return PGL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return PGL_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("pgl %s\n", PGL_VERSION);
		return PGL_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (commands[i].network && api_global_init() != 0) {
			fprintf(stderr, "%s: cannot initialise libcurl\n",
			    PGL_PROG);
			return PGL_EXIT_ERROR;
		}
		ret = commands[i].fn(argc - 1, argv + 1);
		if (commands[i].network)
			curl_global_cleanup();
		return ret;
	}
	fprintf(stderr, "%s: unknown command '%s'\n", PGL_PROG, argv[1]);
	usage(stderr);
	return PGL_EXIT_USAGE;
}
