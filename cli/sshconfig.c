/* pgl config ssh [--install]: an ssh_config block so that plain ssh, scp,
 * sftp and rsync reach pgl resources; and pgl ensure RESOURCE, which
 * that block runs (Match exec) to keep a valid certificate in a private
 * cache directory.
 *
 * Per resource the block has a Match line that only runs `pgl ensure`
 * (its exit status does not matter: the options are in the Host block
 * after it, so a failed fetch still gives ssh the right host, user and
 * known_hosts, and only authentication fails, after pgl said why). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "pgl.h"

#define BLOCK_BEGIN "# BEGIN pgl"
#define BLOCK_END "# END pgl"
#define RENEW_MARGIN 30         /* seconds of validity ensure wants left */
#define SSH_CONFIG_MAX (1024 * 1024)

/* Makes dir (0700) if missing; it must be ours and private. */
static int
private_dir(const char *dir, struct cli_err *e)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", dir, strerror(errno));
		return PGL_E_SYSTEM;
	}
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid() || (st.st_mode & 077) != 0) {
		cli_seterr(e, PGL_EXIT_ERROR, "%s: must be a directory of yours "
		    "that only you can use (chmod 700): it holds private keys",
		    dir);
		return PGL_E_NOT_ALLOWED;
	}
	return 0;
}

/* dir + suffix into buf, refused (not truncated) when too long. */
static int
cache_path(char *buf, size_t len, const char *dir, const char *suffix,
    struct cli_err *e)
{
	int n = snprintf(buf, len, "%s%s", dir, suffix);

	if (n < 0 || (size_t)n >= len) {
		cli_seterr(e, PGL_EXIT_ERROR, "the certificate cache "
		    "directory under %s is too long a path", dir);
		return PGL_E_INVALID_ARG;
	}
	return 0;
}

/* $XDG_RUNTIME_DIR/pgl (memory-backed, per login) when there is one,
 * else $XDG_CACHE_HOME/pgl or ~/.cache/pgl. */
