/* dlopen()s libnss_pgl.so.2 and calls every _nss_pgl_* function the way
 * glibc does: hits, misses, invalid names, buffers from one byte upward,
 * a group of 2000 members, enumeration, initgroups_dyn, shadow, the
 * resolver protocol and its deadline, threads, and readers hammering a
 * cache that a writer replaces 1,000 times.
 *
 * The module reads its compiled-in paths, so this runs only under
 * dlopen.sh, which gives it a private mount namespace with a tmpfs on
 * the state and socket directories (PGL_NSS_TEST_NS=1). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pgl-config.h"
#include "cache.h"
#include "cache-format.h"
#include "err.h"
#include "fileio.h"
#include "../unit/tap.h"

#define LINE 65536
#define BIG (1 << 20)
#define NBIG 2000

/* --- the module --- */

static struct {
	enum nss_status (*getpwnam_r)(const char *, struct passwd *, char *,
	    size_t, int *);
	enum nss_status (*getpwuid_r)(uid_t, struct passwd *, char *, size_t,
	    int *);
	enum nss_status (*setpwent)(int);
	enum nss_status (*getpwent_r)(struct passwd *, char *, size_t, int *);
	enum nss_status (*endpwent)(void);
	enum nss_status (*getgrnam_r)(const char *, struct group *, char *,
	    size_t, int *);
	enum nss_status (*getgrgid_r)(gid_t, struct group *, char *, size_t,
	    int *);
	enum nss_status (*setgrent)(int);
	enum nss_status (*getgrent_r)(struct group *, char *, size_t, int *);
	enum nss_status (*endgrent)(void);
	enum nss_status (*initgroups_dyn)(const char *, gid_t, long int *,
	    long int *, gid_t **, long int, int *);
	enum nss_status (*getspnam_r)(const char *, struct spwd *, char *,
	    size_t, int *);
	enum nss_status (*setspent)(int);
	enum nss_status (*getspent_r)(struct spwd *, char *, size_t, int *);
	enum nss_status (*endspent)(void);
} m;

static const struct {
	const char *name;
	void *slot;
} syms[] = {
	{ "_nss_pgl_getpwnam_r", &m.getpwnam_r },
	{ "_nss_pgl_getpwuid_r", &m.getpwuid_r },
	{ "_nss_pgl_setpwent", &m.setpwent },
	{ "_nss_pgl_getpwent_r", &m.getpwent_r },
	{ "_nss_pgl_endpwent", &m.endpwent },
	{ "_nss_pgl_getgrnam_r", &m.getgrnam_r },
	{ "_nss_pgl_getgrgid_r", &m.getgrgid_r },
	{ "_nss_pgl_setgrent", &m.setgrent },
	{ "_nss_pgl_getgrent_r", &m.getgrent_r },
	{ "_nss_pgl_endgrent", &m.endgrent },
	{ "_nss_pgl_initgroups_dyn", &m.initgroups_dyn },
	{ "_nss_pgl_getspnam_r", &m.getspnam_r },
	{ "_nss_pgl_setspent", &m.setspent },
	{ "_nss_pgl_getspent_r", &m.getspent_r },
	{ "_nss_pgl_endspent", &m.endspent },
};

static int
load(const char *path)
{
	void *h, *p;
	size_t i;
	int missing = 0;

	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		tap_diag("dlopen: %s", dlerror());
		return -1;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		/* ISO C has no cast from void * to a function pointer. */
		if ((p = dlsym(h, syms[i].name)) == NULL) {
			tap_diag("missing %s", syms[i].name);
			missing++;
		}
		memcpy(syms[i].slot, &p, sizeof(p));
	}
	/* Internal code stays internal (the version script). */
	if (dlsym(h, "nss_pgl_ask") != NULL || dlsym(h, "pgl_cache_map") != NULL)
		missing++;
	return missing;
}

/* --- answers as lines, to compare them whole --- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
pw_line(const struct passwd *pw, char *out, size_t n)
{
	snprintf(out, n, "%s:%s:%u:%u:%s:%s:%s", pw->pw_name, pw->pw_passwd,
	    (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, pw->pw_gecos,
	    pw->pw_dir, pw->pw_shell);
}

static void
gr_line(const struct group *gr, char *out, size_t n)
{
	size_t k;
	char **p;

	if ((uintptr_t)gr->gr_mem % _Alignof(char *) != 0) {
		snprintf(out, n, "gr_mem misaligned");
		return;
	}
	k = (size_t)snprintf(out, n, "%s:%s:%u:", gr->gr_name, gr->gr_passwd,
	    (unsigned)gr->gr_gid);
	for (p = gr->gr_mem; *p != NULL && k < n; p++)
		k += (size_t)snprintf(out + k, n - k, "%s%s",
		    p == gr->gr_mem ? "" : ",", *p);
}

static void
sp_line(const struct spwd *sp, char *out, size_t n)
{
	snprintf(out, n, "%s:%s:%ld:%ld:%ld:%ld:%ld:%ld:%lx", sp->sp_namp,
	    sp->sp_pwdp, sp->sp_lstchg, sp->sp_min, sp->sp_max, sp->sp_warn,
	    sp->sp_inact, sp->sp_expire, sp->sp_flag);
}

/* One lookup, with a line for its answer. */
struct q {
	const char *name;
	uint32_t id;
};
typedef enum nss_status (*call_fn)(const struct q *, char *, size_t, int *,
    char *, size_t);

static enum nss_status
call_pwnam(const struct q *q, char *buf, size_t len, int *e, char *line,
    size_t n)
{
	struct passwd pw;
	enum nss_status st = m.getpwnam_r(q->name, &pw, buf, len, e);

	if (st == NSS_STATUS_SUCCESS)
		pw_line(&pw, line, n);
	return st;
}

static enum nss_status
call_pwuid(const struct q *q, char *buf, size_t len, int *e, char *line,
    size_t n)
{
	struct passwd pw;
	enum nss_status st = m.getpwuid_r(q->id, &pw, buf, len, e);

	if (st == NSS_STATUS_SUCCESS)
		pw_line(&pw, line, n);
	return st;
}

static enum nss_status
call_grnam(const struct q *q, char *buf, size_t len, int *e, char *line,
    size_t n)
{
	struct group gr;
	enum nss_status st = m.getgrnam_r(q->name, &gr, buf, len, e);

	if (st == NSS_STATUS_SUCCESS)
		gr_line(&gr, line, n);
	return st;
}

static enum nss_status
call_grgid(const struct q *q, char *buf, size_t len, int *e, char *line,
    size_t n)
{
	struct group gr;
	enum nss_status st = m.getgrgid_r(q->id, &gr, buf, len, e);

	if (st == NSS_STATUS_SUCCESS)
		gr_line(&gr, line, n);
	return st;
}

static enum nss_status
call_spnam(const struct q *q, char *buf, size_t len, int *e, char *line,
    size_t n)
{
	struct spwd sp;
	enum nss_status st = m.getspnam_r(q->name, &sp, buf, len, e);

	if (st == NSS_STATUS_SUCCESS)
		sp_line(&sp, line, n);
	return st;
}

/* A lookup with a large buffer: its status, errno and line. */
static enum nss_status
ask(call_fn f, const char *name, uint32_t id, int *e, char *line)
{
	static char buf[BIG];
	struct q q = { name, id };

	*e = 0;
	line[0] = '\0';
	return f(&q, buf, sizeof(buf), e, line, LINE);
}

static void
expect_line(call_fn f, const char *name, uint32_t id, const char *want,
    const char *what)
{
	static char line[LINE];
	enum nss_status st;
	int e;

	st = ask(f, name, id, &e, line);
	if (!tap_ok(st == NSS_STATUS_SUCCESS && strcmp(line, want) == 0,
	    "%s", what))
		tap_diag("status %d errno %d: got '%.200s' want '%.200s'", st,
		    e, line, want);
}

