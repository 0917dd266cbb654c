/* OpenSSH key revocation lists (PROTOCOL.krl): certificate sections. */
#ifndef PGL_KRL_H
#define PGL_KRL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sshkey.h"

#define PGL_KRL_MAX_KEY_ID 1024

struct pgl_serial_range {
	uint64_t lo, hi;        /* inclusive, lo >= 1 */
};

/* What one CA has revoked. */
struct pgl_krl_ca {
	const struct pgl_key *ca;
	const struct pgl_serial_range *serials;
	size_t nserials;
	const char *const *key_ids;
	size_t nkey_ids;
};

/* Appends a KRL with one certificate section per CA.  Serial ranges are
 * sorted and merged; single serials go in a list, runs in ranges. */
int pgl_krl_encode(const struct pgl_krl_ca *cas, size_t ncas,
    uint64_t krl_version, uint64_t generated, const char *comment,
    struct pgl_buf *out);

#endif
