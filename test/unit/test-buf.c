/* Unit tests for common/buf.c (SSH wire encoding) and common/err.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "util.h"

static void
test_round_trip(void)
{
	static const uint8_t want[] = {
		0xab,                                           /* u8 */
		0xde, 0xad, 0xbe, 0xef,                         /* u32 */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* u64 */
		0x00, 0x00, 0x00, 0x03, 'a', 0x00, 'b',         /* string */
		0x00, 0x00, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o',/* cstring */
		0x00, 0x00, 0x00, 0x00,                         /* "" */
		0xff, 0xff, 0xff, 0xff,                         /* u32 max */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* u64 0 */
	};
	struct pgl_buf *b = must_new();
	uint8_t u8 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 1;
	const uint8_t *p = NULL;
	size_t n = 0;
	char *s = NULL;

	tap_ok(pgl_buf_len(b) == 0 && pgl_buf_ptr(b) == NULL,
	    "new buffer is empty");
	tap_ok(pgl_buf_put_u8(b, 0xab) == 0 &&
	    pgl_buf_put_u32(b, 0xdeadbeef) == 0 &&
	    pgl_buf_put_u64(b, 0x0102030405060708ULL) == 0 &&
	    pgl_buf_put_string(b, "a\0b", 3) == 0 &&
	    pgl_buf_put_cstring(b, "hello") == 0 &&
	    pgl_buf_put_cstring(b, "") == 0 &&
	    pgl_buf_put_u32(b, UINT32_MAX) == 0 &&
	    pgl_buf_put_u64(b, 0) == 0, "puts succeed");
	tu_bytes_eq(pgl_buf_ptr(b), pgl_buf_len(b), want, sizeof(want),
	    "big-endian wire layout matches literal bytes");

	tap_ok(pgl_buf_get_u8(b, &u8) == 0 && u8 == 0xab, "get_u8");
	tap_ok(pgl_buf_get_u32(b, &u32) == 0 && u32 == 0xdeadbeef, "get_u32");
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == 0x0102030405060708ULL,
	    "get_u64");
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == 0 && n == 3 &&
	    memcmp(p, "a\0b", 3) == 0, "get_string_direct keeps embedded NUL");
	tap_ok(pgl_buf_get_cstring(b, &s) == 0 && s != NULL &&
	    strcmp(s, "hello") == 0, "get_cstring");
	free(s);
	s = NULL;
	tap_ok(pgl_buf_get_cstring(b, &s) == 0 && s != NULL && s[0] == '\0',
	    "get_cstring of empty string gives \"\"");
	free(s);
	tap_ok(pgl_buf_get_u32(b, &u32) == 0 && u32 == UINT32_MAX,
	    "get_u32 max");
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == 0, "get_u64 zero");
	tap_ok(pgl_buf_len(b) == 0, "everything consumed");
	tap_ok(pgl_buf_get_u8(b, &u8) == PGL_E_TRUNCATED,
	    "get_u8 on empty buffer -> PGL_E_TRUNCATED");

	/* reset rewinds a writable buffer to empty */
	pgl_buf_reset(b);
	tap_ok(pgl_buf_len(b) == 0 && pgl_buf_put_u8(b, 7) == 0 &&
	    pgl_buf_len(b) == 1 && pgl_buf_ptr(b)[0] == 7,
	    "reset empties, buffer reusable");
	pgl_buf_free(b);
	pgl_buf_free(NULL);
	tap_ok(1, "pgl_buf_free(NULL) is harmless");
}

