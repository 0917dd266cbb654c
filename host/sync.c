/* pgl-host sync: bring the host up to date with the signer, in three
 * independent parts, each keeping the last good state when it fails:
 *   - the directory (ETag): user cache, shadow cache, user CA keys file,
 *     sudoers drop-ins of users no longer allowed;
 *   - the KRL (ETag);
 *   - the host certificate, renewed with a third of its validity left.
 * One sync at a time (sync.lock); the cache is written under cache.lock,
 * which the resolver takes too. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "err.h"
#include "fileio.h"
#include "sshkey.h"
#include "text.h"
#include "certinfo.h"
#include "directory.h"
#include "http.h"
#include "state.h"

#define SYNC_LOCK_WAIT_MS 10000
#define CACHE_LOCK_WAIT_MS 10000
#define KRL_MAX (64u * 1024 * 1024)

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Rewrites the cache from its own live entries with a new expiry: a
 * 304 costs nothing until a quarter of max_stale has passed. */
static int
refresh_expiry(struct host_config *c, const struct pgl_cache *old,
    uint64_t now, int *written, struct host_err *e)
{
	struct pgl_cache_builder *b = NULL;
	uint64_t min = cache_min_expire(old), expire = now + c->max_stale;
	int r = -1;

	*written = 0;
	if (min != 0 && min > now + c->max_stale - c->max_stale / 4)
		return 0;
	if (old->users.n == 0)
		return 0;
	if ((b = pgl_cache_builder_new(old->host.p, old->uid_min,
	    old->uid_max)) == NULL)
		return herr(e, "out of memory");
	if (cache_carry(old, b, NULL, NULL, 0, old->uid_min, old->uid_max, now,
	    expire, e) != 0 ||
	    pgl_cache_builder_set_local(b, c->p.passwd, c->p.group) != 0)
		goto out;
	if (pgl_cache_builder_write(b, c->p.cache, c->p.shadow) != 0) {
		herr(e, "cannot refresh the cache: %s", pgl_cache_builder_error(b));
		goto out;
	}
	*written = 1;
	r = 0;
 out:
	pgl_cache_builder_free(b);
	return r;
}

static int
sync_directory(struct host_config *c, const char *cred, int force,
    struct sync_state *ss, struct host_err *e)
{
	struct pgl_cache old, new;
	struct pgl_cache_builder *b = NULL;
	struct local_accounts *l = NULL;
	struct directory *d = NULL;
	struct http_resp resp = { 0 };
	struct http_req rq;
	char etag[HTTP_ETAG_MAX] = "";
	uint64_t now = (uint64_t)time(NULL);
	uint32_t umin, umax;
	size_t skipped = 0, removed = 0;
	int64_t fetched;
	int have_old, lock = -1, r = -1, changed = 0, written;

