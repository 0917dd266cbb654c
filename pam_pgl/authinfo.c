/* SSH_AUTH_INFO_0 and the certificate in it (OpenSSH PROTOCOL.certkeys):
 *
 *	string	type ("...-cert-v01@openssh.com")
 *	string	nonce
 *	...	the public key's fields, by type
 *	uint64	serial
 *	uint32	type (1 user, 2 host)
 *	string	key id
 *	string	valid principals
 *	uint64	valid after, valid before
 *	string	critical options, extensions, reserved
 *	string	signature key, signature
 *
 * The whole blob is walked so that a malformed one is refused as a
 * whole, not half-read. */
#include <string.h>

#include "authinfo.h"
#include "buf.h"
#include "err.h"

/* Number of SSH strings (mpints read as strings) holding each type's
 * public key, between the nonce and the serial. */
static const struct {
	const char *name;
	int nfields;
} cert_types[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", 1 },
	{ "ssh-rsa-cert-v01@openssh.com", 2 },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", 2 },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", 2 },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", 2 },
	{ "sk-ssh-ed25519-cert-v01@openssh.com", 2 },
	{ "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", 3 },
	{ "ssh-dss-cert-v01@openssh.com", 4 },
};

#define CERT_SUFFIX "-cert-v01@openssh.com"

static int
b64val(unsigned char c)
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

/* Strict base64 (RFC 4648, padded, no whitespace) into out[max]. */
static int
b64_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	uint32_t acc = 0;
	int v, k;

	if (n == 0 || n % 4 != 0)
		return PGL_E_FORMAT;
	if (n / 4 * 3 > max)
		return PGL_E_TOO_LARGE;
	if (s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	for (i = 0; i < n; i += 4) {
		acc = 0;
		for (k = 0; k < 4; k++) {
			if (i + (size_t)k >= n - pad) {
				acc <<= 6;
				continue;
			}
			if ((v = b64val((unsigned char)s[i + (size_t)k])) < 0)
				return PGL_E_FORMAT;
			acc = acc << 6 | (uint32_t)v;
		}
		out[o++] = (uint8_t)(acc >> 16);
		out[o++] = (uint8_t)(acc >> 8);
		out[o++] = (uint8_t)acc;
	}
	o -= pad;
	/* Non-canonical: bits set in the padding. */
	if ((pad == 1 && (acc & 0xff) != 0) ||
	    (pad == 2 && (acc & 0xffff) != 0))
		return PGL_E_FORMAT;
	*outlen = o;
	return 0;
}

/* Escapes p[0..n) into out (PGL_AUTHINFO_KEYID_MAX + 4 bytes). */
static void
escape_key_id(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (o + 4 > PGL_AUTHINFO_KEYID_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' &&
		    p[i] != '"')
			out[o++] = (char)p[i];
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[p[i] >> 4];
			out[o++] = hex[p[i] & 0xf];
		}
	}
	out[o] = '\0';
}

