/* shadow: getspnam_r and enumeration, from the root-only shadow cache.
 * An entry is answered only for a user the users cache answers too. */
#include <errno.h>
#include <limits.h>
#include <shadow.h>

#include "pgl-config.h"
#include "err.h"
#include "internal.h"

enum nss_status _nss_pgl_getspnam_r(const char *, struct spwd *, char *,
    size_t, int *);
enum nss_status _nss_pgl_setspent(int);
enum nss_status _nss_pgl_getspent_r(struct spwd *, char *, size_t, int *);
enum nss_status _nss_pgl_endspent(void);

/* -1 is "unset" in the file and in struct spwd alike. */
static long int
field(int64_t v)
{
	return v < LONG_MIN || v > LONG_MAX ? -1 : (long int)v;
}

static enum nss_status
fill_shadow(const struct pgl_cache_shadow *s, struct spwd *sp, char *buf,
    size_t len, int *errnop)
{
	struct nss_pgl_buf b = { buf, len };
	struct spwd t;

	if ((t.sp_namp = nss_pgl_buf_str(&b, &s->name)) == NULL ||
	    (t.sp_pwdp = nss_pgl_buf_str(&b, &s->passwd)) == NULL)
		return nss_pgl_erange(errnop);
	t.sp_lstchg = field(s->lastchg);
	t.sp_min = field(s->min);
	t.sp_max = field(s->max);
	t.sp_warn = field(s->warn);
	t.sp_inact = field(s->inact);
	t.sp_expire = field(s->expire);
	t.sp_flag = ~0ul;
	*sp = t;
	return NSS_STATUS_SUCCESS;
}

/* The shadow file is mapped for this call only: its mode is checked at
 * every open, as nss_files does, so a process that has dropped root
 * since an earlier lookup cannot read it through an old mapping. */
enum nss_status
_nss_pgl_getspnam_r(const char *name, struct spwd *sp, char *buf,
    size_t len, int *errnop)
{
	struct pgl_cache sc = { 0 };
	const struct pgl_cache *c;
	struct pgl_cache_shadow s;
	enum nss_status st;
	int r;

	if (name == NULL) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	nss_pgl_lock();
	if ((st = nss_pgl_cache(&c, errnop)) != NSS_STATUS_SUCCESS)
		goto out;
	if (!nss_pgl_name_ok(c, name, nss_pgl_now())) {
		st = nss_pgl_status(PGL_E_NOT_FOUND, errnop);
		goto out;
	}
	if ((r = pgl_cache_map(&sc, PGL_SHADOW_PATH, PGL_CACHE_SHADOW)) != 0) {
		st = nss_pgl_status(r, errnop);
		/* No shadow file: no password hashes on this host. */
		if (r == PGL_E_NOT_FOUND)
			st = NSS_STATUS_UNAVAIL;
		goto out;
	}
	if ((r = pgl_cache_shadow_by_name(&sc, name, &s)) != 0) {
		st = nss_pgl_status(r, errnop);
		goto out;
	}
	st = fill_shadow(&s, sp, buf, len, errnop);
 out:
	pgl_cache_unmap(&sc);
	nss_pgl_unlock();
	return st;
}

enum nss_status
_nss_pgl_setspent(int stayopen)
{
	return nss_pgl_ent_set(&nss_pgl_spent, PGL_CACHE_SHADOW);
}

enum nss_status
_nss_pgl_getspent_r(struct spwd *sp, char *buf, size_t len, int *errnop)
{
	struct nss_pgl_ent *e = &nss_pgl_spent;
	struct pgl_cache_shadow s;
	enum nss_status st = NSS_STATUS_SUCCESS;
	uint64_t now = nss_pgl_now();

	pthread_mutex_lock(&e->lock);
	if (e->c.base == NULL &&
	    (st = nss_pgl_ent_open(e, PGL_CACHE_SHADOW, errnop)) !=
	    NSS_STATUS_SUCCESS)
		goto out;
	for (; e->next < e->c.users.n; e->next++) {
		if (pgl_cache_shadow_at(&e->c, e->next, &s) != 0 ||
		    !nss_pgl_name_ok(&e->users, s.name.p, now))
			continue;
		if ((st = fill_shadow(&s, sp, buf, len, errnop)) ==
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
_nss_pgl_endspent(void)
{
	return nss_pgl_ent_end(&nss_pgl_spent);
}
