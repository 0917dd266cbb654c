/* Whole-file reads with a size bound, and atomic writes. */
#ifndef PGL_FILEIO_H
#define PGL_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Reads a regular file of at most max bytes into a new buffer (wiped
 * on free).  PGL_E_TOO_LARGE past max. */
int pgl_file_read(const char *path, size_t max, struct pgl_buf **out);

#define PGL_WRITE_NO_REPLACE 0x1        /* fail with PGL_E_EXISTS */

/* Writes a temp file in the same directory with the final mode, fsyncs
 * it, renames it over path and fsyncs the directory.  On failure path
 * is untouched and no temp file is left. */
int pgl_file_write_atomic(const char *path, const void *p, size_t n,
    mode_t mode, int flags);

/* The two halves, for writing several files all-or-nothing: stage each
 * into a temp file, then commit them; abort removes a staged file. */
int pgl_file_stage(const char *path, const void *p, size_t n, mode_t mode,
    char **tmp_path);
int pgl_file_commit(const char *tmp_path, const char *path, int flags);
void pgl_file_abort(char *tmp_path);

#endif
