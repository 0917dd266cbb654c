/* pgl-host status: what this host is enrolled as, how its last sync
 * went, what its cache holds, and one check per thing that must be in
 * place for a pgl login, each with a message that says what to fix.
 * Exits 1 if any check fails. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "pgl-config.h"
#include "err.h"
#include "fileio.h"
#include "name.h"
#include "sshkey.h"
#include "certinfo.h"
#include "configure.h"
#include "state.h"

#define SSHD_PATH "/usr/sbin/sshd"
#define SSHD_OUT_MAX (1024 * 1024)

struct checks {
	int failed;
	int n;
};

__attribute__((format(printf, 3, 4)))
static void
check(struct checks *ck, int ok, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("  %-4s %s\n", ok ? "ok" : "FAIL", msg);
	ck->n++;
	if (!ok)
		ck->failed++;
}

static const char *
when(int64_t t, char *buf, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0)
		return "never";
	gmtime_r(&tt, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
	return buf;
}

/* Mode and owner of a file: 0 if as wanted, 1 otherwise (why says). */
static int
perms(const char *path, mode_t want, int dir, char *why, size_t n)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		snprintf(why, n, "%s: %s", path, strerror(errno));
		return 1;
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
		snprintf(why, n, "%s is not a %s", path, dir ? "directory" :
		    "regular file");
		return 1;
	}
	if ((st.st_mode & 07777) != want || st.st_uid != 0) {
		snprintf(why, n, "%s is %04o uid %u, must be %04o root", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
		    (unsigned)want);
		return 1;
	}
	snprintf(why, n, "%s is %04o root", path, (unsigned)want);
	return 0;
}

static void
check_perm(struct checks *ck, const char *what, const char *path, mode_t want)
{
	char why[PATH_MAX + 128];
	int bad = perms(path, want, 0, why, sizeof(why));

	check(ck, !bad, "%s: %s", what, why);
}

