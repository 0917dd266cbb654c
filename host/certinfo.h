/* What pgl-host needs to know about an OpenSSH certificate: that it is a
 * host certificate for our key signed by a CA we were given, and its
 * validity (to renew it in time).  Parsed with common/buf, after
 * PROTOCOL.certkeys. */
#ifndef PGL_HOST_CERTINFO_H
#define PGL_HOST_CERTINFO_H

#include <stddef.h>
#include <stdint.h>

#include "sshkey.h"
#include "host.h"

#define CERT_TYPE_USER 1
#define CERT_TYPE_HOST 2

struct certinfo {
	uint32_t type;
	uint64_t serial;
	uint64_t valid_after;
	uint64_t valid_before;
};

/* Parses the line "<type>-cert-v01@openssh.com BASE64 [comment]".  If
 * key is given the certificate must certify it; if ncas > 0 its signing
 * key must be one of cas and the signature must verify. */
int certinfo_parse(const char *line, size_t len, const struct pgl_key *key,
    struct pgl_key *const *cas, size_t ncas, struct certinfo *out,
    struct host_err *e);

/* True when less than a third of the validity is left. */
int certinfo_renewal_due(const struct certinfo *ci, uint64_t now);

#endif
