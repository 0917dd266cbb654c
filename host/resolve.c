/* pgl-host resolve: the cache-miss resolver behind /run/pgl/resolve.sock
 * (docs/resolver.md).  The NSS module sends "NAME\n" and waits at most
 * PGL_RESOLVE_TIMEOUT_MS for one line back:
 *   ok     NAME is in the cache now
 *   none   not allowed here, unknown, or not a valid name
 *   error  the signer could not be asked (down, slow, rate limit)
 * Under systemd (pgl-resolve.socket, Accept=yes) each connection is a
 * new process with the connection on stdin; `--listen PATH` serves a
 * socket itself, one child process per connection, the same way.
 *
 * Resolvers run one at a time (resolve.lock): a flood of misses queues
 * instead of multiplying, and the negative cache and the rate limit in
 * statedir/resolve-state are read and written by one process at once. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pgl-config.h"
#include "err.h"
#include "fileio.h"
#include "name.h"
#include "directory.h"
#include "http.h"
#include "state.h"

#define READ_MS         500             /* for the request line */
#define MARGIN_MS       100             /* answer before the client gives up */
#define NEG_MAX         1024            /* negative cache entries */
#define RATE_WINDOW     60              /* seconds */
#define USER_MAX        (1024 * 1024)   /* one-user directory */

enum answer { ANS_OK, ANS_NONE, ANS_ERROR };

static const char *const answers[] = { "ok\n", "none\n", "error\n" };

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The request: one line of at most a username, before the deadline. */
static int
read_request(int fd, char *name, size_t n)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int64_t end = mono_ms() + READ_MS, left;
	size_t got = 0;
	ssize_t k;
	char *nl;

	for (;;) {
		if ((left = end - mono_ms()) <= 0)
			return -1;
		if (poll(&p, 1, (int)left) <= 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if ((k = read(fd, name + got, n - 1 - got)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -1;
		}
		if (k == 0)
			return -1;
		got += (size_t)k;
		if ((nl = memchr(name, '\n', got)) != NULL) {
			*nl = '\0';
			/* A NUL before the newline is not a name. */
			return strlen(name) == (size_t)(nl - name) ? 0 : -1;
		}
		if (got == n - 1)
			return -1;
	}
}

/* --- resolve-state: "window START COUNT" and "neg NAME UNTIL" lines --- */

struct neg {
	char name[PGL_USERNAME_MAX + 1];
	int64_t until;
};

struct rstate {
	int64_t window;
	uint64_t count;
	struct neg neg[NEG_MAX];
	size_t nneg;
};

static void
rstate_read(const char *path, struct rstate *s, int64_t now)
{
	struct pgl_buf *b = NULL;
	char *text, *line, *save = NULL, name[64];
	long long a, c;

	memset(s, 0, sizeof(*s));
	if (pgl_file_read(path, 256 * 1024, &b) != 0)
		return;
	text = strndup(pgl_buf_ptr(b) != NULL ? (const char *)pgl_buf_ptr(b) :
	    "", pgl_buf_len(b));
	pgl_buf_free(b);
	if (text == NULL)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "window %lld %lld", &a, &c) == 2 && c >= 0) {
			s->window = a;
			s->count = (uint64_t)c;
		} else if (sscanf(line, "neg %63s %lld", name, &a) == 2 &&
		    pgl_username_valid(name) && a > now && s->nneg < NEG_MAX) {
			/* Valid, so at most PGL_USERNAME_MAX bytes. */
			memcpy(s->neg[s->nneg].name, name, strlen(name) + 1);
			s->neg[s->nneg++].until = a;
		}
	}
	free(text);
}

static int
rstate_write(const char *path, const struct rstate *s, struct host_err *e)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int r;

	if ((f = open_memstream(&text, &len)) == NULL)
		return herr(e, "out of memory");
	fprintf(f, "window %lld %llu\n", (long long)s->window,
	    (unsigned long long)s->count);
	for (i = 0; i < s->nneg; i++)
		fprintf(f, "neg %s %lld\n", s->neg[i].name,
		    (long long)s->neg[i].until);
	if (fclose(f) != 0) {
		free(text);
		return herr(e, "out of memory");
	}
	r = pgl_file_write_atomic(path, text, len, 0600, 0);
	free(text);
	if (r != 0)
		return herr(e, "%s: %s", path, pgl_strerror(r));
	return 0;
}

static int
neg_has(const struct rstate *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nneg; i++)
		if (strcmp(s->neg[i].name, name) == 0)
			return 1;
	return 0;
}

static void
neg_add(struct rstate *s, const char *name, int64_t until)
{
	size_t i, oldest = 0;

	if (s->nneg == NEG_MAX) {
		/* Full: the entry closest to expiry makes room. */
		for (i = 1; i < s->nneg; i++)
			if (s->neg[i].until < s->neg[oldest].until)
				oldest = i;
		s->neg[oldest] = s->neg[--s->nneg];
	}
	snprintf(s->neg[s->nneg].name, sizeof(s->neg[0].name), "%s", name);
	s->neg[s->nneg++].until = until;
}

