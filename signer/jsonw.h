/* A small JSON writer for the two texts written per certificate: the
 * sign response and the audit line.  It writes the bytes json-c writes
 * with JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, but
 * without building an object tree first (json-c allocates a hash table
 * and an object per field, then escapes byte by byte).  Everything
 * else still uses json-c. */
#ifndef PGL_JSONW_H
#define PGL_JSONW_H

#include <stdint.h>

#include "buf.h"

#define PGL_JW_DEPTH 8

struct pgl_jw {
	struct pgl_buf *b;
	int depth;
	int first[PGL_JW_DEPTH];        /* no member written yet, per level */
	int err;                        /* the first error; sticky */
};

/* Starts the top-level object in b. */
void pgl_jw_begin(struct pgl_jw *w, struct pgl_buf *b);
/* "key":"value", escaped; nothing for a NULL value. */
void pgl_jw_str(struct pgl_jw *w, const char *key, const char *value);
void pgl_jw_int(struct pgl_jw *w, const char *key, int64_t value);
/* "key":{ / "key":[ ; key NULL for an array element. */
void pgl_jw_open(struct pgl_jw *w, const char *key, char bracket);
void pgl_jw_close(struct pgl_jw *w, char bracket);
/* Ends the top-level object: 0, or the first error. */
int pgl_jw_end(struct pgl_jw *w);

#endif
