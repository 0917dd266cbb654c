/* passwd: getpwnam_r, getpwuid_r, enumeration, and initgroups_dyn (it
 * starts from the user's entry). */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "internal.h"

enum nss_status _nss_pgl_getpwnam_r(const char *, struct passwd *, char *,
    size_t, int *);
enum nss_status _nss_pgl_getpwuid_r(uid_t, struct passwd *, char *, size_t,
    int *);
enum nss_status _nss_pgl_setpwent(int);
enum nss_status _nss_pgl_getpwent_r(struct passwd *, char *, size_t, int *);
enum nss_status _nss_pgl_endpwent(void);
enum nss_status _nss_pgl_initgroups_dyn(const char *, gid_t, long int *,
    long int *, gid_t **, long int, int *);

static const struct pgl_cache_str pw_x = { "x", 1 };

static enum nss_status
fill_passwd(const struct pgl_cache_user *u, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	struct nss_pgl_buf b = { buf, len };
	struct passwd t;

	if ((t.pw_name = nss_pgl_buf_str(&b, &u->name)) == NULL ||
	    (t.pw_passwd = nss_pgl_buf_str(&b, &pw_x)) == NULL ||
	    (t.pw_gecos = nss_pgl_buf_str(&b, &u->gecos)) == NULL ||
	    (t.pw_dir = nss_pgl_buf_str(&b, &u->home)) == NULL ||
	    (t.pw_shell = nss_pgl_buf_str(&b, &u->shell)) == NULL)
		return nss_pgl_erange(errnop);
	t.pw_uid = u->uid;
	t.pw_gid = u->gid;
	*pw = t;
	return NSS_STATUS_SUCCESS;
}

/* One lookup by name (name != NULL) or uid, under the lookup lock. */
static enum nss_status
lookup_user(const char *name, uid_t uid, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	const struct pgl_cache *c;
	struct pgl_cache_user u;
	enum nss_status st;
	int r;

	nss_pgl_lock();
	if ((st = nss_pgl_cache(&c, errnop)) != NSS_STATUS_SUCCESS)
		goto out;
	r = name != NULL ? pgl_cache_user_by_name(c, name, &u) :
	    pgl_cache_user_by_uid(c, (uint32_t)uid, &u);
	if (r == 0 && !nss_pgl_user_ok(c, &u, nss_pgl_now()))
		r = PGL_E_NOT_FOUND;
	if (r != 0) {
		st = nss_pgl_status(r, errnop);
		goto out;
	}
	st = fill_passwd(&u, pw, buf, len, errnop);
 out:
	nss_pgl_unlock();
	return st;
}

enum nss_status
_nss_pgl_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t len, int *errnop)
{
	enum nss_status st;

	if (name == NULL) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	st = lookup_user(name, 0, pw, buf, len, errnop);
	/* A miss (or no cache yet) for a valid name: the resolver may
	 * fetch it; then the cache is read again.  Never on ERANGE. */
	if ((st == NSS_STATUS_NOTFOUND || st == NSS_STATUS_UNAVAIL) &&
	    nss_pgl_ask(name) == 0) {
		nss_pgl_cache_recheck();
		st = lookup_user(name, 0, pw, buf, len, errnop);
	}
	return st;
}

/* A uid miss never asks: ls -l and ps look up uids by the thousand. */
enum nss_status
_nss_pgl_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
    int *errnop)
{
	return lookup_user(NULL, uid, pw, buf, len, errnop);
}

enum nss_status
_nss_pgl_setpwent(int stayopen)
{
	return nss_pgl_ent_set(&nss_pgl_pwent, PGL_CACHE_USERS);
}

