/* Private keys: OpenSSH's "openssh-key-v1" format (unencrypted) both
 * ways, and PEM (PKCS#8 or traditional) in.  Everything that held key
 * material is wiped before it is freed. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "err.h"
#include "sshkey.h"

#define MARK_BEGIN      "-----BEGIN OPENSSH PRIVATE KEY-----"
#define MARK_END        "-----END OPENSSH PRIVATE KEY-----"
#define AUTH_MAGIC      "openssh-key-v1"        /* with its NUL */
#define BLOCK_NONE      8                       /* cipher "none" */
#define B64_LINE        70
#define PRIVATE_MAX     (64 * 1024)

static const char *const group_of[] = {
	[PGL_KEY_ECDSA_P256] = "prime256v1",
	[PGL_KEY_ECDSA_P384] = "secp384r1",
	[PGL_KEY_ECDSA_P521] = "secp521r1",
};

static int
is_ecdsa(enum pgl_key_type t)
{
	return t == PGL_KEY_ECDSA_P256 || t == PGL_KEY_ECDSA_P384 ||
	    t == PGL_KEY_ECDSA_P521;
}

/* RSA: n = p*q, e*d = 1 mod (p-1) and mod (q-1), and the CRT values
 * match (a wrong one makes signatures that reveal a factor).  OpenSSL's
 * pairwise check also tests p and q for primality, which costs more
 * than 100 ms a load; OpenSSH does not do that either. */
static int
rsa_check(EVP_PKEY *pkey)
{
	enum { N, E, D, P, Q, DP, DQ, QINV, NV };
	static const char *const names[NV] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_FACTOR1,
		OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	BIGNUM *v[NV] = { 0 }, *t = NULL, *ed = NULL, *m = NULL;
	BN_CTX *ctx = NULL;
	size_t i;
	int r = PGL_E_CRYPTO;

	for (i = 0; i < NV; i++)
		if (EVP_PKEY_get_bn_param(pkey, names[i], &v[i]) != 1)
			goto out;
	if ((ctx = BN_CTX_secure_new()) == NULL || (t = BN_secure_new()) == NULL ||
	    (ed = BN_secure_new()) == NULL || (m = BN_secure_new()) == NULL ||
	    BN_mul(t, v[P], v[Q], ctx) != 1 || BN_mul(ed, v[E], v[D], ctx) != 1)
		goto out;
	r = PGL_E_KEY_INVALID;
	if (BN_cmp(t, v[N]) != 0 || BN_is_one(v[P]) || BN_is_one(v[Q]))
		goto out;
	for (i = P; i <= Q; i++) {
		/* e*d = 1 mod (f-1), and the CRT exponent is d mod (f-1) */
		if (BN_sub(t, v[i], BN_value_one()) != 1 ||
		    BN_mod(m, ed, t, ctx) != 1)
			goto crypto;
		if (!BN_is_one(m))
			goto out;
		if (BN_mod(m, v[D], t, ctx) != 1)
			goto crypto;
		if (BN_cmp(m, v[i == P ? DP : DQ]) != 0)
			goto out;
	}
	/* qinv * q = 1 mod p */
	if (BN_mod_mul(m, v[QINV], v[Q], v[P], ctx) != 1)
		goto crypto;
	if (!BN_is_one(m))
		goto out;
	r = 0;
	goto out;
 crypto:
	r = PGL_E_CRYPTO;
 out:
	for (i = 0; i < NV; i++)
		BN_clear_free(v[i]);
	BN_clear_free(t);
	BN_clear_free(ed);
	BN_clear_free(m);
	BN_CTX_free(ctx);
	return r;
}

/* The private half matches the public half. */
static int
private_check(enum pgl_key_type t, EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx;
	int ok;

	if (t == PGL_KEY_RSA)
		return rsa_check(pkey);
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL)
		return PGL_E_CRYPTO;
	ok = EVP_PKEY_pairwise_check(ctx);
	EVP_PKEY_CTX_free(ctx);
	return ok == 1 ? 0 : PGL_E_KEY_INVALID;
}

static int
keypair_fromdata(enum pgl_key_type t, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	const char *alg = t == PGL_KEY_RSA ? "RSA" : "EC";
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = PGL_E_CRYPTO;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1) {
		r = PGL_E_KEY_INVALID;
		goto out;
	}
	if ((r = private_check(t, pkey)) != 0)
		goto out;
	*out = pkey;
	pkey = NULL;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);    /* OSSL_PARAM_free clears secure copies */
	return r;
}

