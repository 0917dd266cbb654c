/* An OpenSSH certificate, read field by field:
 *   string type, string nonce, <public key fields>, uint64 serial,
 *   uint32 type, string key_id, string principals, uint64 valid_after,
 *   uint64 valid_before, string critical, string extensions,
 *   string reserved, string signature_key, string signature */
#include <string.h>

#include "err.h"
#include "certinfo.h"

static const enum pgl_key_type types[] = {
	PGL_KEY_ED25519, PGL_KEY_ECDSA_P256, PGL_KEY_ECDSA_P384,
	PGL_KEY_ECDSA_P521, PGL_KEY_RSA,
};

int
certinfo_parse(const char *line, size_t len, const struct pgl_key *key,
    struct pgl_key *const *cas, size_t ncas, struct certinfo *out,
    struct host_err *e)
{
	struct pgl_buf *blob = NULL, *b = NULL, *fields = NULL;
	struct pgl_key *ca = NULL;
	struct certinfo ci;
	enum pgl_key_type t = PGL_KEY_UNSPEC;
	const uint8_t *start, *p, *kstart, *sig;
	const char *sp, *b64;
	size_t i, n, tlen, klen, siglen, signed_len;
	int r = -1;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if ((sp = memchr(line, ' ', len)) == NULL)
		return herr(e, "not a certificate line");
	tlen = (size_t)(sp - line);
	b64 = sp + 1;
	n = len - tlen - 1;
	if ((sp = memchr(b64, ' ', n)) != NULL)
		n = (size_t)(sp - b64);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(pgl_key_cert_type_name(types[i])) == tlen &&
		    memcmp(pgl_key_cert_type_name(types[i]), line, tlen) == 0)
			t = types[i];
	if (t == PGL_KEY_UNSPEC)
		return herr(e, "not an OpenSSH certificate of a supported type");
	if ((blob = pgl_buf_new()) == NULL)
		return herr(e, "out of memory");
	if (pgl_b64_decode(b64, n, blob) != 0) {
		herr(e, "certificate: bad base64");
		goto out;
	}
	start = pgl_buf_ptr(blob);
	if ((b = pgl_buf_from(start, pgl_buf_len(blob))) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	memset(&ci, 0, sizeof(ci));
	if (pgl_buf_get_string_direct(b, &p, &n) != 0 || n != tlen ||
	    memcmp(p, line, tlen) != 0 ||
	    pgl_buf_get_string_direct(b, &p, &n) != 0)  /* nonce */
		goto bad;
	/* The subject key's fields: one string for Ed25519, two (curve
	 * and point, or e and n) for ECDSA and RSA. */
	kstart = pgl_buf_ptr(b);
	for (i = 0; i < (t == PGL_KEY_ED25519 ? 1u : 2u); i++)
		if (pgl_buf_get_string_direct(b, &p, &n) != 0)
			goto bad;
	klen = (size_t)(pgl_buf_ptr(b) - kstart);
	if (pgl_buf_get_u64(b, &ci.serial) != 0 ||
	    pgl_buf_get_u32(b, &ci.type) != 0 ||
	    pgl_buf_get_string_direct(b, &p, &n) != 0 ||       /* key id */
	    pgl_buf_get_string_direct(b, &p, &n) != 0 ||       /* principals */
	    pgl_buf_get_u64(b, &ci.valid_after) != 0 ||
	    pgl_buf_get_u64(b, &ci.valid_before) != 0 ||
	    pgl_buf_get_string_direct(b, &p, &n) != 0 ||       /* critical */
	    pgl_buf_get_string_direct(b, &p, &n) != 0 ||       /* extensions */
	    pgl_buf_get_string_direct(b, &p, &n) != 0 ||       /* reserved */
	    pgl_buf_get_string_direct(b, &p, &n) != 0)         /* CA key */
		goto bad;
	signed_len = (size_t)(pgl_buf_ptr(b) - start);
	if (pgl_key_from_blob(p, n, &ca) != 0 ||
	    pgl_buf_get_string_direct(b, &sig, &siglen) != 0 ||
	    pgl_buf_len(b) != 0)
		goto bad;
	if (ci.valid_after >= ci.valid_before) {
		herr(e, "certificate: empty validity interval");
		goto out;
	}
	if (key != NULL) {
		if (key->type != t || (fields = pgl_buf_new()) == NULL ||
		    pgl_key_put_public_fields(key, fields) != 0 ||
		    pgl_buf_len(fields) != klen ||
		    memcmp(pgl_buf_ptr(fields), kstart, klen) != 0) {
			herr(e, "the certificate is not for this host key");
			goto out;
		}
	}
	if (ncas > 0) {
		for (i = 0; i < ncas; i++)
			if (pgl_key_equal_public(ca, cas[i]))
				break;
		if (i == ncas) {
			herr(e, "the certificate is not signed by the host CA");
			goto out;
		}
		if (pgl_key_verify(ca, sig, siglen, start, signed_len) != 0) {
			herr(e, "the certificate's signature does not verify");
			goto out;
		}
	}
	*out = ci;
	r = 0;
	goto out;
 bad:
	herr(e, "certificate: malformed");
 out:
	pgl_key_free(ca);
	pgl_buf_free(fields);
	pgl_buf_free(b);
	pgl_buf_free(blob);
	return r;
}

int
certinfo_renewal_due(const struct certinfo *ci, uint64_t now)
{
	uint64_t life = ci->valid_before - ci->valid_after;

	return now >= ci->valid_before || ci->valid_before - now < life / 3;
}
