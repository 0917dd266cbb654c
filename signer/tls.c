/* The signer's TLS key and self-signed certificate, and the key pin
 * clients check.  ECDSA P-256: GnuTLS (under libmicrohttpd) and every
 * curl backend take it, and it is quick to make. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "sshkey.h"
#include "tls.h"

#define DNS_MAX         253
#define LABEL_MAX       63
#define CN_MAX          64      /* ub-common-name, RFC 5280 */
#define SERIAL_BITS     128
#define PEM_MAX         (64 * 1024)

/* The address of an IP literal in addr; its length, or 0 if not one. */
static size_t
ip_literal(const char *name, unsigned char addr[16])
{
	if (inet_pton(AF_INET, name, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, name, addr) == 1)
		return 16;
	return 0;
}

static int
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* RFC 1123 host names; no wildcards, no trailing dot. */
static int
dns_name_ok(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	if (n == 0 || n > DNS_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_ldh(s[i]) || (label == 0 && s[i] == '-') ||
		    ++label > LABEL_MAX)
			return 0;
	}
	return label != 0 && s[n - 1] != '-';
}

int
pgl_tls_check_name(const char *name)
{
	unsigned char addr[16];

	if (name == NULL)
		return PGL_E_INVALID_ARG;
	if (ip_literal(name, addr) != 0 || dns_name_ok(name))
		return 0;
	return PGL_E_INVALID_ARG;
}

static int
make_san(const char *const *names, size_t n, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_OCTET_STRING *ip = NULL;
	ASN1_IA5STRING *dns = NULL;
	unsigned char addr[16];
	size_t i, alen;
	int r = PGL_E_NOMEM;

	if ((gens = GENERAL_NAMES_new()) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if ((gen = GENERAL_NAME_new()) == NULL)
			goto out;
		if ((alen = ip_literal(names[i], addr)) != 0) {
			if ((ip = ASN1_OCTET_STRING_new()) == NULL ||
			    ASN1_OCTET_STRING_set(ip, addr, (int)alen) != 1)
				goto out;
			GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
			ip = NULL;
		} else {
			if ((dns = ASN1_IA5STRING_new()) == NULL ||
			    ASN1_STRING_set(dns, names[i], -1) != 1)
				goto out;
			GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
			dns = NULL;
		}
		if (sk_GENERAL_NAME_push(gens, gen) <= 0)
			goto out;
		gen = NULL;
	}
	*out = gens;
	gens = NULL;
	r = 0;
 out:
	ASN1_OCTET_STRING_free(ip);
	ASN1_IA5STRING_free(dns);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return r;
}

static int
add_ext(X509 *x, int nid, void *value, int critical)
{
	if (X509_add1_ext_i2d(x, nid, value, critical, X509V3_ADD_DEFAULT) != 1)
		return PGL_E_CRYPTO;
	return 0;
}

/* A leaf for TLS servers only: not a CA, signatures only (ECDHE). */
static int
add_extensions(X509 *x, const char *const *names, size_t nnames)
{
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	GENERAL_NAMES *san = NULL;
	ASN1_OCTET_STRING *skid = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	int r = PGL_E_NOMEM;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL ||
	    (ku = ASN1_BIT_STRING_new()) == NULL ||
	    (eku = sk_ASN1_OBJECT_new_null()) == NULL ||
	    (skid = ASN1_OCTET_STRING_new()) == NULL)
		goto out;
	bc->ca = 0;
	if (ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1 ||   /* digitalSignature */
	    sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) <= 0)
		goto out;
	if ((r = make_san(names, nnames, &san)) != 0)
		goto out;
	r = PGL_E_CRYPTO;
	/* RFC 5280 method 1; lets tools tell keys apart at a glance. */
	if (X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) != 1 ||
	    ASN1_OCTET_STRING_set(skid, md, (int)mdlen) != 1)
		goto out;
	if ((r = add_ext(x, NID_basic_constraints, bc, 1)) != 0 ||
	    (r = add_ext(x, NID_key_usage, ku, 1)) != 0 ||
	    (r = add_ext(x, NID_ext_key_usage, eku, 0)) != 0 ||
	    (r = add_ext(x, NID_subject_alt_name, san, 0)) != 0 ||
	    (r = add_ext(x, NID_subject_key_identifier, skid, 0)) != 0)
		goto out;
 out:
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	EXTENDED_KEY_USAGE_free(eku);
	GENERAL_NAMES_free(san);
	ASN1_OCTET_STRING_free(skid);
	return r;
}

