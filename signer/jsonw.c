#include <inttypes.h>
#include <stdint.h>
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

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* True if any byte of x is below 0x20, '"' or '\\' (exact as a
 * whole; bytes from 0x80 up never match). */
static int
word_special(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

	return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) |
	    ((b - ONES) & ~b)) & HIGHS ? 1 : 0;
}

static int
byte_special(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\';
}

/* As json-c's json_escape_str: the two-character escapes, \u00xx for
 * other control characters, everything else (UTF-8 too) as it is.
 * Text without any of those (certificates: base64) is checked eight
 * bytes at a time and copied in one piece. */
static void
put_escaped(struct pgl_jw *w, const char *s)
{
	size_t n = strlen(s), i = 0, run = 0;
	char u[7];
	uint64_t x;

	put(w, "\"", 1);
	while (i < n) {
		const char *esc;
		unsigned char c;

		if (n - i >= 8) {
			memcpy(&x, s + i, 8);
			if (!word_special(x)) {
				i += 8;
				continue;
			}
		}
		if (!byte_special((unsigned char)s[i])) {
			i++;
			continue;
		}
		put(w, s + run, i - run);
		switch ((c = (unsigned char)s[i])) {
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
		run = ++i;
	}
	put(w, s + run, n - run);
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
