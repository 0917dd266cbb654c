/* The HTTP(S) front of the signer, on libmicrohttpd: a bounded worker
 * pool, size and time limits, JSON in and out. */
#ifndef PGL_HTTP_H
#define PGL_HTTP_H

#include <stddef.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "buf.h"
#include "service.h"

struct pgl_http;

struct pgl_request {
	struct pgl_service *svc;
	struct MHD_Connection *conn;
	const char *method;
	const char *url;
	struct pgl_buf *body;
	size_t received;                /* body bytes, kept or not */
	int too_large;
	void *state;                    /* a handler's, across suspension */
	void (*state_free)(void *state);
	char source[64];                /* client address, for the audit */
};

/* Starts listening as the configuration says. */
int pgl_http_start(struct pgl_service *svc, struct pgl_http **out,
    char *err, size_t errlen);
void pgl_http_stop(struct pgl_http *h);

/* Responses; each returns what the MHD handler must return. */
enum MHD_Result pgl_http_json(struct pgl_request *rq, unsigned status,
    json_object *body);
enum MHD_Result pgl_http_error(struct pgl_request *rq, unsigned status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
enum MHD_Result pgl_http_bytes(struct pgl_request *rq, unsigned status,
    const char *content_type, const void *p, size_t n, const char *etag);
/* Parks the connection (its worker serves others) until resumed; the
 * handler runs again then, with rq->state as it left it.  Resume may
 * be called from any thread. */
void pgl_http_suspend(struct pgl_request *rq);
void pgl_http_resume(struct pgl_request *rq);
/* A request header, or NULL. */
const char *pgl_http_header(struct pgl_request *rq, const char *name);

/* The router, in api.c. */
enum MHD_Result pgl_api_handle(struct pgl_request *rq);

#endif
