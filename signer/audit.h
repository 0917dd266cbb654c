/* The audit trail: one JSON line per decision, to a file (0600,
 * appended with single writes) and to syslog (authpriv). */
#ifndef PGL_AUDIT_H
#define PGL_AUDIT_H

#include <stdint.h>

struct pgl_audit;

struct pgl_audit_event {
	const char *action;             /* "sign", "enroll", ... */
	const char *identity;           /* may be NULL (unauthenticated) */
	const char *source;             /* client address */
	const char *resource;
	int allowed;
	const char *reason;             /* why, for a denial */
	uint64_t serial;                /* 0: none */
	const char *key_id;
	const char *fingerprint;
};

int pgl_audit_open(const char *path, struct pgl_audit **out);
void pgl_audit_close(struct pgl_audit *a);
/* Never fails the request: a write error is counted, not returned. */
void pgl_audit_log(struct pgl_audit *a, const struct pgl_audit_event *e);
uint64_t pgl_audit_errors(const struct pgl_audit *a);

#endif
