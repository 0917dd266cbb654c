/* group: getgrnam_r, getgrgid_r and enumeration. */
#include <errno.h>
#include <grp.h>

#include "err.h"
#include "internal.h"

enum nss_status _nss_pgl_getgrnam_r(const char *, struct group *, char *,
    size_t, int *);
enum nss_status _nss_pgl_getgrgid_r(gid_t, struct group *, char *, size_t,
    int *);
enum nss_status _nss_pgl_setgrent(int);
enum nss_status _nss_pgl_getgrent_r(struct group *, char *, size_t, int *);
enum nss_status _nss_pgl_endgrent(void);

static const struct pgl_cache_str gr_x = { "x", 1 };

/* The member pointers first (aligned), then the strings.  Members are
 * listed as the cache holds them: checking each one's entry would make a
 * group of n members cost n user lookups, and a member whose own entry
 * is expired or out of range resolves to nothing anyway. */
static enum nss_status
fill_group(const struct pgl_cache *c, const struct pgl_cache_group *g,
    struct group *gr, char *buf, size_t len, int *errnop)
{
	struct nss_pgl_buf b = { buf, len };
	struct pgl_cache_str s;
	struct group t;
	uint32_t i;
	int r;

	if ((t.gr_mem = nss_pgl_buf_ptrs(&b, (size_t)g->members.n + 1)) ==
	    NULL)
		return nss_pgl_erange(errnop);
	for (i = 0; i < g->members.n; i++) {
		if ((r = pgl_cache_str_at(c, g->members, i, &s)) != 0)
			return nss_pgl_status(r, errnop);
		if ((t.gr_mem[i] = nss_pgl_buf_str(&b, &s)) == NULL)
			return nss_pgl_erange(errnop);
	}
	t.gr_mem[g->members.n] = NULL;
	if ((t.gr_name = nss_pgl_buf_str(&b, &g->name)) == NULL ||
	    (t.gr_passwd = nss_pgl_buf_str(&b, &gr_x)) == NULL)
		return nss_pgl_erange(errnop);
	t.gr_gid = g->gid;
	*gr = t;
	return NSS_STATUS_SUCCESS;
}

static enum nss_status
lookup_group(const char *name, gid_t gid, struct group *gr, char *buf,
    size_t len, int *errnop)
{
	const struct pgl_cache *c;
	struct pgl_cache_group g;
	enum nss_status st;
	uint64_t now = nss_pgl_now();
	int r;

	nss_pgl_lock();
	if ((st = nss_pgl_cache(&c, errnop)) != NSS_STATUS_SUCCESS)
		goto out;
	r = name != NULL ? pgl_cache_group_by_name(c, name, &g) :
	    pgl_cache_group_by_gid(c, (uint32_t)gid, &g);
	if (r == 0 && !nss_pgl_group_ok(c, &g, now))
		r = PGL_E_NOT_FOUND;
	if (r != 0) {
		st = nss_pgl_status(r, errnop);
		goto out;
	}
	st = fill_group(c, &g, gr, buf, len, errnop);
 out:
	nss_pgl_unlock();
	return st;
}

/* Group misses never ask the resolver: it fetches users, and a user's
 * groups arrive with the user. */
enum nss_status
_nss_pgl_getgrnam_r(const char *name, struct group *gr, char *buf,
    size_t len, int *errnop)
{
	if (name == NULL) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return lookup_group(name, 0, gr, buf, len, errnop);
}

enum nss_status
_nss_pgl_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
    int *errnop)
{
	return lookup_group(NULL, gid, gr, buf, len, errnop);
}

enum nss_status
_nss_pgl_setgrent(int stayopen)
{
	return nss_pgl_ent_set(&nss_pgl_grent, PGL_CACHE_USERS);
}

enum nss_status
_nss_pgl_getgrent_r(struct group *gr, char *buf, size_t len, int *errnop)
{
	struct nss_pgl_ent *e = &nss_pgl_grent;
	struct pgl_cache_group g;
	enum nss_status st = NSS_STATUS_SUCCESS;
	uint64_t now = nss_pgl_now();

	pthread_mutex_lock(&e->lock);
	if (e->c.base == NULL &&
	    (st = nss_pgl_ent_open(e, PGL_CACHE_USERS, errnop)) !=
	    NSS_STATUS_SUCCESS)
		goto out;
	for (; e->next < e->c.groups.n; e->next++) {
		if (pgl_cache_group_at(&e->c, e->next, &g) != 0 ||
		    !nss_pgl_group_ok(&e->c, &g, now))
			continue;
		st = fill_group(&e->c, &g, gr, buf, len, errnop);
		/* A corrupt member list skips the group; ERANGE retries it. */
		if (st == NSS_STATUS_UNAVAIL)
			continue;
		if (st == NSS_STATUS_SUCCESS)
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
_nss_pgl_endgrent(void)
{
	return nss_pgl_ent_end(&nss_pgl_grent);
}