static void
test_truncated_reads(void)
{
	static const uint8_t seven[] = { 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t longstr[] = { 0, 0, 0, 5, 'a', 'b', 'c', 'd' };
	static const uint8_t hugestr[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t nulstr[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	struct pgl_buf *b;
	uint32_t u32 = 0x55555555;
	uint64_t u64 = 0x5555555555555555ULL;
	uint8_t tmp[8];
	const uint8_t *p = NULL;
	size_t n = 12345;
	char *s = NULL;
	int r;

	b = pgl_buf_from(seven, 3);
	tap_ok(pgl_buf_get_u32(b, &u32) == PGL_E_TRUNCATED,
	    "get_u32 with 3 bytes -> PGL_E_TRUNCATED");
	tap_ok(pgl_buf_len(b) == 3 && u32 == 0x55555555,
	    "failed get_u32 leaves offset and output unchanged");
	tap_ok(pgl_buf_get(b, tmp, 4) == PGL_E_TRUNCATED && pgl_buf_len(b) == 3,
	    "get of 4 with 3 left -> PGL_E_TRUNCATED, offset unchanged");
	tap_ok(pgl_buf_consume(b, 4) == PGL_E_TRUNCATED && pgl_buf_len(b) == 3,
	    "consume past end -> PGL_E_TRUNCATED, offset unchanged");
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == PGL_E_TRUNCATED &&
	    pgl_buf_len(b) == 3 && p == NULL && n == 12345,
	    "string with no complete length -> PGL_E_TRUNCATED");
	tap_ok(pgl_buf_consume(b, 3) == 0 && pgl_buf_len(b) == 0,
	    "consume exactly the rest");
	pgl_buf_free(b);

	b = pgl_buf_from(seven, 7);
	tap_ok(pgl_buf_get_u64(b, &u64) == PGL_E_TRUNCATED,
	    "get_u64 with 7 bytes -> PGL_E_TRUNCATED");
	tap_ok(u64 == 0x5555555555555555ULL, "failed get_u64 leaves output");
	tap_ok(pgl_buf_len(b) == 7,
	    "failed get_u64 leaves offset unchanged (len %zu)", pgl_buf_len(b));
	pgl_buf_free(b);

	b = pgl_buf_from(longstr, sizeof(longstr));
	p = NULL;
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == PGL_E_TRUNCATED &&
	    pgl_buf_len(b) == sizeof(longstr) && p == NULL,
	    "string length 5 with 4 left -> PGL_E_TRUNCATED, offset unchanged");
	tap_ok(pgl_buf_get_cstring(b, &s) == PGL_E_TRUNCATED && s == NULL &&
	    pgl_buf_len(b) == sizeof(longstr),
	    "cstring length 5 with 4 left -> PGL_E_TRUNCATED");
	tap_ok(pgl_buf_get_mpint_direct(b, &p, &n) == PGL_E_TRUNCATED &&
	    pgl_buf_len(b) == sizeof(longstr),
	    "mpint length 5 with 4 left -> PGL_E_TRUNCATED");
	pgl_buf_free(b);

	b = pgl_buf_from(hugestr, sizeof(hugestr));
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == PGL_E_TRUNCATED &&
	    pgl_buf_len(b) == sizeof(hugestr),
	    "string length 0xffffffff -> PGL_E_TRUNCATED (no overflow)");
	pgl_buf_free(b);

	b = pgl_buf_from(nulstr, sizeof(nulstr));
	r = pgl_buf_get_cstring(b, &s);
	tap_ok(r == PGL_E_FORMAT, "cstring with embedded NUL -> PGL_E_FORMAT (%d)", r);
	tap_ok(s == NULL && pgl_buf_len(b) == sizeof(nulstr),
	    "refused cstring: no output, offset unchanged");
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == 0 && n == 3,
	    "the same bytes read fine as a binary string");
	pgl_buf_free(b);

	tap_ok(pgl_buf_from(NULL, 1) == NULL, "pgl_buf_from(NULL, 1) refused");
	b = pgl_buf_from(NULL, 0);
	tap_ok(b != NULL && pgl_buf_len(b) == 0 &&
	    pgl_buf_get_u8(b, tmp) == PGL_E_TRUNCATED,
	    "pgl_buf_from(NULL, 0) is an empty view");
	pgl_buf_free(b);
}

static void
check_mpint(const uint8_t *in, size_t inlen, const uint8_t *want,
    size_t wantlen, const char *what)
{
	struct pgl_buf *b = must_new();
	int r = pgl_buf_put_mpint_bytes(b, in, inlen);

	tap_ok(r == 0, "put_mpint_bytes %s succeeds", what);
	tu_bytes_eq(pgl_buf_ptr(b), pgl_buf_len(b), want, wantlen, what);
	pgl_buf_free(b);
}