static void
expect_status(call_fn f, const char *name, uint32_t id, enum nss_status want,
    int want_errno, const char *what)
{
	static char line[LINE];
	enum nss_status st;
	int e;

	st = ask(f, name, id, &e, line);
	if (!tap_ok(st == want && e == want_errno, "%s", what))
		tap_diag("status %d errno %d, want %d errno %d", st, e, want,
		    want_errno);
}

/* Buffers of exactly n bytes (ASan sees any overrun), starting off bytes
 * into an allocation: TRYAGAIN with ERANGE for every n too small, then
 * the answer the large buffer gives. */
static void
sweep(call_fn f, const char *name, uint32_t id, size_t off, const char *what)
{
	static char want[LINE], got[LINE];
	struct q q = { name, id };
	enum nss_status st;
	size_t n, step, ok_at = 0, bad = 0, last_fail = 0;
	char *p;
	int e;

	if (ask(f, name, id, &e, want) != NSS_STATUS_SUCCESS) {
		tap_ok(0, "%s: no answer with a large buffer", what);
		return;
	}
	for (n = 1; n < BIG && ok_at == 0; n += step) {
		step = n < 512 ? 1 : 61;
		if ((p = malloc(n + off)) == NULL)
			abort();
		e = 0;
		got[0] = '\0';
		st = f(&q, p + off, n, &e, got, sizeof(got));
		free(p);
		if (st == NSS_STATUS_SUCCESS)
			ok_at = n;
		else if (st == NSS_STATUS_TRYAGAIN && e == ERANGE)
			last_fail = n;
		else
			bad++;
	}
	/* Past 512 bytes the steps are coarse: find the exact edge. */
	for (n = last_fail + 1; ok_at != 0 && n < ok_at; n++) {
		if ((p = malloc(n + off)) == NULL)
			abort();
		e = 0;
		st = f(&q, p + off, n, &e, got, sizeof(got));
		free(p);
		if (st == NSS_STATUS_SUCCESS) {
			ok_at = n;
			break;
		}
		if (st != NSS_STATUS_TRYAGAIN || e != ERANGE)
			bad++;
	}
	if (ok_at != 0) {
		if ((p = malloc(ok_at + off)) == NULL)
			abort();
		st = f(&q, p + off, ok_at, &e, got, sizeof(got));
		free(p);
		if (st != NSS_STATUS_SUCCESS)
			bad++;
	}
	if (!tap_ok(ok_at != 0 && bad == 0 && strcmp(want, got) == 0,
	    "%s: ERANGE/TRYAGAIN below %zu bytes, then the large-buffer "
	    "answer", what, ok_at))
		tap_diag("bad %zu: got '%.200s' want '%.200s'", bad, got, want);
}

/* --- caches --- */

struct fx_user {
	const char *name;
	uint32_t uid;
	const char *gecos, *home, *shell;
	uint64_t expire;
	const char *groups;             /* comma-separated */
	const char *passwd;
};

static const struct fx_user base_users[] = {
	{ "alice", 100000, "Alice Example", "/home/alice", "/bin/bash", 0,
	    "deploy,ops", "$6$salt$hash" },
	{ "bob", 100003, "", "/home/bob", "/bin/sh", 0, "deploy", NULL },
	{ "carol", 100004, "Carol", "/home/carol", "/bin/sh", 1, "deploy",
	    NULL },
	{ "dave", 100005, "Dave", "/home/dave", "/bin/sh", 0, "dave,deploy",
	    NULL },
	{ "erin", 100006, "Erin", "/home/erin", "/bin/zsh", 4102444800u, "",
	    NULL },
};
#define NBASE (sizeof(base_users) / sizeof(base_users[0]))

static char big_names[NBIG][8];

static void
add_user(struct pgl_cache_builder *b, const struct fx_user *f)
{
	struct pgl_cache_user_in u;
	char tmp[256], *v[8], *s, *save = NULL;
	size_t n = 0;

	snprintf(tmp, sizeof(tmp), "%s", f->groups);
	for (s = strtok_r(tmp, ",", &save); s != NULL && n < 8;
	    s = strtok_r(NULL, ",", &save))
		v[n++] = s;
	memset(&u, 0, sizeof(u));
	u.name = f->name;
	u.uid = f->uid;
	u.gecos = f->gecos;
	u.home = f->home;
	u.shell = f->shell;
	u.expire = f->expire;
	u.groups = (const char *const *)v;
	u.ngroups = n;
	u.passwd = f->passwd;
	if (pgl_cache_builder_add_user(b, &u) != 0) {
		fprintf(stderr, "add_user %s: %s\n", f->name,
		    pgl_cache_builder_error(b));
		abort();
	}
}

static void
add_group(struct pgl_cache_builder *b, const char *name, uint32_t gid,
    const char *const *members, size_t n)
{
	struct pgl_cache_group_in g = { name, gid, members, n };

	if (pgl_cache_builder_add_group(b, &g) != 0) {
		fprintf(stderr, "add_group %s: %s\n", name,
		    pgl_cache_builder_error(b));
		abort();
	}
}

static struct pgl_cache_builder *
builder(void)
{
	struct pgl_cache_builder *b;

	if ((b = pgl_cache_builder_new("vm-01", 100000, 199999)) == NULL ||
	    pgl_cache_builder_set_local(b, NULL, NULL) != 0)
		abort();
	return b;
}

/* The base fixture, plus one user named extra (the resolver's answer). */
static struct pgl_cache_builder *
base_builder(const char *extra)
{
	struct pgl_cache_builder *b = builder();
	struct fx_user f;
	size_t i;

	for (i = 0; i < NBASE; i++)
		add_user(b, &base_users[i]);
	for (i = 0; i < NBIG; i++) {
		f = (struct fx_user){ big_names[i], 101000 + (uint32_t)i, "",
		    "/home/big", "/bin/sh", 0, "big", NULL };
		add_user(b, &f);
	}
	if (extra != NULL) {
		f = (struct fx_user){ extra, 100900, "fetched", "/home/x",
		    "/bin/sh", 0, "deploy", NULL };
		add_user(b, &f);
	}
	add_group(b, "deploy", 100001, NULL, 0);
	add_group(b, "ops", 100002, NULL, 0);
	/* Members come from the users' side, as from pgl-host. */
	add_group(b, "big", 100500, NULL, 0);
	add_group(b, "empty", 100501, NULL, 0);
	return b;
}

static void wait_tick(void);

static void
write_base(const char *extra)
{
	struct pgl_cache_builder *b = base_builder(extra);

	if (pgl_cache_builder_write(b, PGL_CACHE_PATH, PGL_SHADOW_PATH) != 0) {
		fprintf(stderr, "write: %s\n", pgl_cache_builder_error(b));
		abort();
	}
	pgl_cache_builder_free(b);
	wait_tick();
}

static void
write_fast(const char *path, const void *p, size_t n, mode_t mode)
{
	if (pgl_file_write_atomic(path, p, n, mode, 0) != 0)
		abort();
}

/* The module checks the file again once per tick of the coarse clock, so
 * a test that wants its next lookup to see the new file waits a tick. */
static void
wait_tick(void)
{
	struct timespec res = { 0, 4000000 };

	(void)clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	res.tv_nsec += 1000000;
	while (res.tv_nsec >= 1000000000) {
		res.tv_sec++;
		res.tv_nsec -= 1000000000;
	}
	nanosleep(&res, NULL);
}

static void
write_bytes(const char *path, const void *p, size_t n, mode_t mode)
{
	write_fast(path, p, n, mode);
	wait_tick();
}

/* --- tests --- */

