/* Who is a managed user, and is that user still allowed here?  Shared by
 * the account and session entry points.  Reads the cache and /etc/passwd
 * itself and asks NSS only to confirm; does not log. */
#ifndef PAM_PGL_USER_H
#define PAM_PGL_USER_H

#include <stddef.h>

#include "cache.h"

enum pam_pgl_verdict {
	PAM_PGL_UNMANAGED = 0,  /* not ours: a local or other account */
	PAM_PGL_ALLOWED,        /* a managed user, currently allowed */
	PAM_PGL_DENIED,         /* a managed user no longer allowed */
	PAM_PGL_UNKNOWN,        /* no such user anywhere */
};

struct pam_pgl_user {
	enum pam_pgl_verdict verdict;
	const char *why;        /* a short reason, static */
	/* PAM_PGL_ALLOWED: the entry, pointing into the mapping below. */
	struct pgl_cache cache;
	struct pgl_cache_user entry;
};

/* Decides about name.  0 with pu->verdict and pu->why set, or a negative
 * PGL_E_* when the cache exists but cannot be trusted or /etc/passwd
 * cannot be read (pu->why says which); then nothing can be decided about
 * a name that is not local. */
int pam_pgl_user_check(const char *name, struct pam_pgl_user *pu);
/* Unmaps; accepts a zeroed or released pu. */
void pam_pgl_user_release(struct pam_pgl_user *pu);

#endif