static void
test_mpint(void)
{
	static const uint8_t in1[] = { 0x00, 0x00, 0x01, 0x02 };
	static const uint8_t out1[] = { 0, 0, 0, 2, 0x01, 0x02 };
	static const uint8_t in2[] = { 0x80 };
	static const uint8_t out2[] = { 0, 0, 0, 2, 0x00, 0x80 };
	static const uint8_t in3[] = { 0x00, 0x00, 0x00 };
	static const uint8_t out3[] = { 0, 0, 0, 0 };
	static const uint8_t in4[] = { 0x00, 0xff, 0x01 };
	static const uint8_t out4[] = { 0, 0, 0, 3, 0x00, 0xff, 0x01 };
	static const uint8_t in5[] = { 0x7f, 0xff };
	static const uint8_t out5[] = { 0, 0, 0, 2, 0x7f, 0xff };
	/* RFC 4251 section 5 examples */
	static const uint8_t in6[] = { 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7 };
	static const uint8_t out6[] = { 0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9,
	    0xb2, 0xe3, 0x32, 0xa7 };

	static const uint8_t ok1[] = { 0, 0, 0, 1, 0x7f };
	static const uint8_t ok2[] = { 0, 0, 0, 3, 0x00, 0x80, 0x01 };
	static const uint8_t neg[] = { 0, 0, 0, 1, 0x80 };
	static const uint8_t neg2[] = { 0, 0, 0, 2, 0xed, 0xcc };
	static const uint8_t nonmin[] = { 0, 0, 0, 2, 0x00, 0x7f };
	static const uint8_t nonmin2[] = { 0, 0, 0, 3, 0x00, 0x00, 0x80 };
	static const uint8_t zero1[] = { 0, 0, 0, 1, 0x00 };
	static const uint8_t empty[] = { 0, 0, 0, 0 };
	static const struct {
		const uint8_t *p;
		size_t n;
		const char *what;
	} bad[] = {
		{ neg, sizeof(neg), "negative (0x80)" },
		{ neg2, sizeof(neg2), "negative (-1234, RFC 4251)" },
		{ nonmin, sizeof(nonmin), "non-minimal (00 7f)" },
		{ nonmin2, sizeof(nonmin2), "non-minimal (00 00 80)" },
		{ zero1, sizeof(zero1), "zero as a single 00 byte" },
		{ empty, sizeof(empty), "zero-length (the value zero)" },
	};
	struct pgl_buf *b;
	const uint8_t *p = NULL;
	size_t n = 0, i;
	int r;

	check_mpint(in1, sizeof(in1), out1, sizeof(out1),
	    "mpint strips leading zeros");
	check_mpint(in2, sizeof(in2), out2, sizeof(out2),
	    "mpint with top bit set gets a 0x00 prefix");
	check_mpint(in3, sizeof(in3), out3, sizeof(out3),
	    "mpint of zero bytes is empty");
	check_mpint(in3, 0, out3, sizeof(out3), "mpint of no bytes is empty");
	check_mpint(in4, sizeof(in4), out4, sizeof(out4),
	    "mpint strips one zero then pads for 0xff");
	check_mpint(in5, sizeof(in5), out5, sizeof(out5),
	    "mpint 0x7fff unchanged");
	check_mpint(in6, sizeof(in6), out6, sizeof(out6),
	    "mpint RFC 4251 example 9a378f9b2e332a7");

	b = pgl_buf_from(ok1, sizeof(ok1));
	tap_ok(pgl_buf_get_mpint_direct(b, &p, &n) == 0 && n == 1 &&
	    p[0] == 0x7f && pgl_buf_len(b) == 0, "get_mpint 7f");
	pgl_buf_free(b);
	b = pgl_buf_from(ok2, sizeof(ok2));
	tap_ok(pgl_buf_get_mpint_direct(b, &p, &n) == 0 && n == 2 &&
	    p[0] == 0x80 && p[1] == 0x01 && pgl_buf_len(b) == 0,
	    "get_mpint 00 80 01 returns magnitude without the sign byte");
	pgl_buf_free(b);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = pgl_buf_from(bad[i].p, bad[i].n);
		p = NULL;
		r = pgl_buf_get_mpint_direct(b, &p, &n);
		tap_ok(r == PGL_E_FORMAT && p == NULL && pgl_buf_len(b) == bad[i].n,
		    "get_mpint refuses %s with PGL_E_FORMAT, offset kept (%d)",
		    bad[i].what, r);
		pgl_buf_free(b);
	}

	/* Round trip of values around the sign boundary. */
	for (i = 1; i < 256; i += 17) {
		uint8_t v[3] = { 0, (uint8_t)i, 0x5a };
		b = must_new();
		r = pgl_buf_put_mpint_bytes(b, v, sizeof(v));
		p = NULL;
		if (r == 0)
			r = pgl_buf_get_mpint_direct(b, &p, &n);
		tap_ok(r == 0 && n == 2 && p[0] == (uint8_t)i && p[1] == 0x5a &&
		    pgl_buf_len(b) == 0, "mpint round trip 0x%02zx5a", i);
		pgl_buf_free(b);
	}
}