static void
check_sudoers(struct checks *ck, const struct host_config *c)
{
	struct stat st;
	struct dirent *de;
	char path[PATH_MAX + 256];
	DIR *d;
	int bad = 0, n = 0;

	if (lstat(c->p.sudoers_d, &st) != 0) {
		check(ck, 0, "sudoers: %s: %s (sudo grants cannot work)",
		    c->p.sudoers_d, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
		check(ck, 0, "sudoers: %s must be a root-owned directory "
		    "writable by root only (0750 or 0755), is %04o uid %u",
		    c->p.sudoers_d, (unsigned)(st.st_mode & 07777),
		    (unsigned)st.st_uid);
		return;
	}
	if ((d = opendir(c->p.sudoers_d)) == NULL) {
		check(ck, 0, "sudoers: %s: %s", c->p.sudoers_d, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char why[PATH_MAX + 300];

		if (strncmp(de->d_name, "pgl-", 4) != 0 ||
		    !pgl_username_valid(de->d_name + 4))
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", c->p.sudoers_d, de->d_name);
		if (perms(path, 0440, 0, why, sizeof(why)) != 0) {
			check(ck, 0, "sudoers drop-in: %s", why);
			bad = 1;
		}
	}
	closedir(d);
	if (!bad)
		check(ck, 1, "sudoers: %s is root's; %d pgl drop-ins, all 0440 "
		    "root", c->p.sudoers_d, n);
}

/* sshd -T: the settings sshd would really use. */
static void
check_sshd_t(struct checks *ck, const struct host_config *c,
    const char *cert)
{
	struct pgl_buf *b;
	char line[4096], buf[4096], *out = NULL, expect[6][PATH_MAX + 64];
	size_t i, len = 0;
	ssize_t k;
	pid_t pid;
	int fds[2], st, ok = 1, found[6] = { 0 };
	const char *first = NULL;

	if (access(SSHD_PATH, X_OK) != 0) {
		printf("  skip sshd -T: %s is not installed\n", SSHD_PATH);
		return;
	}
	snprintf(expect[0], sizeof(expect[0]), "trustedusercakeys %s",
	    HOST_USER_CA_PATH);
	snprintf(expect[1], sizeof(expect[1]), "authorizedprincipalscommand "
	    "%s %%u", PGL_PRINCIPALS_PATH);
	snprintf(expect[2], sizeof(expect[2]), "revokedkeys %s", HOST_KRL_PATH);
	snprintf(expect[3], sizeof(expect[3]), "usepam yes");
	snprintf(expect[4], sizeof(expect[4]), "exposeauthinfo yes");
	snprintf(expect[5], sizeof(expect[5]), "hostcertificate %s", cert);
	if (pipe2(fds, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		check(ck, 0, "sshd -T: cannot run: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execl(SSHD_PATH, "sshd", "-T", "-f", c->p.sshd_config,
		    (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if ((b = pgl_buf_new()) == NULL || pgl_buf_set_max(b, SSHD_OUT_MAX) != 0)
		ok = 0;
	while ((k = read(fds[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR))
		if (k > 0 && b != NULL)
			(void)pgl_buf_put(b, buf, (size_t)k);
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (b != NULL && pgl_buf_len(b) > 0)
		out = strndup((const char *)pgl_buf_ptr(b), pgl_buf_len(b));
	pgl_buf_free(b);
	if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* The first line that is not a setting says why. */
		if (out != NULL)
			first = strtok(out, "\n");
		check(ck, 0, "sshd -T -f %s failed: %.300s", c->p.sshd_config,
		    first != NULL ? first : "no output");
		free(out);
		return;
	}
	for (char *p = out, *nl; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		snprintf(line, sizeof(line), "%s", p);
		for (i = 0; i < 6; i++)
			if (strcasecmp(line, expect[i]) == 0 ||
			    (i == 5 && strncasecmp(line, expect[i],
			    strlen(expect[i])) == 0))
				found[i] = 1;
		len++;
	}
	ok = 1;
	for (i = 0; i < 6; i++)
		if (!found[i]) {
			check(ck, 0, "sshd -T: sshd does not use '%s' (another "
			    "file sets it first? sshd takes the first value)",
			    expect[i]);
			ok = 0;
		}
	if (ok)
		check(ck, 1, "sshd -T: sshd uses the pgl settings");
	free(out);
}

static void
check_snippet(struct checks *ck, const struct host_config *c,
    const char *cert)
{
	struct pgl_buf *b = NULL;
	struct host_err e = { "" };
	char want[6][PATH_MAX + 64], *text;
	size_t i;
	int ok = 1, r;

	snprintf(want[0], sizeof(want[0]), "TrustedUserCAKeys %s\n",
	    HOST_USER_CA_PATH);
	snprintf(want[1], sizeof(want[1]), "AuthorizedPrincipalsCommand %s %%u\n",
	    PGL_PRINCIPALS_PATH);
	snprintf(want[2], sizeof(want[2]), "RevokedKeys %s\n", HOST_KRL_PATH);
	snprintf(want[3], sizeof(want[3]), "UsePAM yes\n");
	snprintf(want[4], sizeof(want[4]), "HostCertificate %s\n", cert);
	snprintf(want[5], sizeof(want[5]), "AuthorizedPrincipalsCommandUser ");
	if (pgl_file_read(c->p.sshd_snippet, 64 * 1024, &b) != 0) {
		check(ck, 0, "sshd: %s is missing: run pgl-host enroll again",
		    c->p.sshd_snippet);
		return;
	}
	text = strndup((const char *)pgl_buf_ptr(b), pgl_buf_len(b));
	pgl_buf_free(b);
	for (i = 0; text != NULL && i < 6; i++)
		if (strstr(text, want[i]) == NULL) {
			check(ck, 0, "sshd: %s lacks '%.*s'", c->p.sshd_snippet,
			    (int)strcspn(want[i], "\n"), want[i]);
			ok = 0;
		}
	free(text);
	if (ok)
		check(ck, 1, "sshd: %s has the pgl settings", c->p.sshd_snippet);
	r = sshd_include_check(c, &e);
	if (r < 0)
		check(ck, 0, "sshd: %s", e.msg);
	else
		check(ck, r == 0, "sshd: %s %s %s", c->p.sshd_config,
		    r == 0 ? "includes" : "does not include (add 'Include "
		    "/etc/ssh/sshd_config.d/*.conf' at its top)",
		    HOST_SSHD_SNIPPET);
}

int
cmd_status(struct host_config *c, int argc, char **argv)
{
	struct host_err e = { "" };
	struct checks ck = { 0, 0 };
	struct sync_state ss;
	struct pgl_cache cache;
	struct pgl_buf *kb = NULL, *cb = NULL;
	struct pgl_key *key = NULL;
	struct certinfo ci;
	char t1[64], t2[64], missing[64], why[512], cert[PATH_MAX];
	int64_t now = (int64_t)time(NULL);
	size_t n;
	int r;

	if (argc > 1) {
		fprintf(stderr, "%s status: no arguments expected\n", HOST_PROG);
		return 2;
	}
	memset(&cache, 0, sizeof(cache));
	if (hconf_load(c, 1, &e) != 0) {
		printf("not enrolled: %s\n", e.msg);
		return 1;
	}
	n = strlen(c->host_key);
	snprintf(cert, sizeof(cert), "%.*s-cert.pub", (int)(n - 4), c->host_key);
	printf("host:        %s\n", c->host);
	printf("signer:      %s (%s)\n", c->signer, c->pin != NULL ?
	    "pinned key" : c->ca_file != NULL ? "CA file" : "system CAs");
	if (sync_state_read(c->p.sync_state, &ss) == 0) {
		printf("last sync:   %s: %s\n", when(ss.attempt, t1, sizeof(t1)),
		    ss.result);
		printf("last good:   %s\n", when(ss.success, t2, sizeof(t2)));
	} else
		printf("last sync:   never\n");
	if ((r = pgl_cache_map(&cache, c->p.cache, PGL_CACHE_USERS)) == 0)
		printf("cache:       %u users, %u groups, written %s\n",
		    cache.users.n, cache.groups.n,
		    when((int64_t)cache.generated, t1, sizeof(t1)));
	else
		printf("cache:       none (%s)\n", pgl_strerror(r));
	if (pgl_file_read(c->p.host_key, 64 * 1024, &kb) == 0)
		(void)pgl_key_parse_public_line((const char *)pgl_buf_ptr(kb),
		    pgl_buf_len(kb), &key, NULL);
	r = -1;
	if (pgl_file_read(c->p.host_cert, 64 * 1024, &cb) == 0 &&
	    (r = certinfo_parse((const char *)pgl_buf_ptr(cb), pgl_buf_len(cb),
	    key, NULL, 0, &ci, &e)) == 0)
		printf("certificate: serial %llu, valid %s to %s\n",
		    (unsigned long long)ci.serial,
		    when((int64_t)ci.valid_after, t1, sizeof(t1)),
		    when((int64_t)ci.valid_before, t2, sizeof(t2)));
	else
		printf("certificate: none\n");

	printf("checks:\n");
	check_perm(&ck, "credential", c->p.credential, 0600);
	check_perm(&ck, "cache", c->p.cache, 0644);
	check_perm(&ck, "shadow cache", c->p.shadow, 0600);
	if (cache.base != NULL)
		check(&ck, strcmp(cache.host.p, c->host) == 0,
		    "cache is for host %s", cache.host.p);
	if (ss.success == 0)
		check(&ck, 0, "sync: never succeeded (run pgl-host sync; is "
		    "pgl-host-sync.timer enabled?)");
	else
		check(&ck, strcmp(ss.result, "ok") == 0 &&
		    now - ss.success < (int64_t)c->max_stale,
		    "sync: last attempt %s, last success %lld s ago%s",
		    ss.result, (long long)(now - ss.success),
		    now - ss.success < (int64_t)c->max_stale ? "" :
		    " (longer than max_stale: cached users have expired)");
	if (r == 0)
		check(&ck, (uint64_t)now < ci.valid_before &&
		    ci.type == CERT_TYPE_HOST,
		    "host certificate %s %s", c->p.host_cert,
		    (uint64_t)now >= ci.valid_before ? "has expired (pgl-host "
		    "sync renews it)" : certinfo_renewal_due(&ci, (uint64_t)now) ?
		    "is due for renewal" : "is valid");
	else
		check(&ck, 0, "host certificate %s: %s", c->p.host_cert,
		    e.msg[0] ? e.msg : "missing");
	check_perm(&ck, "user CA keys", c->p.user_ca, 0644);
	check_perm(&ck, "KRL", c->p.krl, 0644);
	check_snippet(&ck, c, cert);
	check_sshd_t(&ck, c, cert);
	r = nsswitch_check(c->p.nsswitch, missing, sizeof(missing), &e);
	if (r < 0)
		check(&ck, 0, "nsswitch: %s", e.msg);
	else
		check(&ck, r == 0, "nsswitch: %s%s%s", c->p.nsswitch,
		    r == 0 ? " lists pgl for passwd, group and shadow" :
		    ": pgl missing on the lines: ", r == 0 ? "" : missing);
	r = pam_check(c, why, sizeof(why));
	check(&ck, r == 0, "PAM: %s", r == 0 ? "pam_pgl.so runs in account "
	    "and session" : why);
	check_sudoers(&ck, c);
	printf("%d of %d checks failed\n", ck.failed, ck.n);
	pgl_cache_unmap(&cache);
	pgl_key_free(key);
	pgl_buf_free(kb);
	pgl_buf_free(cb);
	return ck.failed == 0 ? 0 : 1;
}