/* --- the cache --- */

/* 1 if name is a live entry of the cache. */
static int
in_cache(const struct host_config *c, const char *name)
{
	struct pgl_cache cache;
	struct pgl_cache_user u;
	int r = 0;

	memset(&cache, 0, sizeof(cache));
	if (pgl_cache_map(&cache, c->p.cache, PGL_CACHE_USERS) != 0)
		return 0;
	if (pgl_cache_user_by_name(&cache, name, &u) == 0 &&
	    !pgl_cache_user_expired(&u, (uint64_t)time(NULL)))
		r = 1;
	pgl_cache_unmap(&cache);
	return r;
}

/* Adds the fetched user to the cache, keeping every other entry. */
static enum answer
merge(struct host_config *c, const struct directory *d, const char *name,
    const struct local_accounts *l, int64_t asked_ns, int64_t end,
    struct host_err *e)
{
	struct pgl_cache old;
	struct pgl_cache_builder *b = NULL;
	struct sync_state ss;
	const struct dir_user *u = directory_user(d, name);
	const char **skip = NULL;
	uint64_t now = (uint64_t)time(NULL);
	size_t i, nskip = 0, skipped = 0;
	enum answer a = ANS_ERROR;
	int lock = -1, wait;

	memset(&old, 0, sizeof(old));
	if (u == NULL || d->nusers != 1 || strcmp(d->host, c->host) != 0) {
		herr(e, "the signer's answer is not user %s of host %s", name,
		    c->host);
		return ANS_ERROR;
	}
	if (c->uid_min != 0 && (d->uid_min < c->uid_min ||
	    d->uid_max > c->uid_max)) {
		herr(e, "uid range %u-%u is not inside host.conf's", d->uid_min,
		    d->uid_max);
		return ANS_ERROR;
	}
	if (local_has_name(l, name) || local_has_id(l, u->uid)) {
		herr(e, "collides with a local account");
		return ANS_NONE;
	}
	if ((wait = (int)(end - mono_ms())) < 1)
		wait = 1;
	if (lock_take(c->p.cache_lock, wait, &lock, e) != 0)
		return ANS_ERROR;
	/* A sync that asked after us wrote a directory at least as new
	 * as our answer: it decides (a grant removed meanwhile stays
	 * removed). */
	if (sync_state_read(c->p.sync_state, &ss) == 0 &&
	    ss.fetched_ns >= asked_ns) {
		a = in_cache(c, name) ? ANS_OK : ANS_NONE;
		goto out;
	}
	(void)pgl_cache_map(&old, c->p.cache, PGL_CACHE_USERS);
	if ((b = pgl_cache_builder_new(c->host, d->uid_min, d->uid_max)) == NULL ||
	    (u->ngroups > 0 && (skip = calloc(u->ngroups, sizeof(*skip))) == NULL)) {
		herr(e, "out of memory");
		goto out;
	}
	/* The fresh answer's groups replace the cache's of that name. */
	for (i = 0; i < u->ngroups; i++)
		skip[nskip++] = u->groups[i];
	if (directory_add(d, b, l, now + c->max_stale, name, &skipped, e) != 0 ||
	    cache_carry(&old, b, name, skip, nskip, d->uid_min, d->uid_max, now,
	    0, e) != 0 ||
	    pgl_cache_builder_set_local(b, c->p.passwd, c->p.group) != 0)
		goto out;
	if (mkparents(c->p.cache, 0755) != 0) {
		herr(e, "%s: cannot create its directory", c->p.cache);
		goto out;
	}
	if (pgl_cache_builder_write(b, c->p.cache, c->p.shadow) != 0) {
		herr(e, "cache not written: %s", pgl_cache_builder_error(b));
		goto out;
	}
	/* The cache is no longer the directory the ETag names: the next
	 * sync must fetch it whole, or a 304 would keep this user after
	 * the grant is gone. */
	if (unlink(c->p.etag) != 0 && errno != ENOENT) {
		herr(e, "%s: %s", c->p.etag, strerror(errno));
		goto out;
	}
	a = ANS_OK;
 out:
	lock_release(lock);
	pgl_cache_unmap(&old);
	pgl_cache_builder_free(b);
	free(skip);
	return a;
}

static enum answer
resolve_name(struct host_config *c, const char *name, int64_t end,
    struct host_err *e)
{
	struct local_accounts *l = NULL;
	struct directory *d = NULL;
	struct http_resp resp = { 0 };
	struct http_req rq;
	struct rstate *st = NULL;
	char path[64 + PGL_USERNAME_MAX], *cred = NULL;
	int64_t now = (int64_t)time(NULL), asked;
	enum answer a = ANS_ERROR;
	int lock = -1, wait;