static int
ed25519_private(struct pgl_buf *b, EVP_PKEY **out)
{
	const uint8_t *pk, *sk;
	size_t pklen, sklen;
	uint8_t derived[32];
	size_t dlen = sizeof(derived);
	EVP_PKEY *pkey;
	int r;

	if ((r = pgl_buf_get_string_direct(b, &pk, &pklen)) != 0 ||
	    (r = pgl_buf_get_string_direct(b, &sk, &sklen)) != 0)
		return r;
	/* sk is seed || public key */
	if (pklen != 32 || sklen != 64 || memcmp(sk + 32, pk, 32) != 0)
		return PGL_E_KEY_INVALID;
	if ((pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    sk, 32)) == NULL)
		return PGL_E_KEY_INVALID;
	if (EVP_PKEY_get_raw_public_key(pkey, derived, &dlen) != 1 ||
	    dlen != 32 || memcmp(derived, pk, 32) != 0) {
		EVP_PKEY_free(pkey);
		return PGL_E_KEY_INVALID;
	}
	*out = pkey;
	return 0;
}

static int
ecdsa_private(enum pgl_key_type t, struct pgl_buf *b, EVP_PKEY **out)
{
	static const char *const curve_of[] = {
		[PGL_KEY_ECDSA_P256] = "nistp256",
		[PGL_KEY_ECDSA_P384] = "nistp384",
		[PGL_KEY_ECDSA_P521] = "nistp521",
	};
	const uint8_t *curve, *q, *d;
	size_t curvelen, qlen, dlen;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *bd = NULL;
	int r;

	if ((r = pgl_buf_get_string_direct(b, &curve, &curvelen)) != 0 ||
	    (r = pgl_buf_get_string_direct(b, &q, &qlen)) != 0 ||
	    (r = pgl_buf_get_mpint_direct(b, &d, &dlen)) != 0)
		return r;
	if (curvelen != strlen(curve_of[t]) ||
	    memcmp(curve, curve_of[t], curvelen) != 0)
		return PGL_E_KEY_TYPE_MISMATCH;
	if (qlen == 0 || qlen > 133 || dlen > 66)
		return PGL_E_KEY_INVALID;
	r = PGL_E_CRYPTO;
	if ((bd = BN_secure_new()) == NULL ||
	    BN_bin2bn(d, (int)dlen, bd) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    group_of[t], 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    q, qlen) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bd) != 1)
		goto out;
	r = keypair_fromdata(t, bld, out);
 out:
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(bd);
	return r;
}

static int
rsa_private(struct pgl_buf *b, EVP_PKEY **out)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	};
	BIGNUM *bn[6] = { 0 }, *dmp1 = NULL, *dmq1 = NULL, *tmp = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	BN_CTX *bnctx = NULL;
	const uint8_t *p;
	size_t n, i;
	int r;

	/* n, e, d, iqmp, p, q in that order */
	for (i = 0; i < 6; i++) {
		if ((r = pgl_buf_get_mpint_direct(b, &p, &n)) != 0)
			goto out;
		if (n * 8 > PGL_RSA_MAX_BITS) {
			r = PGL_E_KEY_INVALID;
			goto out;
		}
		if ((bn[i] = BN_secure_new()) == NULL ||
		    BN_bin2bn(p, (int)n, bn[i]) == NULL) {
			r = PGL_E_CRYPTO;
			goto out;
		}
	}
	if (BN_num_bits(bn[0]) < PGL_RSA_MIN_BITS) {
		r = PGL_E_KEY_TOO_SMALL;
		goto out;
	}
	r = PGL_E_CRYPTO;
	/* OpenSSL wants the CRT exponents too: d mod (p-1), d mod (q-1). */
	if ((bnctx = BN_CTX_secure_new()) == NULL ||
	    (dmp1 = BN_secure_new()) == NULL || (dmq1 = BN_secure_new()) == NULL ||
	    (tmp = BN_secure_new()) == NULL ||
	    BN_sub(tmp, bn[4], BN_value_one()) != 1 ||
	    BN_mod(dmp1, bn[2], tmp, bnctx) != 1 ||
	    BN_sub(tmp, bn[5], BN_value_one()) != 1 ||
	    BN_mod(dmq1, bn[2], tmp, bnctx) != 1 ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL)
		goto out;
	for (i = 0; i < 6; i++)
		if (OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]) != 1)
			goto out;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1) != 1)
		goto out;
	r = keypair_fromdata(PGL_KEY_RSA, bld, out);
 out:
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < 6; i++)
		BN_clear_free(bn[i]);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(tmp);
	BN_CTX_free(bnctx);
	return r;
}