static int
default_cache_dir(char *buf, size_t len, struct cli_err *e)
{
	const char *x = getenv("XDG_RUNTIME_DIR"), *c = getenv("XDG_CACHE_HOME");
	const char *h = getenv("HOME");
	struct stat st;
	char parent[PATH_MAX];
	int r;

	if (x != NULL && x[0] == '/' && stat(x, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
	    (st.st_mode & 077) == 0)
		return cache_path(buf, len, x, "/pgl", e);
	if (c != NULL && c[0] == '/')
		r = cache_path(parent, sizeof(parent), c, "", e);
	else if ((h != NULL && h[0] == '/') || (h = home_dir()) != NULL)
		r = cache_path(parent, sizeof(parent), h, "/.cache", e);
	else {
		cli_seterr(e, PGL_EXIT_ERROR, "no home directory for the "
		    "certificate cache");
		return PGL_E_NOT_FOUND;
	}
	if (r != 0)
		return r;
	if (mkdir(parent, 0700) == -1 && errno != EEXIST) {
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", parent, strerror(errno));
		return PGL_E_SYSTEM;
	}
	return cache_path(buf, len, parent, "/pgl", e);
}

/* ---- pgl ensure ---- */

static int
cert_fresh(const char *dir, const char *name)
{
	struct pgl_buf *b = NULL;
	char path[PATH_MAX], *line = NULL;
	uint64_t va, vb, now = (uint64_t)time(NULL);
	struct stat st;
	int fresh = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(path, sizeof(path), "%s/%s-cert.pub", dir, name);
	if (pgl_file_read(path, PGL_PUBKEY_LINE_MAX, &b) != 0)
		return 0;
	if ((line = strndup((const char *)pgl_buf_ptr(b), pgl_buf_len(b))) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		fresh = pgl_cert_line_validity(line, &va, &vb) == 0 &&
		    va <= now && vb > now + RENEW_MARGIN;
	}
	free(line);
	pgl_buf_free(b);
	return fresh;
}

int
cmd_ensure(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cache-dir", required_argument, NULL, 'd' },
		{ "ttl", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct pgl_config *cfg = NULL;
	struct pgl_key *key = NULL;
	struct pgl_signed *sg = NULL;
	struct pgl_buf *b = NULL;
	struct cli_err e = { 0, "" };
	char dir[PATH_MAX], path[PATH_MAX + 200], *pub = NULL;
	const char *name, *res[1];
	long ttl = 0;
	int c, r, lock = -1, ret;

	dir[0] = '\0';
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd' && strlen(optarg) < sizeof(dir))
			snprintf(dir, sizeof(dir), "%s", optarg);
		else if (c == 't' && parse_ttl(optarg, &ttl) == 0)
			;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	name = argv[optind];
	/* Run by ssh for `pgl ssh`, which brings its own certificate. */
	if (getenv("PGL_SSH_ACTIVE") != NULL)
		return PGL_EXIT_OK;
	if (!pgl_valid_resource_name(name)) {
		cli_seterr(&e, PGL_EXIT_USAGE, "'%s' is not a resource name",
		    name);
		goto fail;
	}
	if ((dir[0] == '\0' && default_cache_dir(dir, sizeof(dir), &e) != 0) ||
	    private_dir(dir, &e) != 0)
		goto fail;
	/* One fetch at a time (scp and rsync may start several ssh). */
	snprintf(path, sizeof(path), "%s/.lock", dir);
	if ((lock = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600)) == -1 || flock(lock, LOCK_EX) == -1) {
		cli_seterr(&e, PGL_EXIT_ERROR, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (cert_fresh(dir, name)) {
		ret = PGL_EXIT_OK;
		goto out;
	}
	res[0] = name;
	if (cfg_load(&cfg, &e) != 0 || new_key(&key, &pub, &e) != 0 ||
	    signer_sign(cfg, pub, res, 1, ttl, &sg, &e) != 0)
		goto fail;
	if ((b = pgl_buf_new()) == NULL) {
		cli_seterr(&e, PGL_EXIT_ERROR, "out of memory");
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((r = pgl_key_format_private(key, "pgl", b)) != 0 ||
	    (r = pgl_file_write_atomic(path, pgl_buf_ptr(b), pgl_buf_len(b),
	    0600, 0)) != 0)
		goto write_fail;
	pgl_buf_reset(b);
	snprintf(path, sizeof(path), "%s/%s-cert.pub", dir, name);
	if ((r = pgl_buf_put(b, sg->certificate, strlen(sg->certificate))) != 0 ||
	    (r = pgl_buf_put(b, "\n", 1)) != 0 ||
	    (r = pgl_file_write_atomic(path, pgl_buf_ptr(b), pgl_buf_len(b),
	    0600, 0)) != 0)
		goto write_fail;
	ret = PGL_EXIT_OK;
	goto out;
 write_fail:
	cli_seterr(&e, PGL_EXIT_ERROR, "%s: %s", path, r == PGL_E_SYSTEM ?
	    strerror(errno) : pgl_strerror(r));
 fail:
	ret = cli_report(&e);
	goto out;
 usage:
	fprintf(stderr, "usage: pgl ensure [--cache-dir DIR] [--ttl T] "
	    "RESOURCE\n");
	return PGL_EXIT_USAGE;
 out:
	if (lock != -1)
		close(lock);
	pgl_buf_free(b);
	pgl_key_free(key);
	pgl_signed_free(sg);
	cfg_free(cfg);
	free(pub);
	return ret;
}

/* ---- pgl config ssh ---- */

static int
put(struct pgl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
put(struct pgl_buf *b, const char *fmt, ...)
{
	char s[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(s))
		return PGL_E_TOO_LARGE;
	return pgl_buf_put(b, s, (size_t)n);
}

static int
make_block(const struct pgl_me *me, const char *pgl, const char *cache,
    const char *known, struct pgl_buf *b)
{
	const struct pgl_resource_info *res;
	size_t i, j;
	int r;

	if ((r = put(b, "%s (pgl config ssh --install writes this block; "
	    "run it again when your grants change)\n", BLOCK_BEGIN)) != 0)
		return r;
	for (i = 0; i < me->nres; i++) {
		res = &me->res[i];
		if ((r = put(b, "Match originalhost %s", res->name)) != 0)
			return r;
		for (j = 0; j < res->naliases; j++)
			if ((r = put(b, ",%s", res->aliases[j])) != 0)
				return r;
		if ((r = put(b, " exec \"%s ensure --cache-dir %s %s\"\n", pgl,
		    cache, res->name)) != 0 ||
		    (r = put(b, "Host %s", res->name)) != 0)
			return r;
		for (j = 0; j < res->naliases; j++)
			if ((r = put(b, " %s", res->aliases[j])) != 0)
				return r;
		if ((r = put(b, "\n"
		    "\tHostName %s\n"
		    "\tPort %u\n"
		    "\tUser %s\n"
		    "\tHostKeyAlias %s\n"
		    "\tIdentityFile %s/%s\n"
		    "\tCertificateFile %s/%s-cert.pub\n"
		    "\tIdentitiesOnly yes\n"
		    "\tUserKnownHostsFile %s\n"
		    "\tStrictHostKeyChecking yes\n"
		    "\tCheckHostIP no\n"
		    "\tUpdateHostKeys no\n",
		    res->address, res->port, me->username, res->name, cache,
		    res->name, cache, res->name, known)) != 0)
			return r;
		if (res->via != NULL && (r = put(b, "\tProxyJump %s\n",
		    res->via)) != 0)
			return r;
	}
	return put(b, "%s\n", BLOCK_END);
}

/* The user's ssh_config with the block replaced, or put first (ssh takes
 * the first value it finds: the block must come before "Host *"). */
static int
install(const char *path, const struct pgl_buf *block, struct cli_err *e)
{
	struct pgl_buf *old = NULL, *out = NULL;
	struct stat st;
	const char *s, *beg, *end;
	size_t n;
	int r;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			cli_seterr(e, PGL_EXIT_ERROR, "%s is not a regular file "
			    "(a link?): add the block by hand (pgl config ssh "
			    "prints it)", path);
			return PGL_E_NOT_REGULAR;
		}
		if ((r = pgl_file_read(path, SSH_CONFIG_MAX, &old)) != 0) {
			cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path,
			    r == PGL_E_SYSTEM ? strerror(errno) :
			    pgl_strerror(r));
			return r;
		}
	} else if (errno != ENOENT) {
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path, strerror(errno));
		return PGL_E_SYSTEM;
	}
	if ((out = pgl_buf_new()) == NULL) {
		pgl_buf_free(old);
		return PGL_E_NOMEM;
	}
	s = old != NULL ? (const char *)pgl_buf_ptr(old) : "";
	n = old != NULL ? pgl_buf_len(old) : 0;
	beg = memmem(s, n, BLOCK_BEGIN, strlen(BLOCK_BEGIN));
	end = beg != NULL ? memmem(beg, n - (size_t)(beg - s), BLOCK_END "\n",
	    strlen(BLOCK_END) + 1) : NULL;
	if (beg != NULL && (beg == s || beg[-1] == '\n') && end != NULL) {
		end += strlen(BLOCK_END) + 1;
		r = pgl_buf_put(out, s, (size_t)(beg - s));
		if (r == 0)
			r = pgl_buf_put(out, pgl_buf_ptr(block), pgl_buf_len(block));
		if (r == 0)
			r = pgl_buf_put(out, end, n - (size_t)(end - s));
	} else {
		r = pgl_buf_put(out, pgl_buf_ptr(block), pgl_buf_len(block));
		if (r == 0 && n > 0)
			r = pgl_buf_put(out, "\n", 1);
		if (r == 0)
			r = pgl_buf_put(out, s, n);
	}
	if (r == 0)
		r = pgl_file_write_atomic(path, pgl_buf_ptr(out),
		    pgl_buf_len(out), 0600, 0);
	if (r != 0)
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path, r == PGL_E_SYSTEM ?
		    strerror(errno) : pgl_strerror(r));
	pgl_buf_free(old);
	pgl_buf_free(out);
	return r;
}

