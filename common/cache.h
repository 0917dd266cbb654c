/* The host's user cache: one indexed, read-only file of users and groups
 * (world-readable), and one of shadow entries (root-only).  pgl-host
 * writes them whole and renames them into place; the NSS module and
 * principals map them and look entries up by hashed index.  Every offset
 * and length read from a file is checked against the mapping before use,
 * so a corrupt or hostile file can only make a lookup fail.
 * libc only.  The on-disk layout is described in docs/cache.md. */
#ifndef PGL_CACHE_H
#define PGL_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PGL_CACHE_VERSION 1

enum pgl_cache_kind {
	PGL_CACHE_USERS = 1,            /* users and groups */
	PGL_CACHE_SHADOW = 2,           /* shadow entries */
};

enum pgl_cache_sudo {
	PGL_CACHE_SUDO_NONE = 0,
	PGL_CACHE_SUDO_ALL = 1,
	PGL_CACHE_SUDO_COMMANDS = 2,
};

/* A string in the mapping: NUL-terminated at p[len], no NUL before. */
struct pgl_cache_str {
	const char *p;
	uint32_t len;
};

/* A window into the mapping: [off, off + n * size) lies inside it. */
struct pgl_cache_span {
	uint32_t off;
	uint32_t n;
};

/* A mapped cache file.  All zero is "not mapped"; views handed out stay
 * valid until pgl_cache_unmap() or a pgl_cache_refresh() that remaps. */
struct pgl_cache {
	const uint8_t *base;
	size_t size;
	int mapped;                     /* base is our mmap() */
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns;
	enum pgl_cache_kind kind;
	uint64_t generated;
	uint32_t uid_min;
	uint32_t uid_max;
	struct pgl_cache_str host;
	struct pgl_cache_span users;            /* records */
	struct pgl_cache_span users_by_name;    /* index slots */
	struct pgl_cache_span users_by_uid;
	struct pgl_cache_span groups;
	struct pgl_cache_span groups_by_name;
	struct pgl_cache_span groups_by_gid;
};

struct pgl_cache_user {
	uint32_t uid;
	uint32_t gid;
	uint64_t expire;                /* unix seconds; 0: never */
	struct pgl_cache_str name;
	struct pgl_cache_str gecos;
	struct pgl_cache_str home;
	struct pgl_cache_str shell;
	enum pgl_cache_sudo sudo;
	struct pgl_cache_span principals;       /* of strings */
	struct pgl_cache_span gids;             /* of uint32 */
	struct pgl_cache_span sudo_commands;    /* of strings */
};

struct pgl_cache_group {
	uint32_t gid;
	struct pgl_cache_str name;
	struct pgl_cache_span members;          /* of strings */
};

struct pgl_cache_shadow {
	struct pgl_cache_str name;
	struct pgl_cache_str passwd;
	int64_t lastchg, min, max, warn, inact, expire;  /* -1: unset */
};

/* Maps path and checks its header and tables.  PGL_E_NOT_FOUND if it does
 * not exist, PGL_E_FORMAT if it is not a valid cache of that kind.  c is
 * assigned only on success. */
int pgl_cache_map(struct pgl_cache *c, const char *path,
    enum pgl_cache_kind kind);
/* The same for what decides who logs in (principals, PAM): also
 * PGL_E_NOT_ALLOWED unless the file is root's and writable by nobody
 * else, and the path no symbolic link. */
int pgl_cache_map_trusted(struct pgl_cache *c, const char *path,
    enum pgl_cache_kind kind);
/* Unmaps; accepts an unmapped cache. */
void pgl_cache_unmap(struct pgl_cache *c);
/* Remaps if path now names another file (rename replaced it) or none was
 * mapped; otherwise costs one stat().  On error c is unmapped. */
int pgl_cache_refresh(struct pgl_cache *c, const char *path,
    enum pgl_cache_kind kind);
/* The same checks on a file already in memory (tests, fuzzing). */
int pgl_cache_from_memory(struct pgl_cache *c, const void *p, size_t n,
    enum pgl_cache_kind kind);

