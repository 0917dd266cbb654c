/* session: for a managed, allowed user, the home directory and the sudo
 * grant, and one log line naming the certificate the session came with.
 * Runs as root before sshd drops privileges.  A home or sudo grant that
 * cannot be made fails the session: a login must not go on with a grant
 * other than the one the cache says (docs/pam.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "authinfo.h"
#include "entry.h"
#include "err.h"
#include "home.h"
#include "sudoers.h"
#include "user.h"

/* The grant's commands, pointing into the cache mapping. */
static int
sudo_commands(const struct pam_pgl_user *pu, const char **cmds, size_t *n)
{
	struct pgl_cache_str s;
	uint32_t i;
	int r;

	*n = 0;
	if (pu->entry.sudo != PGL_CACHE_SUDO_COMMANDS)
		return 0;
	if (pu->entry.sudo_commands.n > PAM_PGL_SUDO_COMMANDS_MAX)
		return PGL_E_TOO_LARGE;
	for (i = 0; i < pu->entry.sudo_commands.n; i++) {
		if ((r = pgl_cache_str_at(&pu->cache, pu->entry.sudo_commands, i,
		    &s)) != 0)
			return r;
		cmds[i] = s.p;
	}
	*n = i;
	return 0;
}

/* "certificate ID "..." serial N", or why there is none. */
static void
describe_cert(pam_handle_t *pamh, char *out, size_t outlen)
{
	struct pgl_authinfo ai;
	const char *info;
	int r;

	if ((info = pam_getenv(pamh, "SSH_AUTH_INFO_0")) == NULL) {
		snprintf(out, outlen, "no SSH_AUTH_INFO_0");
		return;
	}
	if ((r = pgl_authinfo_parse(info, strlen(info), &ai)) == 0)
		snprintf(out, outlen, "certificate ID \"%s\" serial %llu (%s)",
		    ai.key_id, (unsigned long long)ai.serial, ai.type);
	else if (r == PGL_E_NOT_FOUND)
		snprintf(out, outlen, "no certificate");
	else
		snprintf(out, outlen, "an unreadable certificate (%s)",
		    pgl_strerror(r));
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct pam_pgl_args a;
	struct pam_pgl_user pu;
	const char *user, *what = NULL, *cmds[PAM_PGL_SUDO_COMMANDS_MAX];
	const void *item = NULL;
	char safe[128], rhost[128], home[160], cert[PGL_AUTHINFO_KEYID_MAX + 128];
	char why[640], done[64];
	size_t ncmds;
	int r, created = 0, changed = 0, dummy;

	if ((r = pam_pgl_start(pamh, argc, argv, &a, &user)) != PAM_SUCCESS)
		return r;
	pam_pgl_safe(user, safe, sizeof(safe));
	if ((r = pam_pgl_user_check(user, &pu)) != 0) {
		pam_syslog(pamh, LOG_ERR, "session of %s refused: %s (%s)",
		    safe, pu.why, pgl_strerror(r));
		return PAM_SESSION_ERR;
	}
	if (pu.verdict == PAM_PGL_DENIED) {
		/* Normally stopped by account already; never a session, and
		 * no grant left behind. */
		(void)pam_pgl_sudoers_sync(user, PGL_CACHE_SUDO_NONE, NULL, 0,
		    &dummy, why, sizeof(why));
		pam_syslog(pamh, LOG_NOTICE, "session of %s refused: %s",
		    safe, pu.why);
		pam_pgl_user_release(&pu);
		return PAM_PERM_DENIED;
	}
	if (pu.verdict != PAM_PGL_ALLOWED) {
		if (a.debug)
			pam_syslog(pamh, LOG_DEBUG, "session of %s: not "
			    "managed (%s)", safe, pu.why);
		pam_pgl_user_release(&pu);
		return PAM_IGNORE;
	}

	if (pam_get_item(pamh, PAM_RHOST, &item) != PAM_SUCCESS)
		item = NULL;
	pam_pgl_safe(item, rhost, sizeof(rhost));
	pam_pgl_safe(pu.entry.home.p, home, sizeof(home));
	describe_cert(pamh, cert, sizeof(cert));
	why[0] = '\0';

	if ((r = pam_pgl_home_create(pu.entry.home.p, (uid_t)pu.entry.uid,
	    (gid_t)pu.entry.gid, a.mode, a.skel, &created, &what)) != 0) {
		snprintf(why, sizeof(why), "home %s: %s: %s", home, what,
		    strerror(-r));
		goto fail;
	}
	if ((r = sudo_commands(&pu, cmds, &ncmds)) != 0) {
		snprintf(why, sizeof(why), "sudo commands: %s",
		    pgl_strerror(r));
		goto fail;
	}
	if ((r = pam_pgl_sudoers_sync(user, pu.entry.sudo, cmds, ncmds,
	    &changed, why, sizeof(why))) != 0)
		goto fail;
	snprintf(done, sizeof(done), "%s%s%s",
	    created ? "; home created" : "",
	    changed && pu.entry.sudo != PGL_CACHE_SUDO_NONE ?
	    "; sudo grant written" : "",
	    changed && pu.entry.sudo == PGL_CACHE_SUDO_NONE ?
	    "; sudo grant removed" : "");
	pam_syslog(pamh, LOG_INFO, "session opened for %s (uid %u) from %s "
	    "with %s%s", safe, pu.entry.uid, rhost, cert, done);
	pam_pgl_user_release(&pu);
	return PAM_SUCCESS;
 fail:
	pam_syslog(pamh, LOG_ERR, "session refused for %s (uid %u) from %s "
	    "with %s: %s", safe, pu.entry.uid, rhost, cert, why);
	pam_pgl_user_release(&pu);
	return PAM_SESSION_ERR;
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	return PAM_SUCCESS;
}
