/* Routing, authentication and the small public endpoints. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "err.h"
#include "rate.h"

#define BEARER "Bearer "

int
pgl_api_authenticate(struct pgl_request *rq, char *identity, size_t len,
    enum MHD_Result *ret)
{
	struct pgl_service *svc = rq->svc;
	const char *auth = pgl_http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
	struct pgl_audit_event ev = { .action = "authenticate",
	    .source = rq->source, .reason = "missing or invalid token" };
	int r;

	if (auth == NULL || strncmp(auth, BEARER, strlen(BEARER)) != 0 ||
	    strlen(auth) > 256) {
		pgl_audit_log(svc->audit, &ev);
		*ret = pgl_http_error(rq, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed Authorization: Bearer token");
		return PGL_E_NOT_ALLOWED;
	}
	r = pgl_store_token_check(svc->store, auth + strlen(BEARER), identity, len);
	if (r != 0) {
		if (r != PGL_E_NOT_FOUND) {
			*ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "state database error");
			return r;
		}
		pgl_audit_log(svc->audit, &ev);
		*ret = pgl_http_error(rq, MHD_HTTP_UNAUTHORIZED, "invalid token");
		return PGL_E_NOT_ALLOWED;
	}
	return pgl_api_rate(rq, identity, ret);
}

int
pgl_api_rate(struct pgl_request *rq, const char *key, enum MHD_Result *ret)
{
	struct pgl_service *svc = rq->svc;
	struct MHD_Response *resp;
	const char *msg = "{\"error\":\"rate limit exceeded\"}";
	unsigned wait;
	char retry[16];

	if ((wait = pgl_rate_take(svc->rate, key)) == 0)
		return 0;
	atomic_fetch_add(&svc->metrics.rate_limited, 1);
	snprintf(retry, sizeof(retry), "%u", wait);
	resp = MHD_create_response_from_buffer(strlen(msg), (void *)msg,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		*ret = MHD_NO;
		return PGL_E_NOMEM;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "Retry-After", retry);
	*ret = MHD_queue_response(rq->conn, MHD_HTTP_TOO_MANY_REQUESTS, resp);
	MHD_destroy_response(resp);
	atomic_fetch_add(&svc->metrics.responses[4], 1);
	return PGL_E_NOT_ALLOWED;
}

static enum MHD_Result
ca_keys(struct pgl_request *rq)
{
	json_object *o = json_object_new_object(), *u, *h;

	if (o == NULL || (u = json_object_new_array()) == NULL ||
	    (h = json_object_new_array()) == NULL) {
		json_object_put(o);
		return MHD_NO;
	}
	json_object_array_add(u, json_object_new_string(rq->svc->user_ca_line));
	json_object_array_add(h, json_object_new_string(rq->svc->host_ca_line));
	json_object_object_add(o, "user_ca", u);
	json_object_object_add(o, "host_ca", h);
	return pgl_http_json(rq, MHD_HTTP_OK, o);
}

static enum MHD_Result
healthz(struct pgl_request *rq)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return MHD_NO;
	json_object_object_add(o, "status", json_object_new_string("ok"));
	return pgl_http_json(rq, MHD_HTTP_OK, o);
}

struct route {
	const char *method;
	const char *path;
	enum MHD_Result (*fn)(struct pgl_request *rq);
};

static const struct route routes[] = {
	{ "GET", "/healthz", healthz },
	{ "GET", "/metrics", pgl_api_metrics },
	{ "GET", "/v1/ca", ca_keys },
	{ "GET", "/v1/krl", pgl_api_krl },
	{ "POST", "/v1/certs/user", pgl_api_sign_user },
	{ "GET", "/v1/me", pgl_api_me },
	{ "POST", "/v1/hosts/enroll", pgl_api_enroll },
	{ "POST", "/v1/certs/host", pgl_api_host_cert },
	{ "GET", "/v1/host/directory", pgl_api_directory },
};

#define HOST_USERS "/v1/host/users/"

enum MHD_Result
pgl_api_handle(struct pgl_request *rq)
{
	size_t i;
	int path_known = 0;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(rq->url, routes[i].path) != 0)
			continue;
		path_known = 1;
		if (strcmp(rq->method, routes[i].method) == 0)
			return routes[i].fn(rq);
	}
	if (strncmp(rq->url, HOST_USERS, strlen(HOST_USERS)) == 0) {
		if (strcmp(rq->method, "GET") != 0)
			return pgl_http_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
			    "method %s not allowed on %s", rq->method, rq->url);
		return pgl_api_host_user(rq, rq->url + strlen(HOST_USERS));
	}
	if (path_known)
		return pgl_http_error(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method %s not allowed on %s", rq->method, rq->url);
	return pgl_http_error(rq, MHD_HTTP_NOT_FOUND, "no such endpoint");
}
