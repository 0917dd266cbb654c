/* The signer's state in SQLite (WAL): identities with their usernames
 * and uids, API tokens, hosts, enrollment tokens, issued certificates,
 * revocations.
 *
 * Writes go through one writer thread that commits whatever is queued
 * in one transaction (group commit, synchronous=FULL): a caller returns
 * only once its write is on disk, so a certificate is never handed out
 * without its record, and concurrent first requests cannot race for a
 * username or uid.  Reads use a connection per calling thread. */
#ifndef PGL_STORE_H
#define PGL_STORE_H

#include <stddef.h>
#include <stdint.h>

struct pgl_store;

struct pgl_identity {
	char identity[256];
	char username[33];
	uint32_t uid;
};

struct pgl_cert_record {
	uint64_t seq;                   /* from pgl_store_new_serial */
	uint64_t serial;
	const char *key_id;
	const char *identity;           /* or host name for host certs */
	const char *resource;
	uint32_t type;                  /* PGL_CERT_TYPE_* */
	uint64_t valid_after;
	uint64_t valid_before;
	const char *fingerprint;        /* subject key, SHA256:... */
};

struct pgl_host {
	char name[256];
	char host_key[16384];           /* its SSH public key line, or "" */
	int enrolled;
	int revoked;
};

/* Opens (creating if needed) DIR/signer.db and starts the writer. */
int pgl_store_open(const char *state_dir, uint32_t uid_min, uint32_t uid_max,
    struct pgl_store **out);
void pgl_store_close(struct pgl_store *s);

/* The identity's username and uid, assigned on first use: the first
 * free username candidate, the next uid of the range (never reused). */
int pgl_store_identity(struct pgl_store *s, const char *identity,
    struct pgl_identity *out);
/* Looks up without assigning; PGL_E_NOT_FOUND if never seen. */
int pgl_store_identity_get(struct pgl_store *s, const char *identity,
    struct pgl_identity *out);

/* The next certificate's sequence number and serial (a keyed
 * permutation of it: random-looking, never 0, never repeated).  A
 * record with a sequence number already taken fails with
 * PGL_E_EXISTS: draw again. */
int pgl_store_new_serial(struct pgl_store *s, uint64_t *seq,
    uint64_t *serial);
/* Records an issued certificate; returns once it is durable. */
int pgl_store_record_cert(struct pgl_store *s, const struct pgl_cert_record *c);

/* The same without waiting: done(result, arg) runs on the writer
 * thread once the record is committed (or failed).  c must stay valid
 * until then.  An error return means done will not be called. */
int pgl_store_record_cert_async(struct pgl_store *s,
    const struct pgl_cert_record *c, void (*done)(int result, void *arg),
    void *arg);

/* API tokens: a new random token (printed once, stored hashed). */
int pgl_store_token_add(struct pgl_store *s, const char *identity,
    char **token);
/* Revokes every token of identity; PGL_E_NOT_FOUND if it had none.  A
 * running signer notices within its token cache's lifetime (10 s). */
int pgl_store_token_revoke(struct pgl_store *s, const char *identity);
/* The identity a token belongs to; PGL_E_NOT_FOUND if none. */
int pgl_store_token_check(struct pgl_store *s, const char *token,
    char *identity, size_t len);

/* Revocations: kind is "serial", "key_id" or "identity". */
int pgl_store_revoke(struct pgl_store *s, const char *kind, const char *value);
/* Calls fn for every revoked serial and key ID of the given cert type
 * (identity revocations expand to that identity's certificates). */
int pgl_store_each_revoked(struct pgl_store *s,
    int (*serial_fn)(uint64_t serial, void *arg),
    int (*key_id_fn)(const char *key_id, void *arg), void *arg);
/* A monotonically increasing number that changes with every revocation. */
int pgl_store_revocation_version(struct pgl_store *s, uint64_t *out);

/* Hosts.  An enrollment token is single-use and expires; enrolling
 * trades it for a long-lived credential (both stored hashed). */
int pgl_store_host_add(struct pgl_store *s, const char *name, uint32_t ttl,
    char **enroll_token);
/* Consumes an enrollment token: records host_key and a new credential;
 * PGL_E_NOT_FOUND for an unknown, used or expired token. */
int pgl_store_host_enroll(struct pgl_store *s, const char *enroll_token,
    const char *host_key, char *name, size_t namelen, char **credential);
/* The enrolled, unrevoked host a credential belongs to. */
int pgl_store_host_check(struct pgl_store *s, const char *credential,
    struct pgl_host *out);
int pgl_store_host_revoke(struct pgl_store *s, const char *name);

/* A managed group's gid, assigned on first use from the uid range (the
 * same counter: no group ever shares a number with a user). */
int pgl_store_group(struct pgl_store *s, const char *name, uint32_t *gid);

#endif
