/* The managed-user decision (docs/pam.md):
 *
 * - a name pgl never makes, a name in /etc/passwd, or any name while
 *   there is no cache: not ours;
 * - an entry in the cache: allowed if it has not expired, its uid and gid
 *   lie in the cache's range, no local account has that uid, and NSS resolves the
 *   name to that same uid; denied otherwise;
 * - no entry, but NSS resolves the name to a uid in the cache's range:
 *   a managed user who was removed, denied;
 * - no entry and NSS does not know the name: unknown;
 * - anything else (e.g. a directory user outside the range): not ours. */
#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgl-config.h"
#include "err.h"
#include "name.h"
#include "user.h"

#define PASSWD_PATH "/etc/passwd"
#define PW_BUF_MAX (1024 * 1024)

/* Scans /etc/passwd itself (getpwnam() could be answered by pgl's own
 * NSS module) for name, and for uid when check_uid.  "+name" and "-name"
 * (compat entries) count as that name. */
static int
local_account(const char *name, int check_uid, uint32_t uid, int *by_name,
    int *by_uid)
{
	char *line = NULL, *colon, *nm, *f, *end;
	size_t cap = 0;
	ssize_t n;
	unsigned long v;
	FILE *fp;

	*by_name = *by_uid = 0;
	if ((fp = fopen(PASSWD_PATH, "re")) == NULL)
		return PGL_E_SYSTEM;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			colon = line + n;
		*colon = '\0';
		nm = line[0] == '+' || line[0] == '-' ? line + 1 : line;
		if (strcmp(nm, name) == 0)
			*by_name = 1;
		/* The third field, uid, after the password field. */
		f = colon < line + n ? strchr(colon + 1, ':') : NULL;
		if (f != NULL)
			f++;
		if (check_uid && f != NULL && *f >= '0' && *f <= '9') {
			errno = 0;
			v = strtoul(f, &end, 10);
			if (errno == 0 && (*end == ':' || *end == '\0') &&
			    v == uid)
				*by_uid = 1;
		}
	}
	free(line);
	if (ferror(fp)) {
		fclose(fp);
		return PGL_E_SYSTEM;
	}
	fclose(fp);
	return 0;
}

/* getpwnam_r with a growing buffer: 0 and *uid, PGL_E_NOT_FOUND, or
 * PGL_E_SYSTEM when NSS failed (not the same as "no such user"). */
static int
nss_uid(const char *name, uint32_t *uid)
{
	struct passwd pw, *res = NULL;
	size_t len = 4096;
	char *buf = NULL, *nb;
	int e, r;

	for (;;) {
		if ((nb = realloc(buf, len)) == NULL) {
			r = PGL_E_NOMEM;
			goto out;
		}
		buf = nb;
		e = getpwnam_r(name, &pw, buf, len, &res);
		if (e != ERANGE || len >= PW_BUF_MAX)
			break;
		len *= 2;
	}
	if (res != NULL) {
		*uid = (uint32_t)res->pw_uid;
		r = 0;
	} else if (e == 0 || e == ENOENT || e == ESRCH)
		r = PGL_E_NOT_FOUND;
	else {
		errno = e;
		r = PGL_E_SYSTEM;
	}
 out:
	free(buf);
	return r;
}

static void
verdict(struct pam_pgl_user *pu, enum pam_pgl_verdict v, const char *why)
{
	pu->verdict = v;
	pu->why = why;
}

int
pam_pgl_user_check(const char *name, struct pam_pgl_user *pu)
{
	struct pgl_cache_user e;
	uint32_t uid = 0;
	int r, in_cache, by_name, by_uid;

	memset(pu, 0, sizeof(*pu));
	if (name == NULL || !pgl_username_valid(name)) {
		verdict(pu, PAM_PGL_UNMANAGED, "not a name pgl makes");
		return 0;
	}
	/* Root's and writable by nobody else: whoever can write the cache
	 * decides who logs in. */
	if ((r = pgl_cache_map_trusted(&pu->cache, PGL_CACHE_PATH,
	    PGL_CACHE_USERS)) != 0) {
		if (r == PGL_E_NOT_FOUND) {
			verdict(pu, PAM_PGL_UNMANAGED, "no cache");
			return 0;
		}
		/* A local account is still not ours. */
		if (local_account(name, 0, 0, &by_name, &by_uid) == 0 &&
		    by_name) {
			verdict(pu, PAM_PGL_UNMANAGED, "a local account");
			return 0;
		}
		pu->why = r == PGL_E_NOT_ALLOWED ? "the cache is not owned "
		    "by root or is writable by group or others" :
		    "the cache cannot be read";
		return r;
	}
	r = pgl_cache_user_by_name(&pu->cache, name, &e);
	if (r != 0 && r != PGL_E_NOT_FOUND) {
		pu->why = "the cache entry is corrupt";
		goto fail;
	}
	in_cache = r == 0;
	if ((r = local_account(name, in_cache, in_cache ? e.uid : 0,
	    &by_name, &by_uid)) != 0) {
		pu->why = "cannot read " PASSWD_PATH;
		goto fail;
	}
	if (by_name) {
		verdict(pu, PAM_PGL_UNMANAGED, "a local account");
		return 0;
	}
	if (in_cache) {
		if (e.uid == 0 || e.uid < pu->cache.uid_min ||
		    e.uid > pu->cache.uid_max || e.gid == 0 ||
		    e.gid < pu->cache.uid_min || e.gid > pu->cache.uid_max)
			verdict(pu, PAM_PGL_DENIED,
			    "its uid or gid lies outside the cache's range");
		else if (pgl_cache_user_expired(&e, (uint64_t)time(NULL)))
			verdict(pu, PAM_PGL_DENIED, "its entry has expired");
		else if (by_uid)
			verdict(pu, PAM_PGL_DENIED,
			    "its uid belongs to a local account");
		else if ((r = nss_uid(name, &uid)) != 0 &&
		    r != PGL_E_NOT_FOUND) {
			pu->why = "the NSS lookup failed";
			goto fail;
		} else if (r == PGL_E_NOT_FOUND)
			verdict(pu, PAM_PGL_DENIED, "NSS does not resolve it "
			    "(is pgl in nsswitch.conf?)");
		else if (uid != e.uid)
			verdict(pu, PAM_PGL_DENIED,
			    "NSS resolves it to another uid");
		else {
			verdict(pu, PAM_PGL_ALLOWED, "allowed");
			pu->entry = e;
		}
		return 0;
	}
	if ((r = nss_uid(name, &uid)) == PGL_E_NOT_FOUND)
		verdict(pu, PAM_PGL_UNKNOWN, "no such user");
	else if (r != 0) {
		pu->why = "the NSS lookup failed";
		goto fail;
	} else if (uid != 0 && uid >= pu->cache.uid_min &&
	    uid <= pu->cache.uid_max)
		verdict(pu, PAM_PGL_DENIED,
		    "not in the cache: no longer allowed on this host");
	else
		verdict(pu, PAM_PGL_UNMANAGED, "outside the managed range");
	return 0;
 fail:
	pam_pgl_user_release(pu);
	return r;
}

void
pam_pgl_user_release(struct pam_pgl_user *pu)
{
	const char *why;

	if (pu == NULL)
		return;
	why = pu->why;
	pgl_cache_unmap(&pu->cache);
	memset(pu, 0, sizeof(*pu));
	pu->why = why;
}