/* The key-specific part of the private section. */
static int
private_fields(struct pgl_buf *b, struct pgl_key **out)
{
	const uint8_t *name;
	size_t namelen;
	enum pgl_key_type t;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((r = pgl_buf_get_string_direct(b, &name, &namelen)) != 0 ||
	    (r = pgl_key_type_from_name((const char *)name, namelen, &t)) != 0)
		return r;
	if (t == PGL_KEY_ED25519)
		r = ed25519_private(b, &pkey);
	else if (is_ecdsa(t))
		r = ecdsa_private(t, b, &pkey);
	else
		r = rsa_private(b, &pkey);
	if (r != 0)
		return r;
	return pgl_key_new(t, pkey, out);
}

/* Collects the base64 body between the armour lines. */
static int
unarmour(const char *s, size_t n, struct pgl_buf *blob)
{
	const char *end = s + n, *body, *tail;
	struct pgl_buf *b64 = NULL;
	int r;

	if (n < strlen(MARK_BEGIN) || memcmp(s, MARK_BEGIN, strlen(MARK_BEGIN)) != 0)
		return PGL_E_FORMAT;
	body = s + strlen(MARK_BEGIN);
	if ((tail = memmem(body, (size_t)(end - body), MARK_END,
	    strlen(MARK_END))) == NULL)
		return PGL_E_TRUNCATED;
	for (s = tail + strlen(MARK_END); s < end; s++)
		if (*s != '\n' && *s != '\r')
			return PGL_E_TRAILING;
	if ((b64 = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	for (s = body; s < tail; s++) {
		if (*s == '\n' || *s == '\r')
			continue;
		if ((r = pgl_buf_put_u8(b64, (uint8_t)*s)) != 0)
			goto out;
	}
	r = pgl_b64_decode((const char *)pgl_buf_ptr(b64), pgl_buf_len(b64), blob);
 out:
	pgl_buf_free(b64);
	return r;
}

static int
parse_openssh(const char *s, size_t n, struct pgl_key **out)
{
	struct pgl_buf *blob = NULL, *priv = NULL;
	struct pgl_key *k = NULL, *pub = NULL;
	const uint8_t *cipher, *kdf, *kdfopts, *pubblob, *privp, *comment;
	size_t cipherlen, kdflen, kdfoptslen, publen, privlen, commentlen, i;
	uint32_t nkeys, check1, check2;
	uint8_t pad;
	int r;

	if ((blob = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	if ((r = unarmour(s, n, blob)) != 0)
		goto out;
	r = PGL_E_FORMAT;
	if (pgl_buf_len(blob) < sizeof(AUTH_MAGIC) ||
	    memcmp(pgl_buf_ptr(blob), AUTH_MAGIC, sizeof(AUTH_MAGIC)) != 0)
		goto out;
	if ((r = pgl_buf_consume(blob, sizeof(AUTH_MAGIC))) != 0 ||
	    (r = pgl_buf_get_string_direct(blob, &cipher, &cipherlen)) != 0 ||
	    (r = pgl_buf_get_string_direct(blob, &kdf, &kdflen)) != 0 ||
	    (r = pgl_buf_get_string_direct(blob, &kdfopts, &kdfoptslen)) != 0 ||
	    (r = pgl_buf_get_u32(blob, &nkeys)) != 0)
		goto out;
	if (cipherlen != 4 || memcmp(cipher, "none", 4) != 0 ||
	    kdflen != 4 || memcmp(kdf, "none", 4) != 0) {
		r = PGL_E_KEY_ENCRYPTED;
		goto out;
	}
	r = PGL_E_FORMAT;
	if (kdfoptslen != 0 || nkeys != 1)
		goto out;
	if ((r = pgl_buf_get_string_direct(blob, &pubblob, &publen)) != 0 ||
	    (r = pgl_key_from_blob(pubblob, publen, &pub)) != 0 ||
	    (r = pgl_buf_get_string_direct(blob, &privp, &privlen)) != 0)
		goto out;
	if (pgl_buf_len(blob) != 0) {
		r = PGL_E_TRAILING;
		goto out;
	}
	if (privlen % BLOCK_NONE != 0) {
		r = PGL_E_FORMAT;
		goto out;
	}
	if ((priv = pgl_buf_from(privp, privlen)) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_buf_get_u32(priv, &check1)) != 0 ||
	    (r = pgl_buf_get_u32(priv, &check2)) != 0)
		goto out;
	if (check1 != check2) {
		r = PGL_E_FORMAT;
		goto out;
	}
	if ((r = private_fields(priv, &k)) != 0 ||
	    (r = pgl_buf_get_string_direct(priv, &comment, &commentlen)) != 0)
		goto out;
	/* Padding is 1, 2, 3, ... up to the block size. */
	for (i = 1; pgl_buf_len(priv) > 0; i++) {
		if ((r = pgl_buf_get_u8(priv, &pad)) != 0)
			goto out;
		if (pad != (i & 0xff) || i >= BLOCK_NONE) {
			r = PGL_E_FORMAT;
			goto out;
		}
	}
	if (!pgl_key_equal_public(k, pub)) {
		r = PGL_E_KEY_INVALID;
		goto out;
	}
	*out = k;
	k = NULL;
	r = 0;
 out:
	pgl_key_free(k);
	pgl_key_free(pub);
	pgl_buf_free(priv);
	pgl_buf_free(blob);
	return r;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

static int
classify_pkey(EVP_PKEY *pkey, enum pgl_key_type *t)
{
	char group[64];
	size_t i;

	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		*t = PGL_KEY_ED25519;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bits(pkey) < PGL_RSA_MIN_BITS)
			return PGL_E_KEY_TOO_SMALL;
		if (EVP_PKEY_get_bits(pkey) > PGL_RSA_MAX_BITS)
			return PGL_E_KEY_INVALID;
		*t = PGL_KEY_RSA;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1)
			return PGL_E_KEY_INVALID;
		for (i = PGL_KEY_ECDSA_P256; i <= PGL_KEY_ECDSA_P521; i++) {
			if (strcmp(group, group_of[i]) == 0) {
				*t = (enum pgl_key_type)i;
				return 0;
			}
		}
	}
	return PGL_E_KEY_TYPE_UNSUPPORTED;
}

static int
parse_pem(const char *s, size_t n, struct pgl_key **out)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	enum pgl_key_type t;
	int r;

	if (memmem(s, n, "ENCRYPTED", 9) != NULL)
		return PGL_E_KEY_ENCRYPTED;
	if ((bio = BIO_new_mem_buf(s, (int)n)) == NULL)
		return PGL_E_NOMEM;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)) == NULL) {
		r = PGL_E_FORMAT;
		goto out;
	}
	if ((r = classify_pkey(pkey, &t)) != 0 ||
	    (r = private_check(t, pkey)) != 0)
		goto out;
	r = pgl_key_new(t, pkey, out);
	pkey = NULL;
 out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return r;
}

