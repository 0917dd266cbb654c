/* Checks on text that ends up in logs, certificates and sshd output. */
#ifndef PGL_TEXT_H
#define PGL_TEXT_H

#include <stddef.h>

/* True if s holds a C0 control character or DEL. */
int pgl_has_ctrl(const char *s);
/* The same for n bytes that need not be NUL-terminated (a NUL counts). */
int pgl_has_ctrl_n(const char *s, size_t n);

#endif
