/* The cache's on-disk layout, shared by its reader and writer only.
 * Integers are little-endian; see docs/cache.md. */
#ifndef PGL_CACHE_FORMAT_H
#define PGL_CACHE_FORMAT_H

#include <stdint.h>
#include <string.h>

#define CF_MAGIC_USERS  "PGLCACHE"
#define CF_MAGIC_SHADOW "PGLSHADW"
#define CF_MAGIC_LEN    8

/* Header fields, by offset. */
#define CF_H_VERSION        8
#define CF_H_HEADER_SIZE    12
#define CF_H_FILE_SIZE      16      /* u64 */
#define CF_H_GENERATED      24      /* u64 */
#define CF_H_UID_MIN        32
#define CF_H_UID_MAX        36
#define CF_H_HOST           40      /* str */
#define CF_H_USERS          48      /* span of records */
#define CF_H_USERS_BY_NAME  56      /* span of slots */
#define CF_H_USERS_BY_UID   64
#define CF_H_GROUPS         72
#define CF_H_GROUPS_BY_NAME 80
#define CF_H_GROUPS_BY_GID  88
#define CF_HEADER_SIZE      128     /* the rest is zero */

/* A str is {u32 off, u32 len}; a span {u32 off, u32 n}. */
#define CF_REF_SIZE 8

/* User record. */
#define CF_U_UID        0
#define CF_U_GID        4
#define CF_U_EXPIRE     8           /* u64 */
#define CF_U_NAME       16
#define CF_U_GECOS      24
#define CF_U_HOME       32
#define CF_U_SHELL      40
#define CF_U_PRINCIPALS 48          /* span of str */
#define CF_U_GIDS       56          /* span of u32 */
#define CF_U_SUDO       64          /* u32 enum pgl_cache_sudo */
#define CF_U_SUDO_CMDS  72          /* span of str */
#define CF_USER_SIZE    80

/* Group record. */
#define CF_G_GID        0
#define CF_G_NAME       8
#define CF_G_MEMBERS    16          /* span of str */
#define CF_GROUP_SIZE   24

/* Shadow record (in the users table of a shadow file). */
#define CF_S_NAME       0
#define CF_S_PASSWD     8
#define CF_S_LASTCHG    16          /* six i64 */
#define CF_SHADOW_SIZE  64

/* An index is a power-of-two array of u32 slots holding record number
 * + 1 (0: empty), probed linearly from hash & (n - 1). */
#define CF_SLOT_SIZE 4

static inline uint32_t
cf_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
cf_get64(const uint8_t *p)
{
	return (uint64_t)cf_get32(p) | (uint64_t)cf_get32(p + 4) << 32;
}

static inline void
cf_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
cf_put64(uint8_t *p, uint64_t v)
{
	cf_put32(p, (uint32_t)v);
	cf_put32(p + 4, (uint32_t)(v >> 32));
}

/* FNV-1a: names are short and the index is built by a trusted writer. */
static inline uint32_t
cf_hash_name(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (uint8_t)s[i];
		h *= 16777619u;
	}
	return h;
}

static inline uint32_t
cf_hash_id(uint32_t id)
{
	/* Fibonacci hashing spreads consecutive ids across the table. */
	return id * 2654435769u;
}

#endif