static void
test_no_cache(void)
{
	long int start = 1, size = 1;
	gid_t *groups = calloc(1, sizeof(gid_t));
	struct passwd pw;
	char buf[1024];
	double t;
	int e;

	unlink(PGL_CACHE_PATH);
	unlink(PGL_SHADOW_PATH);
	t = now_ms();
	expect_status(call_pwnam, "alice", 0, NSS_STATUS_UNAVAIL, ENOENT,
	    "no cache: getpwnam_r UNAVAIL/ENOENT");
	t = now_ms() - t;
	tap_ok(t < 100, "no cache, no resolver socket: a name miss does not "
	    "wait (%.2f ms)", t);
	expect_status(call_pwuid, NULL, 100000, NSS_STATUS_UNAVAIL, ENOENT,
	    "no cache: getpwuid_r UNAVAIL/ENOENT");
	expect_status(call_grnam, "deploy", 0, NSS_STATUS_UNAVAIL, ENOENT,
	    "no cache: getgrnam_r UNAVAIL/ENOENT");
	expect_status(call_grgid, NULL, 100001, NSS_STATUS_UNAVAIL, ENOENT,
	    "no cache: getgrgid_r UNAVAIL/ENOENT");
	expect_status(call_spnam, "alice", 0, NSS_STATUS_UNAVAIL, ENOENT,
	    "no cache: getspnam_r UNAVAIL/ENOENT");
	tap_ok(m.setpwent(0) == NSS_STATUS_UNAVAIL &&
	    m.getpwent_r(&pw, buf, sizeof(buf), &e) == NSS_STATUS_UNAVAIL &&
	    e == ENOENT && m.endpwent() == NSS_STATUS_SUCCESS,
	    "no cache: setpwent/getpwent_r UNAVAIL");
	tap_ok(m.initgroups_dyn("alice", 100000, &start, &size, &groups, 0,
	    &e) == NSS_STATUS_UNAVAIL && start == 1,
	    "no cache: initgroups_dyn UNAVAIL, nothing added");
	free(groups);
}

static void
test_corrupt(void)
{
	struct pgl_cache_builder *b = base_builder(NULL);
	uint8_t *p = NULL, junk[4096];
	size_t n = 0, i, cuts[] = { 0, 1, 64, 127, 128, 129, 1000 };
	int bad = 0;

	if (pgl_cache_builder_encode(b, PGL_CACHE_USERS, &p, &n) != 0)
		abort();
	pgl_cache_builder_free(b);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 2654435761u >> 13);
	write_bytes(PGL_CACHE_PATH, junk, sizeof(junk), 0644);
	expect_status(call_pwnam, "alice", 0, NSS_STATUS_UNAVAIL, EIO,
	    "random bytes: getpwnam_r UNAVAIL/EIO");
	expect_status(call_grgid, NULL, 100001, NSS_STATUS_UNAVAIL, EIO,
	    "random bytes: getgrgid_r UNAVAIL/EIO");
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		static char line[LINE];
		int e;

		write_bytes(PGL_CACHE_PATH, p, cuts[i], 0644);
		if (ask(call_pwnam, "alice", 0, &e, line) != NSS_STATUS_UNAVAIL)
			bad++;
	}
	/* The header names a size the file does not have. */
	write_bytes(PGL_CACHE_PATH, p, n - 1, 0644);
	tap_ok(bad == 0, "truncated caches: UNAVAIL, no crash");
	expect_status(call_pwnam, "alice", 0, NSS_STATUS_UNAVAIL, EIO,
	    "one byte short: UNAVAIL/EIO");
	/* A mangled user record: that entry is unavailable, not wrong. */
	cf_put32(p + CF_HEADER_SIZE + CF_U_NAME, (uint32_t)n + 100);
	write_bytes(PGL_CACHE_PATH, p, n, 0644);
	expect_status(call_pwuid, NULL, 100000, NSS_STATUS_UNAVAIL, EIO,
	    "a user's name offset past the end: UNAVAIL/EIO");
	expect_line(call_pwuid, NULL, 100003,
	    "bob:x:100003:100003::/home/bob:/bin/sh",
	    "the other entries still answer");
	free(p);
}

static void
test_lookups(void)
{
	static const char *invalid[] = { "", "Alice", "alice ", "a:b", "../x",
	    "0day", "al\nice", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "alice@vm-01" };
	static char line[LINE];
	size_t i;
	int bad = 0, e;

	write_base(NULL);
	expect_line(call_pwnam, "alice", 0,
	    "alice:x:100000:100000:Alice Example:/home/alice:/bin/bash",
	    "getpwnam_r alice");
	expect_line(call_pwuid, NULL, 100000,
	    "alice:x:100000:100000:Alice Example:/home/alice:/bin/bash",
	    "getpwuid_r 100000");
	expect_line(call_pwnam, "erin", 0,
	    "erin:x:100006:100006:Erin:/home/erin:/bin/zsh",
	    "getpwnam_r erin (expires in 2100)");
	expect_line(call_pwnam, "u1999", 0,
	    "u1999:x:102999:102999::/home/big:/bin/sh",
	    "getpwnam_r u1999 (of 2005 users)");
	expect_status(call_pwnam, "nosuch", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "getpwnam_r miss: NOTFOUND/ENOENT");
	expect_status(call_pwuid, NULL, 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "getpwuid_r 0: NOTFOUND/ENOENT");
	expect_status(call_pwuid, NULL, 100001, NSS_STATUS_NOTFOUND, ENOENT,
	    "getpwuid_r of a group's gid: NOTFOUND");
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		if (ask(call_pwnam, invalid[i], 0, &e, line) !=
		    NSS_STATUS_NOTFOUND || e != ENOENT ||
		    ask(call_grnam, invalid[i], 0, &e, line) !=
		    NSS_STATUS_NOTFOUND || e != ENOENT ||
		    ask(call_spnam, invalid[i], 0, &e, line) !=
		    NSS_STATUS_NOTFOUND)
			bad++;
	tap_ok(bad == 0, "invalid names: NOTFOUND for passwd, group, shadow");

	expect_line(call_grnam, "deploy", 0,
	    "deploy:x:100001:alice,bob,carol,dave",
	    "getgrnam_r deploy: members as cached");
	expect_line(call_grgid, NULL, 100002, "ops:x:100002:alice",
	    "getgrgid_r 100002");
	expect_line(call_grnam, "alice", 0, "alice:x:100000:",
	    "getgrnam_r alice: the self-group");
	expect_line(call_grnam, "dave", 0, "dave:x:100005:dave",
	    "getgrnam_r dave: a self-group the user is listed in");
	expect_line(call_grnam, "empty", 0, "empty:x:100501:",
	    "getgrnam_r empty: no members");
	expect_status(call_grnam, "nosuch", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "getgrnam_r miss: NOTFOUND/ENOENT");
	expect_status(call_grgid, NULL, 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "getgrgid_r 0: NOTFOUND/ENOENT");

	expect_status(call_pwnam, "carol", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "expired carol: getpwnam_r NOTFOUND");
	expect_status(call_pwuid, NULL, 100004, NSS_STATUS_NOTFOUND, ENOENT,
	    "expired carol: getpwuid_r NOTFOUND");
	expect_status(call_grnam, "carol", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "expired carol: her self-group is gone too");
	expect_status(call_grgid, NULL, 100004, NSS_STATUS_NOTFOUND, ENOENT,
	    "expired carol: getgrgid_r NOTFOUND");
	expect_status(call_spnam, "carol", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "expired carol: getspnam_r NOTFOUND");
}

/* A file whose header range no longer covers some of its entries: the
 * writer never makes one, the reader must still not answer them. */
