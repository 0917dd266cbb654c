/* SSH keys as OpenSSH encodes them, backed by OpenSSL 3 EVP_PKEYs.
 * Only the types pgl accepts exist here: Ed25519, ECDSA on the NIST
 * curves, RSA.  Everything else is refused at parse time. */
#ifndef PGL_SSHKEY_H
#define PGL_SSHKEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "buf.h"

enum pgl_key_type {
	PGL_KEY_UNSPEC = 0,
	PGL_KEY_ED25519,
	PGL_KEY_ECDSA_P256,
	PGL_KEY_ECDSA_P384,
	PGL_KEY_ECDSA_P521,
	PGL_KEY_RSA,
};

#define PGL_RSA_MIN_BITS        2048    /* subject keys */
#define PGL_RSA_CA_MIN_BITS     3072    /* CA keys */
#define PGL_RSA_MAX_BITS        16384   /* as OpenSSH */
#define PGL_PUBKEY_LINE_MAX     (16 * 1024)

struct pgl_key {
	enum pgl_key_type type;
	EVP_PKEY *pkey;
	/* The public key blob, encoded once at creation: a CA's is written
	 * into every certificate, and encoding an EC point costs a field
	 * inversion each time. */
	struct pgl_buf *blob;
};

/* "ssh-ed25519", "ecdsa-sha2-nistp256", ... */
const char *pgl_key_type_name(enum pgl_key_type t);
/* "ssh-ed25519-cert-v01@openssh.com", ... */
const char *pgl_key_cert_type_name(enum pgl_key_type t);
/* The signature algorithm pgl signs with: rsa-sha2-512 for RSA. */
const char *pgl_key_sig_alg(enum pgl_key_type t);
/* Classifies a key type name; PGL_E_KEY_TYPE_* for what pgl refuses. */
int pgl_key_type_from_name(const char *name, size_t len, enum pgl_key_type *t);
unsigned pgl_key_bits(const struct pgl_key *k);

/* Wraps pkey (ownership passes, also on failure) as a key of type t. */
int pgl_key_new(enum pgl_key_type t, EVP_PKEY *pkey, struct pgl_key **out);
void pgl_key_free(struct pgl_key *k);

/* Public key blob (wire form), whole buffer, no trailing bytes. */
int pgl_key_from_blob(const uint8_t *p, size_t n, struct pgl_key **out);
/* Appends the public key blob (type name and fields). */
int pgl_key_put_public(const struct pgl_key *k, struct pgl_buf *b);
/* Appends only the type-specific public fields (certificate body). */
int pgl_key_put_public_fields(const struct pgl_key *k, struct pgl_buf *b);
int pgl_key_equal_public(const struct pgl_key *a, const struct pgl_key *b);

/* An OpenSSH public key line: "type base64 [comment]". */
int pgl_key_parse_public_line(const char *s, size_t n, struct pgl_key **out,
    char **comment);
int pgl_key_format_public_line(const struct pgl_key *k, const char *comment,
    char **out);
/* "SHA256:<base64>", as ssh-keygen -l prints it. */
int pgl_key_fingerprint(const struct pgl_key *k, char **out);

/* bits: RSA modulus size; 0 for the default; ignored for other types. */
int pgl_key_generate(enum pgl_key_type t, unsigned bits, struct pgl_key **out);

/* A private key: OpenSSH "openssh-key-v1" (unencrypted) or PEM (PKCS#8
 * or traditional, unencrypted). */
int pgl_key_parse_private(const char *s, size_t n, struct pgl_key **out);
/* Appends the armoured OpenSSH private key format. */
int pgl_key_format_private(const struct pgl_key *k, const char *comment,
    struct pgl_buf *out);

/* Appends an SSH signature blob (string alg, string sig) over data. */
int pgl_key_sign(const struct pgl_key *k, const uint8_t *data, size_t n,
    struct pgl_buf *sig);
/* 0 when sig is a valid signature by k over data. */
int pgl_key_verify(const struct pgl_key *k, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t n);

/* Strict base64 (no whitespace, canonical padding) into out. */
int pgl_b64_decode(const char *s, size_t n, struct pgl_buf *out);
/* Base64 of p, NUL-terminated, appended to out. */
int pgl_b64_encode(const uint8_t *p, size_t n, struct pgl_buf *out);

#endif
