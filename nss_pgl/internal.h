/* Shared by the parts of libnss_pgl.so.2.  Nothing here is exported: the
 * version script keeps only the _nss_pgl_* entry points. */
#ifndef NSS_PGL_INTERNAL_H
#define NSS_PGL_INTERNAL_H

#include <nss.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"

/* The lookup mapping, shared by all getXXnam/getXXid calls of the
 * process.  nss_pgl_cache() is called under nss_pgl_lock() and refreshes
 * it first once per clock tick (one stat; a remap when pgl-host renamed
 * a new file in); nss_pgl_cache_recheck() makes the next call check. */
void nss_pgl_lock(void);
void nss_pgl_unlock(void);
enum nss_status nss_pgl_cache(const struct pgl_cache **c, int *errnop);
void nss_pgl_cache_recheck(void);

/* An enumeration (setXXent .. endXXent): its own lock and mappings, held
 * until endXXent so a cache replaced meanwhile does not tear it.  users
 * is mapped too for shadow, whose entries are checked against it. */
struct nss_pgl_ent {
	pthread_mutex_t lock;
	struct pgl_cache c;
	struct pgl_cache users;
	uint32_t next;
};
#define NSS_PGL_ENT_INIT { PTHREAD_MUTEX_INITIALIZER, { 0 }, { 0 }, 0 }

/* The three enumerations, one per database. */
extern struct nss_pgl_ent nss_pgl_pwent, nss_pgl_grent, nss_pgl_spent;

/* Under e->lock: (re)maps and rewinds. */
enum nss_status nss_pgl_ent_open(struct nss_pgl_ent *e,
    enum pgl_cache_kind kind, int *errnop);
void nss_pgl_ent_close(struct nss_pgl_ent *e);
/* setXXent and endXXent: open or close under the enumeration's lock. */
enum nss_status nss_pgl_ent_set(struct nss_pgl_ent *e,
    enum pgl_cache_kind kind);
enum nss_status nss_pgl_ent_end(struct nss_pgl_ent *e);

/* The rules an entry must pass to be answered at all. */
int nss_pgl_user_ok(const struct pgl_cache *c, const struct pgl_cache_user *u,
    uint64_t now);
/* name is a user of c that passes nss_pgl_user_ok(). */
int nss_pgl_name_ok(const struct pgl_cache *c, const char *name,
    uint64_t now);
int nss_pgl_group_ok(const struct pgl_cache *c,
    const struct pgl_cache_group *g, uint64_t now);
uint64_t nss_pgl_now(void);

/* The status and errno for a pgl error code from a lookup or a map. */
enum nss_status nss_pgl_status(int r, int *errnop);
/* The caller's buffer is too small: glibc retries with a larger one. */
enum nss_status nss_pgl_erange(int *errnop);

/* Packing into the caller's buffer; NULL when it is full. */
struct nss_pgl_buf {
	char *p;
	size_t left;
};
char *nss_pgl_buf_str(struct nss_pgl_buf *b, const struct pgl_cache_str *s);
char **nss_pgl_buf_ptrs(struct nss_pgl_buf *b, size_t n);

/* Asks the resolver about a missed name (docs/resolver.md).  0 if a
 * request was sent, so the cache is worth reading again. */
int nss_pgl_ask(const char *name);

#endif
