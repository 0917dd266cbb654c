/* POST /v1/certs/user: sign a user's public key for one or more
 * resources.  Every refusal is audited and writes nothing to state. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "api.h"
#include "audit.h"
#include "cert.h"
#include "err.h"

#define MAX_RESOURCES 8
#define BACKDATE 60
#define SERIAL_TRIES 3

struct sign_req {
	const char *public_key;
	const char *resources[MAX_RESOURCES];
	size_t nresources;
	int64_t ttl;                    /* 0: policy default */
};

/* The request body: {"public_key": "...", "resources": ["..."],
 * "ttl": N} ("resource": "..." for one).  Unknown fields are refused so
 * a client's typo is an error, not an ignored option. */
static int
parse_body(json_object *o, struct sign_req *req, const char **why)
{
	struct json_object_iterator it, end;
	json_object *v;
	size_t i, n;

	memset(req, 0, sizeof(*req));
	*why = "body must be a JSON object";
	if (!json_object_is_type(o, json_type_object))
		return PGL_E_FORMAT;
	/* The iterator API, not json_object_object_foreach: that macro is
	 * a GNU statement expression. */
	for (it = json_object_iter_begin(o), end = json_object_iter_end(o);
	    !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);

		if (strcmp(key, "public_key") == 0) {
			*why = "public_key must be a string";
			if (!json_object_is_type(val, json_type_string))
				return PGL_E_FORMAT;
			req->public_key = json_object_get_string(val);
		} else if (strcmp(key, "resource") == 0) {
			*why = "resource must be a string";
			if (!json_object_is_type(val, json_type_string) ||
			    req->nresources != 0)
				return PGL_E_FORMAT;
			req->resources[req->nresources++] = json_object_get_string(val);
		} else if (strcmp(key, "resources") == 0) {
			*why = "resources must be a non-empty array of at most 8 strings";
			if (!json_object_is_type(val, json_type_array) ||
			    req->nresources != 0)
				return PGL_E_FORMAT;
			n = json_object_array_length(val);
			if (n == 0 || n > MAX_RESOURCES)
				return PGL_E_FORMAT;
			for (i = 0; i < n; i++) {
				v = json_object_array_get_idx(val, i);
				if (!json_object_is_type(v, json_type_string))
					return PGL_E_FORMAT;
				req->resources[req->nresources++] =
				    json_object_get_string(v);
			}
		} else if (strcmp(key, "ttl") == 0) {
			*why = "ttl must be a positive integer (seconds)";
			if (!json_object_is_type(val, json_type_int))
				return PGL_E_FORMAT;
			req->ttl = json_object_get_int64(val);
			if (req->ttl <= 0)
				return PGL_E_FORMAT;
		} else {
			*why = "unknown field in request";
			return PGL_E_UNKNOWN_OPTION;
		}
	}
	*why = "public_key is required";
	if (req->public_key == NULL)
		return PGL_E_FORMAT;
	*why = "resource or resources is required";
	if (req->nresources == 0)
		return PGL_E_FORMAT;
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Extensions of a grant: the default set unless it names its own. */
static int
grant_has_extension(const struct pgl_grant *g, const char *name)
{
	size_t i;

	if (g->extensions == NULL) {
		for (i = 0; i < pgl_cert_ndefault_extensions; i++)
			if (strcmp(pgl_cert_default_extensions[i].name, name) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < g->nextensions; i++)
		if (strcmp(g->extensions[i], name) == 0)
			return 1;
	return 0;
}

static json_object *
json_u64(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "%" PRIu64, v);
	return json_object_new_string(s);
}

struct issued {
	struct pgl_decision d[MAX_RESOURCES];
	char principals[MAX_RESOURCES][300];
	const char *pp[MAX_RESOURCES];
	struct pgl_cert_option ext[PGL_CERT_MAX_OPTIONS];
	struct pgl_cert_option crit[2];
	char key_id[1024];
	char resource_list[MAX_RESOURCES * 64];
};

static enum MHD_Result
deny(struct pgl_request *rq, unsigned status, const char *identity,
    const char *resource, const char *fp, const char *reason)
{
	struct pgl_audit_event ev = { .action = "sign", .identity = identity,
	    .source = rq->source, .resource = resource, .allowed = 0,
	    .reason = reason, .fingerprint = fp };

	atomic_fetch_add(&rq->svc->metrics.denied, 1);
	pgl_audit_log(rq->svc->audit, &ev);
	return pgl_http_error(rq, status, "%s", reason);
}

