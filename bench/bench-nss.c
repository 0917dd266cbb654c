/* bench-nss: getpwnam_r and getpwuid_r latency of NSS modules, side by
 * side, each called directly through dlopen()/dlsym() (no nsswitch.conf,
 * no nscd): libnss_pgl.so.2 (this tree), glibc's files module,
 * libnss-extrausers, libnss-cache and google-compute-engine-oslogin's
 * cache module, all given the same users at 100, 10,000 and 100,000.
 *
 * Those modules read fixed paths under /etc and /var/lib, so this program
 * writes there: run it through bench-nss.sh, which gives it a private
 * mount namespace with a tmpfs on /var/lib and an overlay on /etc.  It
 * refuses to start anywhere else.
 *
 *   bench-nss --modules DIR [--pgl LIBNSS_PGL] [--sizes N,N,...]
 *             [--budget-ms MS]
 *
 * DIR holds the Debian packages unpacked with dpkg -x. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "err.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif
#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

#define UID_BASE        100000u
#define MISS_BASE       5000000u        /* miss names: m5000000... */
#define NKEYS           8192            /* random keys per case */
#define MAX_SAMPLES     200000
#define MIN_SAMPLES     50
#define NOPS            4

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *,
    char *, size_t, int *);
typedef enum nss_status (*getpwuid_fn)(uid_t, struct passwd *, char *,
    size_t, int *);

struct module {
	const char *label;
	const char *path;               /* for dlopen */
	const char *prefix;             /* _nss_<prefix>_getpwnam_r */
	const char *note;
	void *dl;
	getpwnam_fn byname;
	getpwuid_fn byuid;
	int wrong;                      /* wrong answers, all cases */
	int reference;                  /* not a module: no "fastest" */
};

static const char *op_names[NOPS] = {
	"getpwnam hit", "getpwnam miss", "getpwuid hit", "getpwuid miss",
};

struct result {
	int ok;
	uint64_t median, p99;
	size_t samples;
};

/* The cache as write_users() left it, for the reference lookups. */
static struct pgl_cache ref_cache;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	/* xorshift64*: reproducible, fast, good enough to pick keys. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench-nss: %s\n", what);
	exit(1);
}

static void
user_name(char *buf, size_t n, uint32_t i)
{
	snprintf(buf, n, "u%07" PRIu32, i);
}

/* --- the users, in each module's own files --- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes path with content, via a temp file and rename (the modules never
 * see a half-written file). */
static void
put_file(const char *path, const char *p, size_t n, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0 || write(fd, p, n) != (ssize_t)n || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		perror(path);
		exit(1);
	}
}

/* libnss-cache's sorted index (.ixname, .ixuid): fixed-size records
 * "KEY\0OFFSET\0" padded with NULs, each ending in '\n', sorted by
 * strcmp() of KEY (uids too, as text), OFFSET the line's byte offset in
 * the .cache file.  The module takes the record size from the first
 * '\n' and bsearch()es; the package ships no generator. */
static void
put_nsscache_index(const char *path, char **keys, size_t *offs, size_t n)
{
	char **rec, *out;
	size_t i, w = 0, l;

	if ((rec = calloc(n, sizeof(*rec))) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		l = strlen(keys[i]) + 1 + 20 + 1;
		if ((rec[i] = calloc(1, l)) == NULL)
			die("out of memory");
		l = (size_t)snprintf(rec[i], l, "%s%c%zu", keys[i], '\0',
		    offs[i]) + 1;
		if (l + 1 > w)
			w = l + 1;
	}
	/* Sort records by key: the key is the record's first string. */
	qsort(rec, n, sizeof(*rec), cmp_str);
	if ((out = calloc(n, w)) == NULL)
		die("out of memory");
	for (i = 0; i < n; i++) {
		l = strlen(rec[i]) + 1;
		l += strlen(rec[i] + l) + 1;
		memcpy(out + i * w, rec[i], l);
		out[i * w + w - 1] = '\n';
		free(rec[i]);
	}
	put_file(path, out, n * w, 0644);
	free(out);
	free(rec);
}

