/* pgl-signer: the certificate authority's command line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: %s init --dir DIR [--key-type ed25519|ecdsa-p256|ecdsa-p384|rsa]\n"
	    "       %s sign --ca KEY --key PUB.pub --principal P [--principal P2 ...]\n"
	    "            --key-id ID [--serial N] [--ttl SECONDS | --valid-from T --valid-to T]\n"
	    "            [--host] [--extension NAME[=VALUE]]... [--critical-option NAME[=VALUE]]...\n"
	    "            [--out FILE]\n"
	    "       %s krl --ca CA.pub [--serial N|A-B]... [--key-id ID]... [--ca CA2.pub ...]\n"
	    "            --out FILE [--version N] [--comment TEXT]\n"
	    "See pgl-signer(8).\n",
	    PGL_SIGNER_PROG, PGL_SIGNER_PROG, PGL_SIGNER_PROG);
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