static void
test_range(void)
{
	struct pgl_cache_builder *b = base_builder(NULL);
	struct passwd pw;
	uint8_t *p = NULL;
	size_t n = 0;
	char buf[4096];
	int e, bad = 0, seen = 0;

	if (pgl_cache_builder_encode(b, PGL_CACHE_USERS, &p, &n) != 0)
		abort();
	pgl_cache_builder_free(b);
	cf_put32(p + CF_H_UID_MIN, 100001);
	cf_put32(p + CF_H_UID_MAX, 100003);
	write_bytes(PGL_CACHE_PATH, p, n, 0644);
	free(p);
	expect_status(call_pwnam, "alice", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "uid below the header's range: not answered");
	expect_status(call_pwnam, "dave", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "uid above the header's range: not answered");
	expect_status(call_pwuid, NULL, 101000, NSS_STATUS_NOTFOUND, ENOENT,
	    "getpwuid_r above the range: not answered");
	expect_line(call_pwnam, "bob", 0,
	    "bob:x:100003:100003::/home/bob:/bin/sh", "in range: answered");
	expect_line(call_grnam, "deploy", 0,
	    "deploy:x:100001:alice,bob,carol,dave", "group in range: answered");
	expect_status(call_grnam, "big", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "gid above the range: not answered");
	m.setpwent(0);
	while (m.getpwent_r(&pw, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS) {
		seen++;
		if (pw.pw_uid < 100001 || pw.pw_uid > 100003)
			bad++;
	}
	m.endpwent();
	tap_ok(bad == 0 && seen == 1, "enumeration skips out-of-range "
	    "entries (%d seen)", seen);
	write_base(NULL);
}

static void
test_sweeps(void)
{
	sweep(call_pwnam, "alice", 0, 0, "getpwnam_r alice");
	sweep(call_pwuid, NULL, 100003, 0, "getpwuid_r bob (empty gecos)");
	sweep(call_grnam, "deploy", 0, 0, "getgrnam_r deploy");
	sweep(call_grnam, "deploy", 0, 3, "getgrnam_r deploy, buffer at an "
	    "odd address");
	sweep(call_grgid, NULL, 100000, 1, "getgrgid_r alice's self-group");
	sweep(call_spnam, "alice", 0, 0, "getspnam_r alice");
	sweep(call_grnam, "big", 0, 0, "getgrnam_r big (2000 members)");
	sweep(call_grgid, NULL, 100500, 5, "getgrgid_r big, odd address");
}

static void
test_big_group(void)
{
	struct group gr;
	char *buf = malloc(BIG + 8);
	size_t i, off;
	int e, bad = 0, misaligned = 0;

	if (buf == NULL)
		abort();
	tap_ok(m.getgrnam_r("big", &gr, buf, BIG, &e) == NSS_STATUS_SUCCESS &&
	    gr.gr_gid == 100500, "getgrnam_r big");
	for (i = 0; i < NBIG; i++)
		if (gr.gr_mem[i] == NULL || strcmp(gr.gr_mem[i],
		    big_names[i]) != 0)
			bad++;
	tap_ok(bad == 0 && gr.gr_mem[NBIG] == NULL,
	    "big: all %d members, in order, NULL-terminated", NBIG);
	for (off = 1; off < 8; off++)
		if (m.getgrgid_r(100500, &gr, buf + off, BIG, &e) !=
		    NSS_STATUS_SUCCESS ||
		    (uintptr_t)gr.gr_mem % _Alignof(char *) != 0)
			misaligned++;
	tap_ok(misaligned == 0, "gr_mem aligned whatever the buffer's start");
	free(buf);
}

/* Lines ordered by their first field, the name. */
static int
cmp_names(const char *a, size_t na, const char *b, size_t nb)
{
	int r = memcmp(a, b, na < nb ? na : nb);

	return r != 0 ? r : (na > nb) - (na < nb);
}

static int
cmp_line(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;

	return cmp_names(a, strcspn(a, ":"), b, strcspn(b, ":"));
}

/* The truth tables the threads check against: every line an enumeration
 * gives, sorted by name. */
struct table {
	char **lines;
	size_t n;
};

static struct table pw_all, gr_all;

static void
table_add(struct table *t, const char *line)
{
	if ((t->lines = realloc(t->lines, (t->n + 1) * sizeof(char *))) ==
	    NULL || (t->lines[t->n] = strdup(line)) == NULL)
		abort();
	t->n++;
}

static int
cmp_key(const void *k, const void *e)
{
	const char *key = k, *line = *(char *const *)e;

	return cmp_names(key, strlen(key), line, strcspn(line, ":"));
}

static const char *
table_find(const struct table *t, const char *name)
{
	char **p = bsearch(name, t->lines, t->n, sizeof(char *), cmp_key);

	return p != NULL ? *p : NULL;
}

static void
test_enumeration(void)
{
	static char line[LINE];
	struct passwd pw;
	struct group gr;
	struct spwd sp;
	char *buf = malloc(BIG), first[LINE];
	size_t i, nsp = 0, retried = 0;
	int e, bad = 0, carol = 0;
	struct table again = { NULL, 0 };

	if (buf == NULL)
		abort();
	tap_ok(m.setpwent(1) == NSS_STATUS_SUCCESS, "setpwent");
	while (m.getpwent_r(&pw, buf, BIG, &e) == NSS_STATUS_SUCCESS) {
		pw_line(&pw, line, LINE);
		table_add(&pw_all, line);
		carol += strcmp(pw.pw_name, "carol") == 0;
	}
	tap_ok(e == ENOENT && m.getpwent_r(&pw, buf, BIG, &e) ==
	    NSS_STATUS_NOTFOUND, "getpwent_r: NOTFOUND/ENOENT at the end, "
	    "and again after");
	tap_ok(m.endpwent() == NSS_STATUS_SUCCESS, "endpwent");
	qsort(pw_all.lines, pw_all.n, sizeof(char *), cmp_line);
	tap_ok(pw_all.n == NBASE - 1 + NBIG && carol == 0,
	    "getpwent_r: every user but the expired one (%zu)", pw_all.n);
	for (i = 0; i < pw_all.n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%.*s",
		    (int)strcspn(pw_all.lines[i], ":"), pw_all.lines[i]);
		if (ask(call_pwnam, name, 0, &e, line) != NSS_STATUS_SUCCESS ||
		    strcmp(line, pw_all.lines[i]) != 0)
			bad++;
	}
	tap_ok(bad == 0, "each enumerated user equals its getpwnam_r answer");

	/* ERANGE does not skip an entry: a tiny buffer, then a large one,
	 * for each entry gives the same sequence. */
	m.setpwent(0);
	for (;;) {
		if (m.getpwent_r(&pw, buf, 3, &e) == NSS_STATUS_TRYAGAIN &&
		    e == ERANGE)
			retried++;
		if (m.getpwent_r(&pw, buf, BIG, &e) != NSS_STATUS_SUCCESS)
			break;
		pw_line(&pw, line, LINE);
		table_add(&again, line);
	}
	m.endpwent();
	qsort(again.lines, again.n, sizeof(char *), cmp_line);
	bad = again.n != pw_all.n;
	for (i = 0; !bad && i < again.n; i++)
		bad = strcmp(again.lines[i], pw_all.lines[i]) != 0;
	tap_ok(!bad && retried == pw_all.n, "getpwent_r: ERANGE retries the "
	    "same entry (%zu retries)", retried);
	for (i = 0; i < again.n; i++)
		free(again.lines[i]);
	free(again.lines);

	/* getpwent_r without setpwent starts at the first entry. */
	m.setpwent(0);
	m.getpwent_r(&pw, buf, BIG, &e);
	pw_line(&pw, first, LINE);
	m.endpwent();
	tap_ok(m.getpwent_r(&pw, buf, BIG, &e) == NSS_STATUS_SUCCESS &&
	    (pw_line(&pw, line, LINE), strcmp(line, first) == 0),
	    "getpwent_r without setpwent starts from the beginning");
	m.endpwent();

	tap_ok(m.setgrent(0) == NSS_STATUS_SUCCESS, "setgrent");
	while (m.getgrent_r(&gr, buf, BIG, &e) == NSS_STATUS_SUCCESS) {
		gr_line(&gr, line, LINE);
		table_add(&gr_all, line);
	}
	tap_ok(e == ENOENT && m.endgrent() == NSS_STATUS_SUCCESS,
	    "getgrent_r: NOTFOUND/ENOENT at the end; endgrent");
	qsort(gr_all.lines, gr_all.n, sizeof(char *), cmp_line);
	/* 4 explicit groups and a self-group per answered user. */
	tap_ok(gr_all.n == 4 + NBASE - 1 + NBIG &&
	    table_find(&gr_all, "carol") == NULL &&
	    table_find(&gr_all, "deploy") != NULL &&
	    strcmp(table_find(&gr_all, "deploy"),
	    "deploy:x:100001:alice,bob,carol,dave") == 0,
	    "getgrent_r: every group but expired carol's (%zu)", gr_all.n);
	m.setgrent(0);
	tap_ok(m.getgrent_r(&gr, buf, 7, &e) == NSS_STATUS_TRYAGAIN &&
	    e == ERANGE, "getgrent_r: small buffer TRYAGAIN/ERANGE");
	m.endgrent();

	tap_ok(m.setspent(0) == NSS_STATUS_SUCCESS, "setspent");
	bad = 0;
	while (m.getspent_r(&sp, buf, BIG, &e) == NSS_STATUS_SUCCESS) {
		nsp++;
		if (table_find(&pw_all, sp.sp_namp) == NULL)
			bad++;
	}
	tap_ok(e == ENOENT && m.endspent() == NSS_STATUS_SUCCESS,
	    "getspent_r: NOTFOUND/ENOENT at the end; endspent");
	tap_ok(nsp == pw_all.n && bad == 0, "getspent_r: one entry per "
	    "answered user (%zu)", nsp);
	free(buf);
}

