/* account: deny a managed user who is no longer allowed here; leave
 * every other user to the rest of the stack (PAM_IGNORE). */
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "entry.h"
#include "err.h"
#include "user.h"

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_pgl_args a;
	struct pam_pgl_user pu;
	const char *user;
	char safe[128];
	int r;

	if ((r = pam_pgl_start(pamh, argc, argv, &a, &user)) != PAM_SUCCESS)
		return r;
	pam_pgl_safe(user, safe, sizeof(safe));
	if ((r = pam_pgl_user_check(user, &pu)) != 0) {
		/* The cache is there but cannot be trusted: a name that is
		 * not local might be one of ours, so it is not let through. */
		pam_syslog(pamh, LOG_ERR, "account of %s refused: %s (%s)",
		    safe, pu.why, pgl_strerror(r));
		return PAM_AUTHINFO_UNAVAIL;
	}
	switch (pu.verdict) {
	case PAM_PGL_ALLOWED:
		if (a.debug)
			pam_syslog(pamh, LOG_DEBUG, "account of %s: managed, "
			    "allowed", safe);
		r = PAM_SUCCESS;
		break;
	case PAM_PGL_DENIED:
		pam_syslog(pamh, LOG_NOTICE, "account of %s refused: %s",
		    safe, pu.why);
		r = PAM_PERM_DENIED;
		break;
	case PAM_PGL_UNKNOWN:
		if (a.debug)
			pam_syslog(pamh, LOG_DEBUG, "account of %s: %s", safe,
			    pu.why);
		r = PAM_USER_UNKNOWN;
		break;
	default:
		if (a.debug)
			pam_syslog(pamh, LOG_DEBUG, "account of %s: not "
			    "managed (%s)", safe, pu.why);
		r = PAM_IGNORE;
		break;
	}
	pam_pgl_user_release(&pu);
	return r;
}
