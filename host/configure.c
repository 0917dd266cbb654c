/* nsswitch.conf, PAM and sshd_config: checked by status, changed by
 * enroll --configure (nsswitch.conf and PAM only; sshd_config's Include
 * is the distribution default and only reported). */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "configure.h"

#define NSS_MAX (1024 * 1024)
static const char *const nss_dbs[] = { "passwd", "group", "shadow" };

static char *
read_text(const char *path)
{
	struct pgl_buf *b = NULL;
	char *s;

	if (pgl_file_read(path, NSS_MAX, &b) != 0)
		return NULL;
	s = strndup(pgl_buf_ptr(b) != NULL ? (const char *)pgl_buf_ptr(b) : "",
	    pgl_buf_len(b));
	pgl_buf_free(b);
	return s;
}

/* The database a line configures (index in nss_dbs), or -1. */
static int
nss_line_db(const char *line)
{
	size_t i, n;

	line += strspn(line, " \t");
	for (i = 0; i < 3; i++) {
		n = strlen(nss_dbs[i]);
		if (strncmp(line, nss_dbs[i], n) == 0 && line[n] == ':')
			return (int)i;
	}
	return -1;
}

/* True if the line (up to a comment) names the pgl service.  The
 * service list follows the colon: words, and [action] items. */
static int
nss_line_has_pgl(const char *line, size_t len)
{
	const char *p = memchr(line, ':', len), *end = line + len, *w;
	const char *hash = memchr(line, '#', len);

	if (hash != NULL)
		end = hash;
	if (p == NULL || p > end)
		return 0;
	for (p++; p < end;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		w = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (p - w == 3 && memcmp(w, "pgl", 3) == 0)
			return 1;
		if (p < end && *p == '\n')
			break;
	}
	return 0;
}

int
nsswitch_check(const char *path, char *missing, size_t n, struct host_err *e)
{
	char *text, *line, *nl;
	int found[3] = { 0, 0, 0 }, i, db, r = 0;

	if ((text = read_text(path)) == NULL)
		return herr(e, "%s: %s", path, strerror(errno));
	for (line = text; *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		nl = nl != NULL ? nl + 1 : line + strlen(line);
		if ((db = nss_line_db(line)) >= 0 &&
		    nss_line_has_pgl(line, (size_t)(nl - line)))
			found[db] = 1;
	}
	free(text);
	missing[0] = '\0';
	for (i = 0; i < 3; i++)
		if (!found[i]) {
			if (missing[0] != '\0')
				strncat(missing, " ", n - strlen(missing) - 1);
			strncat(missing, nss_dbs[i], n - strlen(missing) - 1);
			r = 1;
		}
	return r;
}

int
nsswitch_add(const char *path, int *changed, struct host_err *e)
{
	char *text = NULL, *line, *nl, *p, *w, *out = NULL;
	size_t outlen = 0, len;
	int seen[3] = { 0, 0, 0 }, i, db, r = -1;
	struct stat st;
	FILE *f = NULL;

	*changed = 0;
	if ((text = read_text(path)) == NULL)
		return herr(e, "%s: %s", path, strerror(errno));
	if (stat(path, &st) != 0)
		st.st_mode = 0644;
	if ((f = open_memstream(&out, &outlen)) == NULL) {
		herr(e, "out of memory");
		goto done;
	}
	for (line = text; *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		nl = nl != NULL ? nl + 1 : line + strlen(line);
		len = (size_t)(nl - line);
		db = nss_line_db(line);
		if (db < 0 || nss_line_has_pgl(line, len)) {
			if (db >= 0)
				seen[db] = 1;
			fwrite(line, 1, len, f);
			continue;
		}
		seen[db] = 1;
		*changed = 1;
		/* After "files" (local accounts answer first), else last. */
		p = NULL;
		for (w = strchr(line, ':') + 1; w < nl; w++)
			if (strncmp(w, "files", 5) == 0 &&
			    (w[-1] == ' ' || w[-1] == '\t' || w[-1] == ':') &&
			    (w + 5 == nl || strchr(" \t\n#", w[5]) != NULL)) {
				p = w + 5;
				break;
			}
		if (p == NULL) {
			p = memchr(line, '#', len);
			if (p == NULL)
				p = nl[-1] == '\n' ? nl - 1 : nl;
			while (p > line && (p[-1] == ' ' || p[-1] == '\t'))
				p--;
		}
		fwrite(line, 1, (size_t)(p - line), f);
		fputs(" pgl", f);
		fwrite(p, 1, (size_t)(nl - p), f);
		if (nl[-1] != '\n')
			fputc('\n', f);
	}
	for (i = 0; i < 3; i++)
		if (!seen[i]) {
			fprintf(f, "%s:%*sfiles pgl\n", nss_dbs[i],
			    (int)(16 - strlen(nss_dbs[i])), "");
			*changed = 1;
		}
	if (fclose(f) != 0) {
		f = NULL;
		herr(e, "out of memory");
		goto done;
	}
	f = NULL;
	if (*changed && (r = pgl_file_write_atomic(path, out, outlen,
	    st.st_mode & 0644, 0)) != 0) {
		herr(e, "%s: %s", path, pgl_strerror(r));
		r = -1;
		goto done;
	}
	r = 0;
 done:
	if (f != NULL)
		fclose(f);
	free(out);
	free(text);
	return r;
}

