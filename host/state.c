/* State files, locks, and the files pgl-host writes for sshd and sudo. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "name.h"
#include "state.h"

#define STATE_MAX 65536

int
lock_take(const char *path, int wait_ms, int *fd, struct host_err *e)
{
	struct timespec ts;
	int64_t end = 0, now;
	int f;

	if ((f = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return herr(e, "%s: %s", path, strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + wait_ms;
	for (;;) {
		if (flock(f, wait_ms < 0 ? LOCK_EX : LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(f);
			return herr(e, "%s: %s", path, strerror(errno));
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (wait_ms >= 0 && now >= end) {
			close(f);
			return herr(e, "%s: held by another pgl-host process",
			    path);
		}
		(void)poll(NULL, 0, 5);
	}
	*fd = f;
	return 0;
}

void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);      /* drops the flock */
}

int
state_read_line(const char *path, char *buf, size_t n)
{
	struct pgl_buf *b = NULL;
	const char *p;
	size_t len;
	int r;

	if ((r = pgl_file_read(path, STATE_MAX, &b)) != 0)
		return errno == ENOENT ? PGL_E_NOT_FOUND : r;
	p = (const char *)pgl_buf_ptr(b);
	len = pgl_buf_len(b);
	if (p != NULL && memchr(p, '\n', len) != NULL)
		len = (size_t)((const char *)memchr(p, '\n', len) - p);
	if (len >= n || (len > 0 && memchr(p, '\0', len) != NULL)) {
		pgl_buf_free(b);
		return PGL_E_FORMAT;
	}
	if (len > 0)
		memcpy(buf, p, len);
	buf[len] = '\0';
	pgl_buf_free(b);
	return 0;
}

int
state_write(const char *path, const char *text, mode_t mode,
    struct host_err *e)
{
	int r;

	if ((r = pgl_file_write_atomic(path, text, strlen(text), mode, 0)) != 0)
		return herr(e, "%s: %s", path, pgl_strerror(r));
	return 0;
}

int
sync_state_read(const char *path, struct sync_state *s)
{
	struct pgl_buf *b = NULL;
	char *text, *line, *save = NULL;
	long long v;
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = pgl_file_read(path, STATE_MAX, &b)) != 0)
		return errno == ENOENT ? PGL_E_NOT_FOUND : r;
	if ((text = strndup((const char *)pgl_buf_ptr(b),
	    pgl_buf_len(b))) == NULL) {
		pgl_buf_free(b);
		return PGL_E_NOMEM;
	}
	pgl_buf_free(b);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "attempt %lld", &v) == 1)
			s->attempt = v;
		else if (sscanf(line, "success %lld", &v) == 1)
			s->success = v;
		else if (sscanf(line, "fetched_ns %lld", &v) == 1)
			s->fetched_ns = v;
		else if (strncmp(line, "result ", 7) == 0)
			snprintf(s->result, sizeof(s->result), "%s", line + 7);
	}
	free(text);
	return 0;
}

int
sync_state_write(const char *path, const struct sync_state *s,
    struct host_err *e)
{
	char text[1024];
	size_t i;

	snprintf(text, sizeof(text), "attempt %" PRId64 "\nsuccess %" PRId64
	    "\nfetched_ns %" PRId64 "\nresult %s\n", s->attempt, s->success,
	    s->fetched_ns, s->result);
	/* The result is one line. */
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] == '\r')
			text[i] = ' ';
	return state_write(path, text, 0644, e);
}

int
write_if_changed(const char *path, const void *p, size_t n, mode_t mode,
    int *changed, struct host_err *e)
{
	struct pgl_buf *old = NULL;
	struct stat st;
	int r;

	if (changed != NULL)
		*changed = 0;
	if (pgl_file_read(path, n + 1, &old) == 0 && pgl_buf_len(old) == n &&
	    (n == 0 || memcmp(pgl_buf_ptr(old), p, n) == 0) &&
	    stat(path, &st) == 0 && (st.st_mode & 07777) == mode) {
		pgl_buf_free(old);
		return 0;
	}
	pgl_buf_free(old);
	if (mkparents(path, 0755) != 0)
		return herr(e, "%s: cannot create its directory: %s", path,
		    strerror(errno));
	if ((r = pgl_file_write_atomic(path, p, n, mode, 0)) != 0)
		return herr(e, "%s: %s", path, pgl_strerror(r));
	if (changed != NULL)
		*changed = 1;
	return 0;
}