/* Lookups: 0, PGL_E_NOT_FOUND, or PGL_E_FORMAT for a corrupt entry. */
int pgl_cache_user_by_name(const struct pgl_cache *c, const char *name,
    struct pgl_cache_user *out);
int pgl_cache_user_by_uid(const struct pgl_cache *c, uint32_t uid,
    struct pgl_cache_user *out);
int pgl_cache_user_at(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_user *out);
int pgl_cache_group_by_name(const struct pgl_cache *c, const char *name,
    struct pgl_cache_group *out);
int pgl_cache_group_by_gid(const struct pgl_cache *c, uint32_t gid,
    struct pgl_cache_group *out);
int pgl_cache_group_at(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_group *out);
int pgl_cache_shadow_by_name(const struct pgl_cache *c, const char *name,
    struct pgl_cache_shadow *out);
int pgl_cache_shadow_at(const struct pgl_cache *c, uint32_t i,
    struct pgl_cache_shadow *out);

/* Element i of a span of strings (principals, members, sudo commands) or
 * of gids, checked like every other string. */
int pgl_cache_str_at(const struct pgl_cache *c, struct pgl_cache_span s,
    uint32_t i, struct pgl_cache_str *out);
int pgl_cache_u32_at(const struct pgl_cache *c, struct pgl_cache_span s,
    uint32_t i, uint32_t *out);

/* True if the entry has an expiry and it lies at or before now. */
int pgl_cache_user_expired(const struct pgl_cache_user *u, uint64_t now);

/* --- writing (pgl-host) --- */

struct pgl_cache_builder;

struct pgl_cache_user_in {
	const char *name;
	uint32_t uid;                   /* also the self-group's gid */
	const char *gecos;              /* NULL: "" */
	const char *home;               /* absolute */
	const char *shell;              /* absolute */
	uint64_t expire;                /* 0: never */
	const char *const *principals;
	size_t nprincipals;
	const char *const *groups;      /* supplementary, by group name */
	size_t ngroups;
	enum pgl_cache_sudo sudo;
	const char *const *sudo_commands;       /* absolute paths */
	size_t nsudo_commands;
	const char *passwd;             /* shadow hash; NULL: "*" (none) */
};

struct pgl_cache_group_in {
	const char *name;
	uint32_t gid;
	const char *const *members;     /* user names in this cache */
	size_t nmembers;
};

/* A new builder for host (the resource name principals are bound to),
 * accepting uids and gids in [uid_min, uid_max]. */
struct pgl_cache_builder *pgl_cache_builder_new(const char *host,
    uint32_t uid_min, uint32_t uid_max);
void pgl_cache_builder_free(struct pgl_cache_builder *b);
/* Copies and checks one entry on its own (syntax, range). */
int pgl_cache_builder_add_user(struct pgl_cache_builder *b,
    const struct pgl_cache_user_in *u);
int pgl_cache_builder_add_group(struct pgl_cache_builder *b,
    const struct pgl_cache_group_in *g);
/* Local account databases the entries must not collide with, by name or
 * id (default /etc/passwd and /etc/group; NULL skips one). */
int pgl_cache_builder_set_local(struct pgl_cache_builder *b,
    const char *passwd_path, const char *group_path);
/* Checks the set as a whole (unique names and ids, each user's groups
 * exist, no local collision), then writes the shadow file (0600) and the
 * cache (0644) atomically.  On any error neither file is touched and
 * pgl_cache_builder_error() says which entry and why. */
int pgl_cache_builder_write(struct pgl_cache_builder *b,
    const char *cache_path, const char *shadow_path);
/* The same checks and encoding, into memory (tests, benchmarks). */
int pgl_cache_builder_encode(struct pgl_cache_builder *b,
    enum pgl_cache_kind kind, uint8_t **out, size_t *outlen);
const char *pgl_cache_builder_error(const struct pgl_cache_builder *b);

#endif
