/* What the pam_sm_* entry points share: arguments, the user's name, and
 * text made safe for a log line. */
#ifndef PAM_PGL_ENTRY_H
#define PAM_PGL_ENTRY_H

#include <stddef.h>
#include <security/pam_modules.h>

#include "args.h"

/* Parses the arguments (logging the ones not understood, once) and gets
 * PAM_USER.  PAM_SUCCESS, or the PAM error to return. */
int pam_pgl_start(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_pgl_args *a, const char **user);

/* s (NULL: "-") with control, non-ASCII, '\\' and '"' bytes as \xHH, cut
 * with "..." to fit out[outlen]. */
const char *pam_pgl_safe(const char *s, char *out, size_t outlen);

#endif