	memset(&old, 0, sizeof(old));
	memset(&new, 0, sizeof(new));
	have_old = pgl_cache_map(&old, c->p.cache, PGL_CACHE_USERS) == 0;
	/* Without a good cache or CA file, ask for everything again. */
	if (force || !have_old || access(c->p.user_ca, F_OK) != 0 ||
	    state_read_line(c->p.etag, etag, sizeof(etag)) != 0)
		etag[0] = '\0';
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = "/v1/host/directory";
	rq.bearer = cred;
	rq.if_none_match = etag[0] != '\0' ? etag : NULL;
	rq.timeout_ms = (long)c->timeout * 1000;
	rq.max = DIR_MAX_BYTES;
	fetched = now_ns();
	if (http_request(c, &rq, &resp, e) != 0)
		goto out;
	if (resp.status == 304 && etag[0] != '\0') {
		if (lock_take(c->p.cache_lock, CACHE_LOCK_WAIT_MS, &lock, e) != 0 ||
		    refresh_expiry(c, &old, now, &written, e) != 0)
			goto out;
		ss->fetched_ns = fetched;
		if (sync_state_write(c->p.sync_state, ss, e) != 0)
			goto out;
		printf("directory: unchanged (304)%s\n", written ?
		    ", entry expiry refreshed" : "");
		r = 0;
		goto out;
	}
	if (resp.status != 200) {
		http_error(&resp, "GET /v1/host/directory", e);
		goto out;
	}
	if (directory_parse(pgl_buf_ptr(resp.body), pgl_buf_len(resp.body),
	    &d, e) != 0)
		goto out;
	if (strcmp(d->host, c->host) != 0) {
		herr(e, "directory is for host %s, this host is %s", d->host,
		    c->host);
		goto out;
	}
	umin = d->uid_min;
	umax = d->uid_max;
	if (c->uid_min != 0 && (umin < c->uid_min || umax > c->uid_max)) {
		herr(e, "directory uid range %u-%u is not inside host.conf's "
		    "%u-%u", umin, umax, c->uid_min, c->uid_max);
		goto out;
	}
	if (local_load(c->p.passwd, c->p.group, &l, e) != 0)
		goto out;
	if ((b = pgl_cache_builder_new(c->host, umin, umax)) == NULL) {
		herr(e, "cannot build a cache for host %s", c->host);
		goto out;
	}
	if (directory_add(d, b, l, now + c->max_stale, NULL, &skipped, e) != 0 ||
	    pgl_cache_builder_set_local(b, c->p.passwd, c->p.group) != 0)
		goto out;
	if (mkparents(c->p.cache, 0755) != 0) {
		herr(e, "%s: cannot create its directory", c->p.cache);
		goto out;
	}
	if (lock_take(c->p.cache_lock, CACHE_LOCK_WAIT_MS, &lock, e) != 0)
		goto out;
	/* The resolver may have written since we mapped: compare the
	 * sudo grants with what is there now. */
	pgl_cache_unmap(&old);
	have_old = pgl_cache_map(&old, c->p.cache, PGL_CACHE_USERS) == 0;
	if (pgl_cache_builder_write(b, c->p.cache, c->p.shadow) != 0) {
		herr(e, "directory refused, cache unchanged: %s",
		    pgl_cache_builder_error(b));
		goto out;
	}
	ss->fetched_ns = fetched;
	if (sync_state_write(c->p.sync_state, ss, e) != 0)
		goto out;
	lock_release(lock);
	lock = -1;
	if (write_user_ca(c->p.user_ca, d->user_ca, d->nuser_ca, &changed,
	    e) != 0)
		goto out;
	if (pgl_cache_map(&new, c->p.cache, PGL_CACHE_USERS) != 0) {
		herr(e, "%s: cannot read back the new cache", c->p.cache);
		goto out;
	}
	if (sudoers_prune(c->p.sudoers_d, have_old ? &old : NULL, &new,
	    &removed, e) != 0)
		goto out;
	if (resp.etag[0] != '\0') {
		if (state_write(c->p.etag, resp.etag, 0644, e) != 0)
			goto out;
	} else
		(void)unlink(c->p.etag);
	printf("directory: %zu users, %zu groups%s; %zu sudoers drop-ins "
	    "removed%s\n", d->nusers, d->ngroups, changed ?
	    ", user CA keys updated" : "", removed, skipped > 0 ?
	    " (entries colliding with local accounts left out)" : "");
	if (skipped > 0)
		host_log("sync: %zu directory entries collide with local "
		    "accounts and were left out", skipped);
	r = 0;
 out:
	lock_release(lock);
	pgl_cache_unmap(&old);
	pgl_cache_unmap(&new);
	pgl_cache_builder_free(b);
	local_free(l);
	directory_free(d);
	http_resp_free(&resp);
	return r;
}

static int
sync_krl(struct host_config *c, struct host_err *e)
{
	struct http_resp resp = { 0 };
	struct http_req rq;
	char etag[HTTP_ETAG_MAX] = "";
	int r = -1, changed = 0;

	if (access(c->p.krl, F_OK) != 0 ||
	    state_read_line(c->p.krl_etag, etag, sizeof(etag)) != 0)
		etag[0] = '\0';
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = "/v1/krl";
	rq.if_none_match = etag[0] != '\0' ? etag : NULL;
	rq.timeout_ms = (long)c->timeout * 1000;
	rq.max = KRL_MAX;
	if (http_request(c, &rq, &resp, e) != 0)
		goto out;
	if (resp.status == 304 && etag[0] != '\0') {
		printf("krl: unchanged (304)\n");
		r = 0;
		goto out;
	}
	if (resp.status != 200) {
		http_error(&resp, "GET /v1/krl", e);
		goto out;
	}
	/* sshd refuses every key if RevokedKeys is unreadable: never
	 * install something that is not a KRL. */
	if (!krl_valid(pgl_buf_ptr(resp.body), pgl_buf_len(resp.body))) {
		herr(e, "GET /v1/krl: not an OpenSSH KRL; kept the old one");
		goto out;
	}
	if (write_if_changed(c->p.krl, pgl_buf_ptr(resp.body),
	    pgl_buf_len(resp.body), 0644, &changed, e) != 0)
		goto out;
	if (resp.etag[0] != '\0')
		(void)state_write(c->p.krl_etag, resp.etag, 0644, NULL);
	printf("krl: %s\n", changed ? "updated" : "unchanged");
	r = 0;
 out:
	http_resp_free(&resp);
	return r;
}