	if (hconf_load(c, 1, e) != 0)
		return ANS_ERROR;
	if (local_load(c->p.passwd, c->p.group, &l, e) != 0)
		return ANS_ERROR;
	/* A local name is never a pgl user: nothing to ask. */
	if (local_has_name(l, name)) {
		herr(e, "a local account");
		a = ANS_NONE;
		goto out;
	}
	if (in_cache(c, name)) {
		a = ANS_OK;
		goto out;
	}
	if (mkparents(c->p.resolve_lock, 0755) != 0) {
		herr(e, "%s: cannot create: %s", c->p.statedir, strerror(errno));
		goto out;
	}
	if ((wait = (int)(end - mono_ms())) < 1)
		wait = 1;
	if (lock_take(c->p.resolve_lock, wait, &lock, e) != 0)
		goto out;
	/* Another resolver may have fetched it while we waited. */
	if (in_cache(c, name)) {
		a = ANS_OK;
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	now = (int64_t)time(NULL);
	rstate_read(c->p.resolve_state, st, now);
	if (neg_has(st, name)) {
		herr(e, "negative cache");
		a = ANS_NONE;
		goto out;
	}
	if (st->window > now || now - st->window >= RATE_WINDOW) {
		st->window = now;
		st->count = 0;
	}
	if (st->count >= c->resolve_rate) {
		herr(e, "rate limit (%llu signer requests a minute) reached",
		    (unsigned long long)c->resolve_rate);
		goto out;
	}
	st->count++;
	if (rstate_write(c->p.resolve_state, st, e) != 0 ||
	    credential_read(c, &cred, e) != 0)
		goto out;
	snprintf(path, sizeof(path), "/v1/host/users/%s", name);
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = path;
	rq.bearer = cred;
	rq.max = USER_MAX;
	rq.timeout_ms = (long)(end - mono_ms());
	if (rq.timeout_ms < 50) {
		herr(e, "no time left to ask the signer");
		goto out;
	}
	asked = real_ns();
	if (http_request(c, &rq, &resp, e) != 0)
		goto out;
	if (resp.status == 404 || resp.status == 400) {
		neg_add(st, name, now + (int64_t)c->negative_ttl);
		if (c->negative_ttl > 0)
			(void)rstate_write(c->p.resolve_state, st, NULL);
		herr(e, "not allowed on this host");
		a = ANS_NONE;
		goto out;
	}
	if (resp.status != 200) {
		http_error(&resp, "GET /v1/host/users", e);
		goto out;
	}
	if (directory_parse(pgl_buf_ptr(resp.body), pgl_buf_len(resp.body),
	    &d, e) != 0)
		goto out;
	a = merge(c, d, name, l, asked, end, e);
 out:
	lock_release(lock);
	credential_free(cred);
	directory_free(d);
	http_resp_free(&resp);
	local_free(l);
	free(st);
	return a;
}

/* One connection: request, answer, log.  Never longer than the
 * client's deadline. */
static void
serve(struct host_config *c, int in, int out)
{
	struct host_err e = { "" };
	char name[PGL_USERNAME_MAX + 2];
	int64_t end = mono_ms() + PGL_RESOLVE_TIMEOUT_MS - MARGIN_MS;
	enum answer a;
	const char *s;

	memset(name, 0, sizeof(name));
	if (read_request(in, name, sizeof(name)) != 0 ||
	    !pgl_username_valid(name)) {
		/* Not echoed: it may be anything. */
		a = ANS_NONE;
		host_log("resolve: invalid request refused");
	} else {
		a = resolve_name(c, name, end, &e);
		if (a != ANS_OK || e.msg[0] != '\0')
			host_log("resolve %s: %.*s%s%s", name,
			    (int)strlen(answers[a]) - 1, answers[a],
			    e.msg[0] != '\0' ? ": " : "", e.msg);
	}
	s = answers[a];
	/* write() for a pipe or terminal: `echo NAME | pgl-host resolve`. */
	if (send(out, s, strlen(s), MSG_NOSIGNAL) < 0 && errno == ENOTSOCK)
		(void)!write(STDOUT_FILENO, s, strlen(s));
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "%s resolve: socket path too long\n", HOST_PROG);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 128) != 0) {
		fprintf(stderr, "%s resolve: %s: %s\n", HOST_PROG, path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
cmd_resolve(struct host_config *c, int argc, char **argv)
{
	struct sigaction sa;
	const char *listen_path = NULL;
	pid_t pid;
	int i, fd, lfd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			listen_path = argv[++i];
		else {
			fprintf(stderr, "%s resolve: unknown option '%s'\n",
			    HOST_PROG, argv[i]);
			return 2;
		}
	}
	/* main() has set PGL_NSS_NO_RESOLVE: our own lookups never come
	 * back to us through the NSS module. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void)sigaction(SIGPIPE, &sa, NULL);
	if (listen_path == NULL) {
		serve(c, STDIN_FILENO, STDIN_FILENO);
		return 0;
	}
	if ((lfd = listen_on(listen_path)) < 0)
		return 1;
	/* Children are never waited for: the kernel reaps them. */
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	(void)sigaction(SIGCHLD, &sa, NULL);
	for (;;) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			fprintf(stderr, "%s resolve: accept: %s\n", HOST_PROG,
			    strerror(errno));
			return 1;
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			serve(c, fd, fd);
			_exit(0);
		}
		close(fd);
	}
}