int
write_user_ca(const char *path, const char *const *lines, size_t n,
    int *changed, struct host_err *e)
{
	struct pgl_buf *b;
	size_t i;
	int r = -1;

	if (n == 0)
		return herr(e, "no user CA key: refusing to empty %s", path);
	if ((b = pgl_buf_new()) == NULL)
		return herr(e, "out of memory");
	for (i = 0; i < n; i++)
		if (pgl_buf_put(b, lines[i], strlen(lines[i])) != 0 ||
		    pgl_buf_put(b, "\n", 1) != 0) {
			herr(e, "out of memory");
			goto out;
		}
	r = write_if_changed(path, pgl_buf_ptr(b), pgl_buf_len(b), 0644,
	    changed, e);
 out:
	pgl_buf_free(b);
	return r;
}

int
krl_valid(const void *p, size_t n)
{
	static const uint8_t magic[8] = { 'S', 'S', 'H', 'K', 'R', 'L', '\n', 0 };
	const uint8_t *q = p;

	/* magic, then uint32 format version 1 */
	return n >= 12 && memcmp(q, magic, 8) == 0 &&
	    q[8] == 0 && q[9] == 0 && q[10] == 0 && q[11] == 1;
}

/* Same sudo grant in both caches. */
static int
same_sudo(const struct pgl_cache *a, const struct pgl_cache_user *ua,
    const struct pgl_cache *b, const struct pgl_cache_user *ub)
{
	struct pgl_cache_str sa, sb;
	uint32_t i;

	if (ua->sudo != ub->sudo ||
	    ua->sudo_commands.n != ub->sudo_commands.n)
		return 0;
	for (i = 0; i < ua->sudo_commands.n; i++) {
		if (pgl_cache_str_at(a, ua->sudo_commands, i, &sa) != 0 ||
		    pgl_cache_str_at(b, ub->sudo_commands, i, &sb) != 0 ||
		    sa.len != sb.len || memcmp(sa.p, sb.p, sa.len) != 0)
			return 0;
	}
	return 1;
}

static int
keep_dropin(const struct pgl_cache *old, const struct pgl_cache *new,
    const char *name)
{
	struct pgl_cache_user un, uo;

	if (new == NULL || new->base == NULL ||
	    pgl_cache_user_by_name(new, name, &un) != 0 ||
	    un.sudo == PGL_CACHE_SUDO_NONE)
		return 0;
	if (old == NULL || old->base == NULL ||
	    pgl_cache_user_by_name(old, name, &uo) != 0)
		return 0;
	return same_sudo(old, &uo, new, &un);
}

int
sudoers_prune(const char *dir, const struct pgl_cache *old,
    const struct pgl_cache *new, size_t *removed, struct host_err *e)
{
	struct dirent *de;
	DIR *d;
	int fd, dfd, r = 0;
	size_t n = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT) {
			*removed = 0;
			return 0;
		}
		return herr(e, "%s: %s", dir, strerror(errno));
	}
	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		close(fd);
		return herr(e, "%s: %s", dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "pgl-", 4) != 0 ||
		    !pgl_username_valid(de->d_name + 4) ||
		    keep_dropin(old, new, de->d_name + 4))
			continue;
		/* unlinkat never follows: a symlink named so goes too. */
		if (unlinkat(fd, de->d_name, 0) != 0 && errno != ENOENT) {
			r = herr(e, "%s/%s: %s", dir, de->d_name,
			    strerror(errno));
			continue;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		(void)fsync(fd);
	close(fd);
	*removed = n;
	return r;
}

uint64_t
cache_min_expire(const struct pgl_cache *c)
{
	struct pgl_cache_user u;
	uint64_t m = 0;
	uint32_t i;

	for (i = 0; i < c->users.n; i++)
		if (pgl_cache_user_at(c, i, &u) == 0 && u.expire != 0 &&
		    (m == 0 || u.expire < m))
			m = u.expire;
	return m;
}