/* sshd loads its host certificate at start and on SIGHUP. */
static void
reload_sshd(const struct host_config *c)
{
	char line[32], comm[64], path[64];
	long pid;
	char *end;

	if (state_read_line(c->p.sshd_pid, line, sizeof(line)) != 0)
		return;
	errno = 0;
	pid = strtol(line, &end, 10);
	if (errno != 0 || *end != '\0' || pid <= 1)
		return;
	/* Only a live sshd: a stale pid file may name anything. */
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (state_read_line(path, comm, sizeof(comm)) != 0 ||
	    strcmp(comm, "sshd") != 0)
		return;
	if (kill((pid_t)pid, SIGHUP) == 0)
		printf("host certificate: sshd (pid %ld) reloaded\n", pid);
}

static int
read_host_cas(const struct host_config *c, struct pgl_key **cas, size_t *n)
{
	struct pgl_buf *b = NULL;
	const char *p, *nl, *end;
	struct pgl_key *k;

	*n = 0;
	if (pgl_file_read(c->p.host_ca, 256 * 1024, &b) != 0)
		return 0;
	p = (const char *)pgl_buf_ptr(b);
	end = p + pgl_buf_len(b);
	for (; p != NULL && p < end && *n < 16; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (pgl_key_parse_public_line(p, (size_t)(nl - p), &k, NULL) == 0)
			cas[(*n)++] = k;
	}
	pgl_buf_free(b);
	return 0;
}

