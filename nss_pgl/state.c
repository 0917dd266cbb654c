/* The module's shared state: the lookup mapping and its lock, the rules
 * every answer passes, and packing into the caller's buffer. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "pgl-config.h"
#include "err.h"
#include "name.h"
#include "internal.h"

static pthread_mutex_t lookup_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pgl_cache lookup;

struct nss_pgl_ent nss_pgl_pwent = NSS_PGL_ENT_INIT;
struct nss_pgl_ent nss_pgl_grent = NSS_PGL_ENT_INIT;
struct nss_pgl_ent nss_pgl_spent = NSS_PGL_ENT_INIT;

/* fork() in a threaded program while another thread holds a lock would
 * leave it held forever in the child, which often looks a user up
 * (initgroups) before exec.  No lock is held across a wait (the resolver
 * is asked unlocked), so taking them all around fork() is short. */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&nss_pgl_pwent.lock);
	pthread_mutex_lock(&nss_pgl_grent.lock);
	pthread_mutex_lock(&nss_pgl_spent.lock);
	pthread_mutex_lock(&lookup_lock);
}

static void
fork_done(void)
{
	pthread_mutex_unlock(&lookup_lock);
	pthread_mutex_unlock(&nss_pgl_spent.lock);
	pthread_mutex_unlock(&nss_pgl_grent.lock);
	pthread_mutex_unlock(&nss_pgl_pwent.lock);
}

__attribute__((constructor))
static void
init(void)
{
	pthread_atfork(fork_prepare, fork_done, fork_done);
}

void
nss_pgl_lock(void)
{
	pthread_mutex_lock(&lookup_lock);
}

void
nss_pgl_unlock(void)
{
	pthread_mutex_unlock(&lookup_lock);
}

enum nss_status
nss_pgl_status(int r, int *errnop)
{
	switch (r) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case PGL_E_NOT_FOUND:
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	case PGL_E_SYSTEM:
		/* errno of the failed call: EACCES for shadow as a user. */
		*errnop = errno != 0 ? errno : EIO;
		return NSS_STATUS_UNAVAIL;
	default:
		/* Corrupt or not a cache: nothing to answer from. */
		*errnop = EIO;
		return NSS_STATUS_UNAVAIL;
	}
}

enum nss_status
nss_pgl_erange(int *errnop)
{
	*errnop = ERANGE;
	return NSS_STATUS_TRYAGAIN;
}

/* A missing file is UNAVAIL like a missing /etc/passwd in nss_files, not
 * NOTFOUND: the database is not there to say no. */
static enum nss_status
map_status(int r, int *errnop)
{
	if (r == PGL_E_NOT_FOUND) {
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
	return nss_pgl_status(r, errnop);
}

/* One stat() costs about 1 us on a VM, more than the lookup itself.  The
 * file is checked again only once the coarse clock (a vDSO read, one
 * tick = 1-4 ms) has moved, and always after the resolver answered: a
 * process already holding the map sees a replaced cache one tick late at
 * most.  Authorization never depends on it: principals and pam_pgl read
 * the cache afresh. */
static struct timespec checked;

static int
same_tick(void)
{
	struct timespec now;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0)
		return 0;
	if (lookup.base != NULL && now.tv_sec == checked.tv_sec &&
	    now.tv_nsec == checked.tv_nsec)
		return 1;
	checked = now;
	return 0;
}

void
nss_pgl_cache_recheck(void)
{
	nss_pgl_lock();
	memset(&checked, 0, sizeof(checked));
	nss_pgl_unlock();
}

