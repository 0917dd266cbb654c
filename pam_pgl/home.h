/* Creating a managed user's home directory, as root, without following a
 * symbolic link anywhere: every step is an *at() call on a directory
 * descriptor opened with O_NOFOLLOW. */
#ifndef PAM_PGL_HOME_H
#define PAM_PGL_HOME_H

#include <sys/types.h>

/* Creates home (absolute) for uid:gid with mode, filled from the skeleton
 * directory skel (a missing skel gives an empty home).  The tree is built
 * under a temporary name in the parent, owner and mode set last, and
 * renamed into place only if nothing exists there by then: a home is
 * either complete or absent, and an existing one is never touched.
 * Missing parents are created root-owned 0755; the home's parent must be
 * root's and writable by nobody else (EPERM otherwise).
 *
 * 0 with *created 1 (made now) or 0 (something was already there), or a
 * negative errno with *what naming the step that failed; nothing is left
 * behind then.  ELOOP or ENOTDIR: a parent is a symbolic link or not a
 * directory. */
int pam_pgl_home_create(const char *home, uid_t uid, gid_t gid, mode_t mode,
    const char *skel, int *created, const char **what);

#endif
