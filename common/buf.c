#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

#define BUF_CHUNK 256

struct pgl_buf *
pgl_buf_new(void)
{
	struct pgl_buf *b = calloc(1, sizeof(*b));

	if (b != NULL)
		b->max = PGL_BUF_MAX_DEFAULT;
	return b;
}

struct pgl_buf *
pgl_buf_from(const void *p, size_t len)
{
	struct pgl_buf *b;

	if (p == NULL && len != 0)
		return NULL;
	if ((b = pgl_buf_new()) == NULL)
		return NULL;
	b->cd = p;
	b->len = len;
	b->alloc = len;
	b->max = len;
	b->readonly = 1;
	return b;
}

void
pgl_buf_free(struct pgl_buf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL) {
		explicit_bzero(b->d, b->alloc);
		free(b->d);
	}
	explicit_bzero(b, sizeof(*b));
	free(b);
}

void
pgl_buf_reset(struct pgl_buf *b)
{
	if (b->readonly) {
		b->off = 0;
		return;
	}
	if (b->d != NULL)
		explicit_bzero(b->d, b->alloc);
	b->off = b->len = 0;
}

int
pgl_buf_set_max(struct pgl_buf *b, size_t max)
{
	if (b->readonly || max < b->len)
		return PGL_E_INVALID_ARG;
	b->max = max;
	return 0;
}

size_t
pgl_buf_len(const struct pgl_buf *b)
{
	return b->len - b->off;
}

const uint8_t *
pgl_buf_ptr(const struct pgl_buf *b)
{
	return b->cd == NULL ? NULL : b->cd + b->off;
}

int
pgl_buf_reserve(struct pgl_buf *b, size_t n, uint8_t **p)
{
	size_t need, nalloc;
	uint8_t *nd;

	if (b->readonly)
		return PGL_E_INVALID_ARG;
	if (n > b->max || b->len > b->max - n)
		return PGL_E_TOO_LARGE;
	need = b->len + n;
	if (need > b->alloc) {
		/* Grow by copying so the old storage can be wiped: buffers
		 * hold key material. */
		nalloc = need + BUF_CHUNK - (need % BUF_CHUNK);
		if (nalloc < b->alloc * 2 && b->alloc * 2 <= b->max)
			nalloc = b->alloc * 2;
		if ((nd = malloc(nalloc)) == NULL)
			return PGL_E_NOMEM;
		if (b->d != NULL) {
			memcpy(nd, b->d, b->len);
			explicit_bzero(b->d, b->alloc);
			free(b->d);
		}
		b->d = nd;
		b->cd = nd;
		b->alloc = nalloc;
	}
	if (p != NULL)
		*p = b->d + b->len;
	b->len += n;
	return 0;
}

int
pgl_buf_trim_end(struct pgl_buf *b, size_t n)
{
	if (b->readonly || n > pgl_buf_len(b))
		return PGL_E_INVALID_ARG;
	b->len -= n;
	if (n > 0)
		explicit_bzero(b->d + b->len, n);
	return 0;
}

