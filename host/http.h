/* Requests to the signer over HTTPS, always verified: by the system's CAs
 * (or ca_file), or by the pinned public key `pgl-signer init` printed. */
#ifndef PGL_HOST_HTTP_H
#define PGL_HOST_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "host.h"

#define HTTP_ETAG_MAX 128

struct http_req {
	const char *method;             /* "GET" or "POST" */
	const char *path;               /* "/v1/..." */
	const char *bearer;             /* token or credential; NULL: none */
	const char *body;               /* JSON for POST */
	const char *if_none_match;      /* ETag or NULL */
	long timeout_ms;
	size_t max;                     /* response body limit */
};

struct http_resp {
	long status;
	struct pgl_buf *body;
	char etag[HTTP_ETAG_MAX];       /* "" if none */
};

void http_global_init(void);
/* One request.  0 when a response arrived (any status); otherwise e
 * says why (TLS verification, pin mismatch, connection, timeout). */
int http_request(const struct host_config *c, const struct http_req *rq,
    struct http_resp *out, struct host_err *e);
void http_resp_free(struct http_resp *r);
/* A status >= 400 as a sentence: the signer's {"error": ...} text,
 * sanitized. */
void http_error(const struct http_resp *r, const char *what,
    struct host_err *e);

#endif
