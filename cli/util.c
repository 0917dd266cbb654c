/* Small helpers: private temp dirs, new files, finding ssh, keys. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "pgl.h"

int
plain_path(const char *s)
{
	return s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+") == strlen(s);
}

/* A base for temp dirs: ours, not writable by others unless sticky. */
static int
usable_base(const char *d)
{
	struct stat st;

	if (d == NULL || d[0] != '/' || !plain_path(d) || strlen(d) > 200 ||
	    stat(d, &st) == -1 || !S_ISDIR(st.st_mode))
		return 0;
	if (st.st_uid == getuid())
		return (st.st_mode & 022) == 0 || (st.st_mode & S_ISVTX);
	return (st.st_mode & S_ISVTX) != 0;
}

int
private_tmpdir(const char *prefix, char **out, struct cli_err *e)
{
	const char *bases[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR"),
	    "/tmp" };
	char *p = NULL;
	size_t i;

	for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		if (!usable_base(bases[i]))
			continue;
		if (asprintf(&p, "%s/%s.XXXXXX", bases[i], prefix) < 0) {
			cli_seterr(e, PGL_EXIT_ERROR, "out of memory");
			return PGL_E_NOMEM;
		}
		/* mkdtemp makes it 0700. */
		if (mkdtemp(p) != NULL) {
			*out = p;
			return 0;
		}
		free(p);
		p = NULL;
	}
	cli_seterr(e, PGL_EXIT_ERROR, "cannot make a private temporary "
	    "directory (in $XDG_RUNTIME_DIR, $TMPDIR or /tmp): %s",
	    strerror(errno));
	return PGL_E_SYSTEM;
}

/* Overwrites a key file's bytes before unlinking it. */
static void
wipe_file(int dfd, const char *name)
{
	static const char zero[4096];
	struct stat st;
	off_t left;
	ssize_t w;
	int fd;

	if ((fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		for (left = st.st_size; left > 0; left -= w) {
			w = write(fd, zero, left > (off_t)sizeof(zero) ?
			    sizeof(zero) : (size_t)left);
			if (w <= 0)
				break;
		}
	}
	close(fd);
}

void
private_tmpdir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int dfd;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		wipe_file(dfd, de->d_name);
		unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
	rmdir(dir);
}

int
write_new_file(const char *path, const void *p, size_t n, int mode)
{
	const char *s = p;
	ssize_t w;
	int fd, save;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode);
	if (fd == -1)
		return PGL_E_SYSTEM;
	while (n > 0) {
		if ((w = write(fd, s, n)) < 0) {
			if (errno == EINTR)
				continue;
			save = errno;
			close(fd);
			unlink(path);
			errno = save;
			return PGL_E_SYSTEM;
		}
		s += w;
		n -= (size_t)w;
	}
	if (close(fd) == -1)
		return PGL_E_SYSTEM;
	return 0;
}

int
find_ssh(char *buf, size_t len, struct cli_err *e)
{
	const char *env = getenv("PGL_SSH"), *path = getenv("PATH");
	const char *p, *end;
	int n;

	if (env != NULL && env[0] != '\0') {
		if (env[0] != '/' || access(env, X_OK) != 0) {
			cli_seterr(e, PGL_EXIT_ERROR, "PGL_SSH=%s is not an "
			    "executable absolute path", env);
			return PGL_E_NOT_FOUND;
		}
		n = snprintf(buf, len, "%s", env);
		return n < 0 || (size_t)n >= len ? PGL_E_TOO_LARGE : 0;
	}
	if (path == NULL || path[0] == '\0')
		path = "/usr/bin:/bin";
	for (p = path; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, ":");
		/* An empty or relative PATH entry is not trusted. */
		if (end == p || *p != '/')
			continue;
		n = snprintf(buf, len, "%.*s/ssh", (int)(end - p), p);
		if (n < 0 || (size_t)n >= len)
			continue;
		if (access(buf, X_OK) == 0)
			return 0;
	}
	cli_seterr(e, PGL_EXIT_ERROR, "ssh not found in PATH (install "
	    "openssh-client, or set PGL_SSH)");
	return PGL_E_NOT_FOUND;
}

int
parse_ttl(const char *s, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || v <= 0 || v > 86400 * 31)
		return PGL_E_INVALID_ARG;
	if (*end == 'm' && end[1] == '\0')
		v *= 60;
	else if (*end == 'h' && end[1] == '\0')
		v *= 3600;
	else if (!(*end == '\0' || (*end == 's' && end[1] == '\0')))
		return PGL_E_INVALID_ARG;
	*out = v;
	return 0;
}

int
new_key(struct pgl_key **key, char **publine, struct cli_err *e)
{
	struct pgl_key *k = NULL;
	int r;

	if ((r = pgl_key_generate(PGL_KEY_ED25519, 0, &k)) != 0 ||
	    (r = pgl_key_format_public_line(k, "pgl", publine)) != 0) {
		pgl_key_free(k);
		cli_seterr(e, PGL_EXIT_ERROR, "cannot make a key: %s",
		    pgl_strerror(r));
		return r;
	}
	*key = k;
	return 0;
}

/* "name,address,[address]:port": ssh looks a host up by the name it was
 * given or its HostKeyAlias; pgl sets the alias to the resource name. */
int
known_hosts_text(const struct pgl_signed *sg, struct pgl_buf *out)
{
	char pat[600];
	size_t i;
	int r;

	pgl_buf_reset(out);
	if ((r = pgl_buf_put(out, "@cert-authority ", 16)) != 0)
		return r;
	for (i = 0; i < sg->nres; i++) {
		const struct pgl_resource_info *res = &sg->res[i];

		if (res->port == 22)
			snprintf(pat, sizeof(pat), "%s%s,%s", i > 0 ? "," : "",
			    res->name, res->address);
		else
			snprintf(pat, sizeof(pat), "%s%s,%s,[%s]:%u",
			    i > 0 ? "," : "", res->name, res->address,
			    res->address, res->port);
		if ((r = pgl_buf_put(out, pat, strlen(pat))) != 0)
			return r;
	}
	if ((r = pgl_buf_put(out, " ", 1)) != 0 ||
	    (r = pgl_buf_put(out, sg->host_ca, strlen(sg->host_ca))) != 0 ||
	    (r = pgl_buf_put(out, "\n", 1)) != 0)
		return r;
	return 0;
}
