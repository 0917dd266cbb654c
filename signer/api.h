/* Request handlers of the signer's HTTP API (docs/api.md). */
#ifndef PGL_API_H
#define PGL_API_H

#include "http.h"

enum MHD_Result pgl_api_sign_user(struct pgl_request *rq);
enum MHD_Result pgl_api_me(struct pgl_request *rq);
enum MHD_Result pgl_api_krl(struct pgl_request *rq);
enum MHD_Result pgl_api_metrics(struct pgl_request *rq);
enum MHD_Result pgl_api_enroll(struct pgl_request *rq);
enum MHD_Result pgl_api_host_cert(struct pgl_request *rq);
enum MHD_Result pgl_api_directory(struct pgl_request *rq);
enum MHD_Result pgl_api_host_user(struct pgl_request *rq, const char *name);

/* The identity behind the request's bearer token, after the rate limit;
 * on failure the error response is already queued and *ret set. */
int pgl_api_authenticate(struct pgl_request *rq, char *identity, size_t len,
    enum MHD_Result *ret);

/* The per-key rate limit; on refusal a 429 with Retry-After is queued
 * and *ret set. */
int pgl_api_rate(struct pgl_request *rq, const char *key, enum MHD_Result *ret);

#endif