static int
sync_cert(struct host_config *c, const char *cred, struct host_err *e)
{
	struct pgl_buf *kb = NULL, *cb = NULL;
	struct pgl_key *key = NULL, *cas[16] = { NULL };
	struct http_resp resp = { 0 };
	struct http_req rq;
	struct certinfo ci;
	struct host_err ce = { "" };
	json_object *body = NULL, *o = NULL, *v;
	json_tokener *tok = NULL;
	uint64_t now = (uint64_t)time(NULL);
	const char *line;
	char *key_line = NULL, *text = NULL;
	size_t ncas = 0, i;
	int r = -1, due = 1;

	if ((r = pgl_file_read(c->p.host_key, 64 * 1024, &kb)) != 0 ||
	    (r = pgl_key_parse_public_line((const char *)pgl_buf_ptr(kb),
	    pgl_buf_len(kb), &key, NULL)) != 0 ||
	    (r = pgl_key_format_public_line(key, NULL, &key_line)) != 0) {
		herr(e, "%s: %s", c->p.host_key, pgl_strerror(r));
		r = -1;
		goto out;
	}
	r = -1;
	read_host_cas(c, cas, &ncas);
	if (pgl_file_read(c->p.host_cert, 64 * 1024, &cb) == 0 &&
	    certinfo_parse((const char *)pgl_buf_ptr(cb), pgl_buf_len(cb), key,
	    NULL, 0, &ci, &ce) == 0)
		due = certinfo_renewal_due(&ci, now);
	if (!due) {
		printf("host certificate: valid until %llu, renewal in %llu s\n",
		    (unsigned long long)ci.valid_before, (unsigned long long)
		    (ci.valid_before - (ci.valid_before - ci.valid_after) / 3 -
		    now));
		r = 0;
		goto out;
	}
	if ((body = json_object_new_object()) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	json_object_object_add(body, "host_key", json_object_new_string(key_line));
	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/v1/certs/host";
	rq.bearer = cred;
	rq.body = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	rq.timeout_ms = (long)c->timeout * 1000;
	rq.max = 1024 * 1024;
	if (http_request(c, &rq, &resp, e) != 0)
		goto out;
	if (resp.status != 200) {
		http_error(&resp, "POST /v1/certs/host", e);
		goto out;
	}
	if ((tok = json_tokener_new_ex(3)) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	o = json_tokener_parse_ex(tok, (const char *)pgl_buf_ptr(resp.body),
	    (int)pgl_buf_len(resp.body));
	if (o == NULL || !json_object_object_get_ex(o, "host_certificate", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (line = json_object_get_string(v)) == NULL ||
	    pgl_has_ctrl(line) ||
	    (size_t)json_object_get_string_len(v) != strlen(line)) {
		herr(e, "POST /v1/certs/host: no host_certificate in the answer");
		goto out;
	}
	if (certinfo_parse(line, strlen(line), key, cas, ncas, &ci, &ce) != 0 ||
	    ci.type != CERT_TYPE_HOST) {
		herr(e, "renewed host certificate refused: %s", ce.msg[0] ?
		    ce.msg : "not a host certificate");
		goto out;
	}
	if (asprintf(&text, "%s\n", line) < 0) {
		text = NULL;
		herr(e, "out of memory");
		goto out;
	}
	if (write_if_changed(c->p.host_cert, text, strlen(text), 0644, NULL,
	    e) != 0)
		goto out;
	printf("host certificate: renewed, serial %llu, valid until %llu\n",
	    (unsigned long long)ci.serial, (unsigned long long)ci.valid_before);
	reload_sshd(c);
	r = 0;
 out:
	for (i = 0; i < ncas; i++)
		pgl_key_free(cas[i]);
	json_object_put(o);
	json_object_put(body);
	if (tok != NULL)
		json_tokener_free(tok);
	http_resp_free(&resp);
	pgl_key_free(key);
	pgl_buf_free(kb);
	pgl_buf_free(cb);
	free(key_line);
	free(text);
	return r;
}

int
cmd_sync(struct host_config *c, int argc, char **argv)
{
	struct host_err e = { "" }, ed = { "" }, ek = { "" }, ec = { "" };
	struct sync_state ss;
	char *cred = NULL;
	int i, force = 0, lock = -1, rd, rk, rc, rc_ = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else {
			fprintf(stderr, "%s sync: unknown option '%s'\n",
			    HOST_PROG, argv[i]);
			return 2;
		}
	}
	if (hconf_load(c, 1, &e) != 0)
		goto out;
	if (mkparents(c->p.sync_lock, 0755) != 0) {
		herr(&e, "%s: cannot create: %s", c->p.statedir, strerror(errno));
		goto out;
	}
	/* A second sync waits for the first, briefly, then gives up. */
	if (lock_take(c->p.sync_lock, SYNC_LOCK_WAIT_MS, &lock, &e) != 0) {
		herr(&e, "another pgl-host sync is running (%s)", c->p.sync_lock);
		goto out;
	}
	if (credential_read(c, &cred, &e) != 0)
		goto out;
	(void)sync_state_read(c->p.sync_state, &ss);
	ss.attempt = (int64_t)time(NULL);
	rd = sync_directory(c, cred, force, &ss, &ed);
	rk = sync_krl(c, &ek);
	rc = sync_cert(c, cred, &ec);
	if (rd != 0)
		fprintf(stderr, "%s sync: directory: %s (kept the last good "
		    "cache)\n", HOST_PROG, ed.msg);
	if (rk != 0)
		fprintf(stderr, "%s sync: krl: %s\n", HOST_PROG, ek.msg);
	if (rc != 0)
		fprintf(stderr, "%s sync: host certificate: %s\n", HOST_PROG,
		    ec.msg);
	if (rd == 0 && rk == 0 && rc == 0) {
		ss.success = ss.attempt;
		snprintf(ss.result, sizeof(ss.result), "ok");
		rc_ = 0;
	} else
		snprintf(ss.result, sizeof(ss.result), "error: %.480s",
		    rd != 0 ? ed.msg : rk != 0 ? ek.msg : ec.msg);
	if (sync_state_write(c->p.sync_state, &ss, &e) != 0) {
		rc_ = 1;
		goto out;
	}
	e.msg[0] = '\0';
 out:
	if (e.msg[0] != '\0')
		fprintf(stderr, "%s sync: %s\n", HOST_PROG, e.msg);
	credential_free(cred);
	lock_release(lock);
	return rc_;
}
