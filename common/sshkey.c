/* SSH public keys: types, wire blobs, generation, signatures. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include "err.h"
#include "sshkey.h"

struct key_info {
	enum pgl_key_type type;
	const char *name;
	const char *cert_name;
	const char *sig_alg;
	const char *curve;      /* SSH curve identifier */
	const char *group;      /* OpenSSL group name */
	size_t point_len;       /* uncompressed point */
	const char *md;
};

static const struct key_info key_infos[] = {
	{ PGL_KEY_ED25519, "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
	  "ssh-ed25519", NULL, NULL, 0, NULL },
	{ PGL_KEY_ECDSA_P256, "ecdsa-sha2-nistp256",
	  "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256",
	  "nistp256", "prime256v1", 65, "SHA256" },
	{ PGL_KEY_ECDSA_P384, "ecdsa-sha2-nistp384",
	  "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384",
	  "nistp384", "secp384r1", 97, "SHA384" },
	{ PGL_KEY_ECDSA_P521, "ecdsa-sha2-nistp521",
	  "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521",
	  "nistp521", "secp521r1", 133, "SHA512" },
	{ PGL_KEY_RSA, "ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
	  "rsa-sha2-512", NULL, NULL, 0, "SHA512" },
};

/* Names OpenSSH knows that pgl deliberately refuses. */
static const char *const unsupported_names[] = {
	"ssh-dss", "sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com", "ssh-xmss@openssh.com",
};

static const struct key_info *
info_of(enum pgl_key_type t)
{
	size_t i;

	for (i = 0; i < sizeof(key_infos) / sizeof(key_infos[0]); i++)
		if (key_infos[i].type == t)
			return &key_infos[i];
	return NULL;
}

const char *
pgl_key_type_name(enum pgl_key_type t)
{
	const struct key_info *ki = info_of(t);

	return ki == NULL ? "unknown" : ki->name;
}

const char *
pgl_key_cert_type_name(enum pgl_key_type t)
{
	const struct key_info *ki = info_of(t);

	return ki == NULL ? "unknown" : ki->cert_name;
}

const char *
pgl_key_sig_alg(enum pgl_key_type t)
{
	const struct key_info *ki = info_of(t);

	return ki == NULL ? "unknown" : ki->sig_alg;
}

static int
name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

int
pgl_key_type_from_name(const char *name, size_t len, enum pgl_key_type *t)
{
	size_t i;
	const char *suffix = "-cert-v01@openssh.com";

	for (i = 0; i < sizeof(key_infos) / sizeof(key_infos[0]); i++) {
		if (name_is(name, len, key_infos[i].name)) {
			*t = key_infos[i].type;
			return 0;
		}
	}
	for (i = 0; i < sizeof(unsupported_names) / sizeof(*unsupported_names); i++)
		if (name_is(name, len, unsupported_names[i]))
			return PGL_E_KEY_TYPE_UNSUPPORTED;
	if (len > strlen(suffix) &&
	    memcmp(name + len - strlen(suffix), suffix, strlen(suffix)) == 0)
		return PGL_E_KEY_IS_CERT;
	return PGL_E_KEY_TYPE_UNKNOWN;
}

unsigned
pgl_key_bits(const struct pgl_key *k)
{
	int bits = EVP_PKEY_get_bits(k->pkey);

	return bits < 0 ? 0 : (unsigned)bits;
}

void
pgl_key_free(struct pgl_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);   /* OpenSSL clears private parts */
	pgl_buf_free(k->blob);
	free(k);
}

/* Builds an EVP_PKEY from OSSL params; selection says public or pair. */
static int
pkey_fromdata(const char *alg, OSSL_PARAM_BLD *bld, int selection,
    EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = PGL_E_CRYPTO;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, selection, params) != 1) {
		r = PGL_E_KEY_INVALID;
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return r;
}

/* Checks a public key's math: the point is on the curve, etc. */
static int
pkey_public_check(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return PGL_E_CRYPTO;
	ok = EVP_PKEY_public_check(ctx);
	EVP_PKEY_CTX_free(ctx);
	return ok == 1 ? 0 : PGL_E_KEY_INVALID;
}

static int
ecdsa_from_point(const struct key_info *ki, const uint8_t *q, size_t qlen,
    EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *pkey = NULL;
	int r = PGL_E_CRYPTO;

	if (qlen != ki->point_len || q[0] != 0x04)
		return PGL_E_KEY_INVALID;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return PGL_E_NOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    ki->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    q, qlen) != 1)
		goto out;
	if ((r = pkey_fromdata("EC", bld, EVP_PKEY_PUBLIC_KEY, &pkey)) != 0)
		goto out;
	if ((r = pkey_public_check(pkey)) != 0)
		goto out;
	*out = pkey;
	pkey = NULL;
 out:
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

