/* pam-driver: drives pam_pgl.so through the real libpam, as sshd does.
 *
 *   pam-driver [-d CONFDIR] [-s SERVICE] [-r RHOST] [-e NAME=VALUE]...
 *       [-m MODULE [-a ARG]...] USER ACTION...
 *
 * ACTION is account, open or close.  Each prints one line, the PAM
 * status's name ("PAM_SUCCESS", "PAM_IGNORE", ...).  By default the
 * actions run SERVICE's stack from CONFDIR.  With -m, the module's
 * pam_sm_* function is called directly with the same libpam handle and
 * the -a arguments, so its own return value shows (a stack where every
 * module answers PAM_IGNORE fails as a whole); -m '' undoes an earlier
 * -m.  Module messages through
 * the conversation go to stderr.  Exit 0 unless pam_start or dlopen
 * fails (2) or the usage is wrong (2).  Built in the same meson build as
 * the module, so that both carry the same sanitizer runtime. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <security/pam_appl.h>
#include <security/pam_modules.h>

typedef int sm_fn(pam_handle_t *, int, int, const char **);

static const struct {
	int code;
	const char *name;
} names[] = {
	{ PAM_SUCCESS, "PAM_SUCCESS" },
	{ PAM_IGNORE, "PAM_IGNORE" },
	{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
	{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
	{ PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
	{ PAM_SESSION_ERR, "PAM_SESSION_ERR" },
	{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
	{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
	{ PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
	{ PAM_AUTH_ERR, "PAM_AUTH_ERR" },
	{ PAM_BUF_ERR, "PAM_BUF_ERR" },
	{ PAM_INCOMPLETE, "PAM_INCOMPLETE" },
	{ PAM_MODULE_UNKNOWN, "PAM_MODULE_UNKNOWN" },
	{ PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR" },
	{ PAM_ABORT, "PAM_ABORT" },
};

static void
say(int r)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == r) {
			printf("%s\n", names[i].name);
			return;
		}
	printf("PAM_%d\n", r);
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;
	int i;

	(void)data;
	if (n <= 0 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_ERROR_MSG ||
		    msg[i]->msg_style == PAM_TEXT_INFO)
			fprintf(stderr, "conv: %s\n", msg[i]->msg);
	*resp = r;
	return PAM_SUCCESS;
}

static void
usage(void)
{
	fprintf(stderr, "usage: pam-driver [-d CONFDIR] [-s SERVICE] "
	    "[-r RHOST] [-e NAME=VALUE]... [-m MODULE [-a ARG]...] USER "
	    "ACTION...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct pam_conv pc = { conv, NULL };
	pam_handle_t *pamh = NULL;
	const char *confdir = NULL, *service = "pgl-test", *rhost = NULL;
	const char *module = NULL, *margs[16];
	char *envs[16];
	void *dl = NULL;
	sm_fn *fn;
	int nenv = 0, nargs = 0, ch, r, i, last = PAM_SUCCESS;

	while ((ch = getopt(argc, argv, "a:d:e:m:r:s:")) != -1) {
		switch (ch) {
		case 'a':
			if (nargs == 16)
				usage();
			margs[nargs++] = optarg;
			break;
		case 'm':
			module = *optarg != '\0' ? optarg : NULL;
			break;
		case 'd':
			confdir = optarg;
			break;
		case 'e':
			if (nenv == 16)
				usage();
			envs[nenv++] = optarg;
			break;
		case 'r':
			rhost = optarg;
			break;
		case 's':
			service = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	if ((r = pam_start_confdir(service, argv[0], &pc, confdir,
	    &pamh)) != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %d\n", r);
		return 2;
	}
	if (rhost != NULL && (r = pam_set_item(pamh, PAM_RHOST,
	    rhost)) != PAM_SUCCESS)
		fprintf(stderr, "pam_set_item: %s\n", pam_strerror(pamh, r));
	for (i = 0; i < nenv; i++)
		if ((r = pam_putenv(pamh, envs[i])) != PAM_SUCCESS)
			fprintf(stderr, "pam_putenv: %s\n",
			    pam_strerror(pamh, r));
	if (module != NULL && (dl = dlopen(module, RTLD_NOW)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		pam_end(pamh, PAM_SYSTEM_ERR);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		const char *sym;

		if (strcmp(argv[i], "account") == 0)
			sym = "pam_sm_acct_mgmt";
		else if (strcmp(argv[i], "open") == 0)
			sym = "pam_sm_open_session";
		else if (strcmp(argv[i], "close") == 0)
			sym = "pam_sm_close_session";
		else
			usage();
		if (dl == NULL) {
			if (strcmp(argv[i], "account") == 0)
				last = pam_acct_mgmt(pamh, 0);
			else if (strcmp(argv[i], "open") == 0)
				last = pam_open_session(pamh, 0);
			else
				last = pam_close_session(pamh, 0);
		} else {
			if ((fn = (sm_fn *)(uintptr_t)dlsym(dl, sym)) == NULL) {
				fprintf(stderr, "dlsym %s: %s\n", sym,
				    dlerror());
				return 2;
			}
			last = fn(pamh, 0, nargs, margs);
		}
		say(last);
	}
	fflush(stdout);
	pam_end(pamh, last);
	if (dl != NULL)
		dlclose(dl);
	return 0;
}
