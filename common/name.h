/* POSIX user and group names as pgl makes them.  libc only: the NSS
 * module checks a name before it asks the resolver about it. */
#ifndef PGL_NAME_H
#define PGL_NAME_H

#define PGL_USERNAME_MAX 32

/* True if name is a valid pgl username: [a-z_][a-z0-9_-]{0,31}. */
int pgl_username_valid(const char *name);

#endif