enum nss_status
nss_pgl_cache(const struct pgl_cache **c, int *errnop)
{
	int r;

	if (!same_tick() && (r = pgl_cache_refresh(&lookup, PGL_CACHE_PATH,
	    PGL_CACHE_USERS)) != 0)
		return map_status(r, errnop);
	*c = &lookup;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
nss_pgl_ent_open(struct nss_pgl_ent *e, enum pgl_cache_kind kind, int *errnop)
{
	int r;

	nss_pgl_ent_close(e);
	if ((r = pgl_cache_map(&e->c, kind == PGL_CACHE_SHADOW ?
	    PGL_SHADOW_PATH : PGL_CACHE_PATH, kind)) != 0 ||
	    (kind == PGL_CACHE_SHADOW && (r = pgl_cache_map(&e->users,
	    PGL_CACHE_PATH, PGL_CACHE_USERS)) != 0)) {
		enum nss_status st = map_status(r, errnop);

		nss_pgl_ent_close(e);
		return st;
	}
	return NSS_STATUS_SUCCESS;
}

enum nss_status
nss_pgl_ent_set(struct nss_pgl_ent *e, enum pgl_cache_kind kind)
{
	enum nss_status st;
	int err;

	pthread_mutex_lock(&e->lock);
	st = nss_pgl_ent_open(e, kind, &err);
	pthread_mutex_unlock(&e->lock);
	return st;
}

enum nss_status
nss_pgl_ent_end(struct nss_pgl_ent *e)
{
	pthread_mutex_lock(&e->lock);
	nss_pgl_ent_close(e);
	pthread_mutex_unlock(&e->lock);
	return NSS_STATUS_SUCCESS;
}

void
nss_pgl_ent_close(struct nss_pgl_ent *e)
{
	pgl_cache_unmap(&e->c);
	pgl_cache_unmap(&e->users);
	e->next = 0;
}

uint64_t
nss_pgl_now(void)
{
	time_t t = time(NULL);

	return t < 0 ? 0 : (uint64_t)t;
}

static int
in_range(const struct pgl_cache *c, uint32_t id)
{
	return id >= c->uid_min && id <= c->uid_max;
}

/* The writer enforces all of this; a bad file must still not hand out
 * root's uid or a name that is not one pgl would make. */
int
nss_pgl_user_ok(const struct pgl_cache *c, const struct pgl_cache_user *u,
    uint64_t now)
{
	return in_range(c, u->uid) && in_range(c, u->gid) &&
	    pgl_username_valid(u->name.p) && !pgl_cache_user_expired(u, now);
}

int
nss_pgl_name_ok(const struct pgl_cache *c, const char *name, uint64_t now)
{
	struct pgl_cache_user u;

	return pgl_cache_user_by_name(c, name, &u) == 0 &&
	    nss_pgl_user_ok(c, &u, now);
}

/* A user's self-group goes with the user when the entry expires. */
int
nss_pgl_group_ok(const struct pgl_cache *c, const struct pgl_cache_group *g,
    uint64_t now)
{
	struct pgl_cache_user u;

	if (!in_range(c, g->gid) || !pgl_username_valid(g->name.p))
		return 0;
	if (pgl_cache_user_by_uid(c, g->gid, &u) == 0 &&
	    !nss_pgl_user_ok(c, &u, now))
		return 0;
	return 1;
}

char *
nss_pgl_buf_str(struct nss_pgl_buf *b, const struct pgl_cache_str *s)
{
	char *p = b->p;

	if (s->len >= b->left)
		return NULL;
	memcpy(p, s->p, s->len);
	p[s->len] = '\0';
	b->p += (size_t)s->len + 1;
	b->left -= (size_t)s->len + 1;
	return p;
}

/* An array of n pointers, aligned wherever the caller's buffer starts. */
char **
nss_pgl_buf_ptrs(struct nss_pgl_buf *b, size_t n)
{
	size_t pad = (size_t)(-(uintptr_t)b->p) & (_Alignof(char *) - 1);
	char **v;

	if (pad > b->left || n > (b->left - pad) / sizeof(char *))
		return NULL;
	v = (char **)(void *)(b->p + pad);
	b->p += pad + n * sizeof(char *);
	b->left -= pad + n * sizeof(char *);
	return v;
}