/* Random, positive and exactly SERIAL_BITS long (so never zero). */
static int
set_serial(X509 *x)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *serial = NULL;
	int r = PGL_E_CRYPTO;

	if ((bn = BN_new()) == NULL ||
	    BN_rand(bn, SERIAL_BITS, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) != 1 ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_set_serialNumber(x, serial) != 1)
		goto out;
	r = 0;
 out:
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return r;
}

static int
make_cert(EVP_PKEY *pkey, const char *const *names, size_t nnames,
    uint32_t days, X509 **out)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	time_t now = time(NULL);
	int r = PGL_E_CRYPTO;

	if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    (r = set_serial(x)) != 0)
		goto out;
	r = PGL_E_CRYPTO;
	if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
	    (const unsigned char *)names[0], -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, name) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    /* a minute back, for clients whose clock runs behind */
	    X509_time_adj(X509_getm_notBefore(x), -60, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &now) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;
	if ((r = add_extensions(x, names, nnames)) != 0)
		goto out;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	*out = x;
	x = NULL;
	r = 0;
 out:
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

/* Appends what was written to a memory BIO. */
static int
put_bio(BIO *bio, struct pgl_buf *b)
{
	char *p;
	long n;

	if ((n = BIO_get_mem_data(bio, &p)) <= 0)
		return PGL_E_CRYPTO;
	return pgl_buf_put(b, p, (size_t)n);
}

int
pgl_tls_generate(const char *const *names, size_t nnames, uint32_t days,
    struct pgl_buf *key_pem, struct pgl_buf *cert_pem)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *kbio = NULL, *cbio = NULL;
	struct pgl_buf *key = NULL, *cert = NULL;
	size_t i;
	int r;

	if (names == NULL || nnames == 0 || key_pem == NULL || cert_pem == NULL)
		return PGL_E_INVALID_ARG;
	if (nnames > PGL_TLS_MAX_NAMES)
		return PGL_E_TOO_LARGE;
	if (days == 0 || days > PGL_TLS_MAX_DAYS)
		return PGL_E_BAD_VALIDITY;
	for (i = 0; i < nnames; i++)
		if ((r = pgl_tls_check_name(names[i])) != 0)
			return r;
	if (strlen(names[0]) > CN_MAX)
		return PGL_E_INVALID_ARG;

	if ((key = pgl_buf_new()) == NULL || (cert = pgl_buf_new()) == NULL ||
	    /* the secure-heap BIO wipes its storage when freed */
	    (kbio = BIO_new(BIO_s_secmem())) == NULL ||
	    (cbio = BIO_new(BIO_s_mem())) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	if ((r = make_cert(pkey, names, nnames, days, &x)) != 0)
		goto out;
	if (PEM_write_bio_PKCS8PrivateKey(kbio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || PEM_write_bio_X509(cbio, x) != 1) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	if ((r = put_bio(kbio, key)) != 0 || (r = put_bio(cbio, cert)) != 0)
		goto out;
	/* Both or neither. */
	if ((r = pgl_buf_put(key_pem, pgl_buf_ptr(key), pgl_buf_len(key))) != 0)
		goto out;
	if ((r = pgl_buf_put(cert_pem, pgl_buf_ptr(cert),
	    pgl_buf_len(cert))) != 0) {
		(void)pgl_buf_trim_end(key_pem, pgl_buf_len(key));
		goto out;
	}
 out:
	BIO_free(kbio);
	BIO_free(cbio);
	X509_free(x);
	EVP_PKEY_free(pkey);
	pgl_buf_free(key);
	pgl_buf_free(cert);
	return r;
}

/* Never prompt on the terminal for an "encrypted" PEM. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

int
pgl_tls_pin(const char *cert_pem, size_t len, char **out)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL, md[32];
	struct pgl_buf *b64 = NULL;
	char *s = NULL;
	int derlen, r;

	if (cert_pem == NULL || out == NULL)
		return PGL_E_INVALID_ARG;
	if (len > PEM_MAX)
		return PGL_E_TOO_LARGE;
	if ((bio = BIO_new_mem_buf(cert_pem, (int)len)) == NULL ||
	    (b64 = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL) {
		r = PGL_E_FORMAT;
		goto out;
	}
	if ((derlen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0 ||
	    EVP_Digest(der, (size_t)derlen, md, NULL, EVP_sha256(), NULL) != 1) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	if ((r = pgl_b64_encode(md, sizeof(md), b64)) != 0)
		goto out;
	if (asprintf(&s, "sha256//%.*s", (int)pgl_buf_len(b64),
	    (const char *)pgl_buf_ptr(b64)) < 0) {
		r = PGL_E_NOMEM;
		goto out;
	}
	*out = s;
	r = 0;
 out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	pgl_buf_free(b64);
	return r;
}
