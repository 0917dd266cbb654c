/* pgl ssh [--ttl T] [user@]RESOURCE [ssh arguments...]
 *
 * A fresh Ed25519 key, a certificate for RESOURCE (and its bastions),
 * then the system's ssh with that key, the username the signer assigned,
 * the resource's address and port, and a known_hosts file trusting only
 * the host CA for it.  The key, certificate and known_hosts live in a
 * private temp dir (0700, files 0600) for as long as ssh runs; ssh is a
 * child, not exec'd, so the dir is always removed and pgl exits with
 * ssh's status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "pgl.h"

/* ssh(1)'s options that take an argument (its getopt string). */
static const char ssh_argopts[] = "BbcDEeFIiJLlmOoPpQRSWw";

#define MAX_ARGS 64

/* The destination's index among argv[from..argc), or -1: the first
 * argument that is not an option or an option's argument. */
static int
find_destination(int argc, char **argv, int from)
{
	const char *a;
	int i, j;

	for (i = from; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "--") == 0)
			return i + 1 < argc ? i + 1 : -1;
		if (a[0] != '-' || a[1] == '\0')
			return i;
		/* A cluster such as -NL 8080:h:80 or -p22. */
		for (j = 1; a[j] != '\0'; j++) {
			if (strchr(ssh_argopts, a[j]) != NULL) {
				if (a[j + 1] == '\0')
					i++;
				break;
			}
		}
	}
	return -1;
}

/* '%' is a token character in ssh_config values. */
static void
escape_pct(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 2 < len; s++) {
		if (*s == '%')
			out[o++] = '%';
		out[o++] = *s;
	}
	out[o] = '\0';
}

static const struct pgl_resource_info *
find_res(const struct pgl_signed *sg, const char *name)
{
	size_t i;

	for (i = 0; i < sg->nres; i++)
		if (strcmp(sg->res[i].name, name) == 0)
			return &sg->res[i];
	return NULL;
}

/* The ssh_config the bastion hops use (ssh -F), one Host per bastion,
 * each reaching its own bastion the same way. */
static int
jump_config(const char *dir, const char *ssh, const struct pgl_signed *sg,
    const struct pgl_resource_info *target, struct pgl_buf *out,
    struct cli_err *e)
{
	const struct pgl_resource_info *b;
	const char *via = target->via;
	char host[600];
	size_t steps;
	int r;

	for (steps = 0; via != NULL; steps++, via = b->via) {
		if (steps >= sg->nres || (b = find_res(sg, via)) == NULL) {
			cli_seterr(e, PGL_EXIT_SIGNER, "the signer's answer "
			    "has no certificate principal for the bastion %s",
			    via);
			return PGL_E_FORMAT;
		}
		escape_pct(b->address, host, sizeof(host));
		if ((r = pgl_buf_putf(out,
		    "Host %s\n"
		    "\tHostName %s\n"
		    "\tPort %u\n"
		    "\tUser %s\n"
		    "\tHostKeyAlias %s\n"
		    "\tIdentityFile %s/id\n"
		    "\tCertificateFile %s/id-cert.pub\n"
		    "\tIdentitiesOnly yes\n"
		    "\tUserKnownHostsFile %s/known_hosts\n"
		    "\tGlobalKnownHostsFile /dev/null\n"
		    "\tStrictHostKeyChecking yes\n"
		    "\tCheckHostIP no\n"
		    "\tUpdateHostKeys no\n"
		    "\tBatchMode yes\n",
		    b->name, host, b->port, sg->username, b->name, dir, dir,
		    dir)) != 0)
			return r;
		if (b->via != NULL && (r = pgl_buf_putf(out, "\tProxyCommand "
		    "%s -F %s/jump_config -W [%%h]:%%p %s\n", ssh, dir,
		    b->via)) != 0)
			return r;
	}
	return 0;
}

/* Writes id, id-cert.pub, known_hosts (and jump_config) into dir. */
static int
write_session(const char *dir, const char *ssh, const struct pgl_key *key,
    const struct pgl_signed *sg, const struct pgl_resource_info *target,
    struct cli_err *e)
{
	struct pgl_buf *b = NULL;
	char path[4200];
	int r;

