/* Text forms of SSH keys: base64, public key lines, fingerprints. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "sshkey.h"
#include "text.h"

/* The 6-bit value of a base64 digit, or -1. */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
pgl_b64_decode(const char *s, size_t n, struct pgl_buf *out)
{
	size_t i, pad = 0, outlen;
	uint8_t *dst;
	int r, got;

	if (n == 0 || n % 4 != 0 || n > (size_t)INT32_MAX)
		return PGL_E_FORMAT;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++)
		if (b64_value((unsigned char)s[i]) < 0)
			return PGL_E_FORMAT;
	/* Canonical: the bits the padding leaves unused must be zero, so
	 * one key has exactly one text form (as OpenSSH's b64_pton). */
	if (pad == 1 && (b64_value((unsigned char)s[n - 2]) & 0x3) != 0)
		return PGL_E_FORMAT;
	if (pad == 2 && (b64_value((unsigned char)s[n - 3]) & 0xf) != 0)
		return PGL_E_FORMAT;
	outlen = n / 4 * 3;
	/* EVP_DecodeBlock writes whole groups, padding included. */
	if ((r = pgl_buf_reserve(out, outlen, &dst)) != 0)
		return r;
	got = EVP_DecodeBlock(dst, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got != outlen) {
		pgl_buf_trim_end(out, outlen);
		return PGL_E_FORMAT;
	}
	return pgl_buf_trim_end(out, pad);
}

int
pgl_b64_encode(const uint8_t *p, size_t n, struct pgl_buf *out)
{
	size_t enclen;
	uint8_t *dst;
	int r;

	if (n > (size_t)INT32_MAX / 2)
		return PGL_E_TOO_LARGE;
	enclen = (n + 2) / 3 * 4;
	if ((r = pgl_buf_reserve(out, enclen + 1, &dst)) != 0)
		return r;
	EVP_EncodeBlock(dst, p, (int)n);
	/* Keep the NUL out of the data; trimming zeroes it, so it stays a
	 * terminator until the next write. */
	return pgl_buf_trim_end(out, 1);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t';
}

int
pgl_key_parse_public_line(const char *s, size_t n, struct pgl_key **out,
    char **comment)
{
	const char *type, *b64, *rest, *end = s + n;
	size_t typelen, b64len, i;
	struct pgl_buf *blob = NULL;
	struct pgl_key *k = NULL;
	enum pgl_key_type t, bt;
	char *c = NULL;
	int r;

	if (n > PGL_PUBKEY_LINE_MAX)
		return PGL_E_TOO_LARGE;
	/* One line: a single trailing newline (CRLF too) is allowed. */
	if (n > 0 && end[-1] == '\n')
		end--;
	if (end > s && end[-1] == '\r')
		end--;
	for (i = 0; i < (size_t)(end - s); i++)
		if (s[i] == '\0' || s[i] == '\n' || s[i] == '\r')
			return PGL_E_FORMAT;
	while (s < end && is_space(*s))
		s++;
	type = s;
	while (s < end && !is_space(*s))
		s++;
	typelen = (size_t)(s - type);
	if (typelen == 0)
		return PGL_E_FORMAT;
	if ((r = pgl_key_type_from_name(type, typelen, &t)) != 0)
		return r;
	while (s < end && is_space(*s))
		s++;
	b64 = s;
	while (s < end && !is_space(*s))
		s++;
	b64len = (size_t)(s - b64);
	while (s < end && is_space(*s))
		s++;
	rest = s;
	if ((blob = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	if ((r = pgl_b64_decode(b64, b64len, blob)) != 0)
		goto out;
	if ((r = pgl_key_from_blob(pgl_buf_ptr(blob), pgl_buf_len(blob), &k)) != 0)
		goto out;
	bt = k->type;
	if (bt != t) {
		r = PGL_E_KEY_TYPE_MISMATCH;
		goto out;
	}
	if (comment != NULL) {
		while (end > rest && is_space(end[-1]))
			end--;
		if (pgl_has_ctrl_n(rest, (size_t)(end - rest))) {
			r = PGL_E_CTRL_CHAR;
			goto out;
		}
		if ((c = strndup(rest, (size_t)(end - rest))) == NULL) {
			r = PGL_E_NOMEM;
			goto out;
		}
		*comment = c;
	}
	*out = k;
	k = NULL;
 out:
	pgl_key_free(k);
	pgl_buf_free(blob);
	return r;
}

int
pgl_key_format_public_line(const struct pgl_key *k, const char *comment,
    char **out)
{
	struct pgl_buf *blob = NULL, *txt = NULL;
	char *s = NULL;
	int r;

	if ((blob = pgl_buf_new()) == NULL || (txt = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_key_put_public(k, blob)) != 0 ||
	    (r = pgl_b64_encode(pgl_buf_ptr(blob), pgl_buf_len(blob), txt)) != 0)
		goto out;
	if (asprintf(&s, "%s %s%s%s", pgl_key_type_name(k->type),
	    (const char *)pgl_buf_ptr(txt), comment != NULL && *comment ? " " : "",
	    comment != NULL ? comment : "") < 0) {
		r = PGL_E_NOMEM;
		goto out;
	}
	*out = s;
 out:
	pgl_buf_free(blob);
	pgl_buf_free(txt);
	return r;
}

int
pgl_key_fingerprint(const struct pgl_key *k, char **out)
{
	struct pgl_buf *blob = NULL, *txt = NULL;
	uint8_t md[32];
	unsigned mdlen = sizeof(md);
	size_t len;
	char *s = NULL;
	int r;

	if ((blob = pgl_buf_new()) == NULL || (txt = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_key_put_public(k, blob)) != 0)
		goto out;
	if (EVP_Digest(pgl_buf_ptr(blob), pgl_buf_len(blob), md, &mdlen,
	    EVP_sha256(), NULL) != 1) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	if ((r = pgl_b64_encode(md, mdlen, txt)) != 0)
		goto out;
	/* ssh-keygen prints the digest without base64 padding. */
	len = pgl_buf_len(txt);
	while (len > 0 && pgl_buf_ptr(txt)[len - 1] == '=')
		len--;
	if (asprintf(&s, "SHA256:%.*s", (int)len,
	    (const char *)pgl_buf_ptr(txt)) < 0) {
		r = PGL_E_NOMEM;
		goto out;
	}
	*out = s;
 out:
	pgl_buf_free(blob);
	pgl_buf_free(txt);
	return r;
}