static void
test_max(void)
{
	static const uint8_t eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct pgl_buf *b = must_new();
	uint8_t *p;

	tap_ok(pgl_buf_set_max(b, 10) == 0, "set_max 10");
	tap_ok(pgl_buf_put(b, eight, 8) == 0, "put 8 bytes under max 10");
	tap_ok(pgl_buf_put(b, eight, 3) == PGL_E_TOO_LARGE,
	    "put 3 more -> PGL_E_TOO_LARGE");
	tap_ok(pgl_buf_len(b) == 8, "failed put leaves length 8");
	tap_ok(pgl_buf_put_u32(b, 1) == PGL_E_TOO_LARGE && pgl_buf_len(b) == 8,
	    "put_u32 beyond max -> PGL_E_TOO_LARGE, nothing written");
	tap_ok(pgl_buf_put_u8(b, 9) == 0 && pgl_buf_put_u8(b, 10) == 0 &&
	    pgl_buf_len(b) == 10, "filling exactly to max is allowed");
	tap_ok(pgl_buf_put_u8(b, 11) == PGL_E_TOO_LARGE && pgl_buf_len(b) == 10,
	    "one byte over max -> PGL_E_TOO_LARGE");
	tap_ok(pgl_buf_reserve(b, SIZE_MAX, &p) == PGL_E_TOO_LARGE,
	    "reserve SIZE_MAX -> PGL_E_TOO_LARGE (no wrap-around)");
	tap_ok(pgl_buf_set_max(b, 9) == PGL_E_INVALID_ARG,
	    "set_max below the current length refused");
	tap_ok(memcmp(pgl_buf_ptr(b), eight, 8) == 0,
	    "contents intact after refusals");
	pgl_buf_free(b);

	/* Composite writes that would cross max must not half-write. */
	b = must_new();
	pgl_buf_set_max(b, 10);
	tap_ok(pgl_buf_put_string(b, eight, 8) == PGL_E_TOO_LARGE,
	    "put_string of 4+8 bytes under max 10 -> PGL_E_TOO_LARGE");
	tap_ok(pgl_buf_len(b) == 0,
	    "failed put_string leaves the buffer unchanged (len %zu)",
	    pgl_buf_len(b));
	pgl_buf_reset(b);
	pgl_buf_put(b, eight, 4);
	tap_ok(pgl_buf_put_u64(b, 1) == PGL_E_TOO_LARGE,
	    "put_u64 with 6 bytes of room -> PGL_E_TOO_LARGE");
	tap_ok(pgl_buf_len(b) == 4,
	    "failed put_u64 leaves the buffer unchanged (len %zu)",
	    pgl_buf_len(b));
	pgl_buf_free(b);

	/* The default limit */
	b = must_new();
	tap_ok(pgl_buf_reserve(b, PGL_BUF_MAX_DEFAULT, &p) == 0 &&
	    pgl_buf_len(b) == PGL_BUF_MAX_DEFAULT,
	    "reserve exactly PGL_BUF_MAX_DEFAULT");
	tap_ok(pgl_buf_put_u8(b, 0) == PGL_E_TOO_LARGE,
	    "default max enforced");
	pgl_buf_free(b);
}

