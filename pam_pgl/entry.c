/* Shared by account.c and session.c. */
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>

#include "entry.h"

const char *
pam_pgl_safe(const char *s, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, need;
	unsigned char c;

	if (outlen < 4)
		return "";
	if (s == NULL)
		s = "-";
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		need = c >= 0x20 && c < 0x7f && c != '\\' && c != '"' ? 1 : 4;
		/* Room for this, then "..." and the NUL should more follow. */
		if (o + need + 4 > outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			out[o++] = (char)c;
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

int
pam_pgl_start(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_pgl_args *a, const char **user)
{
	char safe[128];
	int r;

	pam_pgl_args_parse(a, argc, argv);
	if (a->bad != NULL)
		pam_syslog(pamh, LOG_WARNING, "ignoring %d argument%s not "
		    "understood, the first: \"%s\"", a->nbad,
		    a->nbad == 1 ? "" : "s",
		    pam_pgl_safe(a->bad, safe, sizeof(safe)));
	*user = NULL;
	if ((r = pam_get_user(pamh, user, NULL)) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s",
		    pam_strerror(pamh, r));
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
	}
	if (*user == NULL)
		return PAM_USER_UNKNOWN;
	return PAM_SUCCESS;
}