	if ((b = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/id", dir);
	if ((r = pgl_key_format_private(key, "pgl", b)) != 0 ||
	    (r = write_new_file(path, pgl_buf_ptr(b), pgl_buf_len(b),
	    0600)) != 0)
		goto fail;
	pgl_buf_reset(b);
	snprintf(path, sizeof(path), "%s/id-cert.pub", dir);
	if ((r = pgl_buf_put(b, sg->certificate, strlen(sg->certificate))) != 0 ||
	    (r = pgl_buf_put(b, "\n", 1)) != 0 ||
	    (r = write_new_file(path, pgl_buf_ptr(b), pgl_buf_len(b),
	    0600)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	if ((r = known_hosts_text(sg, b)) != 0 ||
	    (r = write_new_file(path, pgl_buf_ptr(b), pgl_buf_len(b),
	    0600)) != 0)
		goto fail;
	if (target->via != NULL) {
		pgl_buf_reset(b);
		snprintf(path, sizeof(path), "%s/jump_config", dir);
		if ((r = jump_config(dir, ssh, sg, target, b, e)) != 0)
			goto out;
		if ((r = write_new_file(path, pgl_buf_ptr(b), pgl_buf_len(b),
		    0600)) != 0)
			goto fail;
	}
	r = 0;
	goto out;
 fail:
	cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path, r == PGL_E_SYSTEM ?
	    strerror(errno) : pgl_strerror(r));
 out:
	pgl_buf_free(b);
	return r;
}

static volatile sig_atomic_t child;

static void
forward_signal(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* Runs argv (ssh) as a child and returns what pgl should exit with. */
static int
run_child(char **argv, struct cli_err *e)
{
	struct sigaction ign, fwd, old_int, old_quit, old_term, old_hup;
	int status, save;
	pid_t pid;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	memset(&fwd, 0, sizeof(fwd));
	fwd.sa_handler = forward_signal;
	sigemptyset(&fwd.sa_mask);
	/* ^C and ^\ belong to ssh (they reach it through the tty); pgl
	 * stays to clean up.  TERM and HUP sent to pgl go on to ssh. */
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);
	fflush(NULL);
	if ((pid = fork()) == -1) {
		cli_seterr(e, PGL_EXIT_ERROR, "fork: %s", strerror(errno));
		status = -1;
		goto out;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* `pgl ensure` (ssh_config's Match exec) has nothing to do
		 * for this ssh: it has its certificate. */
		setenv("PGL_SSH_ACTIVE", "1", 1);
		execv(argv[0], argv);
		save = errno;
		fprintf(stderr, "%s: cannot run %s: %s\n", PGL_PROG, argv[0],
		    strerror(save));
		_exit(255);
	}
	child = pid;
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			cli_seterr(e, PGL_EXIT_ERROR, "waitpid: %s",
			    strerror(errno));
			status = -1;
			goto out;
		}
	}
	child = 0;
	if (WIFEXITED(status))
		status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		status = 128 + WTERMSIG(status);
	else
		status = 255;
 out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	return status;
}

static void
usage_ssh(void)
{
	fprintf(stderr, "usage: pgl ssh [--ttl SECONDS] [user@]RESOURCE "
	    "[ssh arguments...] [--] [command...]\n");
}

int
cmd_ssh(int argc, char **argv)
{
	struct pgl_config *cfg = NULL;
	struct pgl_key *key = NULL;
	struct pgl_signed *sg = NULL;
	const struct pgl_resource_info *target;
	struct cli_err e = { 0, "" };
	char ssh[4096], *pub = NULL, *dir = NULL, *user = NULL;
	char resource[PGL_RESOURCE_NAME_MAX + 1];
	char *args[MAX_ARGS * 2 + 64], opt[24][4400];
	const char *dest, *at, *res1[1];
	long ttl = 0;
	int i, first, d, n = 0, no = 0, ret = PGL_EXIT_ERROR;
	size_t k;

	for (first = 1; first < argc; first++) {
		if (strcmp(argv[first], "--ttl") == 0 && first + 1 < argc) {
			if (parse_ttl(argv[++first], &ttl) != 0) {
				fprintf(stderr, "%s: --ttl %s: not a duration "
				    "(seconds, or Nm, Nh)\n", PGL_PROG,
				    argv[first]);
				return PGL_EXIT_USAGE;
			}
		} else if (strcmp(argv[first], "-h") == 0 ||
		    strcmp(argv[first], "--help") == 0) {
			usage_ssh();
			return PGL_EXIT_OK;
		} else
			break;
	}
	if ((d = find_destination(argc, argv, first)) < 0) {
		usage_ssh();
		return PGL_EXIT_USAGE;
	}
	if (argc - first > MAX_ARGS * 2) {
		fprintf(stderr, "%s: too many ssh arguments\n", PGL_PROG);
		return PGL_EXIT_USAGE;
	}
	dest = argv[d];
	if ((at = strrchr(dest, '@')) != NULL) {
		if ((user = strndup(dest, (size_t)(at - dest))) == NULL)
			return PGL_EXIT_ERROR;
		dest = at + 1;
	}
	for (k = 0; dest[k] != '\0' && k < sizeof(resource) - 1; k++)
		resource[k] = (char)(dest[k] >= 'A' && dest[k] <= 'Z' ?
		    dest[k] - 'A' + 'a' : dest[k]);
	resource[k] = '\0';
	if (dest[k] != '\0' || !pgl_valid_resource_name(resource)) {
		cli_seterr(&e, PGL_EXIT_UNKNOWN, "'%s' is not a resource name "
		    "(letters, digits, '.', '-', '_')", dest);
		goto out;
	}
	if (find_ssh(ssh, sizeof(ssh), &e) != 0 ||
	    cfg_load(&cfg, &e) != 0 ||
	    new_key(&key, &pub, &e) != 0)
		goto out;
	res1[0] = resource;
	if (signer_sign(cfg, pub, res1, 1, ttl, &sg, &e) != 0)
		goto out;
	target = &sg->res[0];
	if (user != NULL && strcmp(user, sg->username) != 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "you log in as %s (your pgl "
		    "username), not %s", sg->username, user);
		goto out;
	}
	if (private_tmpdir("pgl-ssh", &dir, &e) != 0)
		goto out;
	if (!plain_path(dir)) {
		cli_seterr(&e, PGL_EXIT_ERROR, "%s: temp dir path needs quoting",
		    dir);
		goto out;
	}
	if (write_session(dir, ssh, key, sg, target, &e) != 0)
		goto out;
	/* The key now lives only in the file ssh reads. */
	pgl_key_free(key);
	key = NULL;

#define ARG(s) (args[n++] = (char *)(s))
#define OPT(...) do { \
	snprintf(opt[no], sizeof(opt[no]), __VA_ARGS__); \
	ARG("-o"); ARG(opt[no++]); \
} while (0)
	ARG(ssh);
	ARG("-i");
	snprintf(opt[no], sizeof(opt[no]), "%s/id", dir);
	ARG(opt[no++]);
	OPT("CertificateFile=%s/id-cert.pub", dir);
	OPT("IdentitiesOnly=yes");
	OPT("UserKnownHostsFile=%s/known_hosts", dir);
	OPT("GlobalKnownHostsFile=/dev/null");
	OPT("StrictHostKeyChecking=yes");
	OPT("CheckHostIP=no");
	OPT("UpdateHostKeys=no");
	/* Looked up, and checked against the host certificate's
	 * principals, by the resource's name whatever the address. */
	OPT("HostKeyAlias=%s", target->name);
	{
		char host[600];

		escape_pct(target->address, host, sizeof(host));
		OPT("HostName=%s", host);
	}
	OPT("Port=%u", target->port);
	OPT("User=%s", sg->username);
	if (target->via != NULL)
		OPT("ProxyCommand=%s -F %s/jump_config -W [%%h]:%%p %s", ssh,
		    dir, target->via);
#undef OPT
	for (i = first; i < argc; i++)
		ARG(i == d ? target->name : argv[i]);
	args[n] = NULL;
#undef ARG
	ret = run_child(args, &e);
	if (ret < 0)
		ret = cli_report(&e);
	goto done;
 out:
	ret = cli_report(&e);
 done:
	private_tmpdir_remove(dir);
	free(dir);
	free(user);
	free(pub);
	pgl_key_free(key);
	pgl_signed_free(sg);
	cfg_free(cfg);
	return ret;
}