enum MHD_Result
pgl_api_sign_user(struct pgl_request *rq)
{
	struct pgl_service *svc = rq->svc;
	char identity[256], msg[512], *fp = NULL, *line = NULL;
	struct issued *is = NULL;
	struct sign_req req;
	struct pgl_identity who;
	struct pgl_key *subject = NULL;
	struct pgl_cert_req creq;
	struct pgl_cert_record rec;
	struct pgl_buf *blob = NULL;
	json_object *body = NULL, *resp = NULL, *arr;
	json_tokener *tok = NULL;
	const char *why, *what, *reason;
	const struct pgl_grant *g0;
	enum MHD_Result ret;
	uint64_t now = (uint64_t)time(NULL), ttl, ttl_max;
	size_t i, j, nx;
	struct pgl_policy_ref *pol = NULL;
	int r, tries;

	if (pgl_api_authenticate(rq, identity, sizeof(identity), &ret) != 0)
		return ret;
	/* Parse with a depth limit; json-c needs the exact length. */
	if ((tok = json_tokener_new_ex(8)) == NULL)
		return MHD_NO;
	body = json_tokener_parse_ex(tok, (const char *)pgl_buf_ptr(rq->body),
	    (int)pgl_buf_len(rq->body));
	if (body == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != pgl_buf_len(rq->body)) {
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity, NULL, NULL,
		    "request body is not valid JSON");
		goto out;
	}
	if ((r = parse_body(body, &req, &why)) != 0) {
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity, NULL, NULL, why);
		goto out;
	}
	if ((r = pgl_key_parse_public_line(req.public_key, strlen(req.public_key),
	    &subject, NULL)) != 0) {
		snprintf(msg, sizeof(msg), "invalid public_key: %s", pgl_strerror(r));
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity, req.resources[0],
		    NULL, msg);
		goto out;
	}
	if ((r = pgl_key_fingerprint(subject, &fp)) != 0 ||
	    (is = calloc(1, sizeof(*is))) == NULL) {
		ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
		goto out;
	}
	pol = pgl_service_policy_get(svc);
	ttl_max = UINT32_MAX;
	for (i = 0; i < req.nresources; i++) {
		r = pgl_policy_decide(pol->policy, identity, req.resources[i],
		    &is->d[i], &reason);
		if (r != 0) {
			snprintf(msg, sizeof(msg), "%s: %s", req.resources[i], reason);
			ret = deny(rq, r == PGL_E_NOT_ALLOWED ? MHD_HTTP_FORBIDDEN :
			    MHD_HTTP_NOT_FOUND, identity, req.resources[i], fp, msg);
			goto out;
		}
		if (is->d[i].ttl_max < ttl_max)
			ttl_max = is->d[i].ttl_max;
		for (j = 0; j < i; j++) {
			if (is->d[j].resource == is->d[i].resource) {
				ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity,
				    req.resources[i], fp, "a resource is named twice");
				goto out;
			}
		}
		/* One certificate carries one set of restrictions. */
		if (!same_str(is->d[i].grant->force_command,
		    is->d[0].grant->force_command) ||
		    !same_str(is->d[i].grant->source_address,
		    is->d[0].grant->source_address)) {
			ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity,
			    req.resources[i], fp, "these resources have different "
			    "restrictions; request them separately");
			goto out;
		}
	}
	ttl = req.ttl > 0 ? (uint64_t)req.ttl : pol->policy->ttl_default;
	if (ttl > ttl_max) {
		snprintf(msg, sizeof(msg), "ttl %" PRIu64 " is above the maximum "
		    "of %" PRIu64 " seconds for this grant", ttl, ttl_max);
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity, req.resources[0],
		    fp, msg);
		goto out;
	}
	if ((r = pgl_store_identity(svc->store, identity, &who)) != 0) {
		ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot assign a username: %s", pgl_strerror(r));
		goto out;
	}
	/* Principals are bound to the host: "name@resource". */
	for (i = 0; i < req.nresources; i++) {
		snprintf(is->principals[i], sizeof(is->principals[i]), "%s@%s",
		    who.username, is->d[i].resource->name);
		is->pp[i] = is->principals[i];
		snprintf(is->resource_list + strlen(is->resource_list),
		    sizeof(is->resource_list) - strlen(is->resource_list), "%s%s",
		    i > 0 ? "," : "", is->d[i].resource->name);
	}
	/* Extensions every grant allows (the most restrictive set). */
	g0 = is->d[0].grant;
	nx = 0;
	{
		static const char *const all[] = { "permit-X11-forwarding",
		    "permit-agent-forwarding", "permit-port-forwarding",
		    "permit-pty", "permit-user-rc", "no-touch-required" };

		for (j = 0; j < sizeof(all) / sizeof(all[0]); j++) {
			int ok = 1;

			for (i = 0; i < req.nresources; i++)
				ok = ok && grant_has_extension(is->d[i].grant, all[j]);
			if (ok) {
				is->ext[nx].name = all[j];
				is->ext[nx++].value = NULL;
			}
		}
	}
	memset(&creq, 0, sizeof(creq));
	creq.type = PGL_CERT_TYPE_USER;
	creq.key_id = is->key_id;
	creq.principals = is->pp;
	creq.nprincipals = req.nresources;
	creq.valid_after = now - BACKDATE;
	creq.valid_before = now + ttl;
	creq.extensions = is->ext;
	creq.nextensions = nx;
	creq.critical = is->crit;
	if (g0->force_command != NULL) {
		is->crit[creq.ncritical].name = "force-command";
		is->crit[creq.ncritical++].value = g0->force_command;
	}
	if (g0->source_address != NULL) {
		is->crit[creq.ncritical].name = "source-address";
		is->crit[creq.ncritical++].value = g0->source_address;
	}
	if ((blob = pgl_buf_new()) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	/* A random serial; on the (2^-64) chance it exists, draw again. */
	for (tries = 0; tries < SERIAL_TRIES; tries++) {
		do {
			if (RAND_bytes((unsigned char *)&creq.serial,
			    sizeof(creq.serial)) != 1) {
				ret = pgl_http_error(rq, 500, "no randomness");
				goto out;
			}
		} while (creq.serial == 0);
		snprintf(is->key_id, sizeof(is->key_id), "pgl:%s:%s:%" PRIu64,
		    identity, is->resource_list, creq.serial);
		pgl_buf_reset(blob);
		if ((r = pgl_cert_sign(subject, svc->user_ca, &creq, blob,
		    &what)) != 0) {
			snprintf(msg, sizeof(msg), "cannot sign: %s: %s",
			    what != NULL ? what : "certificate", pgl_strerror(r));
			ret = deny(rq, MHD_HTTP_BAD_REQUEST, identity,
			    is->resource_list, fp, msg);
			goto out;
		}
		memset(&rec, 0, sizeof(rec));
		rec.serial = creq.serial;
		rec.key_id = is->key_id;
		rec.identity = identity;
		rec.resource = is->resource_list;
		rec.type = PGL_CERT_TYPE_USER;
		rec.valid_after = creq.valid_after;
		rec.valid_before = creq.valid_before;
		rec.fingerprint = fp;
		/* Durable before it is handed out. */
		if ((r = pgl_store_record_cert(svc->store, &rec)) != PGL_E_EXISTS)
			break;
	}
	if (r != 0) {
		ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot record the certificate: %s", pgl_strerror(r));
		goto out;
	}
	if ((r = pgl_cert_format_line(subject->type, blob, is->key_id, &line)) != 0 ||
	    (resp = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	json_object_object_add(resp, "certificate", json_object_new_string(line));
	json_object_object_add(resp, "serial", json_u64(creq.serial));
	json_object_object_add(resp, "key_id", json_object_new_string(is->key_id));
	json_object_object_add(resp, "username", json_object_new_string(who.username));
	json_object_object_add(resp, "uid", json_object_new_int64(who.uid));
	json_object_object_add(resp, "valid_after", json_object_new_int64((int64_t)creq.valid_after));
	json_object_object_add(resp, "valid_before", json_object_new_int64((int64_t)creq.valid_before));
	for (i = 0; i < req.nresources; i++) {
		const struct pgl_resource *res = is->d[i].resource;
		json_object *ro = json_object_new_object();

		if (ro == NULL)
			continue;
		json_object_object_add(ro, "name", json_object_new_string(res->name));
		json_object_object_add(ro, "principal", json_object_new_string(is->principals[i]));
		json_object_object_add(ro, "address", json_object_new_string(res->address));
		json_object_object_add(ro, "port", json_object_new_int(res->port));
		if (res->via != NULL)
			json_object_object_add(ro, "via", json_object_new_string(res->via));
		json_object_array_add(arr, ro);
	}
	json_object_object_add(resp, "resources", arr);
	json_object_object_add(resp, "host_ca", json_object_new_string(svc->host_ca_line));
	{
		struct pgl_audit_event ev = { .action = "sign", .identity = identity,
		    .source = rq->source, .resource = is->resource_list,
		    .allowed = 1, .serial = creq.serial, .key_id = is->key_id,
		    .fingerprint = fp };

		pgl_audit_log(svc->audit, &ev);
	}
	atomic_fetch_add(&svc->metrics.certs_user, 1);
	ret = pgl_http_json(rq, MHD_HTTP_OK, resp);
	resp = NULL;
 out:
	pgl_service_policy_put(pol);
	json_object_put(resp);
	json_object_put(body);
	json_tokener_free(tok);
	pgl_key_free(subject);
	pgl_buf_free(blob);
	free(fp);
	free(line);
	free(is);
	return ret;
}