static void
write_users(uint32_t n)
{
	struct pgl_cache_builder *b;
	char **names, **uids, *pw, *p, name[32], pr[64], home[64], gecos[64];
	size_t *offs, cap, len = 0, i;
	int r;

	cap = (size_t)n * 96 + 1;
	if ((pw = malloc(cap)) == NULL || (names = calloc(n, sizeof(*names)))
	    == NULL || (uids = calloc(n, sizeof(*uids))) == NULL ||
	    (offs = calloc(n, sizeof(*offs))) == NULL)
		die("out of memory");
	if ((b = pgl_cache_builder_new("bench", UID_BASE, 999999)) == NULL ||
	    pgl_cache_builder_set_local(b, NULL, NULL) != 0)
		die("cannot make a cache builder");
	for (i = 0; i < n; i++) {
		const char *prs[1] = { pr };
		struct pgl_cache_user_in u = {
			.name = name, .uid = UID_BASE + (uint32_t)i,
			.gecos = gecos, .home = home, .shell = "/bin/bash",
			.principals = prs, .nprincipals = 1,
		};

		user_name(name, sizeof(name), (uint32_t)i);
		snprintf(pr, sizeof(pr), "%s@bench", name);
		snprintf(home, sizeof(home), "/home/%s", name);
		snprintf(gecos, sizeof(gecos), "Bench User %zu", i);
		offs[i] = len;
		p = pw + len;
		len += (size_t)snprintf(p, cap - len, "%s:x:%u:%u:%s:%s:%s\n",
		    name, u.uid, u.uid, gecos, home, u.shell);
		if ((names[i] = strdup(name)) == NULL ||
		    asprintf(&uids[i], "%u", u.uid) < 0)
			die("out of memory");
		if ((r = pgl_cache_builder_add_user(b, &u)) != 0)
			die(pgl_cache_builder_error(b));
	}
	/* Every module reads the same lines (pgl its own format of them). */
	put_file("/etc/passwd", pw, len, 0644);
	put_file("/etc/oslogin_passwd.cache", pw, len, 0644);
	if (mkdir("/var/lib/extrausers", 0755) != 0 && errno != EEXIST)
		die("mkdir /var/lib/extrausers");
	put_file("/var/lib/extrausers/passwd", pw, len, 0644);
	put_file("/etc/passwd.cache", pw, len, 0644);
	/* After the .cache file: libnss-cache ignores an older index. */
	put_nsscache_index("/etc/passwd.cache.ixname", names, offs, n);
	put_nsscache_index("/etc/passwd.cache.ixuid", uids, offs, n);
	if (mkdir("/var/lib/pgl", 0755) != 0 && errno != EEXIST)
		die("mkdir /var/lib/pgl");
	if (pgl_cache_builder_write(b, "/var/lib/pgl/cache",
	    "/var/lib/pgl/shadow") != 0)
		die(pgl_cache_builder_error(b));
	if (pgl_cache_map(&ref_cache, "/var/lib/pgl/cache",
	    PGL_CACHE_USERS) != 0)
		die("cannot map the cache just written");
	pgl_cache_builder_free(b);
	for (i = 0; i < n; i++) {
		free(names[i]);
		free(uids[i]);
	}
	free(names);
	free(uids);
	free(offs);
	free(pw);
}

/* --- the reference: pgl's cache lookup without the module --- */

static enum nss_status
ref_fill(int r, const struct pgl_cache_user *u, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	const struct pgl_cache_str *f[4] = { &u->name, &u->gecos, &u->home,
	    &u->shell };
	char *p = buf, **dst[4] = { &pw->pw_name, &pw->pw_gecos,
	    &pw->pw_dir, &pw->pw_shell };
	size_t i;

	if (r != 0) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	for (i = 0; i < 4; i++) {
		if ((size_t)(p - buf) + f[i]->len + 1 > len) {
			*errnop = ERANGE;
			return NSS_STATUS_TRYAGAIN;
		}
		memcpy(p, f[i]->p, f[i]->len + 1);
		*dst[i] = p;
		p += f[i]->len + 1;
	}
	pw->pw_passwd = (char *)"x";
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	return NSS_STATUS_SUCCESS;
}

static enum nss_status
ref_byname(const char *name, struct passwd *pw, char *buf, size_t len,
    int *errnop)
{
	struct pgl_cache_user u;

	return ref_fill(pgl_cache_user_by_name(&ref_cache, name, &u), &u, pw,
	    buf, len, errnop);
}