enum nss_status
_nss_pgl_getpwent_r(struct passwd *pw, char *buf, size_t len, int *errnop)
{
	struct nss_pgl_ent *e = &nss_pgl_pwent;
	struct pgl_cache_user u;
	enum nss_status st = NSS_STATUS_SUCCESS;
	uint64_t now = nss_pgl_now();

	pthread_mutex_lock(&e->lock);
	/* Like nss_files: getXXent without setXXent starts one. */
	if (e->c.base == NULL &&
	    (st = nss_pgl_ent_open(e, PGL_CACHE_USERS, errnop)) !=
	    NSS_STATUS_SUCCESS)
		goto out;
	for (; e->next < e->c.users.n; e->next++) {
		if (pgl_cache_user_at(&e->c, e->next, &u) != 0 ||
		    !nss_pgl_user_ok(&e->c, &u, now))
			continue;
		/* On ERANGE the same entry comes again with a larger buffer. */
		if ((st = fill_passwd(&u, pw, buf, len, errnop)) ==
		    NSS_STATUS_SUCCESS)
			e->next++;
		goto out;
	}
	*errnop = ENOENT;
	st = NSS_STATUS_NOTFOUND;
 out:
	pthread_mutex_unlock(&e->lock);
	return st;
}

enum nss_status
_nss_pgl_endpwent(void)
{
	return nss_pgl_ent_end(&nss_pgl_pwent);
}

/* Room for one more gid: doubles the array, never past limit (> 0).
 * 1 when the limit is reached. */
static int
grow(long int *size, gid_t **groupsp, long int limit)
{
	long int n;
	gid_t *t;

	if (limit > 0 && *size >= limit)
		return 1;
	n = *size < 8 ? 8 : *size > LONG_MAX / 2 ? LONG_MAX : 2 * *size;
	if (limit > 0 && n > limit)
		n = limit;
	if ((unsigned long)n > SIZE_MAX / sizeof(gid_t))
		return PGL_E_NOMEM;
	if ((t = realloc(*groupsp, (size_t)n * sizeof(gid_t))) == NULL)
		return PGL_E_NOMEM;
	*groupsp = t;
	*size = n;
	return 0;
}

static int
has_gid(const gid_t *v, long int n, gid_t gid)
{
	long int i;

	for (i = 0; i < n; i++)
		if (v[i] == gid)
			return 1;
	return 0;
}

/* A supplementary gid worth adding: a group of this cache that is
 * answered on its own too. */
static int
gid_ok(const struct pgl_cache *c, uint32_t gid, uint64_t now)
{
	struct pgl_cache_group g;

	return pgl_cache_group_by_gid(c, gid, &g) == 0 &&
	    nss_pgl_group_ok(c, &g, now);
}

enum nss_status
_nss_pgl_initgroups_dyn(const char *user, gid_t group, long int *start,
    long int *size, gid_t **groupsp, long int limit, int *errnop)
{
	const struct pgl_cache *c;
	struct pgl_cache_user u;
	enum nss_status st;
	uint64_t now = nss_pgl_now();
	uint32_t i, gid;
	int any = 0, r;

	nss_pgl_lock();
	if ((st = nss_pgl_cache(&c, errnop)) != NSS_STATUS_SUCCESS)
		goto out;
	if ((r = pgl_cache_user_by_name(c, user, &u)) == 0 &&
	    !nss_pgl_user_ok(c, &u, now))
		r = PGL_E_NOT_FOUND;
	/* Only for pgl's own user: a local account of the same name wins
	 * in files, has another primary gid, and gets none of these.
	 * (gid_t)-1 is no gid at all: getent initgroups asks with it. */
	if (r == 0 && group != (gid_t)-1 && u.gid != (uint32_t)group)
		r = PGL_E_NOT_FOUND;
	if (r != 0) {
		st = nss_pgl_status(r, errnop);
		goto out;
	}
	for (i = 0; i < u.gids.n; i++) {
		if (pgl_cache_u32_at(c, u.gids, i, &gid) != 0 ||
		    gid == (uint32_t)group || !gid_ok(c, gid, now) ||
		    has_gid(*groupsp, *start, (gid_t)gid))
			continue;
		if (*start >= *size && (r = grow(size, groupsp, limit)) != 0) {
			if (r == 1)
				break;
			*errnop = ENOMEM;
			st = NSS_STATUS_TRYAGAIN;
			goto out;
		}
		(*groupsp)[(*start)++] = (gid_t)gid;
		any = 1;
	}
	/* Like nss_files: NOTFOUND when nothing was added. */
	if (!any) {
		*errnop = ENOENT;
		st = NSS_STATUS_NOTFOUND;
	}
 out:
	nss_pgl_unlock();
	return st;
}
