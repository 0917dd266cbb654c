/* Reading the user cache: map, check, look up.  Runs inside every process
 * that resolves a user, so it trusts nothing in the file: each offset and
 * length is checked against the mapping, each probe loop is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "cache-format.h"
#include "err.h"

/* True if [off, off + n * size) lies inside the mapping. */
static int
in_bounds(const struct pgl_cache *c, uint64_t off, uint64_t n, uint64_t size)
{
	/* n and size are at most 2^32, so n * size cannot overflow. */
	return off <= c->size && n * size <= c->size - off;
}

static int
get_str(const struct pgl_cache *c, const uint8_t *ref, struct pgl_cache_str *out)
{
	uint32_t off = cf_get32(ref), len = cf_get32(ref + 4);
	const char *p;

	/* The string and its terminating NUL lie inside the mapping. */
	if (!in_bounds(c, off, (uint64_t)len + 1, 1))
		return PGL_E_FORMAT;
	p = (const char *)c->base + off;
	if (p[len] != '\0' || memchr(p, '\0', len) != NULL)
		return PGL_E_FORMAT;
	out->p = p;
	out->len = len;
	return 0;
}

static int
get_span(const struct pgl_cache *c, const uint8_t *ref, uint64_t size,
    struct pgl_cache_span *out)
{
	uint32_t off = cf_get32(ref), n = cf_get32(ref + 4);

	if (!in_bounds(c, off, n, size))
		return PGL_E_FORMAT;
	out->off = off;
	out->n = n;
	return 0;
}

static int
check_index(const struct pgl_cache *c, const uint8_t *ref, uint32_t nrecords,
    struct pgl_cache_span *out)
{
	int r;

	if ((r = get_span(c, ref, CF_SLOT_SIZE, out)) != 0)
		return r;
	/* None (lookups then miss), or a power of two with room for at
	 * least one empty slot. */
	if (out->n != 0 && ((out->n & (out->n - 1)) != 0 ||
	    out->n <= nrecords))
		return PGL_E_FORMAT;
	return 0;
}

static int
parse_header(struct pgl_cache *c, enum pgl_cache_kind kind)
{
	const uint8_t *h = c->base;
	uint32_t rec_user = kind == PGL_CACHE_SHADOW ?
	    CF_SHADOW_SIZE : CF_USER_SIZE;
	int r;

	if (c->size < CF_HEADER_SIZE)
		return PGL_E_FORMAT;
	if (memcmp(h, kind == PGL_CACHE_SHADOW ? CF_MAGIC_SHADOW :
	    CF_MAGIC_USERS, CF_MAGIC_LEN) != 0)
		return PGL_E_FORMAT;
	if (cf_get32(h + CF_H_VERSION) != PGL_CACHE_VERSION ||
	    cf_get32(h + CF_H_HEADER_SIZE) != CF_HEADER_SIZE ||
	    cf_get64(h + CF_H_FILE_SIZE) != c->size)
		return PGL_E_FORMAT;
	c->kind = kind;
	c->generated = cf_get64(h + CF_H_GENERATED);
	c->uid_min = cf_get32(h + CF_H_UID_MIN);
	c->uid_max = cf_get32(h + CF_H_UID_MAX);
	if (c->uid_min > c->uid_max)
		return PGL_E_FORMAT;
	if ((r = get_str(c, h + CF_H_HOST, &c->host)) != 0 ||
	    (r = get_span(c, h + CF_H_USERS, rec_user, &c->users)) != 0 ||
	    (r = check_index(c, h + CF_H_USERS_BY_NAME, c->users.n,
	    &c->users_by_name)) != 0 ||
	    (r = check_index(c, h + CF_H_USERS_BY_UID, c->users.n,
	    &c->users_by_uid)) != 0 ||
	    (r = get_span(c, h + CF_H_GROUPS, CF_GROUP_SIZE, &c->groups)) != 0 ||
	    (r = check_index(c, h + CF_H_GROUPS_BY_NAME, c->groups.n,
	    &c->groups_by_name)) != 0 ||
	    (r = check_index(c, h + CF_H_GROUPS_BY_GID, c->groups.n,
	    &c->groups_by_gid)) != 0)
		return r;
	/* A shadow file holds no groups and is looked up by name only. */
	if (kind == PGL_CACHE_SHADOW && (c->groups.n != 0 ||
	    c->users_by_uid.n != 0))
		return PGL_E_FORMAT;
	return 0;
}

int
pgl_cache_from_memory(struct pgl_cache *c, const void *p, size_t n,
    enum pgl_cache_kind kind)
{
	struct pgl_cache t;
	int r;