static enum nss_status
ref_byuid(uid_t uid, struct passwd *pw, char *buf, size_t len, int *errnop)
{
	struct pgl_cache_user u;

	return ref_fill(pgl_cache_user_by_uid(&ref_cache, uid, &u), &u, pw,
	    buf, len, errnop);
}

/* --- measuring --- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One call, checked: 1 if the answer is right. */
static int
call(struct module *m, int op, uint32_t key, uint64_t *ns)
{
	struct passwd pw;
	char buf[1024], name[32];
	enum nss_status st;
	uint64_t t0, t1;
	int err = 0;

	memset(&pw, 0, sizeof(pw));
	if (op < 2) {
		user_name(name, sizeof(name), key);
		t0 = now_ns();
		st = m->byname(name, &pw, buf, sizeof(buf), &err);
		t1 = now_ns();
	} else {
		t0 = now_ns();
		st = m->byuid(UID_BASE + key, &pw, buf, sizeof(buf), &err);
		t1 = now_ns();
	}
	*ns = t1 - t0;
	if (op == 1 || op == 3)
		return st == NSS_STATUS_NOTFOUND;
	if (st != NSS_STATUS_SUCCESS || pw.pw_name == NULL ||
	    pw.pw_uid != UID_BASE + key)
		return 0;
	user_name(name, sizeof(name), key);
	return strcmp(pw.pw_name, name) == 0;
}

static void
measure(struct module *m, int op, uint32_t n, uint64_t budget_ns,
    uint64_t *samples, struct result *res)
{
	uint32_t keys[NKEYS];
	uint64_t start, ns;
	size_t i, k;
	int wrong = 0;

	for (i = 0; i < NKEYS; i++) {
		if (op == 0 || op == 2)
			keys[i] = (uint32_t)(rng() % n);
		else if (op == 1)
			keys[i] = MISS_BASE + (uint32_t)(rng() % 1000000);
		else
			keys[i] = n + (uint32_t)(rng() % 100000);
	}
	/* Warm up: first calls map files and fault pages in. */
	for (i = 0; i < 3; i++)
		(void)call(m, op, keys[i], &ns);
	start = now_ns();
	for (k = 0; k < MAX_SAMPLES; k++) {
		if (!call(m, op, keys[k % NKEYS], &samples[k]))
			wrong++;
		if (k + 1 >= MIN_SAMPLES && now_ns() - start > budget_ns) {
			k++;
			break;
		}
	}
	qsort(samples, k, sizeof(*samples), cmp_u64);
	res->ok = wrong == 0;
	res->samples = k;
	res->median = samples[k / 2];
	res->p99 = samples[(k * 99) / 100 < k ? (k * 99) / 100 : k - 1];
	if (wrong) {
		m->wrong += wrong;
		fprintf(stderr, "bench-nss: %s, %s at %u users: %d of %zu "
		    "answers wrong\n", m->label, op_names[op], n, wrong, k);
	}
}

static uint64_t
timer_overhead(void)
{
	uint64_t s[10001], a, b;
	size_t i;

	for (i = 0; i < 10001; i++) {
		a = now_ns();
		b = now_ns();
		s[i] = b - a;
	}
	qsort(s, 10001, sizeof(s[0]), cmp_u64);
	return s[5000];
}

/* The price of a system call here, for reading the numbers: any module
 * that checks its file on every call pays at least one stat(). */
static void
syscall_floor(uint64_t *ppid, uint64_t *st)
{
	static uint64_t a[2001], b[2001];
	struct stat sb;
	uint64_t t0;
	size_t i;

	for (i = 0; i < 2001; i++) {
		t0 = now_ns();
		(void)getppid();
		a[i] = now_ns() - t0;
		t0 = now_ns();
		(void)stat("/var/lib/pgl/cache", &sb);
		b[i] = now_ns() - t0;
	}
	qsort(a, 2001, sizeof(a[0]), cmp_u64);
	qsort(b, 2001, sizeof(b[0]), cmp_u64);
	*ppid = a[1000];
	*st = b[1000];
}

/* --- set-up --- */