int
cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "install", no_argument, NULL, 'i' },
		{ "file", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct pgl_config *cfg = NULL;
	struct pgl_me *me = NULL;
	struct pgl_buf *kh = NULL, *block = NULL;
	struct cli_err e = { 0, "" };
	char **ca = NULL, cache[PATH_MAX], cdir[PATH_MAX], known[PATH_MAX + 20];
	char pgl[PATH_MAX], sshdir[PATH_MAX], file[PATH_MAX + 16];
	const char *h;
	size_t nca = 0, i, j;
	ssize_t n;
	int c, inst = 0, r, ret;

	file[0] = '\0';
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i')
			inst = 1;
		else if (c == 'f' && strlen(optarg) < sizeof(file))
			snprintf(file, sizeof(file), "%s", optarg);
		else
			goto usage;
	}
	if (optind != argc - 1 || strcmp(argv[optind], "ssh") != 0)
		goto usage;
	if ((n = readlink("/proc/self/exe", pgl, sizeof(pgl) - 1)) < 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "cannot find pgl's own path: %s",
		    strerror(errno));
		goto fail;
	}
	pgl[n] = '\0';
	if (cfg_load(&cfg, &e) != 0 || signer_me(cfg, &me, &e) != 0 ||
	    signer_host_ca(cfg, &ca, &nca, &e) != 0)
		goto fail;
	if (me->username == NULL || me->nres == 0) {
		cli_seterr(&e, PGL_EXIT_DENIED, "the signer grants %s no "
		    "resources: nothing to configure", me->identity);
		goto fail;
	}
	if (default_cache_dir(cache, sizeof(cache), &e) != 0 ||
	    private_dir(cache, &e) != 0 || cfg_dir(cdir, sizeof(cdir)) != 0 ||
	    private_dir(cdir, &e) != 0)
		goto fail;
	snprintf(known, sizeof(known), "%s/known_hosts", cdir);
	/* Written unquoted into ssh_config and a shell command. */
	if (!plain_path(pgl) || !plain_path(cache) || !plain_path(known)) {
		cli_seterr(&e, PGL_EXIT_ERROR, "a path (%s, %s or %s) has "
		    "characters ssh_config would need quoted", pgl, cache, known);
		goto fail;
	}
	/* The host CA, trusted only for the pgl resources' names. */
	if ((kh = pgl_buf_new()) == NULL || (block = pgl_buf_new()) == NULL)
		goto nomem;
	for (i = 0; i < nca; i++) {
		if (put(kh, "@cert-authority ") != 0)
			goto nomem;
		for (j = 0; j < me->nres; j++)
			if (put(kh, "%s%s", j > 0 ? "," : "", me->res[j].name) != 0)
				goto nomem;
		if (put(kh, " %s\n", ca[i]) != 0)
			goto nomem;
	}
	if ((r = pgl_file_write_atomic(known, pgl_buf_ptr(kh), pgl_buf_len(kh),
	    0644, 0)) != 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "%s: %s", known, r == PGL_E_SYSTEM ?
		    strerror(errno) : pgl_strerror(r));
		goto fail;
	}
	if (make_block(me, pgl, cache, known, block) != 0)
		goto nomem;
	if (!inst) {
		fwrite(pgl_buf_ptr(block), 1, pgl_buf_len(block), stdout);
		ret = PGL_EXIT_OK;
		goto out;
	}
	if (file[0] == '\0') {
		if ((h = home_dir()) == NULL) {
			cli_seterr(&e, PGL_EXIT_ERROR, "no home directory");
			goto fail;
		}
		snprintf(sshdir, sizeof(sshdir), "%s/.ssh", h);
		if (mkdir(sshdir, 0700) == -1 && errno != EEXIST) {
			cli_seterr(&e, PGL_EXIT_ERROR, "%s: %s", sshdir,
			    strerror(errno));
			goto fail;
		}
		snprintf(file, sizeof(file), "%s/config", sshdir);
	}
	if (install(file, block, &e) != 0)
		goto fail;
	fprintf(stderr, "%s: %s: pgl block for %zu resource%s installed\n",
	    PGL_PROG, file, me->nres, me->nres == 1 ? "" : "s");
	ret = PGL_EXIT_OK;
	goto out;
 nomem:
	cli_seterr(&e, PGL_EXIT_ERROR, "out of memory");
 fail:
	ret = cli_report(&e);
	goto out;
 usage:
	fprintf(stderr, "usage: pgl config ssh [--install [--file PATH]]\n");
	return PGL_EXIT_USAGE;
 out:
	pgl_buf_free(kh);
	pgl_buf_free(block);
	pgl_strv_free(ca, nca);
	pgl_me_free(me);
	cfg_free(cfg);
	return ret;
}