/* The cache is replaced mid-enumeration: the enumeration keeps the file
 * it started with; lookups see the new one at once. */
static void
test_replace(void)
{
	struct passwd pw;
	char buf[4096];
	size_t n = 1;
	int e;

	m.setpwent(0);
	m.getpwent_r(&pw, buf, sizeof(buf), &e);
	write_base("zed");
	expect_line(call_pwnam, "zed", 0,
	    "zed:x:100900:100900:fetched:/home/x:/bin/sh",
	    "a renamed-in cache is seen by the next lookup");
	while (m.getpwent_r(&pw, buf, sizeof(buf), &e) == NSS_STATUS_SUCCESS)
		n++;
	m.endpwent();
	tap_ok(n == pw_all.n, "an enumeration started before the rename "
	    "keeps its file (%zu entries)", n);
	write_base(NULL);
}

static int
has(const gid_t *v, long int n, gid_t g)
{
	long int i;

	for (i = 0; i < n; i++)
		if (v[i] == g)
			return 1;
	return 0;
}

static void
test_initgroups(void)
{
	gid_t *g;
	long int start, size;
	enum nss_status st;
	int e;

#define IG_START(n, sz) do {						\
	start = (n);							\
	size = (sz);							\
	if ((g = calloc((size_t)(sz) + 1, sizeof(gid_t))) == NULL)	\
		abort();						\
} while (0)

	IG_START(1, 1);
	g[0] = 100000;
	st = m.initgroups_dyn("alice", 100000, &start, &size, &g, 0, &e);
	tap_ok(st == NSS_STATUS_SUCCESS && start == 3 && size >= 3 &&
	    g[0] == 100000 && has(g, start, 100001) && has(g, start, 100002),
	    "initgroups_dyn alice: grows a 1-slot array, adds deploy, ops");
	free(g);

	IG_START(1, 1);
	g[0] = 1000;
	st = m.initgroups_dyn("alice", 1000, &start, &size, &g, 0, &e);
	tap_ok(st == NSS_STATUS_NOTFOUND && start == 1 && size == 1 &&
	    g[0] == 1000, "initgroups_dyn: a local alice (other primary gid) "
	    "gets no pgl groups");
	free(g);

	IG_START(0, 4);
	st = m.initgroups_dyn("alice", (gid_t)-1, &start, &size, &g, 0, &e);
	tap_ok(st == NSS_STATUS_SUCCESS && start == 2,
	    "initgroups_dyn with gid -1 (getent initgroups): deploy, ops");
	free(g);

	IG_START(1, 1);
	g[0] = 100000;
	st = m.initgroups_dyn("alice", 100000, &start, &size, &g, 2, &e);
	tap_ok(st == NSS_STATUS_SUCCESS && start == 2 && size == 2 &&
	    g[1] == 100001, "initgroups_dyn: limit 2 stops at 2");
	free(g);

	IG_START(1, 1);
	g[0] = 100000;
	st = m.initgroups_dyn("alice", 100000, &start, &size, &g, 1, &e);
	tap_ok(st == NSS_STATUS_NOTFOUND && start == 1 && size == 1,
	    "initgroups_dyn: limit already reached adds nothing");
	free(g);

	IG_START(2, 2);
	g[0] = 100000;
	g[1] = 100002;
	st = m.initgroups_dyn("alice", 100000, &start, &size, &g, 0, &e);
	tap_ok(st == NSS_STATUS_SUCCESS && start == 3 && g[2] == 100001,
	    "initgroups_dyn: a gid already there is not added twice");
	free(g);

	IG_START(1, 8);
	g[0] = 100005;
	st = m.initgroups_dyn("dave", 100005, &start, &size, &g, 0, &e);
	tap_ok(st == NSS_STATUS_SUCCESS && start == 2 && g[1] == 100001,
	    "initgroups_dyn dave: his own group (the primary) is skipped");
	free(g);

	start = size = 0;
	g = NULL;
	st = m.initgroups_dyn("u0007", 101007, &start, &size, &g, 0, &e);
	tap_ok(st == NSS_STATUS_SUCCESS && start == 1 && size >= 1 &&
	    g != NULL && g[0] == 100500, "initgroups_dyn: from an empty "
	    "array (big)");
	free(g);

	IG_START(1, 1);
	g[0] = 100004;
	tap_ok(m.initgroups_dyn("carol", 100004, &start, &size, &g, 0, &e) ==
	    NSS_STATUS_NOTFOUND && start == 1, "initgroups_dyn: expired carol "
	    "NOTFOUND");
	tap_ok(m.initgroups_dyn("erin", 100006, &start, &size, &g, 0, &e) ==
	    NSS_STATUS_NOTFOUND && e == ENOENT && start == 1,
	    "initgroups_dyn: no supplementary groups NOTFOUND/ENOENT");
	tap_ok(m.initgroups_dyn("nosuch", 100006, &start, &size, &g, 0, &e) ==
	    NSS_STATUS_NOTFOUND && start == 1, "initgroups_dyn: unknown user "
	    "NOTFOUND");
	free(g);
#undef IG_START
}