static int
load(struct module *m)
{
	char sym[128];
	void *f, *g;

	if ((m->dl = dlopen(m->path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "bench-nss: %s: %s (skipped)\n", m->label,
		    dlerror());
		return -1;
	}
	snprintf(sym, sizeof(sym), "_nss_%s_getpwnam_r", m->prefix);
	f = dlsym(m->dl, sym);
	snprintf(sym, sizeof(sym), "_nss_%s_getpwuid_r", m->prefix);
	g = dlsym(m->dl, sym);
	if (f == NULL || g == NULL) {
		fprintf(stderr, "bench-nss: %s: no _nss_%s_getpw*_r "
		    "(skipped)\n", m->label, m->prefix);
		return -1;
	}
	/* POSIX: a data pointer from dlsym() converts to a function. */
	memcpy(&m->byname, &f, sizeof(f));
	memcpy(&m->byuid, &g, sizeof(g));
	return 0;
}

/* True if mountinfo has a mount at dir, of type fstype, from source: the
 * ones bench-nss.sh makes in its private namespace. */
static int
mounted(const char *dir, const char *fstype, const char *source)
{
	FILE *f;
	char line[4096], *sep, mnt[PATH_MAX], type[64], src[256];
	int found = 0;

	if ((f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		/* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ... - TYPE SOURCE" */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    (sep = strstr(line, " - ")) == NULL ||
		    sscanf(sep + 3, "%63s %255s", type, src) != 2)
			continue;
		found = strcmp(mnt, dir) == 0 && strcmp(type, fstype) == 0 &&
		    strcmp(src, source) == 0;
	}
	fclose(f);
	return found;
}

/* Only ever on the tmpfs /var/lib and overlay /etc that bench-nss.sh
 * mounts in a private mount namespace: the real files must never
 * change. */
static void
check_sandbox(void)
{
	struct statfs s;

	if (!mounted("/var/lib", "tmpfs", "pgl-bench") ||
	    statfs("/var/lib", &s) != 0 || s.f_type != TMPFS_MAGIC)
		die("/var/lib is not bench-nss.sh's tmpfs: run bench-nss.sh");
	if (!mounted("/etc", "overlay", "pgl-bench-etc") ||
	    statfs("/etc", &s) != 0 ||
	    (unsigned long)s.f_type != OVERLAYFS_SUPER_MAGIC)
		die("/etc is not bench-nss.sh's overlay: run bench-nss.sh");
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-nss --modules DIR [--pgl LIBNSS_PGL] "
	    "[--sizes N,...] [--budget-ms MS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char paths[3][PATH_MAX], *s, *e;
	const char *dir = NULL, *pgl = NULL, *sizes = "100,10000,100000";
	struct module mods[6];
	struct result res[6][NOPS];
	uint64_t *samples, budget_ms = 1500, over, f_ppid, f_stat;
	uint32_t sz[8];
	size_t nmods = 0, nsz = 0, i, j;
	int op, best;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--modules") == 0 && i + 1 < (size_t)argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--pgl") == 0 && i + 1 < (size_t)argc)
			pgl = argv[++i];
		else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < (size_t)argc)
			sizes = argv[++i];
		else if (strcmp(argv[i], "--budget-ms") == 0 &&
		    i + 1 < (size_t)argc)
			budget_ms = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	if (dir == NULL)
		usage();
	for (s = (char *)sizes; *s != '\0' && nsz < 8; s = e) {
		unsigned long v = strtoul(s, &e, 10);

		if (e == s || v == 0 || v > 100000 || (*e != ',' && *e != '\0'))
			usage();
		sz[nsz++] = (uint32_t)v;
		if (*e == ',')
			e++;
	}
	check_sandbox();
	if (getenv("PGL_NSS_NO_RESOLVE") == NULL)
		die("set PGL_NSS_NO_RESOLVE=1 (bench-nss.sh does)");
	snprintf(paths[0], PATH_MAX, "%s/usr/lib/libnss_extrausers.so.2", dir);
	snprintf(paths[1], PATH_MAX,
	    "%s/usr/lib/x86_64-linux-gnu/libnss_cache.so.2", dir);
	snprintf(paths[2], PATH_MAX,
	    "%s/usr/lib/x86_64-linux-gnu/libnss_cache_oslogin.so.2", dir);
	memset(mods, 0, sizeof(mods));
	if (pgl != NULL)
		mods[nmods++] = (struct module){ .label = "pgl", .path = pgl,
		    .prefix = "pgl", .note = "this tree; PGL_NSS_NO_RESOLVE=1" };
	mods[nmods++] = (struct module){ .label = "files",
	    .path = "libnss_files.so.2", .prefix = "files",
	    .note = "glibc, /etc/passwd" };
	mods[nmods++] = (struct module){ .label = "extrausers",
	    .path = paths[0], .prefix = "extrausers",
	    .note = "libnss-extrausers, /var/lib/extrausers/passwd" };
	mods[nmods++] = (struct module){ .label = "cache", .path = paths[1],
	    .prefix = "cache",
	    .note = "libnss-cache, /etc/passwd.cache + .ixname/.ixuid" };
	mods[nmods++] = (struct module){ .label = "oslogin",
	    .path = paths[2], .prefix = "cache_oslogin",
	    .note = "google-compute-engine-oslogin, /etc/oslogin_passwd.cache" };
	for (i = 0, j = 0; i < nmods; i++)
		if (load(&mods[i]) == 0)
			mods[j++] = mods[i];
	nmods = j;
	mods[nmods++] = (struct module){ .label = "(pgl-core)",
	    .note = "not a module: libpglbase's lookup and a copy into the "
	    "buffer, without the module's per-call stat()",
	    .byname = ref_byname, .byuid = ref_byuid, .reference = 1 };
	if ((samples = calloc(MAX_SAMPLES, sizeof(*samples))) == NULL)
		die("out of memory");

	over = timer_overhead();
	printf("bench-nss: ns per call, median / p99, each module's "
	    "_nss_*_getpw*_r called directly\n");
	printf("clock_gettime(CLOCK_MONOTONIC) pair: %" PRIu64 " ns "
	    "(included in every number)\n", over);
	printf("up to %" PRIu64 " ms or %d calls per case, keys drawn at "
	    "random; * = fastest median\n", budget_ms, MAX_SAMPLES);
	printf("pgl's resolver is off (PGL_NSS_NO_RESOLVE=1): a miss never "
	    "touches a socket\n");
	for (i = 0; i < nmods; i++)
		printf("  %-11s %s\n", mods[i].label, mods[i].note);
	if (pgl == NULL)
		printf("  (pgl: no --pgl given, not measured)\n");

	for (j = 0; j < nsz; j++) {
		write_users(sz[j]);
		syscall_floor(&f_ppid, &f_stat);
		for (i = 0; i < nmods; i++)
			for (op = 0; op < NOPS; op++)
				measure(&mods[i], op, sz[j],
				    budget_ms * 1000000u, samples, &res[i][op]);
		printf("\n%u users (for scale: getppid() %" PRIu64 " ns, "
		    "stat() of the pgl cache %" PRIu64 " ns)\n%-11s", sz[j],
		    f_ppid, f_stat, "module");
		for (op = 0; op < NOPS; op++)
			printf(" %23s", op_names[op]);
		printf("\n");
		for (i = 0; i < nmods; i++) {
			printf("%-11s", mods[i].label);
			for (op = 0; op < NOPS; op++) {
				char cell[48];
				size_t k;

				for (best = !mods[i].reference, k = 0;
				    k < nmods; k++)
					if (!mods[k].reference &&
					    res[k][op].ok && res[i][op].ok &&
					    res[k][op].median <
					    res[i][op].median)
						best = 0;
				if (!res[i][op].ok)
					snprintf(cell, sizeof(cell), "WRONG");
				else
					snprintf(cell, sizeof(cell),
					    "%" PRIu64 " / %" PRIu64 "%s",
					    res[i][op].median, res[i][op].p99,
					    best ? " *" : "  ");
				printf(" %23s", cell);
			}
			printf("\n");
		}
		fflush(stdout);
		if (nmods > 0 && strcmp(mods[0].label, "pgl") == 0 &&
		    sz[j] == 100000) {
			int fastest = 1;

			for (i = 1; i < nmods; i++)
				if (!mods[i].reference && (!res[0][0].ok ||
				    res[i][0].median <= res[0][0].median))
					fastest = 0;
			printf("goal (100,000 users: a pgl getpwnam hit under "
			    "1 us and faster than every other module): %s\n",
			    res[0][0].ok && res[0][0].median < 1000 &&
			    fastest ? "met" : "NOT met");
		}
	}
	for (i = 0; i < nmods; i++)
		if (mods[i].wrong)
			return 1;
	return 0;
}