static void
test_readonly(void)
{
	static const uint8_t data[] = { 0, 0, 0, 1, 'x', 0xee };
	struct pgl_buf *b = pgl_buf_from(data, sizeof(data));
	uint8_t *p = NULL;
	char *s = NULL;
	uint8_t v;

	tap_ok(b != NULL && pgl_buf_len(b) == sizeof(data) &&
	    pgl_buf_ptr(b) == data, "view points at caller memory");
	tap_ok(pgl_buf_put_u8(b, 1) == PGL_E_INVALID_ARG,
	    "readonly view refuses put_u8");
	tap_ok(pgl_buf_put_cstring(b, "x") == PGL_E_INVALID_ARG,
	    "readonly view refuses put_cstring");
	tap_ok(pgl_buf_reserve(b, 0, &p) == PGL_E_INVALID_ARG,
	    "readonly view refuses reserve");
	tap_ok(pgl_buf_trim_end(b, 1) == PGL_E_INVALID_ARG,
	    "readonly view refuses trim_end");
	tap_ok(pgl_buf_set_max(b, 100) == PGL_E_INVALID_ARG,
	    "readonly view refuses set_max");
	tap_ok(pgl_buf_len(b) == sizeof(data) && data[5] == 0xee,
	    "view and memory unchanged");
	tap_ok(pgl_buf_get_cstring(b, &s) == 0 && strcmp(s, "x") == 0 &&
	    pgl_buf_get_u8(b, &v) == 0 && v == 0xee, "view reads");
	free(s);
	pgl_buf_reset(b);
	tap_ok(pgl_buf_len(b) == sizeof(data), "reset rewinds a view");
	pgl_buf_free(b);
}

static void
test_trim_and_misc(void)
{
	static const uint8_t ten[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct pgl_buf *b = must_new(), *c = must_new();
	uint8_t *p = NULL, tmp[4];
	const uint8_t *sp;
	size_t n, i;
	int ok;

	/* On a fresh buffer d is NULL: trim_end(0) must not pass it to
	 * explicit_bzero (UBSan: nonnull).  Run it in a child so a
	 * sanitizer abort fails this check only. */
	{
		pid_t pid;
		int st = 0;

		fflush(stdout);
		if ((pid = fork()) == 0) {
			struct pgl_buf *e = pgl_buf_new();

			_exit(pgl_buf_trim_end(e, 0) == 0 ? 0 : 1);
		}
		waitpid(pid, &st, 0);
		tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "trim_end 0 on an empty buffer (no undefined behaviour)");
	}
	tap_ok(pgl_buf_trim_end(b, 1) == PGL_E_INVALID_ARG,
	    "trim_end 1 on an empty buffer refused");
	pgl_buf_put(b, ten, 10);
	tap_ok(pgl_buf_trim_end(b, 3) == 0 && pgl_buf_len(b) == 7 &&
	    memcmp(pgl_buf_ptr(b), ten, 7) == 0, "trim_end 3 keeps the first 7");
	tap_ok(pgl_buf_reserve(b, 3, &p) == 0 && p[0] == 0 && p[1] == 0 &&
	    p[2] == 0, "trimmed bytes were wiped");
	pgl_buf_trim_end(b, 3);
	tap_ok(pgl_buf_trim_end(b, 8) == PGL_E_INVALID_ARG && pgl_buf_len(b) == 7,
	    "trim_end more than the length refused");
	pgl_buf_get(b, tmp, 4);
	tap_ok(pgl_buf_trim_end(b, 4) == PGL_E_INVALID_ARG && pgl_buf_len(b) == 3,
	    "trim_end cannot cut into consumed bytes");
	tap_ok(pgl_buf_trim_end(b, 3) == 0 && pgl_buf_len(b) == 0,
	    "trim_end of all unread bytes");

	/* put_stringb takes the unread part of src */
	pgl_buf_reset(b);
	pgl_buf_put(b, ten, 10);
	pgl_buf_consume(b, 6);
	tap_ok(pgl_buf_put_stringb(c, b) == 0 &&
	    pgl_buf_get_string_direct(c, &sp, &n) == 0 && n == 4 &&
	    memcmp(sp, ten + 6, 4) == 0, "put_stringb copies the unread bytes");
	pgl_buf_reset(c);
	pgl_buf_reset(b);
	tap_ok(pgl_buf_put_stringb(c, b) == 0 && pgl_buf_len(c) == 4 &&
	    memcmp(pgl_buf_ptr(c), "\0\0\0\0", 4) == 0,
	    "put_stringb of an empty buffer is an empty string");
	tap_ok(pgl_buf_put_cstring(c, NULL) == 0 && pgl_buf_len(c) == 8,
	    "put_cstring(NULL) writes an empty string");
	pgl_buf_free(c);

	/* Growth: many small writes, content preserved across reallocs. */
	pgl_buf_reset(b);
	for (i = 0; i < 100000; i++)
		if (pgl_buf_put_u8(b, (uint8_t)(i * 7)) != 0)
			break;
	ok = pgl_buf_len(b) == 100000;
	for (i = 0; ok && i < 100000; i++)
		ok = pgl_buf_ptr(b)[i] == (uint8_t)(i * 7);
	tap_ok(ok, "100000 single-byte writes read back in order");
	pgl_buf_free(b);
}