int
pgl_key_parse_private(const char *s, size_t n, struct pgl_key **out)
{
	if (n > PRIVATE_MAX)
		return PGL_E_TOO_LARGE;
	if (n > (size_t)INT32_MAX || memchr(s, '\0', n) != NULL)
		return PGL_E_FORMAT;
	if (n >= strlen(MARK_BEGIN) && memcmp(s, MARK_BEGIN, strlen(MARK_BEGIN)) == 0)
		return parse_openssh(s, n, out);
	if (n >= 11 && memcmp(s, "-----BEGIN ", 11) == 0)
		return parse_pem(s, n, out);
	return PGL_E_FORMAT;
}

static int
put_bn(EVP_PKEY *pkey, const char *param, struct pgl_buf *b)
{
	BIGNUM *bn = NULL;
	struct pgl_buf *tmp = NULL;
	uint8_t *p;
	int len, r = PGL_E_CRYPTO;

	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		goto out;
	len = BN_num_bytes(bn);
	if ((tmp = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_buf_reserve(tmp, (size_t)len, &p)) != 0)
		goto out;
	BN_bn2bin(bn, p);
	r = pgl_buf_put_mpint_bytes(b, pgl_buf_ptr(tmp), pgl_buf_len(tmp));
 out:
	pgl_buf_free(tmp);
	BN_clear_free(bn);
	return r;
}