static int
rsa_from_parts(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen,
    EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	EVP_PKEY *pkey = NULL;
	int r = PGL_E_CRYPTO;

	/* Bound sizes before any big-number work: a hostile blob must not
	 * cost more than a real key. */
	if (nlen * 8 > PGL_RSA_MAX_BITS || elen > 8)
		return PGL_E_KEY_INVALID;
	if ((e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3))
		return PGL_E_KEY_INVALID;
	if ((n[nlen - 1] & 1) == 0)
		return PGL_E_KEY_INVALID;
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (BN_num_bits(bn) < PGL_RSA_MIN_BITS) {
		r = PGL_E_KEY_TOO_SMALL;
		goto out;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1)
		goto out;
	if ((r = pkey_fromdata("RSA", bld, EVP_PKEY_PUBLIC_KEY, &pkey)) != 0)
		goto out;
	*out = pkey;
	pkey = NULL;
 out:
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return r;
}

int
pgl_key_from_blob(const uint8_t *p, size_t n, struct pgl_key **out)
{
	struct pgl_buf *b;
	const struct key_info *ki;
	enum pgl_key_type t = PGL_KEY_UNSPEC;
	const uint8_t *name, *a, *c;
	size_t namelen, alen, clen;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((b = pgl_buf_from(p, n)) == NULL)
		return PGL_E_NOMEM;
	if ((r = pgl_buf_get_string_direct(b, &name, &namelen)) != 0)
		goto out;
	if ((r = pgl_key_type_from_name((const char *)name, namelen, &t)) != 0)
		goto out;
	ki = info_of(t);
	switch (t) {
	case PGL_KEY_ED25519:
		if ((r = pgl_buf_get_string_direct(b, &a, &alen)) != 0)
			goto out;
		if (alen != 32) {
			r = PGL_E_KEY_INVALID;
			goto out;
		}
		if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    a, alen)) == NULL) {
			r = PGL_E_KEY_INVALID;
			goto out;
		}
		break;
	case PGL_KEY_ECDSA_P256:
	case PGL_KEY_ECDSA_P384:
	case PGL_KEY_ECDSA_P521:
		if ((r = pgl_buf_get_string_direct(b, &a, &alen)) != 0 ||
		    (r = pgl_buf_get_string_direct(b, &c, &clen)) != 0)
			goto out;
		if (!name_is((const char *)a, alen, ki->curve)) {
			r = PGL_E_KEY_TYPE_MISMATCH;
			goto out;
		}
		if ((r = ecdsa_from_point(ki, c, clen, &pkey)) != 0)
			goto out;
		break;
	case PGL_KEY_RSA:
		if ((r = pgl_buf_get_mpint_direct(b, &a, &alen)) != 0 ||
		    (r = pgl_buf_get_mpint_direct(b, &c, &clen)) != 0)
			goto out;
		if ((r = rsa_from_parts(a, alen, c, clen, &pkey)) != 0)
			goto out;
		break;
	default:
		r = PGL_E_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if (pgl_buf_len(b) != 0) {
		r = PGL_E_TRAILING;
		goto out;
	}
	r = pgl_key_new(t, pkey, out);
	pkey = NULL;
 out:
	EVP_PKEY_free(pkey);
	pgl_buf_free(b);
	return r;
}

static int
put_bn_param(EVP_PKEY *pkey, const char *param, struct pgl_buf *b)
{
	BIGNUM *bn = NULL;
	uint8_t *tmp = NULL;
	int len, r = PGL_E_CRYPTO;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		goto out;
	len = BN_num_bytes(bn);
	if ((tmp = malloc(len > 0 ? (size_t)len : 1)) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	BN_bn2bin(bn, tmp);
	r = pgl_buf_put_mpint_bytes(b, tmp, (size_t)len);
 out:
	if (tmp != NULL) {
		explicit_bzero(tmp, (size_t)len);
		free(tmp);
	}
	BN_clear_free(bn);
	return r;
}

static int
put_ec_point(EVP_PKEY *pkey, struct pgl_buf *b)
{
	uint8_t q[160];
	size_t qlen = 0;

	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY,
	    q, sizeof(q), &qlen) != 1)
		return PGL_E_CRYPTO;
	return pgl_buf_put_string(b, q, qlen);
}