int
pgl_authinfo_cert(const uint8_t *blob, size_t n, const char *type,
    size_t typelen, struct pgl_authinfo *out)
{
	struct pgl_authinfo t;
	struct pgl_buf *b = NULL;
	const uint8_t *p, *id;
	size_t len, idlen, i;
	uint64_t u64;
	int nfields = -1, r, k;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < sizeof(cert_types) / sizeof(cert_types[0]); i++)
		if (strlen(cert_types[i].name) == typelen &&
		    memcmp(cert_types[i].name, type, typelen) == 0)
			nfields = cert_types[i].nfields;
	if (nfields < 0)
		return PGL_E_KEY_TYPE_UNSUPPORTED;
	if ((b = pgl_buf_from(blob, n)) == NULL)
		return PGL_E_NOMEM;
	/* The blob names its own type: it must be the line's. */
	if ((r = pgl_buf_get_string_direct(b, &p, &len)) != 0)
		goto out;
	if (len != typelen || memcmp(p, type, typelen) != 0) {
		r = PGL_E_KEY_TYPE_MISMATCH;
		goto out;
	}
	memcpy(t.type, type, typelen);
	/* nonce, then the public key */
	for (k = 0; k < 1 + nfields; k++)
		if ((r = pgl_buf_get_string_direct(b, NULL, NULL)) != 0)
			goto out;
	if ((r = pgl_buf_get_u64(b, &t.serial)) != 0 ||
	    (r = pgl_buf_get_u32(b, &t.cert_type)) != 0 ||
	    (r = pgl_buf_get_string_direct(b, &id, &idlen)) != 0 ||
	    (r = pgl_buf_get_string_direct(b, NULL, NULL)) != 0 ||
	    (r = pgl_buf_get_u64(b, &u64)) != 0 ||
	    (r = pgl_buf_get_u64(b, &u64)) != 0)
		goto out;
	/* critical options, extensions, reserved, signature key, signature */
	for (k = 0; k < 5; k++)
		if ((r = pgl_buf_get_string_direct(b, NULL, NULL)) != 0)
			goto out;
	if (pgl_buf_len(b) != 0) {
		r = PGL_E_TRAILING;
		goto out;
	}
	if (t.cert_type != 1 && t.cert_type != 2) {
		r = PGL_E_FORMAT;
		goto out;
	}
	escape_key_id(id, idlen, t.key_id);
	*out = t;
	r = 0;
 out:
	pgl_buf_free(b);
	return r;
}

/* One line: "publickey TYPE BASE64[ more]".  PGL_E_NOT_FOUND if it is
 * not a certificate line. */
static int
parse_line(const char *s, size_t n, uint8_t *blob, struct pgl_authinfo *out)
{
	const char *type, *b64, *end = s + n;
	size_t typelen, b64len, bloblen;
	int r;

	if (n < 10 || memcmp(s, "publickey ", 10) != 0)
		return PGL_E_NOT_FOUND;
	type = s + 10;
	if ((b64 = memchr(type, ' ', (size_t)(end - type))) == NULL)
		return PGL_E_NOT_FOUND;
	typelen = (size_t)(b64 - type);
	if (typelen < sizeof(CERT_SUFFIX) - 1 || memcmp(type + typelen -
	    (sizeof(CERT_SUFFIX) - 1), CERT_SUFFIX, sizeof(CERT_SUFFIX) - 1) != 0)
		return PGL_E_NOT_FOUND;
	b64++;
	/* sshd may append more after the key: stop at the next space. */
	b64len = (size_t)(end - b64);
	if ((s = memchr(b64, ' ', b64len)) != NULL)
		b64len = (size_t)(s - b64);
	if ((r = b64_decode(b64, b64len, blob, PGL_AUTHINFO_BLOB_MAX,
	    &bloblen)) != 0)
		return r;
	return pgl_authinfo_cert(blob, bloblen, type, typelen, out);
}

int
pgl_authinfo_parse(const char *s, size_t len, struct pgl_authinfo *out)
{
	uint8_t blob[PGL_AUTHINFO_BLOB_MAX];
	const char *nul, *nl;
	size_t n;
	int r;

	if (s == NULL || out == NULL)
		return PGL_E_INVALID_ARG;
	if ((nul = memchr(s, '\0', len)) != NULL)
		len = (size_t)(nul - s);
	if (len > PGL_AUTHINFO_MAX)
		return PGL_E_TOO_LARGE;
	while (len > 0) {
		nl = memchr(s, '\n', len);
		n = nl != NULL ? (size_t)(nl - s) : len;
		if ((r = parse_line(s, n, blob, out)) != PGL_E_NOT_FOUND)
			return r;
		if (nl == NULL)
			break;
		len -= n + 1;
		s = nl + 1;
	}
	return PGL_E_NOT_FOUND;
}