static int
put_private_fields(const struct pgl_key *k, struct pgl_buf *b)
{
	static const char *const rsa_order[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E,
		OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
	};
	uint8_t sk[64];
	size_t len = 32, i;
	int r;

	if ((r = pgl_buf_put_cstring(b, pgl_key_type_name(k->type))) != 0)
		return r;
	switch (k->type) {
	case PGL_KEY_ED25519:
		if (EVP_PKEY_get_raw_private_key(k->pkey, sk, &len) != 1 ||
		    len != 32 ||
		    EVP_PKEY_get_raw_public_key(k->pkey, sk + 32, &len) != 1 ||
		    len != 32) {
			r = PGL_E_CRYPTO;
			break;
		}
		if ((r = pgl_buf_put_string(b, sk + 32, 32)) != 0)
			break;
		r = pgl_buf_put_string(b, sk, 64);
		break;
	case PGL_KEY_ECDSA_P256:
	case PGL_KEY_ECDSA_P384:
	case PGL_KEY_ECDSA_P521:
		if ((r = pgl_key_put_public_fields(k, b)) != 0)
			break;
		r = put_bn(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, b);
		break;
	case PGL_KEY_RSA:
		for (i = 0; i < 6; i++)
			if ((r = put_bn(k->pkey, rsa_order[i], b)) != 0)
				break;
		break;
	default:
		r = PGL_E_KEY_TYPE_UNKNOWN;
	}
	explicit_bzero(sk, sizeof(sk));
	return r;
}

int
pgl_key_format_private(const struct pgl_key *k, const char *comment,
    struct pgl_buf *out)
{
	struct pgl_buf *blob = NULL, *pub = NULL, *priv = NULL, *b64 = NULL;
	uint32_t check;
	size_t i, off, len;
	int r;

	if ((blob = pgl_buf_new()) == NULL || (pub = pgl_buf_new()) == NULL ||
	    (priv = pgl_buf_new()) == NULL || (b64 = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	if ((r = pgl_key_put_public(k, pub)) != 0 ||
	    (r = pgl_buf_put_u32(priv, check)) != 0 ||
	    (r = pgl_buf_put_u32(priv, check)) != 0 ||
	    (r = put_private_fields(k, priv)) != 0 ||
	    (r = pgl_buf_put_cstring(priv, comment)) != 0)
		goto out;
	for (i = 1; pgl_buf_len(priv) % BLOCK_NONE != 0; i++)
		if ((r = pgl_buf_put_u8(priv, (uint8_t)i)) != 0)
			goto out;
	if ((r = pgl_buf_put(blob, AUTH_MAGIC, sizeof(AUTH_MAGIC))) != 0 ||
	    (r = pgl_buf_put_cstring(blob, "none")) != 0 ||
	    (r = pgl_buf_put_cstring(blob, "none")) != 0 ||
	    (r = pgl_buf_put_cstring(blob, "")) != 0 ||
	    (r = pgl_buf_put_u32(blob, 1)) != 0 ||
	    (r = pgl_buf_put_stringb(blob, pub)) != 0 ||
	    (r = pgl_buf_put_stringb(blob, priv)) != 0 ||
	    (r = pgl_b64_encode(pgl_buf_ptr(blob), pgl_buf_len(blob), b64)) != 0)
		goto out;
	if ((r = pgl_buf_put(out, MARK_BEGIN "\n", strlen(MARK_BEGIN) + 1)) != 0)
		goto out;
	for (off = 0; off < pgl_buf_len(b64); off += len) {
		len = pgl_buf_len(b64) - off;
		if (len > B64_LINE)
			len = B64_LINE;
		if ((r = pgl_buf_put(out, pgl_buf_ptr(b64) + off, len)) != 0 ||
		    (r = pgl_buf_put_u8(out, '\n')) != 0)
			goto out;
	}
	r = pgl_buf_put(out, MARK_END "\n", strlen(MARK_END) + 1);
 out:
	explicit_bzero(&check, sizeof(check));
	pgl_buf_free(blob);
	pgl_buf_free(pub);
	pgl_buf_free(priv);
	pgl_buf_free(b64);
	return r;
}
