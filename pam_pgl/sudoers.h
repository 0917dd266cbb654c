/* The sudoers drop-in of a managed user: /etc/sudoers.d/pgl-NAME. */
#ifndef PAM_PGL_SUDOERS_H
#define PAM_PGL_SUDOERS_H

#include <stddef.h>

#include "cache.h"

#define PAM_PGL_SUDOERS_DIR "/etc/sudoers.d"
/* More commands, or a longer file, are refused. */
#define PAM_PGL_SUDO_COMMANDS_MAX 256
#define PAM_PGL_SUDOERS_MAX (64 * 1024)

/* The file's text for a grant (all, or commands): a header comment and
 * one rule.  Each command is "PATH[ ARGS]"; the path is refused if it
 * holds a character sudoers gives a meaning to (it cannot be escaped
 * there), the arguments are escaped so that sudo matches them literally
 * (no wildcards, no regular expression).  Control characters, non-ASCII
 * bytes and '"' are refused anywhere.  0 and a malloc'd *out, or
 * PGL_E_CTRL_CHAR, PGL_E_BAD_OPTION_VALUE, PGL_E_TOO_LARGE,
 * PGL_E_INVALID_ARG (no commands, or sudo none). */
int pam_pgl_sudoers_render(const char *name, enum pgl_cache_sudo sudo,
    const char *const *cmds, size_t ncmds, char **out);

/* Brings the drop-in in line with the grant: writes it when the grant
 * carries sudo and the file differs, removes it when not.  Writing goes
 * through a temporary file ".pgl-NAME.RANDOM" in the same directory
 * (sudo ignores names with a '.'), mode 0440, checked with
 * "visudo -cf", fsync'd and renamed into place; on any failure the old
 * file is left as it was and no temporary file remains.
 *
 * 0 with *changed 1 (written or removed) or 0; a negative errno (or
 * PGL_E_* from rendering) with a reason in why[whylen] otherwise. */
int pam_pgl_sudoers_sync(const char *name, enum pgl_cache_sudo sudo,
    const char *const *cmds, size_t ncmds, int *changed, char *why,
    size_t whylen);

#endif