static void
test_strerror(void)
{
	int r, j, ok = 1, distinct = 1;

	for (r = PGL_OK; r >= PGL_E_NEWER; r--) {
		const char *s = pgl_strerror(r);

		if (s == NULL || *s == '\0' || strcmp(s, "unknown error") == 0) {
			tap_diag("pgl_strerror(%d) = %s", r, s ? s : "(null)");
			ok = 0;
		}
	}
	for (r = PGL_E_NOMEM; r >= PGL_E_NEWER; r--)
		for (j = r - 1; j >= PGL_E_NEWER; j--)
			if (r != PGL_E_SYSTEM && j != PGL_E_SYSTEM &&
			    strcmp(pgl_strerror(r), pgl_strerror(j)) == 0)
				distinct = 0;
	tap_ok(ok, "every error code has its own message");
	tap_ok(distinct, "messages are distinct");
	tap_ok(strcmp(pgl_strerror(-999), "unknown error") == 0 &&
	    strcmp(pgl_strerror(5), "unknown error") == 0,
	    "out-of-range codes give \"unknown error\"");
}

static void
test_putf(void)
{
	struct pgl_buf *b = pgl_buf_new();
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	tap_ok(b != NULL && pgl_buf_put_u8(b, 'A') == 0 &&
	    pgl_buf_putf(b, "%s-%u%%", "ab", 42u) == 0 &&
	    pgl_buf_len(b) == 7 && memcmp(pgl_buf_ptr(b), "Aab-42%", 7) == 0,
	    "putf appends formatted text without a NUL");
	tap_ok(pgl_buf_putf(b, "%s", big) == 0 &&
	    pgl_buf_len(b) == 7 + sizeof(big) - 1 &&
	    pgl_buf_ptr(b)[pgl_buf_len(b) - 1] == 'x',
	    "putf grows the buffer past 4 KiB, nothing cut");
	tap_ok(pgl_buf_set_max(b, pgl_buf_len(b) + 3) == 0 &&
	    pgl_buf_putf(b, "%s", "abc") != 0 &&
	    pgl_buf_len(b) == 7 + sizeof(big) - 1,
	    "putf past the limit fails and adds nothing");
	tap_ok(pgl_buf_putf(b, "%s", "ab") == 0 &&
	    memcmp(pgl_buf_ptr(b) + pgl_buf_len(b) - 2, "ab", 2) == 0,
	    "putf up to the limit works (the NUL is not kept)");
	pgl_buf_free(b);
}

int
main(void)
{
	test_round_trip();
	test_truncated_reads();
	test_mpint();
	test_max();
	test_readonly();
	test_trim_and_misc();
	test_strerror();
	test_putf();
	return tap_done();
}
