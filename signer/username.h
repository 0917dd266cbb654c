/* Identity -> POSIX username, as DESIGN.md's identity rules say. */
#ifndef PGL_USERNAME_H
#define PGL_USERNAME_H

#include <stddef.h>

#include "name.h"

/* The base name for an identity: its local part (before the last '@'),
 * lowercased, mapped to [a-z_][a-z0-9_-]*, at most PGL_USERNAME_MAX
 * bytes, never empty.  out must hold PGL_USERNAME_MAX + 1 bytes. */
int pgl_username_base(const char *identity, char *out);
/* The n-th candidate (n >= 1) for a base: n == 1 is the base itself
 * unless it is reserved; later ones add a numeric suffix, shortening
 * the base so the whole stays within PGL_USERNAME_MAX. */
int pgl_username_candidate(const char *base, unsigned n, char *out);
/* True for root, daemon, bin, sys, sshd, ... and every name a Debian
 * system reserves (base-passwd, common daemons), and for nobody. */
int pgl_username_reserved(const char *name);

#endif
