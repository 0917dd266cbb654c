/* The signer's own TLS identity: a self-signed server certificate that
 * clients trust by file (curl --cacert) or by key pin (--pinnedpubkey). */
#ifndef PGL_SIGNER_TLS_H
#define PGL_SIGNER_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PGL_TLS_MAX_NAMES       64
#define PGL_TLS_MAX_DAYS        36500   /* 100 years */

/* 0 if name can go in the certificate: an IPv4 or IPv6 literal, or a
 * DNS name (letters, digits and '-' in dot-separated labels of at most
 * 63 characters, 253 in all); PGL_E_INVALID_ARG otherwise. */
int pgl_tls_check_name(const char *name);

/* A new ECDSA P-256 key (unencrypted PKCS#8 PEM) and a self-signed
 * server certificate for it (PEM): CN the first name (at most 64
 * characters), every name in subjectAltName, valid from a minute ago
 * for days days.  Both are appended to their buffers only when
 * everything succeeded. */
int pgl_tls_generate(const char *const *names, size_t nnames, uint32_t days,
    struct pgl_buf *key_pem, struct pgl_buf *cert_pem);

/* "sha256//<base64>" of the certificate's DER SubjectPublicKeyInfo: the
 * form curl's --pinnedpubkey takes.  The first certificate of the PEM
 * text counts. */
int pgl_tls_pin(const char *cert_pem, size_t len, char **out);

#endif