static void
test_shadow(void)
{
	pid_t pid;
	int status;

	expect_line(call_spnam, "alice", 0,
	    "alice:$6$salt$hash:-1:-1:-1:-1:-1:-1:ffffffffffffffff",
	    "getspnam_r alice: her hash, -1 for unset fields");
	expect_line(call_spnam, "bob", 0,
	    "bob:*:-1:-1:-1:-1:-1:-1:ffffffffffffffff",
	    "getspnam_r bob: no password (*)");
	expect_status(call_spnam, "nosuch", 0, NSS_STATUS_NOTFOUND, ENOENT,
	    "getspnam_r miss: NOTFOUND/ENOENT");
	/* As nobody: the 0600 file cannot be read, like nss_files. */
	if ((pid = fork()) == 0) {
		static char line[LINE];
		enum nss_status st;
		int e;

		if (setresgid(65534, 65534, 65534) != 0 ||
		    setresuid(65534, 65534, 65534) != 0)
			_exit(3);
		st = ask(call_spnam, "alice", 0, &e, line);
		_exit(st == NSS_STATUS_UNAVAIL && e == EACCES ? 0 : 1);
	}
	tap_ok(pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "getspnam_r as a user (after a root lookup): UNAVAIL/EACCES");
	if (rename(PGL_SHADOW_PATH, PGL_SHADOW_PATH ".off") != 0)
		abort();
	expect_status(call_spnam, "alice", 0, NSS_STATUS_UNAVAIL, ENOENT,
	    "no shadow file: UNAVAIL/ENOENT");
	if (rename(PGL_SHADOW_PATH ".off", PGL_SHADOW_PATH) != 0)
		abort();
}

/* --- a fake resolver (the server side is pgl-host, issue 5) --- */

enum lmode { L_OK, L_NONE, L_SILENT, L_CLOSE };

static struct {
	int fd;
	pthread_t thread;
	atomic_int mode;
	atomic_int requests;
	pthread_mutex_t lock;
	char last[64];
} lis = { .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void
serve(int c)
{
	char line[64], name[64];
	size_t n = 0;
	ssize_t k;

	while (n < sizeof(line) - 1 && (k = read(c, line + n,
	    sizeof(line) - 1 - n)) > 0) {
		n += (size_t)k;
		if (memchr(line, '\n', n) != NULL)
			break;
	}
	line[n] = '\0';
	pthread_mutex_lock(&lis.lock);
	snprintf(lis.last, sizeof(lis.last), "%s", line);
	pthread_mutex_unlock(&lis.lock);
	atomic_fetch_add(&lis.requests, 1);
	switch (atomic_load(&lis.mode)) {
	case L_OK:
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(line, "\n"),
		    line);
		write_base(name);
		send(c, "ok\n", 3, MSG_NOSIGNAL);
		break;
	case L_NONE:
		send(c, "none\n", 5, MSG_NOSIGNAL);
		break;
	case L_SILENT:
		/* Never answers; waits for the client to give up. */
		while (read(c, line, sizeof(line)) > 0)
			;
		break;
	default:
		break;
	}
}