	if (c == NULL || (p == NULL && n != 0))
		return PGL_E_INVALID_ARG;
	memset(&t, 0, sizeof(t));
	t.base = p;
	t.size = n;
	if ((r = parse_header(&t, kind)) != 0)
		return r;
	*c = t;
	return 0;
}

static int
same_file(const struct pgl_cache *c, const struct stat *st)
{
	return c->base != NULL && c->dev == st->st_dev &&
	    c->ino == st->st_ino && c->size == (size_t)st->st_size &&
	    c->mtime_ns == (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
}

/* trusted: the file must also be root's and writable by nobody else,
 * and path itself no symbolic link. */
static int
cache_map(struct pgl_cache *c, const char *path, enum pgl_cache_kind kind,
    int trusted)
{
	struct pgl_cache t;
	struct stat st;
	void *m = MAP_FAILED;
	int fd, r;

	if (c == NULL || path == NULL)
		return PGL_E_INVALID_ARG;
	/* O_NONBLOCK: a FIFO put there must not hang the caller. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (trusted ? O_NOFOLLOW : 0))) < 0)
		return errno == ENOENT ? PGL_E_NOT_FOUND : PGL_E_SYSTEM;
	if (fstat(fd, &st) != 0) {
		r = PGL_E_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = PGL_E_NOT_REGULAR;
		goto out;
	}
	if (trusted && (st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)) {
		r = PGL_E_NOT_ALLOWED;
		goto out;
	}
	/* The format's offsets are 32-bit; a larger file is not a cache. */
	if (st.st_size < CF_HEADER_SIZE || st.st_size > (off_t)UINT32_MAX) {
		r = PGL_E_FORMAT;
		goto out;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		r = PGL_E_SYSTEM;
		goto out;
	}
	if ((r = pgl_cache_from_memory(&t, m, (size_t)st.st_size, kind)) != 0)
		goto out;
	t.mapped = 1;
	t.dev = st.st_dev;
	t.ino = st.st_ino;
	t.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec;
	pgl_cache_unmap(c);
	*c = t;
	m = MAP_FAILED;
	r = 0;
 out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	close(fd);
	return r;
}

int
pgl_cache_map(struct pgl_cache *c, const char *path, enum pgl_cache_kind kind)
{
	return cache_map(c, path, kind, 0);
}

int
pgl_cache_map_trusted(struct pgl_cache *c, const char *path,
    enum pgl_cache_kind kind)
{
	return cache_map(c, path, kind, 1);
}

void
pgl_cache_unmap(struct pgl_cache *c)
{
	if (c == NULL)
		return;
	if (c->mapped)
		munmap((void *)(uintptr_t)c->base, c->size);
	memset(c, 0, sizeof(*c));
}

int
pgl_cache_refresh(struct pgl_cache *c, const char *path,
    enum pgl_cache_kind kind)
{
	struct stat st;
	int r;

	if (c == NULL || path == NULL)
		return PGL_E_INVALID_ARG;
	if (stat(path, &st) != 0) {
		r = errno == ENOENT ? PGL_E_NOT_FOUND : PGL_E_SYSTEM;
		pgl_cache_unmap(c);
		return r;
	}
	if (same_file(c, &st) && c->kind == kind)
		return 0;
	if ((r = pgl_cache_map(c, path, kind)) != 0)
		pgl_cache_unmap(c);
	return r;
}

/* --- records --- */

static const uint8_t *
record(const struct pgl_cache *c, struct pgl_cache_span table, uint32_t size,
    uint32_t i)
{
	return c->base + table.off + (size_t)i * size;
}

static int
decode_user(const struct pgl_cache *c, uint32_t i, struct pgl_cache_user *out)
{
	const uint8_t *p;
	struct pgl_cache_user u;
	uint32_t sudo;
	int r;

	if (c->base == NULL || c->kind != PGL_CACHE_USERS || i >= c->users.n)
		return PGL_E_NOT_FOUND;
	p = record(c, c->users, CF_USER_SIZE, i);
	u.uid = cf_get32(p + CF_U_UID);
	u.gid = cf_get32(p + CF_U_GID);
	u.expire = cf_get64(p + CF_U_EXPIRE);
	sudo = cf_get32(p + CF_U_SUDO);
	if (sudo > PGL_CACHE_SUDO_COMMANDS)
		return PGL_E_FORMAT;
	u.sudo = (enum pgl_cache_sudo)sudo;
	if ((r = get_str(c, p + CF_U_NAME, &u.name)) != 0 ||
	    (r = get_str(c, p + CF_U_GECOS, &u.gecos)) != 0 ||
	    (r = get_str(c, p + CF_U_HOME, &u.home)) != 0 ||
	    (r = get_str(c, p + CF_U_SHELL, &u.shell)) != 0 ||
	    (r = get_span(c, p + CF_U_PRINCIPALS, CF_REF_SIZE,
	    &u.principals)) != 0 ||
	    (r = get_span(c, p + CF_U_GIDS, 4, &u.gids)) != 0 ||
	    (r = get_span(c, p + CF_U_SUDO_CMDS, CF_REF_SIZE,
	    &u.sudo_commands)) != 0)
		return r;
	*out = u;
	return 0;
}

static int
decode_group(const struct pgl_cache *c, uint32_t i, struct pgl_cache_group *out)
{
	const uint8_t *p;
	struct pgl_cache_group g;
	int r;

	if (c->base == NULL || c->kind != PGL_CACHE_USERS || i >= c->groups.n)
		return PGL_E_NOT_FOUND;
	p = record(c, c->groups, CF_GROUP_SIZE, i);
	g.gid = cf_get32(p + CF_G_GID);
	if ((r = get_str(c, p + CF_G_NAME, &g.name)) != 0 ||
	    (r = get_span(c, p + CF_G_MEMBERS, CF_REF_SIZE, &g.members)) != 0)
		return r;
	*out = g;
	return 0;
}

static int64_t
get_i64(const uint8_t *p)
{
	return (int64_t)cf_get64(p);
}

static int
decode_shadow(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_shadow *out)
{
	const uint8_t *p;
	struct pgl_cache_shadow s;
	int r;

	if (c->base == NULL || c->kind != PGL_CACHE_SHADOW || i >= c->users.n)
		return PGL_E_NOT_FOUND;
	p = record(c, c->users, CF_SHADOW_SIZE, i);
	if ((r = get_str(c, p + CF_S_NAME, &s.name)) != 0 ||
	    (r = get_str(c, p + CF_S_PASSWD, &s.passwd)) != 0)
		return r;
	s.lastchg = get_i64(p + CF_S_LASTCHG);
	s.min = get_i64(p + CF_S_LASTCHG + 8);
	s.max = get_i64(p + CF_S_LASTCHG + 16);
	s.warn = get_i64(p + CF_S_LASTCHG + 24);
	s.inact = get_i64(p + CF_S_LASTCHG + 32);
	s.expire = get_i64(p + CF_S_LASTCHG + 40);
	*out = s;
	return 0;
}

/* --- indexes --- */

/* The name at a record's name field equals key (of length n)?  Only the
 * name is decoded while probing; a corrupt one simply does not match. */
static int
name_matches(const struct pgl_cache *c, const uint8_t *ref, const char *key,
    size_t n)
{
	struct pgl_cache_str s;

	return get_str(c, ref, &s) == 0 && s.len == n &&
	    memcmp(s.p, key, n) == 0;
}

/* Probes index for a record whose key matches; *rec is its number.  At
 * most idx.n slots are read, whatever the file holds. */
static int
probe_name(const struct pgl_cache *c, struct pgl_cache_span idx,
    struct pgl_cache_span table, uint32_t recsize, uint32_t name_field,
    const char *key, uint32_t *rec)
{
	size_t n;
	uint32_t h, k, slot;

	if (c->base == NULL || key == NULL || idx.n == 0)
		return PGL_E_NOT_FOUND;
	n = strlen(key);
	h = cf_hash_name(key, n);
	for (k = 0; k < idx.n; k++) {
		slot = cf_get32(c->base + idx.off +
		    (size_t)((h + k) & (idx.n - 1)) * CF_SLOT_SIZE);
		if (slot == 0)
			return PGL_E_NOT_FOUND;
		if (slot > table.n)
			return PGL_E_FORMAT;
		if (name_matches(c, record(c, table, recsize, slot - 1) +
		    name_field, key, n)) {
			*rec = slot - 1;
			return 0;
		}
	}
	return PGL_E_NOT_FOUND;
}

static int
probe_id(const struct pgl_cache *c, struct pgl_cache_span idx,
    struct pgl_cache_span table, uint32_t recsize, uint32_t id_field,
    uint32_t id, uint32_t *rec)
{
	uint32_t h, k, slot;

	if (c->base == NULL || idx.n == 0)
		return PGL_E_NOT_FOUND;
	h = cf_hash_id(id);
	for (k = 0; k < idx.n; k++) {
		slot = cf_get32(c->base + idx.off +
		    (size_t)((h + k) & (idx.n - 1)) * CF_SLOT_SIZE);
		if (slot == 0)
			return PGL_E_NOT_FOUND;
		if (slot > table.n)
			return PGL_E_FORMAT;
		if (cf_get32(record(c, table, recsize, slot - 1) +
		    id_field) == id) {
			*rec = slot - 1;
			return 0;
		}
	}
	return PGL_E_NOT_FOUND;
}

int
pgl_cache_user_by_name(const struct pgl_cache *c, const char *name,
    struct pgl_cache_user *out)
{
	uint32_t i;
	int r;

	if (c == NULL || out == NULL || c->kind != PGL_CACHE_USERS)
		return PGL_E_NOT_FOUND;
	if ((r = probe_name(c, c->users_by_name, c->users, CF_USER_SIZE,
	    CF_U_NAME, name, &i)) != 0)
		return r;
	return decode_user(c, i, out);
}

int
pgl_cache_user_by_uid(const struct pgl_cache *c, uint32_t uid,
    struct pgl_cache_user *out)
{
	uint32_t i;
	int r;

	if (c == NULL || out == NULL || c->kind != PGL_CACHE_USERS)
		return PGL_E_NOT_FOUND;
	if ((r = probe_id(c, c->users_by_uid, c->users, CF_USER_SIZE,
	    CF_U_UID, uid, &i)) != 0)
		return r;
	return decode_user(c, i, out);
}

int
pgl_cache_user_at(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_user *out)
{
	if (c == NULL || out == NULL)
		return PGL_E_NOT_FOUND;
	return decode_user(c, i, out);
}

int
pgl_cache_group_by_name(const struct pgl_cache *c, const char *name,
    struct pgl_cache_group *out)
{
	uint32_t i;
	int r;

	if (c == NULL || out == NULL || c->kind != PGL_CACHE_USERS)
		return PGL_E_NOT_FOUND;
	if ((r = probe_name(c, c->groups_by_name, c->groups, CF_GROUP_SIZE,
	    CF_G_NAME, name, &i)) != 0)
		return r;
	return decode_group(c, i, out);
}

int
pgl_cache_group_by_gid(const struct pgl_cache *c, uint32_t gid,
    struct pgl_cache_group *out)
{
	uint32_t i;
	int r;

	if (c == NULL || out == NULL || c->kind != PGL_CACHE_USERS)
		return PGL_E_NOT_FOUND;
	if ((r = probe_id(c, c->groups_by_gid, c->groups, CF_GROUP_SIZE,
	    CF_G_GID, gid, &i)) != 0)
		return r;
	return decode_group(c, i, out);
}

int
pgl_cache_group_at(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_group *out)
{
	if (c == NULL || out == NULL)
		return PGL_E_NOT_FOUND;
	return decode_group(c, i, out);
}

int
pgl_cache_shadow_by_name(const struct pgl_cache *c, const char *name,
    struct pgl_cache_shadow *out)
{
	uint32_t i;
	int r;

	if (c == NULL || out == NULL || c->kind != PGL_CACHE_SHADOW)
		return PGL_E_NOT_FOUND;
	if ((r = probe_name(c, c->users_by_name, c->users, CF_SHADOW_SIZE,
	    CF_S_NAME, name, &i)) != 0)
		return r;
	return decode_shadow(c, i, out);
}

int
pgl_cache_shadow_at(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_shadow *out)
{
	if (c == NULL || out == NULL)
		return PGL_E_NOT_FOUND;
	return decode_shadow(c, i, out);
}

int
pgl_cache_str_at(const struct pgl_cache *c, struct pgl_cache_span s,
    uint32_t i, struct pgl_cache_str *out)
{
	/* s came from a decoded record, so the span itself is in bounds. */
	if (c == NULL || out == NULL || c->base == NULL || i >= s.n ||
	    !in_bounds(c, s.off, s.n, CF_REF_SIZE))
		return PGL_E_FORMAT;
	return get_str(c, c->base + s.off + (size_t)i * CF_REF_SIZE, out);
}

int
pgl_cache_u32_at(const struct pgl_cache *c, struct pgl_cache_span s,
    uint32_t i, uint32_t *out)
{
	if (c == NULL || out == NULL || c->base == NULL || i >= s.n ||
	    !in_bounds(c, s.off, s.n, 4))
		return PGL_E_FORMAT;
	*out = cf_get32(c->base + s.off + (size_t)i * 4);
	return 0;
}

int
pgl_cache_user_expired(const struct pgl_cache_user *u, uint64_t now)
{
	return u->expire != 0 && u->expire <= now;
}
