/* The system settings pgl needs beyond its own files: nsswitch.conf
 * lists pgl for passwd, group and shadow; PAM runs pam_pgl in account
 * and session; sshd_config includes the sshd_config.d snippet. */
#ifndef PGL_HOST_CONFIGURE_H
#define PGL_HOST_CONFIGURE_H

#include <stddef.h>

#include "host.h"

/* 0 if every database lists pgl, 1 if some do not (their names, space
 * separated, in missing), -1 if the file cannot be read. */
int nsswitch_check(const char *path, char *missing, size_t n,
    struct host_err *e);
/* Adds pgl after "files" (or last) where missing; one atomic rewrite. */
int nsswitch_add(const char *path, int *changed, struct host_err *e);

/* 0 if pam_pgl.so is in the account and session stacks sshd uses
 * (pam.d/sshd or the common-* files it includes), 1 if not (why). */
int pam_check(const struct host_config *c, char *why, size_t n);

/* 0 if sshd_config has an Include that covers the snippet, 1 if not,
 * -1 if sshd_config cannot be read. */
int sshd_include_check(const struct host_config *c, struct host_err *e);

/* With apply: changes nsswitch.conf and runs pam-auth-update; without:
 * prints what to change.  Returns 0 unless applying failed. */
int configure_system(const struct host_config *c, int apply, int *changed);

#endif