int
pgl_buf_put(struct pgl_buf *b, const void *p, size_t n)
{
	uint8_t *dst;
	int r;

	if ((r = pgl_buf_reserve(b, n, &dst)) != 0)
		return r;
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

int
pgl_buf_putf(struct pgl_buf *b, const char *fmt, ...)
{
	va_list ap;
	uint8_t *dst;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PGL_E_INVALID_ARG;
	/* vsnprintf writes a NUL after the text; it is trimmed again. */
	if ((r = pgl_buf_reserve(b, (size_t)n + 1, &dst)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)dst, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return pgl_buf_trim_end(b, 1);
}

int
pgl_buf_put_u8(struct pgl_buf *b, uint8_t v)
{
	return pgl_buf_put(b, &v, 1);
}

static void
store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int
pgl_buf_put_u32(struct pgl_buf *b, uint32_t v)
{
	uint8_t *p;
	int r;

	if ((r = pgl_buf_reserve(b, 4, &p)) != 0)
		return r;
	store_u32(p, v);
	return 0;
}

int
pgl_buf_put_u64(struct pgl_buf *b, uint64_t v)
{
	uint8_t *p;
	int r;

	if ((r = pgl_buf_reserve(b, 8, &p)) != 0)
		return r;
	store_u32(p, (uint32_t)(v >> 32));
	store_u32(p + 4, (uint32_t)v);
	return 0;
}

/* Reserves the whole value first so a failure writes nothing. */
int
pgl_buf_put_string(struct pgl_buf *b, const void *p, size_t n)
{
	uint8_t *dst;
	int r;

	if (n > UINT32_MAX || n > SIZE_MAX - 4)
		return PGL_E_TOO_LARGE;
	if ((r = pgl_buf_reserve(b, 4 + n, &dst)) != 0)
		return r;
	store_u32(dst, (uint32_t)n);
	if (n > 0)
		memcpy(dst + 4, p, n);
	return 0;
}

int
pgl_buf_put_cstring(struct pgl_buf *b, const char *s)
{
	return pgl_buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
pgl_buf_put_stringb(struct pgl_buf *b, const struct pgl_buf *src)
{
	return pgl_buf_put_string(b, pgl_buf_ptr(src), pgl_buf_len(src));
}

int
pgl_buf_put_mpint_bytes(struct pgl_buf *b, const uint8_t *p, size_t n)
{
	uint8_t *dst;
	int r, pad;

	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	/* A set top bit would read as negative: prefix a zero byte. */
	pad = n > 0 && (*p & 0x80) != 0;
	if (n + pad > UINT32_MAX)
		return PGL_E_TOO_LARGE;
	if ((r = pgl_buf_reserve(b, 4 + n + pad, &dst)) != 0)
		return r;
	store_u32(dst, (uint32_t)(n + pad));
	if (pad)
		dst[4] = 0;
	if (n > 0)
		memcpy(dst + 4 + pad, p, n);
	return 0;
}

int
pgl_buf_consume(struct pgl_buf *b, size_t n)
{
	if (n > pgl_buf_len(b))
		return PGL_E_TRUNCATED;
	b->off += n;
	return 0;
}

int
pgl_buf_get(struct pgl_buf *b, void *p, size_t n)
{
	if (n > pgl_buf_len(b))
		return PGL_E_TRUNCATED;
	if (n > 0 && p != NULL)
		memcpy(p, pgl_buf_ptr(b), n);
	b->off += n;
	return 0;
}

int
pgl_buf_get_u8(struct pgl_buf *b, uint8_t *v)
{
	return pgl_buf_get(b, v, 1);
}

int
pgl_buf_get_u32(struct pgl_buf *b, uint32_t *v)
{
	uint8_t x[4];
	int r;

	if ((r = pgl_buf_get(b, x, sizeof(x))) != 0)
		return r;
	if (v != NULL)
		*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 |
		    (uint32_t)x[2] << 8 | x[3];
	return 0;
}

int
pgl_buf_get_u64(struct pgl_buf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if (pgl_buf_len(b) < 8)
		return PGL_E_TRUNCATED;
	if ((r = pgl_buf_get_u32(b, &hi)) != 0 ||
	    (r = pgl_buf_get_u32(b, &lo)) != 0)
		return r;
	if (v != NULL)
		*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
pgl_buf_get_string_direct(struct pgl_buf *b, const uint8_t **p, size_t *n)
{
	const uint8_t *s;
	uint32_t len;

	if (pgl_buf_len(b) < 4)
		return PGL_E_TRUNCATED;
	s = pgl_buf_ptr(b);
	len = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
	    (uint32_t)s[2] << 8 | s[3];
	if (len > pgl_buf_len(b) - 4)
		return PGL_E_TRUNCATED;
	b->off += 4 + (size_t)len;
	if (p != NULL)
		*p = s + 4;
	if (n != NULL)
		*n = len;
	return 0;
}

int
pgl_buf_get_cstring(struct pgl_buf *b, char **s)
{
	const uint8_t *p;
	size_t n, save = b->off;
	char *c;
	int r;

	if ((r = pgl_buf_get_string_direct(b, &p, &n)) != 0)
		return r;
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		b->off = save;
		return PGL_E_FORMAT;
	}
	if (s == NULL)
		return 0;
	if ((c = malloc(n + 1)) == NULL) {
		b->off = save;
		return PGL_E_NOMEM;
	}
	if (n > 0)
		memcpy(c, p, n);
	c[n] = '\0';
	*s = c;
	return 0;
}

int
pgl_buf_get_mpint_direct(struct pgl_buf *b, const uint8_t **p, size_t *n)
{
	const uint8_t *v;
	size_t len, save = b->off;
	int r;

	if ((r = pgl_buf_get_string_direct(b, &v, &len)) != 0)
		return r;
	r = PGL_E_FORMAT;
	if (len == 0)
		goto bad;               /* zero: never a valid key number */
	if (v[0] & 0x80)
		goto bad;               /* negative */
	if (v[0] == 0 && (len == 1 || (v[1] & 0x80) == 0))
		goto bad;               /* not minimal */
	if (v[0] == 0) {
		v++;
		len--;
	}
	if (p != NULL)
		*p = v;
	if (n != NULL)
		*n = len;
	return 0;
 bad:
	b->off = save;
	return r;
}
