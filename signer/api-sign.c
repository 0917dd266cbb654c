/* POST /v1/certs/user: sign a user's public key for one or more
 * resources.  Every refusal is audited and writes nothing to state. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "cert.h"
#include "err.h"
#include "jsonw.h"

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

/* A resource behind a bastion: the certificate also names each bastion
 * of the chain, so one key logs in on every hop.  Each bastion is then
 * decided like a requested resource (a grant is needed, the extensions
 * are what every grant allows, the restrictions must agree). */
static int
add_bastions(const struct pgl_policy *p, struct sign_req *req,
    const char **why)
{
	const struct pgl_resource *res, *b;
	size_t i, j;

	for (i = 0; i < req->nresources; i++) {
		if ((res = pgl_policy_resource(p, req->resources[i])) == NULL ||
		    res->via == NULL ||
		    (b = pgl_policy_resource(p, res->via)) == NULL)
			continue;
		for (j = 0; j < req->nresources; j++)
			if (pgl_policy_resource(p, req->resources[j]) == b)
				break;
		if (j < req->nresources)
			continue;
		if (req->nresources == MAX_RESOURCES) {
			*why = "too many resources with their bastions (at most 8)";
			return PGL_E_TOO_LARGE;
		}
		req->resources[req->nresources++] = b->name;
	}
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

/* The subject key, the common case first: "ssh-ed25519 <68 base64
 * characters>[ comment]" whose blob is exactly string("ssh-ed25519"),
 * string(32 bytes).  Such a key is only encoded into the certificate
 * and fingerprinted, never used for crypto, so it gets no EVP_PKEY
 * (building one costs a provider lookup).  OpenSSL does not check an
 * Ed25519 public key either, so the keys accepted are the same.
 * Anything else, valid or not, goes to the full parser. */
#define ED25519_B64_LEN 68
#define ED25519_BLOB_LEN 51

static int
parse_subject(const char *line, struct pgl_key **out)
{
	static const char prefix[] = "ssh-ed25519 ";
	static const uint8_t head[] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e',
	    'd', '2', '5', '5', '1', '9', 0, 0, 0, 32 };
	size_t len = strlen(line), plen = sizeof(prefix) - 1;
	struct pgl_key *k = NULL;
	struct pgl_buf *blob = NULL;
	const char *b64 = line + plen;

	if (len < plen + ED25519_B64_LEN || len > PGL_PUBKEY_LINE_MAX ||
	    memcmp(line, prefix, plen) != 0 ||
	    (b64[ED25519_B64_LEN] != '\0' && b64[ED25519_B64_LEN] != ' ' &&
	    b64[ED25519_B64_LEN] != '\t') ||
	    strpbrk(b64, "\r\n") != NULL)
		goto full;
	if ((blob = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	if (pgl_b64_decode(b64, ED25519_B64_LEN, blob) != 0 ||
	    pgl_buf_len(blob) != ED25519_BLOB_LEN ||
	    memcmp(pgl_buf_ptr(blob), head, sizeof(head)) != 0)
		goto full;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		pgl_buf_free(blob);
		return PGL_E_NOMEM;
	}
	k->type = PGL_KEY_ED25519;
	k->blob = blob;
	*out = k;
	return 0;
 full:
	pgl_buf_free(blob);
	return pgl_key_parse_public_line(line, len, out, NULL);
}

/* Everything a request needs across its suspension: the certificate
 * is answered only after its record is committed, and the worker thread
 * serves other connections meanwhile. */
struct sign_state {
	struct pgl_decision d[MAX_RESOURCES];
	char principals[MAX_RESOURCES][300];
	const char *pp[MAX_RESOURCES];
	struct pgl_cert_option ext[PGL_CERT_MAX_OPTIONS];
	struct pgl_cert_option crit[2];
	char key_id[1024];
	char resource_list[MAX_RESOURCES * 64];
	char identity[256];
	size_t nresources;
	char *fp;
	struct pgl_key *subject;
	struct pgl_buf *blob;
	struct pgl_policy_ref *pol;     /* d[] points into it */
	struct pgl_identity who;
	struct pgl_cert_req creq;
	uint64_t seq;                   /* the record's sequence number */
	struct pgl_cert_record rec;
	int tries;
	int result;                     /* the record's, from the writer */
};

static void
sign_state_free(void *p)
{
	struct sign_state *st = p;

	if (st == NULL)
		return;
	pgl_service_policy_put(st->pol);
	pgl_key_free(st->subject);
	pgl_buf_free(st->blob);
	free(st->fp);
	free(st);
}

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

/* The writer committed (or failed) the record: wake the connection. */
static void
recorded(int result, void *arg)
{
	struct pgl_request *rq = arg;
	struct sign_state *st = rq->state;

	st->result = result;
	pgl_http_resume(rq);
}

/* Draws a serial, signs, and queues the record with the connection
 * suspended until it is durable. */
static enum MHD_Result
issue(struct pgl_request *rq, struct sign_state *st)
{
	struct pgl_service *svc = rq->svc;
	const char *what;
	char msg[512];
	int r;

	if ((r = pgl_store_new_serial(svc->store, &st->seq,
	    &st->creq.serial)) != 0)
		return pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "no serial: %s", pgl_strerror(r));
	snprintf(st->key_id, sizeof(st->key_id), "pgl:%s:%s:%" PRIu64,
	    st->identity, st->resource_list, st->creq.serial);
	pgl_buf_reset(st->blob);
	if ((r = pgl_cert_sign(st->subject, svc->user_ca, &st->creq, st->blob,
	    &what)) != 0) {
		snprintf(msg, sizeof(msg), "cannot sign: %s: %s",
		    what != NULL ? what : "certificate", pgl_strerror(r));
		return deny(rq, MHD_HTTP_BAD_REQUEST, st->identity,
		    st->resource_list, st->fp, msg);
	}
	memset(&st->rec, 0, sizeof(st->rec));
	st->rec.seq = st->seq;
	st->rec.serial = st->creq.serial;
	st->rec.key_id = st->key_id;
	st->rec.identity = st->identity;
	st->rec.resource = st->resource_list;
	st->rec.type = PGL_CERT_TYPE_USER;
	st->rec.valid_after = st->creq.valid_after;
	st->rec.valid_before = st->creq.valid_before;
	st->rec.fingerprint = st->fp;
	st->tries++;
	/* Suspend first: the writer may finish before this returns. */
	pgl_http_suspend(rq);
	if ((r = pgl_store_record_cert_async(svc->store, &st->rec, recorded,
	    rq)) != 0) {
		st->result = r;
		pgl_http_resume(rq);
	}
	return MHD_YES;
}