static int
in_list(const char *s, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, v[i]) == 0)
			return 1;
	return 0;
}

static int
carry_user(const struct pgl_cache *c, const struct pgl_cache_user *u,
    struct pgl_cache_builder *b, uint64_t expire, struct host_err *e)
{
	struct pgl_cache_user_in in;
	struct pgl_cache_group g;
	struct pgl_cache_str s;
	const char **pr = NULL, **gr = NULL, **cmd = NULL;
	uint32_t i, gid;
	size_t ng = 0;
	int r = -1;

	if ((u->principals.n > 0 && (pr = calloc(u->principals.n,
	    sizeof(*pr))) == NULL) ||
	    (u->gids.n > 0 && (gr = calloc(u->gids.n, sizeof(*gr))) == NULL) ||
	    (u->sudo_commands.n > 0 && (cmd = calloc(u->sudo_commands.n,
	    sizeof(*cmd))) == NULL)) {
		herr(e, "out of memory");
		goto out;
	}
	for (i = 0; i < u->principals.n; i++) {
		if (pgl_cache_str_at(c, u->principals, i, &s) != 0)
			goto skip;
		pr[i] = s.p;
	}
	for (i = 0; i < u->gids.n; i++) {
		if (pgl_cache_u32_at(c, u->gids, i, &gid) != 0 ||
		    pgl_cache_group_by_gid(c, gid, &g) != 0)
			goto skip;
		gr[ng++] = g.name.p;
	}
	for (i = 0; i < u->sudo_commands.n; i++) {
		if (pgl_cache_str_at(c, u->sudo_commands, i, &s) != 0)
			goto skip;
		cmd[i] = s.p;
	}
	memset(&in, 0, sizeof(in));
	in.name = u->name.p;
	in.uid = u->uid;
	in.gecos = u->gecos.p;
	in.home = u->home.p;
	in.shell = u->shell.p;
	in.expire = expire != 0 ? expire : u->expire;
	in.principals = pr;
	in.nprincipals = u->principals.n;
	in.groups = gr;
	in.ngroups = ng;
	in.sudo = u->sudo;
	in.sudo_commands = cmd;
	in.nsudo_commands = u->sudo_commands.n;
	if (pgl_cache_builder_add_user(b, &in) != 0) {
		herr(e, "cache entry %s: %s", u->name.p,
		    pgl_cache_builder_error(b));
		goto out;
	}
 skip:
	/* A damaged entry is dropped; the next sync brings it back. */
	r = 0;
 out:
	free(pr);
	free(gr);
	free(cmd);
	return r;
}

int
cache_carry(const struct pgl_cache *c, struct pgl_cache_builder *b,
    const char *skip_user, const char *const *skip_groups, size_t nskip,
    uint32_t uid_min, uint32_t uid_max, uint64_t now, uint64_t expire,
    struct host_err *e)
{
	struct pgl_cache_group_in gin;
	struct pgl_cache_user u;
	struct pgl_cache_group g;
	uint32_t i;

	if (c == NULL || c->base == NULL)
		return 0;
	for (i = 0; i < c->users.n; i++) {
		if (pgl_cache_user_at(c, i, &u) != 0 ||
		    pgl_cache_user_expired(&u, now) ||
		    u.uid < uid_min || u.uid > uid_max ||
		    (skip_user != NULL && strcmp(u.name.p, skip_user) == 0))
			continue;
		if (carry_user(c, &u, b, expire, e) != 0)
			return -1;
	}
	for (i = 0; i < c->groups.n; i++) {
		if (pgl_cache_group_at(c, i, &g) != 0 ||
		    g.gid < uid_min || g.gid > uid_max ||
		    in_list(g.name.p, skip_groups, nskip))
			continue;
		/* Self-groups are made again from their users. */
		if (pgl_cache_user_by_name(c, g.name.p, &u) == 0 &&
		    u.uid == g.gid)
			continue;
		memset(&gin, 0, sizeof(gin));
		gin.name = g.name.p;
		gin.gid = g.gid;
		if (pgl_cache_builder_add_group(b, &gin) != 0)
			return herr(e, "cache group %s: %s", g.name.p,
			    pgl_cache_builder_error(b));
	}
	return 0;
}