static int
encode_fields(enum pgl_key_type t, EVP_PKEY *pkey, struct pgl_buf *b)
{
	const struct key_info *ki = info_of(t);
	uint8_t pk[32];
	size_t pklen = sizeof(pk);
	int r;

	switch (t) {
	case PGL_KEY_ED25519:
		if (EVP_PKEY_get_raw_public_key(pkey, pk, &pklen) != 1)
			return PGL_E_CRYPTO;
		return pgl_buf_put_string(b, pk, pklen);
	case PGL_KEY_ECDSA_P256:
	case PGL_KEY_ECDSA_P384:
	case PGL_KEY_ECDSA_P521:
		if ((r = pgl_buf_put_cstring(b, ki->curve)) != 0)
			return r;
		return put_ec_point(pkey, b);
	case PGL_KEY_RSA:
		if ((r = put_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, b)) != 0)
			return r;
		return put_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, b);
	default:
		return PGL_E_KEY_TYPE_UNKNOWN;
	}
}

int
pgl_key_new(enum pgl_key_type t, EVP_PKEY *pkey, struct pgl_key **out)
{
	struct pgl_key *k;
	int r;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return PGL_E_NOMEM;
	}
	k->type = t;
	k->pkey = pkey;
	if ((k->blob = pgl_buf_new()) == NULL) {
		pgl_key_free(k);
		return PGL_E_NOMEM;
	}
	if ((r = pgl_buf_put_cstring(k->blob, pgl_key_type_name(t))) != 0 ||
	    (r = encode_fields(t, pkey, k->blob)) != 0) {
		pgl_key_free(k);
		return r;
	}
	*out = k;
	return 0;
}

int
pgl_key_put_public(const struct pgl_key *k, struct pgl_buf *b)
{
	return pgl_buf_put(b, pgl_buf_ptr(k->blob), pgl_buf_len(k->blob));
}

int
pgl_key_put_public_fields(const struct pgl_key *k, struct pgl_buf *b)
{
	/* The blob is string(type name) followed by the fields. */
	size_t skip = 4 + strlen(pgl_key_type_name(k->type));

	return pgl_buf_put(b, pgl_buf_ptr(k->blob) + skip,
	    pgl_buf_len(k->blob) - skip);
}

int
pgl_key_equal_public(const struct pgl_key *a, const struct pgl_key *b)
{
	return a->type == b->type &&
	    pgl_buf_len(a->blob) == pgl_buf_len(b->blob) &&
	    memcmp(pgl_buf_ptr(a->blob), pgl_buf_ptr(b->blob),
	    pgl_buf_len(a->blob)) == 0;
}

int
pgl_key_generate(enum pgl_key_type t, unsigned bits, struct pgl_key **out)
{
	EVP_PKEY *pkey = NULL;

	switch (t) {
	case PGL_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case PGL_KEY_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case PGL_KEY_ECDSA_P384:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case PGL_KEY_ECDSA_P521:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
		break;
	case PGL_KEY_RSA:
		if (bits == 0)
			bits = PGL_RSA_CA_MIN_BITS;
		if (bits < PGL_RSA_MIN_BITS || bits > PGL_RSA_MAX_BITS)
			return PGL_E_INVALID_ARG;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		return PGL_E_INVALID_ARG;
	}
	if (pkey == NULL)
		return PGL_E_CRYPTO;
	return pgl_key_new(t, pkey, out);
}