/* Back from the writer: answer with the certificate, or the failure. */
static enum MHD_Result
finish(struct pgl_request *rq, struct sign_state *st)
{
	struct pgl_service *svc = rq->svc;
	struct pgl_buf *out = NULL;
	struct pgl_jw w;
	char *line = NULL, serial[24];
	size_t i;
	enum MHD_Result ret;

	/* A sequence number another process took: again with a new one. */
	if (st->result == PGL_E_EXISTS && st->tries < SERIAL_TRIES)
		return issue(rq, st);
	if (st->result != 0)
		return pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot record the certificate: %s", pgl_strerror(st->result));
	/* Written directly (jsonw.h): json-c's tree and byte-by-byte
	 * escaping of the certificate cost more than the rest of the
	 * answer. */
	if (pgl_cert_format_line(st->subject->type, st->blob, st->key_id,
	    &line) != 0 || (out = pgl_buf_new()) == NULL) {
		free(line);
		return MHD_NO;
	}
	snprintf(serial, sizeof(serial), "%" PRIu64, st->creq.serial);
	pgl_jw_begin(&w, out);
	pgl_jw_str(&w, "certificate", line);
	pgl_jw_str(&w, "serial", serial);
	pgl_jw_str(&w, "key_id", st->key_id);
	pgl_jw_str(&w, "username", st->who.username);
	pgl_jw_int(&w, "uid", st->who.uid);
	pgl_jw_int(&w, "valid_after", (int64_t)st->creq.valid_after);
	pgl_jw_int(&w, "valid_before", (int64_t)st->creq.valid_before);
	pgl_jw_open(&w, "resources", '[');
	for (i = 0; i < st->nresources; i++) {
		const struct pgl_resource *res = st->d[i].resource;

		pgl_jw_open(&w, NULL, '{');
		pgl_jw_str(&w, "name", res->name);
		pgl_jw_str(&w, "principal", st->principals[i]);
		pgl_jw_str(&w, "address", res->address);
		pgl_jw_int(&w, "port", res->port);
		pgl_jw_str(&w, "via", res->via);
		pgl_jw_close(&w, '}');
	}
	pgl_jw_close(&w, ']');
	pgl_jw_str(&w, "host_ca", svc->host_ca_line);
	free(line);
	if (pgl_jw_end(&w) != 0) {
		pgl_buf_free(out);
		return MHD_NO;
	}
	{
		struct pgl_audit_event ev = { .action = "sign",
		    .identity = st->identity, .source = rq->source,
		    .resource = st->resource_list, .allowed = 1,
		    .serial = st->creq.serial, .key_id = st->key_id,
		    .fingerprint = st->fp };

		pgl_audit_log(svc->audit, &ev);
	}
	atomic_fetch_add(&svc->metrics.certs_user, 1);
	ret = pgl_http_bytes(rq, MHD_HTTP_OK, "application/json",
	    pgl_buf_ptr(out), pgl_buf_len(out), NULL);
	pgl_buf_free(out);
	return ret;
}

