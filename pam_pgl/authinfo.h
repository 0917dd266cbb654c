/* The certificate a session was authenticated with, from the PAM
 * environment variable SSH_AUTH_INFO_0 that sshd (since 7.6) sets before
 * the account and session stacks: one line per completed authentication
 * method, "publickey TYPE BASE64" for a key or certificate.  sshd has
 * verified the certificate; this only reads it, for the session log.
 * The input comes from the network by way of sshd: every read is bounded
 * (common/buf.h) and the key ID is escaped before anyone prints it.
 * libc only. */
#ifndef PAM_PGL_AUTHINFO_H
#define PAM_PGL_AUTHINFO_H

#include <stddef.h>
#include <stdint.h>

/* Larger variables or blobs are refused, not truncated. */
#define PGL_AUTHINFO_MAX        (64 * 1024)
#define PGL_AUTHINFO_BLOB_MAX   (16 * 1024)
/* The escaped key ID, truncated with "..." past this many bytes. */
#define PGL_AUTHINFO_KEYID_MAX  256

struct pgl_authinfo {
	char type[48];                  /* e.g. ssh-ed25519-cert-v01@openssh.com */
	uint64_t serial;
	uint32_t cert_type;             /* 1 user, 2 host */
	/* Printable ASCII: bytes outside 0x20..0x7e, '\\' and '"' as \xHH. */
	char key_id[PGL_AUTHINFO_KEYID_MAX + 4];
};

/* Reads the first "publickey" line carrying a certificate.  0 and *out
 * filled; PGL_E_NOT_FOUND when no line holds a certificate (a plain key,
 * another method, an empty variable); PGL_E_FORMAT, PGL_E_TRUNCATED,
 * PGL_E_TRAILING, PGL_E_TOO_LARGE or PGL_E_KEY_TYPE_UNSUPPORTED for a
 * certificate line that cannot be read.  s need not be NUL-terminated;
 * a NUL byte ends the input. */
int pgl_authinfo_parse(const char *s, size_t len, struct pgl_authinfo *out);

/* One certificate blob (the decoded base64) whose line named type. */
int pgl_authinfo_cert(const uint8_t *blob, size_t n, const char *type,
    size_t typelen, struct pgl_authinfo *out);

#endif