/* ECDSA: OpenSSL gives DER; SSH wants string(mpint r, mpint s). */
static int
put_ecdsa_sig(const uint8_t *der, size_t derlen, struct pgl_buf *b)
{
	ECDSA_SIG *esig;
	const BIGNUM *br, *bs;
	struct pgl_buf *inner = NULL;
	uint8_t tmp[80];
	int len, r = PGL_E_CRYPTO;

	if ((esig = d2i_ECDSA_SIG(NULL, &der, (long)derlen)) == NULL)
		return PGL_E_CRYPTO;
	if ((inner = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	ECDSA_SIG_get0(esig, &br, &bs);
	if ((len = BN_bn2bin(br, tmp)) < 0 ||
	    (r = pgl_buf_put_mpint_bytes(inner, tmp, (size_t)len)) != 0)
		goto out;
	if ((len = BN_bn2bin(bs, tmp)) < 0 ||
	    (r = pgl_buf_put_mpint_bytes(inner, tmp, (size_t)len)) != 0)
		goto out;
	r = pgl_buf_put_stringb(b, inner);
 out:
	pgl_buf_free(inner);
	ECDSA_SIG_free(esig);
	return r;
}

int
pgl_key_sign(const struct pgl_key *k, const uint8_t *data, size_t n,
    struct pgl_buf *sig)
{
	const struct key_info *ki = info_of(k->type);
	EVP_MD_CTX *ctx = NULL;
	uint8_t raw[2048];      /* RSA 16384 bits is 2048 bytes */
	size_t rawlen = sizeof(raw);
	struct pgl_buf *body = NULL;
	int r = PGL_E_CRYPTO;

	if (ki == NULL)
		return PGL_E_KEY_TYPE_UNKNOWN;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    (body = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit_ex(ctx, NULL, ki->md, NULL, NULL, k->pkey,
	    NULL) != 1 ||
	    EVP_DigestSign(ctx, raw, &rawlen, data, n) != 1)
		goto out;
	if ((r = pgl_buf_put_cstring(body, ki->sig_alg)) != 0)
		goto out;
	if (ki->curve != NULL)
		r = put_ecdsa_sig(raw, rawlen, body);
	else
		r = pgl_buf_put_string(body, raw, rawlen);
	if (r != 0)
		goto out;
	r = pgl_buf_put(sig, pgl_buf_ptr(body), pgl_buf_len(body));
 out:
	pgl_buf_free(body);
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ECDSA: string(mpint r, mpint s) back to DER for OpenSSL. */
static int
ecdsa_sig_to_der(const uint8_t *p, size_t n, uint8_t **der, size_t *derlen)
{
	struct pgl_buf *b;
	const uint8_t *rp, *sp;
	size_t rl, sl;
	BIGNUM *br = NULL, *bs = NULL;
	ECDSA_SIG *esig = NULL;
	unsigned char *d = NULL;
	int len, r = PGL_E_FORMAT;

	if ((b = pgl_buf_from(p, n)) == NULL)
		return PGL_E_NOMEM;
	if (pgl_buf_get_mpint_direct(b, &rp, &rl) != 0 ||
	    pgl_buf_get_mpint_direct(b, &sp, &sl) != 0 ||
	    pgl_buf_len(b) != 0 || rl > 66 || sl > 66)
		goto out;
	r = PGL_E_CRYPTO;
	if ((br = BN_bin2bn(rp, (int)rl, NULL)) == NULL ||
	    (bs = BN_bin2bn(sp, (int)sl, NULL)) == NULL ||
	    (esig = ECDSA_SIG_new()) == NULL)
		goto out;
	if (ECDSA_SIG_set0(esig, br, bs) != 1)
		goto out;
	br = bs = NULL;
	if ((len = i2d_ECDSA_SIG(esig, &d)) <= 0)
		goto out;
	*der = d;
	*derlen = (size_t)len;
	r = 0;
 out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(esig);
	pgl_buf_free(b);
	return r;
}

int
pgl_key_verify(const struct pgl_key *k, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t n)
{
	const struct key_info *ki = info_of(k->type);
	struct pgl_buf *b;
	const uint8_t *alg, *s;
	size_t alglen, slen, verlen;
	uint8_t *der = NULL;
	const uint8_t *ver;
	EVP_MD_CTX *ctx = NULL;
	int r;

	if (ki == NULL)
		return PGL_E_KEY_TYPE_UNKNOWN;
	if ((b = pgl_buf_from(sig, siglen)) == NULL)
		return PGL_E_NOMEM;
	if ((r = pgl_buf_get_string_direct(b, &alg, &alglen)) != 0 ||
	    (r = pgl_buf_get_string_direct(b, &s, &slen)) != 0)
		goto out;
	r = PGL_E_FORMAT;
	if (pgl_buf_len(b) != 0 || !name_is((const char *)alg, alglen, ki->sig_alg))
		goto out;
	ver = s;
	verlen = slen;
	if (ki->curve != NULL) {
		if ((r = ecdsa_sig_to_der(s, slen, &der, &verlen)) != 0)
			goto out;
		ver = der;
	}
	r = PGL_E_CRYPTO;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(ctx, NULL, ki->md, NULL, NULL, k->pkey,
	    NULL) != 1)
		goto out;
	r = EVP_DigestVerify(ctx, ver, verlen, data, n) == 1 ? 0 :
	    PGL_E_KEY_INVALID;
 out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	pgl_buf_free(b);
	return r;
}