enum MHD_Result
pgl_api_sign_user(struct pgl_request *rq)
{
	struct pgl_service *svc = rq->svc;
	struct sign_state *st = rq->state;
	char msg[512];
	struct sign_req req;
	json_object *body = NULL;
	json_tokener *tok = NULL;
	const char *why, *reason;
	const struct pgl_grant *g0;
	enum MHD_Result ret;
	uint64_t now = (uint64_t)time(NULL), ttl, ttl_max;
	size_t i, j, nx;
	int r;

	if (st != NULL)
		return finish(rq, st);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return MHD_NO;
	rq->state = st;
	rq->state_free = sign_state_free;
	if (pgl_api_authenticate(rq, st->identity, sizeof(st->identity), &ret) != 0)
		return ret;
	/* Parse with a depth limit; json-c needs the exact length. */
	if ((tok = json_tokener_new_ex(8)) == NULL)
		return MHD_NO;
	body = json_tokener_parse_ex(tok, (const char *)pgl_buf_ptr(rq->body),
	    (int)pgl_buf_len(rq->body));
	if (body == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != pgl_buf_len(rq->body)) {
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity, NULL, NULL,
		    "request body is not valid JSON");
		goto out;
	}
	if ((r = parse_body(body, &req, &why)) != 0) {
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity, NULL, NULL, why);
		goto out;
	}
	if ((r = parse_subject(req.public_key, &st->subject)) != 0) {
		snprintf(msg, sizeof(msg), "invalid public_key: %s", pgl_strerror(r));
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity, req.resources[0],
		    NULL, msg);
		goto out;
	}
	if ((r = pgl_key_fingerprint(st->subject, &st->fp)) != 0 ||
	    (st->blob = pgl_buf_new()) == NULL) {
		ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory");
		goto out;
	}
	st->pol = pgl_service_policy_get(svc);
	if (add_bastions(st->pol->policy, &req, &why) != 0) {
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity,
		    req.resources[0], st->fp, why);
		goto out;
	}
	st->nresources = req.nresources;
	ttl_max = UINT32_MAX;
	for (i = 0; i < req.nresources; i++) {
		r = pgl_policy_decide(st->pol->policy, st->identity,
		    req.resources[i], &st->d[i], &reason);
		if (r != 0) {
			snprintf(msg, sizeof(msg), "%s: %s", req.resources[i], reason);
			ret = deny(rq, r == PGL_E_NOT_ALLOWED ? MHD_HTTP_FORBIDDEN :
			    MHD_HTTP_NOT_FOUND, st->identity, req.resources[i],
			    st->fp, msg);
			goto out;
		}
		if (st->d[i].ttl_max < ttl_max)
			ttl_max = st->d[i].ttl_max;
		for (j = 0; j < i; j++) {
			if (st->d[j].resource == st->d[i].resource) {
				ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity,
				    req.resources[i], st->fp,
				    "a resource is named twice");
				goto out;
			}
		}
		/* One certificate carries one set of restrictions. */
		if (!same_str(st->d[i].grant->force_command,
		    st->d[0].grant->force_command) ||
		    !same_str(st->d[i].grant->source_address,
		    st->d[0].grant->source_address)) {
			ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity,
			    req.resources[i], st->fp, "these resources have "
			    "different restrictions; request them separately");
			goto out;
		}
	}
	ttl = req.ttl > 0 ? (uint64_t)req.ttl : st->pol->policy->ttl_default;
	if (ttl > ttl_max) {
		snprintf(msg, sizeof(msg), "ttl %" PRIu64 " is above the maximum "
		    "of %" PRIu64 " seconds for this grant", ttl, ttl_max);
		ret = deny(rq, MHD_HTTP_BAD_REQUEST, st->identity,
		    req.resources[0], st->fp, msg);
		goto out;
	}
	if ((r = pgl_store_identity(svc->store, st->identity, &st->who)) != 0) {
		ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot assign a username: %s", pgl_strerror(r));
		goto out;
	}
	/* Principals are bound to the host: "name@resource". */
	for (i = 0; i < req.nresources; i++) {
		snprintf(st->principals[i], sizeof(st->principals[i]), "%s@%s",
		    st->who.username, st->d[i].resource->name);
		st->pp[i] = st->principals[i];
		snprintf(st->resource_list + strlen(st->resource_list),
		    sizeof(st->resource_list) - strlen(st->resource_list), "%s%s",
		    i > 0 ? "," : "", st->d[i].resource->name);
	}
	/* Extensions every grant allows (the most restrictive set). */
	g0 = st->d[0].grant;
	nx = 0;
	{
		static const char *const all[] = { "permit-X11-forwarding",
		    "permit-agent-forwarding", "permit-port-forwarding",
		    "permit-pty", "permit-user-rc", "no-touch-required" };

		for (j = 0; j < sizeof(all) / sizeof(all[0]); j++) {
			int ok = 1;

			for (i = 0; i < req.nresources; i++)
				ok = ok && grant_has_extension(st->d[i].grant, all[j]);
			if (ok) {
				st->ext[nx].name = all[j];
				st->ext[nx++].value = NULL;
			}
		}
	}
	st->creq.type = PGL_CERT_TYPE_USER;
	st->creq.key_id = st->key_id;
	st->creq.principals = st->pp;
	st->creq.nprincipals = req.nresources;
	st->creq.valid_after = now - BACKDATE;
	st->creq.valid_before = now + ttl;
	st->creq.extensions = st->ext;
	st->creq.nextensions = nx;
	st->creq.critical = st->crit;
	if (g0->force_command != NULL) {
		st->crit[st->creq.ncritical].name = "force-command";
		st->crit[st->creq.ncritical++].value = g0->force_command;
	}
	if (g0->source_address != NULL) {
		st->crit[st->creq.ncritical].name = "source-address";
		st->crit[st->creq.ncritical++].value = g0->source_address;
	}
	ret = issue(rq, st);
 out:
	json_object_put(body);
	json_tokener_free(tok);
	return ret;
}