/* True if the PAM file has a line of that type loading pam_pgl.so. */
static int
pam_file_has(const char *path, const char *type)
{
	char *text, *line, *save = NULL, *tok, *s2;
	int found = 0;

	if ((text = read_text(path)) == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line != NULL && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t");
		if (*line == '#')
			continue;
		if (*line == '-')
			line++;
		if ((tok = strtok_r(line, " \t", &s2)) == NULL ||
		    strcmp(tok, type) != 0)
			continue;
		while ((tok = strtok_r(NULL, " \t", &s2)) != NULL)
			if (strstr(tok, "pam_pgl.so") != NULL) {
				found = 1;
				break;
			}
	}
	free(text);
	return found;
}

int
pam_check(const struct host_config *c, char *why, size_t n)
{
	char sshd[PATH_MAX + 32], acc[PATH_MAX + 32], ses[PATH_MAX + 32];
	int a, s;

	snprintf(sshd, sizeof(sshd), "%s/sshd", c->p.pam_d);
	snprintf(acc, sizeof(acc), "%s/common-account", c->p.pam_d);
	snprintf(ses, sizeof(ses), "%s/common-session", c->p.pam_d);
	a = pam_file_has(sshd, "account") || pam_file_has(acc, "account");
	s = pam_file_has(sshd, "session") || pam_file_has(ses, "session");
	if (a && s)
		return 0;
	snprintf(why, n, "pam_pgl.so is not in the %s%s%s stack (%s/sshd, "
	    "common-account, common-session)", a ? "" : "account",
	    !a && !s ? " and " : "", s ? "" : "session", c->p.pam_d);
	return 1;
}

int
sshd_include_check(const struct host_config *c, struct host_err *e)
{
	char *text, *line, *save = NULL, *tok, *s2;
	int found = 0;

	if ((text = read_text(c->p.sshd_config)) == NULL)
		return herr(e, "%s: %s", c->p.sshd_config, strerror(errno));
	for (line = strtok_r(text, "\n", &save); line != NULL && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((tok = strtok_r(line, " \t", &s2)) == NULL ||
		    strcasecmp(tok, "Include") != 0)
			continue;
		while ((tok = strtok_r(NULL, " \t", &s2)) != NULL) {
			/* Relative Includes are under /etc/ssh. */
			char pat[PATH_MAX];

			if (tok[0] == '/')
				snprintf(pat, sizeof(pat), "%s", tok);
			else
				snprintf(pat, sizeof(pat), "/etc/ssh/%s", tok);
			if (fnmatch(pat, HOST_SSHD_SNIPPET, FNM_PATHNAME) == 0 ||
			    (c->root[0] != '\0' && fnmatch(pat,
			    c->p.sshd_snippet, FNM_PATHNAME) == 0)) {
				found = 1;
				break;
			}
		}
	}
	free(text);
	return found ? 0 : 1;
}

static int
run_pam_auth_update(void)
{
	pid_t pid;
	int st;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		execl("/usr/sbin/pam-auth-update", "pam-auth-update",
		    "--enable", "pgl", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int
configure_system(const struct host_config *c, int apply, int *changed)
{
	struct host_err e = { "" };
	char missing[64], why[512];
	int r, rc = 0, ch = 0;

	*changed = 0;
	r = nsswitch_check(c->p.nsswitch, missing, sizeof(missing), &e);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", HOST_PROG, e.msg);
		rc = -1;
	} else if (r > 0 && apply) {
		if (nsswitch_add(c->p.nsswitch, &ch, &e) != 0) {
			fprintf(stderr, "%s: %s\n", HOST_PROG, e.msg);
			rc = -1;
		} else {
			printf("configured: added pgl to the %s lines of %s\n",
			    missing, c->p.nsswitch);
			*changed = 1;
		}
	} else if (r > 0)
		printf("to do: add pgl after files on the %s lines of %s, "
		    "e.g.  passwd: files pgl  (or rerun with --configure)\n",
		    missing, c->p.nsswitch);

	if (pam_check(c, why, sizeof(why)) != 0) {
		if (!apply)
			printf("to do: %s; run pam-auth-update --enable pgl "
			    "(or rerun with --configure)\n", why);
		else if (access(c->p.pam_profile, F_OK) != 0)
			printf("not done: the PAM profile %s is not installed "
			    "(it comes with the pgl package); add "
			    "'account required pam_pgl.so' and 'session "
			    "required pam_pgl.so' to %s/sshd by hand\n",
			    c->p.pam_profile, c->p.pam_d);
		else if (c->root[0] != '\0' ||
		    access("/usr/sbin/pam-auth-update", X_OK) != 0)
			printf("not done: run pam-auth-update --enable pgl "
			    "on the target system\n");
		else if (run_pam_auth_update() != 0) {
			fprintf(stderr, "%s: pam-auth-update --enable pgl "
			    "failed\n", HOST_PROG);
			rc = -1;
		} else {
			printf("configured: pam-auth-update --enable pgl\n");
			*changed = 1;
		}
	}
	r = sshd_include_check(c, &e);
	if (r != 0)
		printf("to do: %s does not include %s; add 'Include "
		    "/etc/ssh/sshd_config.d/*.conf' at its top\n",
		    c->p.sshd_config, HOST_SSHD_SNIPPET);
	return rc;
}
