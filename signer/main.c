/* pgl-signer: the certificate authority's command line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fputs(
	    "usage: pgl-signer init --dir DIR [--key-type ed25519|ecdsa-p256|ecdsa-p384|rsa] [--tls-name NAME]...\n"
	    "       pgl-signer sign --ca KEY --key PUB.pub --principal P [--principal P2 ...]\n"
	    "            --key-id ID [--serial N] [--ttl SECONDS | --valid-from T --valid-to T]\n"
	    "            [--host] [--extension NAME[=VALUE]]... [--critical-option NAME[=VALUE]]...\n"
	    "            [--out FILE]\n"
	    "       pgl-signer krl --ca CA.pub [--serial N|A-B]... [--key-id ID]... [--ca CA2.pub ...]\n"
	    "            --out FILE [--version N] [--comment TEXT]\n"
	    "       pgl-signer serve -c CONFIG\n"
	    "       pgl-signer check (-c CONFIG | -p POLICY)\n"
	    "       pgl-signer token add -c CONFIG IDENTITY\n"
	    "       pgl-signer revoke -c CONFIG (--serial N | --key-id ID | --identity IDENTITY)\n"
	    "       pgl-signer host add|revoke -c CONFIG NAME\n"
	    "See pgl-signer(8).\n", f);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc - 1, argv + 1);
	if (strcmp(argv[1], "krl") == 0)
		return cmd_krl(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return cmd_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "revoke") == 0)
		return cmd_revoke(argc - 1, argv + 1);
	if (strcmp(argv[1], "host") == 0)
		return cmd_host(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", PGL_SIGNER_PROG, PGL_VERSION);
		return 0;
	}
	cli_error(NULL, "unknown command '%s'", argv[1]);
	usage(stderr);
	return 2;
}
