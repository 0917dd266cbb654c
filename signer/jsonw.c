#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "jsonw.h"

static void
put(struct pgl_jw *w, const void *p, size_t n)
{
	int r;

	if (w->err == 0 && (r = pgl_buf_put(w->b, p, n)) != 0)
		w->err = r;
}

/* As json-c's json_escape_str: the two-character escapes, \u00xx for
 * other control characters, everything else (UTF-8 too) as it is. */
static void
put_escaped(struct pgl_jw *w, const char *s)
{
	const char *run = s;
	char u[7];
	unsigned char c;

	put(w, "\"", 1);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		const char *esc = NULL;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(w, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			snprintf(u, sizeof(u), "\\u00%02x", c);
			esc = u;
			break;
		}
		put(w, esc, strlen(esc));
	}
	put(w, run, (size_t)(s - run));
	put(w, "\"", 1);
}

static void
member(struct pgl_jw *w, const char *key)
{
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = 0;
	if (key != NULL) {
		put_escaped(w, key);
		put(w, ":", 1);
	}
}

void
pgl_jw_begin(struct pgl_jw *w, struct pgl_buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->first[0] = 1;
	put(w, "{", 1);
}

void
pgl_jw_str(struct pgl_jw *w, const char *key, const char *value)
{
	if (value == NULL)
		return;
	member(w, key);
	put_escaped(w, value);
}

void
pgl_jw_int(struct pgl_jw *w, const char *key, int64_t value)
{
	char s[24];
	int n;

	member(w, key);
	n = snprintf(s, sizeof(s), "%" PRId64, value);
	put(w, s, (size_t)n);
}

void
pgl_jw_open(struct pgl_jw *w, const char *key, char bracket)
{
	member(w, key);
	if (w->depth + 1 >= PGL_JW_DEPTH) {
		if (w->err == 0)
			w->err = PGL_E_TOO_LARGE;
		return;
	}
	put(w, &bracket, 1);
	w->first[++w->depth] = 1;
}

void
pgl_jw_close(struct pgl_jw *w, char bracket)
{
	if (w->depth > 0)
		w->depth--;
	put(w, &bracket, 1);
}

int
pgl_jw_end(struct pgl_jw *w)
{
	put(w, "}", 1);
	return w->err;
}