static void *
listener(void *arg)
{
	sigset_t set;
	int c;

	/* SIGALRM is for the main thread's poll() (the EINTR test). */
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		if ((c = accept4(lis.fd, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		serve(c);
		close(c);
	}
}

static int
listener_start(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path)], *slash;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", PGL_RESOLVE_SOCKET);
	snprintf(dir, sizeof(dir), "%s", PGL_RESOLVE_SOCKET);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	unlink(PGL_RESOLVE_SOCKET);
	if ((lis.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lis.fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(lis.fd, 16) != 0 ||
	    pthread_create(&lis.thread, NULL, listener, NULL) != 0)
		return -1;
	return 0;
}

static void
listener_stop(void)
{
	/* shutdown() wakes the blocked accept(). */
	shutdown(lis.fd, SHUT_RDWR);
	pthread_join(lis.thread, NULL);
	close(lis.fd);
	unlink(PGL_RESOLVE_SOCKET);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

/* A name miss under mode: elapsed ms; requests seen in *nreq. */
static double
timed_miss(enum lmode mode, const char *name, enum nss_status *st, int *nreq)
{
	static char line[LINE];
	int before = atomic_load(&lis.requests), e;
	double t;

	atomic_store(&lis.mode, mode);
	t = now_ms();
	*st = ask(call_pwnam, name, 0, &e, line);
	t = now_ms() - t;
	*nreq = atomic_load(&lis.requests) - before;
	return t;
}

static void
test_resolver(void)
{
	struct sigaction sa;
	struct itimerval it;
	enum nss_status st;
	double t, limit = PGL_RESOLVE_TIMEOUT_MS;
	char last[64];
	int n;

	if (!tap_ok(listener_start() == 0, "fake resolver listening on %s",
	    PGL_RESOLVE_SOCKET))
		return;
	t = timed_miss(L_OK, "newbie", &st, &n);
	pthread_mutex_lock(&lis.lock);
	snprintf(last, sizeof(last), "%s", lis.last);
	pthread_mutex_unlock(&lis.lock);
	tap_ok(n == 1 && strcmp(last, "newbie\n") == 0,
	    "a name miss sends one request line 'newbie\\n'");
	tap_ok(st == NSS_STATUS_SUCCESS, "the resolver wrote the cache and "
	    "said ok: getpwnam_r finds newbie (%.2f ms)", t);
	timed_miss(L_OK, "newbie", &st, &n);
	tap_ok(st == NSS_STATUS_SUCCESS && n == 0, "a hit does not ask");
	write_base(NULL);

	t = timed_miss(L_NONE, "ghost", &st, &n);
	tap_ok(st == NSS_STATUS_NOTFOUND && n == 1 && t < limit / 2,
	    "'none': NOTFOUND without waiting (%.2f ms)", t);
	t = timed_miss(L_CLOSE, "ghost", &st, &n);
	tap_ok(st == NSS_STATUS_NOTFOUND && n == 1 && t < limit / 2,
	    "a resolver that hangs up: NOTFOUND without waiting (%.2f ms)", t);

	timed_miss(L_OK, "Bad-Name", &st, &n);
	tap_ok(st == NSS_STATUS_NOTFOUND && n == 0, "an invalid name never "
	    "asks");
	{
		static char line[LINE];
		int before = atomic_load(&lis.requests), e;

		ask(call_pwuid, NULL, 100777, &e, line);
		ask(call_grnam, "ghostgroup", 0, &e, line);
		ask(call_grgid, NULL, 100777, &e, line);
		ask(call_spnam, "ghost", 0, &e, line);
		tap_ok(atomic_load(&lis.requests) == before, "uid, group and "
		    "shadow misses never ask");
	}
	setenv("PGL_NSS_NO_RESOLVE", "1", 1);
	t = timed_miss(L_OK, "newbie", &st, &n);
	unsetenv("PGL_NSS_NO_RESOLVE");
	tap_ok(st == NSS_STATUS_NOTFOUND && n == 0 && t < 100,
	    "PGL_NSS_NO_RESOLVE set: no request (%.2f ms)", t);

	t = timed_miss(L_SILENT, "ghost", &st, &n);
	tap_diag("silent resolver: miss answered after %.1f ms (deadline "
	    "%d ms)", t, PGL_RESOLVE_TIMEOUT_MS);
	tap_ok(st == NSS_STATUS_NOTFOUND && n == 1 && t >= limit - 5 &&
	    t < limit + 500, "a silent resolver: NOTFOUND at the deadline "
	    "(%.1f ms of %d)", t, PGL_RESOLVE_TIMEOUT_MS);

	/* Signals every 50 ms interrupt poll(): the deadline is total. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	it.it_interval = (struct timeval){ 0, 50000 };
	it.it_value = it.it_interval;
	setitimer(ITIMER_REAL, &it, NULL);
	t = timed_miss(L_SILENT, "ghost", &st, &n);
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	tap_ok(st == NSS_STATUS_NOTFOUND && t >= limit - 5 && t < limit + 500,
	    "EINTR every 50 ms: still one deadline (%.1f ms)", t);

	/* First use on a host: no cache yet, the resolver writes one. */
	unlink(PGL_CACHE_PATH);
	t = timed_miss(L_OK, "firstuser", &st, &n);
	tap_ok(st == NSS_STATUS_SUCCESS && n == 1, "no cache yet: the "
	    "resolver's first cache answers (%.2f ms)", t);
	listener_stop();
	write_base(NULL);
	t = timed_miss(L_OK, "ghost", &st, &n);
	tap_ok(st == NSS_STATUS_NOTFOUND && t < 100, "socket gone: a miss "
	    "answers from the cache at once (%.2f ms)", t);
}

/* --- threads --- */

static atomic_int stop_threads;
static atomic_long wrong, answers;

static void *
lookup_thread(void *arg)
{
	static const char *names[] = { "alice", "bob", "dave", "erin",
	    "u0000", "u1234", "u1999", "nosuch" };
	char *buf = malloc(BIG), line[512], *gl = malloc(LINE);
	unsigned seed = (unsigned)(uintptr_t)arg;
	struct passwd pw;
	struct group gr;
	const char *want, *name;
	enum nss_status st;
	int e, i;

	if (buf == NULL || gl == NULL)
		abort();
	for (i = 0; i < 3000; i++) {
		name = names[rand_r(&seed) % 8];
		want = table_find(&pw_all, name);
		st = m.getpwnam_r(name, &pw, buf, 512, &e);
		if (st == NSS_STATUS_SUCCESS)
			pw_line(&pw, line, sizeof(line));
		if (want != NULL ? st != NSS_STATUS_SUCCESS ||
		    strcmp(line, want) != 0 : st != NSS_STATUS_NOTFOUND)
			atomic_fetch_add(&wrong, 1);
		if (want != NULL && st == NSS_STATUS_SUCCESS &&
		    (m.getpwuid_r(pw.pw_uid, &pw, buf, 512,
		    &e) != NSS_STATUS_SUCCESS || strcmp(pw.pw_name, name) != 0))
			atomic_fetch_add(&wrong, 1);
		/* big costs 2000 member checks: now and then. */
		name = i % 16 ? "deploy" : "big";
		if (m.getgrnam_r(name, &gr, buf, BIG, &e) != NSS_STATUS_SUCCESS ||
		    (gr_line(&gr, gl, LINE), strcmp(gl,
		    table_find(&gr_all, name)) != 0))
			atomic_fetch_add(&wrong, 1);
		atomic_fetch_add(&answers, 1);
	}
	free(gl);
	free(buf);
	return NULL;
}

/* Threads sharing one enumeration interleave; each entry handed out must
 * still be a whole, right one. */
static void *
enum_thread(void *arg)
{
	char *buf = malloc(BIG), *line = malloc(LINE);
	struct passwd pw;
	struct group gr;
	const char *want;
	int e, k;

	if (buf == NULL || line == NULL)
		abort();
	for (k = 0; k < 10; k++) {
		m.setpwent(0);
		while (m.getpwent_r(&pw, buf, 256, &e) == NSS_STATUS_SUCCESS) {
			pw_line(&pw, line, LINE);
			want = table_find(&pw_all, pw.pw_name);
			if (want == NULL || strcmp(want, line) != 0)
				atomic_fetch_add(&wrong, 1);
			atomic_fetch_add(&answers, 1);
		}
		m.endpwent();
		m.setgrent(0);
		while (m.getgrent_r(&gr, buf, BIG, &e) == NSS_STATUS_SUCCESS) {
			gr_line(&gr, line, LINE);
			want = table_find(&gr_all, gr.gr_name);
			if (want == NULL || strcmp(want, line) != 0)
				atomic_fetch_add(&wrong, 1);
			atomic_fetch_add(&answers, 1);
		}
		m.endgrent();
	}
	free(line);
	free(buf);
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[12];
	int i, ok = 1;

	atomic_store(&wrong, 0);
	atomic_store(&answers, 0);
	for (i = 0; i < 12; i++)
		ok &= pthread_create(&t[i], NULL, i < 8 ? lookup_thread :
		    enum_thread, (void *)(uintptr_t)(i + 1)) == 0;
	for (i = 0; i < 12; i++)
		pthread_join(t[i], NULL);
	tap_ok(ok && atomic_load(&wrong) == 0, "8 lookup threads and 4 "
	    "enumerating threads: %ld answers, %ld wrong",
	    atomic_load(&answers), atomic_load(&wrong));
}

/* Lookups and enumeration in other threads while this one forks: a
 * child must never inherit a held lock (it would hang in its first
 * lookup, as a daemon's child calling initgroups() before exec). */
static void *
busy_thread(void *arg)
{
	char buf[4096];
	struct passwd pw;
	struct group gr;
	int e;

	while (!atomic_load(&stop_threads)) {
		m.getpwnam_r("alice", &pw, buf, sizeof(buf), &e);
		m.getgrgid_r(100001, &gr, buf, sizeof(buf), &e);
		if ((uintptr_t)arg == 1) {
			m.setpwent(0);
			m.getpwent_r(&pw, buf, sizeof(buf), &e);
			m.endpwent();
		}
	}
	return NULL;
}

static int
child_lookup(void)
{
	char buf[4096], line[512];
	struct passwd pw;
	int e;

	if (m.getpwnam_r("alice", &pw, buf, sizeof(buf), &e) !=
	    NSS_STATUS_SUCCESS)
		return 1;
	pw_line(&pw, line, sizeof(line));
	if (strcmp(line, table_find(&pw_all, "alice")) != 0)
		return 1;
	m.setpwent(0);
	e = m.getpwent_r(&pw, buf, sizeof(buf), &e) != NSS_STATUS_SUCCESS;
	m.endpwent();
	return e;
}

static void
test_fork(void)
{
	pthread_t t[3];
	int i, k, status, hung = 0, failed_children = 0, ok = 1;
	pid_t pid;

	atomic_store(&stop_threads, 0);
	for (i = 0; i < 3; i++)
		ok &= pthread_create(&t[i], NULL, busy_thread,
		    (void *)(uintptr_t)i) == 0;
	for (i = 0; i < 300 && hung < 3; i++) {
		if ((pid = fork()) == 0)
			_exit(child_lookup());
		if (pid < 0) {
			ok = 0;
			break;
		}
		/* A child stuck on a lock never exits: 5 s, then kill. */
		for (k = 0; k < 500 && waitpid(pid, &status, WNOHANG) == 0;
		    k++)
			usleep(10000);
		if (k == 500) {
			hung++;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed_children++;
	}
	atomic_store(&stop_threads, 1);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	tap_ok(ok && hung == 0 && failed_children == 0, "300 forks while "
	    "3 threads look up and enumerate: every child's lookup answers "
	    "(%d hung, %d wrong)", hung, failed_children);
}

/* Mean cost of one call straight into the module, for the log (bench/
 * measures properly).  No resolver listens now: a name miss costs a
 * failed connect(). */
static double
per_call(int kind, const char *name, uint32_t id, int n, int *bad)
{
	static char buf[BIG];
	struct passwd pw;
	struct group gr;
	enum nss_status st;
	double t = now_ms();
	int k, e;

	for (k = 0; k < n; k++) {
		st = kind == 0 ? m.getpwnam_r(name, &pw, buf, 4096, &e) :
		    kind == 1 ? m.getpwuid_r(id, &pw, buf, 4096, &e) :
		    m.getgrnam_r(name, &gr, buf, sizeof(buf), &e);
		if (st != NSS_STATUS_SUCCESS && st != NSS_STATUS_NOTFOUND)
			(*bad)++;
	}
	return (now_ms() - t) * 1e6 / n;
}

static void
test_latency(void)
{
	int bad = 0;

	tap_diag("getpwnam_r hit %.0f ns, miss %.0f ns; getpwuid_r hit %.0f "
	    "ns, miss %.0f ns; getgrnam_r deploy %.0f ns, big (2000 "
	    "members) %.0f ns", per_call(0, "u1234", 0, 200000, &bad),
	    per_call(0, "nosuch", 0, 200000, &bad),
	    per_call(1, NULL, 102234, 200000, &bad),
	    per_call(1, NULL, 5, 200000, &bad),
	    per_call(2, "deploy", 0, 200000, &bad),
	    per_call(2, "big", 0, 2000, &bad));
	tap_ok(bad == 0, "latency loops: no call failed");
}

/* --- the hammer: readers while a writer replaces the cache --- */

struct version {
	uint8_t *users, *shadow;
	size_t nusers, nshadow;
};

static struct version ver[2];
static atomic_long seen[2], torn, failed, passes;

static void
encode_version(int v)
{
	static const char *team[2][3] = { { "alice", "bob" },
	    { "alice", "bob", "carol" } };
	struct pgl_cache_builder *b = builder();
	struct fx_user f[] = {
		{ "alice", 100000, v ? "new" : "old", "/home/alice",
		    v ? "/bin/new-sh" : "/bin/old-sh", 0, "", NULL },
		{ "bob", 100003, "", "/home/bob", "/bin/sh", 0, "", NULL },
		{ "carol", 100004, "", "/home/carol", "/bin/sh", 0, "", NULL },
		{ v ? "onlyb" : "onlya", v ? 100011 : 100010, "", "/home/x",
		    "/bin/sh", 0, "", NULL },
	};
	char name[16];
	size_t i;

	for (i = 0; i < 4; i++)
		add_user(b, &f[i]);
	/* Filler makes the two files differ in size and layout. */
	for (i = 0; i < (size_t)(v ? 300 : 100); i++) {
		snprintf(name, sizeof(name), "f%u", (unsigned)i % 1000);
		f[0] = (struct fx_user){ name, 110000 + (uint32_t)i, "",
		    "/home/f", "/bin/sh", 0, "", NULL };
		add_user(b, &f[0]);
	}
	add_group(b, "team", 100100, team[v], v ? 3 : 2);
	if (pgl_cache_builder_encode(b, PGL_CACHE_USERS, &ver[v].users,
	    &ver[v].nusers) != 0 || pgl_cache_builder_encode(b,
	    PGL_CACHE_SHADOW, &ver[v].shadow, &ver[v].nshadow) != 0)
		abort();
	pgl_cache_builder_free(b);
}

/* Which version an alice answer is from: 0, 1, or -1 if torn. */
static int
alice_version(const struct passwd *pw)
{
	if (strcmp(pw->pw_gecos, "old") == 0 &&
	    strcmp(pw->pw_shell, "/bin/old-sh") == 0)
		return 0;
	if (strcmp(pw->pw_gecos, "new") == 0 &&
	    strcmp(pw->pw_shell, "/bin/new-sh") == 0)
		return 1;
	return -1;
}

static void *
hammer_reader(void *arg)
{
	char buf[4096], line[512];
	struct passwd pw;
	struct group gr;
	int e, v;

	while (!atomic_load(&stop_threads)) {
		if (m.getpwnam_r("alice", &pw, buf, sizeof(buf), &e) !=
		    NSS_STATUS_SUCCESS)
			atomic_fetch_add(&failed, 1);
		else if ((v = alice_version(&pw)) < 0)
			atomic_fetch_add(&torn, 1);
		else
			atomic_fetch_add(&seen[v], 1);
		if (m.getpwuid_r(100000, &pw, buf, sizeof(buf), &e) !=
		    NSS_STATUS_SUCCESS)
			atomic_fetch_add(&failed, 1);
		else if (alice_version(&pw) < 0)
			atomic_fetch_add(&torn, 1);
		if (m.getgrnam_r("team", &gr, buf, sizeof(buf), &e) !=
		    NSS_STATUS_SUCCESS) {
			atomic_fetch_add(&failed, 1);
			continue;
		}
		gr_line(&gr, line, sizeof(line));
		if (strcmp(line, "team:x:100100:alice,bob") != 0 &&
		    strcmp(line, "team:x:100100:alice,bob,carol") != 0)
			atomic_fetch_add(&torn, 1);
	}
	return NULL;
}

/* Each pass of an enumeration is all one version. */
static void *
hammer_enum(void *arg)
{
	char buf[4096];
	struct passwd pw;
	int e, v, a, b;

	while (!atomic_load(&stop_threads)) {
		v = -2;
		a = b = 0;
		m.setpwent(0);
		while (m.getpwent_r(&pw, buf, sizeof(buf), &e) ==
		    NSS_STATUS_SUCCESS) {
			if (strcmp(pw.pw_name, "alice") == 0)
				v = alice_version(&pw);
			a += strcmp(pw.pw_name, "onlya") == 0;
			b += strcmp(pw.pw_name, "onlyb") == 0;
		}
		m.endpwent();
		if (!((v == 0 && a == 1 && b == 0) ||
		    (v == 1 && a == 0 && b == 1)))
			atomic_fetch_add(&torn, 1);
		atomic_fetch_add(&passes, 1);
	}
	return NULL;
}

static void
test_hammer(void)
{
	pthread_t t[5];
	int i, ok = 1, writes = 0;
	double ms;

	encode_version(0);
	encode_version(1);
	write_bytes(PGL_CACHE_PATH, ver[0].users, ver[0].nusers, 0644);
	atomic_store(&stop_threads, 0);
	for (i = 0; i < 5; i++)
		ok &= pthread_create(&t[i], NULL, i < 4 ? hammer_reader :
		    hammer_enum, NULL) == 0;
	ms = now_ms();
	for (writes = 0; writes < 1000; writes++) {
		const struct version *v = &ver[(writes + 1) % 2];

		write_fast(PGL_SHADOW_PATH, v->shadow, v->nshadow, 0600);
		write_fast(PGL_CACHE_PATH, v->users, v->nusers, 0644);
	}
	ms = now_ms() - ms;
	atomic_store(&stop_threads, 1);
	for (i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	tap_diag("hammer: %d replacements in %.0f ms; alice old %ld, new %ld; "
	    "%ld enumeration passes", writes, ms, atomic_load(&seen[0]),
	    atomic_load(&seen[1]), atomic_load(&passes));
	tap_ok(ok && writes == 1000 && atomic_load(&torn) == 0 &&
	    atomic_load(&failed) == 0, "1,000 replacements under 4 readers "
	    "and an enumeration: never torn (%ld), never failed (%ld)",
	    atomic_load(&torn), atomic_load(&failed));
	tap_ok(atomic_load(&seen[0]) > 0 && atomic_load(&seen[1]) > 0,
	    "the readers saw both versions");
	for (i = 0; i < 2; i++) {
		free(ver[i].users);
		free(ver[i].shadow);
	}
}

int
main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("PGL_NSS_TEST_NS") == NULL || argc != 2) {
		/* It writes the real PGL_CACHE_PATH: only in dlopen.sh's
		 * mount namespace. */
		printf("1..0 # SKIP run through test/nss/dlopen.sh\n");
		return 0;
	}
	for (i = 0; i < NBIG; i++) {
		snprintf(big_names[i], sizeof(big_names[i]), "u%04zu", i);
	}
	if (!tap_ok(load(argv[1]) == 0, "dlopen %s: all 15 _nss_pgl_* "
	    "functions, nothing internal", argv[1]))
		return tap_done();
	test_no_cache();
	test_corrupt();
	test_lookups();
	test_range();
	test_sweeps();
	test_big_group();
	test_enumeration();
	test_replace();
	test_initgroups();
	test_shadow();
	test_resolver();
	test_threads();
	test_fork();
	test_latency();
	test_hammer();
	return tap_done();
}
