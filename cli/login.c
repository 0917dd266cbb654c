/* pgl login / logout / whoami / resources. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "pgl.h"

#define TOKEN_MAX 256

/* One line from stdin, without echo on a terminal. */
static int
read_token(char *buf, size_t len)
{
	struct termios t, saved;
	int tty = isatty(STDIN_FILENO), r = 0;
	size_t n;

	if (tty) {
		fprintf(stderr, "Token: ");
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &saved) == 0) {
			t = saved;
			t.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		} else
			tty = 0;
	}
	if (fgets(buf, (int)len, stdin) == NULL)
		r = PGL_E_NOT_FOUND;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (r != 0)
		return r;
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == len - 1)
		return PGL_E_TOO_LARGE;
	buf[n] = '\0';
	return 0;
}

/* Tokens are printable ASCII without spaces: they go in a header. */
static int
valid_token(const char *t)
{
	const char *p;

	if (*t == '\0' || strlen(t) > TOKEN_MAX)
		return 0;
	for (p = t; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			return 0;
	return 1;
}

static void
print_resources(const struct pgl_me *me, FILE *f)
{
	size_t i, j;

	for (i = 0; i < me->nres; i++) {
		const struct pgl_resource_info *r = &me->res[i];

		fprintf(f, "  %s", r->name);
		for (j = 0; j < r->naliases; j++)
			fprintf(f, "%s%s", j == 0 ? " (" : ", ", r->aliases[j]);
		fprintf(f, "%s  %s:%u", r->naliases > 0 ? ")" : "", r->address,
		    r->port);
		if (r->via != NULL)
			fprintf(f, " via %s", r->via);
		fputc('\n', f);
	}
}

static void
usage_login(void)
{
	fprintf(stderr, "usage: pgl login --signer URL [--pin sha256//BASE64] "
	    "[--ca-file FILE] [--token TOKEN]\n"
	    "       (without --token, the token is read from stdin)\n");
}

int
cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signer", required_argument, NULL, 's' },
		{ "pin", required_argument, NULL, 'p' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "token", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pgl_config cfg = { NULL, NULL, NULL, NULL };
	struct pgl_me *me = NULL;
	struct cli_err e = { 0, "" };
	char token[TOKEN_MAX + 2], *signer = NULL, *pin = NULL;
	char cafile[PATH_MAX];
	const char *signer_arg = NULL, *pin_arg = NULL, *ca_arg = NULL;
	size_t n;
	int c, ret = PGL_EXIT_ERROR;

	token[0] = '\0';
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			signer_arg = optarg;
			break;
		case 'p':
			pin_arg = optarg;
			break;
		case 'c':
			ca_arg = optarg;
			break;
		case 't':
			snprintf(token, sizeof(token), "%s", optarg);
			/* Do not leave it in ps(1) output longer than needed. */
			explicit_bzero(optarg, strlen(optarg));
			break;
		case 'h':
			usage_login();
			return PGL_EXIT_OK;
		default:
			usage_login();
			return PGL_EXIT_USAGE;
		}
	}
	if (signer_arg == NULL || optind != argc) {
		usage_login();
		return PGL_EXIT_USAGE;
	}
	if ((signer = strdup(signer_arg)) == NULL)
		goto out;
	for (n = strlen(signer); n > 0 && signer[n - 1] == '/'; n--)
		signer[n - 1] = '\0';
	if (pin_arg != NULL) {
		/* curl's form; a bare base64 digest is accepted too. */
		if (asprintf(&pin, "%s%s", strncmp(pin_arg, "sha256//", 8) == 0 ?
		    "" : "sha256//", pin_arg) < 0) {
			pin = NULL;
			goto out;
		}
		if (strlen(pin) != 8 + 44 || pin[8 + 43] != '=') {
			cli_seterr(&e, PGL_EXIT_USAGE, "--pin %s: expected "
			    "sha256// and 44 base64 characters (as pgl-signer "
			    "init prints it)", pin_arg);
			goto fail;
		}
	}
	if (ca_arg != NULL && realpath(ca_arg, cafile) == NULL) {
		cli_seterr(&e, PGL_EXIT_USAGE, "--ca-file %s: %s", ca_arg,
		    strerror(errno));
		goto fail;
	}
	if (token[0] == '\0' && read_token(token, sizeof(token)) != 0) {
		cli_seterr(&e, PGL_EXIT_USAGE, "no token given (--token, or one "
		    "line on stdin)");
		goto fail;
	}
	if (!valid_token(token)) {
		cli_seterr(&e, PGL_EXIT_USAGE, "that does not look like a token "
		    "(printable characters, no spaces, at most %d)", TOKEN_MAX);
		goto fail;
	}
	cfg.signer = signer;
	cfg.pin = pin;
	cfg.cafile = ca_arg != NULL ? cafile : NULL;
	cfg.token = token;
	/* Only a token the signer accepts is stored. */
	if (signer_me(&cfg, &me, &e) != 0 || cfg_save(&cfg, &e) != 0)
		goto fail;
	printf("Logged in to %s as %s", signer, me->identity);
	if (me->username != NULL)
		printf(" (username %s)", me->username);
	printf(".\n");
	if (me->nres == 0)
		printf("The policy grants you no resources yet.\n");
	else {
		printf("Resources you may reach:\n");
		print_resources(me, stdout);
	}
	ret = PGL_EXIT_OK;
	goto out;
 fail:
	ret = cli_report(&e);
 out:
	explicit_bzero(token, sizeof(token));
	pgl_me_free(me);
	free(signer);
	free(pin);
	return ret;
}

int
cmd_logout(int argc, char **argv)
{
	struct cli_err e = { 0, "" };

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: pgl logout\n");
		return PGL_EXIT_USAGE;
	}
	if (cfg_remove(&e) != 0)
		return cli_report(&e);
	return PGL_EXIT_OK;
}

/* pgl whoami, pgl resources */
int
cmd_whoami(int argc, char **argv)
{
	struct pgl_config *cfg = NULL;
	struct pgl_me *me = NULL;
	struct cli_err e = { 0, "" };
	int list = strcmp(argv[0], "resources") == 0, ret;

	if (argc != 1) {
		fprintf(stderr, "usage: pgl %s\n", argv[0]);
		return PGL_EXIT_USAGE;
	}
	if (cfg_load(&cfg, &e) != 0 || signer_me(cfg, &me, &e) != 0) {
		ret = cli_report(&e);
		goto out;
	}
	if (list)
		print_resources(me, stdout);
	else
		printf("%s %s %s\n", me->identity, me->username != NULL ?
		    me->username : "-", cfg->signer);
	ret = PGL_EXIT_OK;
 out:
	pgl_me_free(me);
	cfg_free(cfg);
	return ret;
}
