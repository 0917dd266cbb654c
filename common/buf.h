/* A bounded byte buffer with SSH wire encoding, after OpenSSH's sshbuf.
 * Writers append at the end; readers consume from the front.  Every read
 * checks the remaining length first, so a hostile blob can only make a
 * read fail, never overrun.  libc only: the NSS module may use it. */
#ifndef PGL_BUF_H
#define PGL_BUF_H

#include <stddef.h>
#include <stdint.h>

#define PGL_BUF_MAX_DEFAULT (1024 * 1024)

struct pgl_buf {
	uint8_t *d;         /* storage (NULL when empty) */
	const uint8_t *cd;  /* read view: d, or external memory */
	size_t off;         /* read offset */
	size_t len;         /* end of data */
	size_t alloc;
	size_t max;         /* hard limit on len */
	int readonly;
};

/* A new empty buffer; NULL on allocation failure. */
struct pgl_buf *pgl_buf_new(void);
/* A read-only view of caller memory, which must outlive the buffer. */
struct pgl_buf *pgl_buf_from(const void *p, size_t len);
/* Wipes and frees; accepts NULL. */
void pgl_buf_free(struct pgl_buf *b);
void pgl_buf_reset(struct pgl_buf *b);
int pgl_buf_set_max(struct pgl_buf *b, size_t max);

size_t pgl_buf_len(const struct pgl_buf *b);       /* unread bytes */
const uint8_t *pgl_buf_ptr(const struct pgl_buf *b);

int pgl_buf_reserve(struct pgl_buf *b, size_t n, uint8_t **p);
/* Drops (and wipes) the last n bytes written. */
int pgl_buf_trim_end(struct pgl_buf *b, size_t n);
int pgl_buf_put(struct pgl_buf *b, const void *p, size_t n);
/* Formatted text, without a terminating NUL. */
int pgl_buf_putf(struct pgl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int pgl_buf_put_u8(struct pgl_buf *b, uint8_t v);
int pgl_buf_put_u32(struct pgl_buf *b, uint32_t v);
int pgl_buf_put_u64(struct pgl_buf *b, uint64_t v);
int pgl_buf_put_string(struct pgl_buf *b, const void *p, size_t n);
int pgl_buf_put_cstring(struct pgl_buf *b, const char *s);
/* The unread contents of src as one string. */
int pgl_buf_put_stringb(struct pgl_buf *b, const struct pgl_buf *src);
/* An SSH mpint from an unsigned big-endian magnitude. */
int pgl_buf_put_mpint_bytes(struct pgl_buf *b, const uint8_t *p, size_t n);

int pgl_buf_consume(struct pgl_buf *b, size_t n);
int pgl_buf_get(struct pgl_buf *b, void *p, size_t n);
int pgl_buf_get_u8(struct pgl_buf *b, uint8_t *v);
int pgl_buf_get_u32(struct pgl_buf *b, uint32_t *v);
int pgl_buf_get_u64(struct pgl_buf *b, uint64_t *v);
/* A string, as a pointer into the buffer (valid until it changes). */
int pgl_buf_get_string_direct(struct pgl_buf *b, const uint8_t **p, size_t *n);
/* A string that must hold no NUL byte, copied and NUL-terminated. */
int pgl_buf_get_cstring(struct pgl_buf *b, char **s);
/* An SSH mpint that must be positive and minimally encoded; returns its
 * magnitude without the sign byte. */
int pgl_buf_get_mpint_direct(struct pgl_buf *b, const uint8_t **p, size_t *n);

#endif
