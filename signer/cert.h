/* OpenSSH certificates (PROTOCOL.certkeys), encoded and signed. */
#ifndef PGL_CERT_H
#define PGL_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sshkey.h"

#define PGL_CERT_TYPE_USER 1
#define PGL_CERT_TYPE_HOST 2

#define PGL_CERT_MAX_PRINCIPALS 256
#define PGL_CERT_MAX_NAME       256     /* a principal */
#define PGL_CERT_MAX_KEY_ID     1024
#define PGL_CERT_MAX_OPTIONS    32
#define PGL_CERT_MAX_VALUE      4096    /* an option's value */

/* A critical option or extension; value NULL for a flag. */
struct pgl_cert_option {
	const char *name;
	const char *value;
};

struct pgl_cert_req {
	uint32_t type;                  /* PGL_CERT_TYPE_* */
	uint64_t serial;                /* non-zero */
	const char *key_id;
	const char *const *principals;
	size_t nprincipals;
	uint64_t valid_after;           /* seconds since the epoch */
	uint64_t valid_before;
	const struct pgl_cert_option *critical;
	size_t ncritical;
	const struct pgl_cert_option *extensions;
	size_t nextensions;
};

/* The extensions ssh-keygen gives a user certificate, without X11. */
extern const struct pgl_cert_option pgl_cert_default_extensions[];
extern const size_t pgl_cert_ndefault_extensions;

/* n random bytes, for nonces and serials (a per-thread pool in front
 * of RAND_bytes). */
int pgl_cert_random(void *p, size_t n);

/* Checks a request completely; on error *what names the bad field. */
int pgl_cert_check(const struct pgl_cert_req *req, const char **what);

/* Checks req and the CA, then appends the signed certificate blob. */
int pgl_cert_sign(const struct pgl_key *subject, const struct pgl_key *ca,
    const struct pgl_cert_req *req, struct pgl_buf *out, const char **what);

/* "<type>-cert-v01@openssh.com <base64> [comment]" */
int pgl_cert_format_line(enum pgl_key_type t, const struct pgl_buf *blob,
    const char *comment, char **out);

#endif
