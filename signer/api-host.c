/* The host side of the API: enrollment, host certificates, and each
 * host's directory of the users allowed on it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "api.h"
#include "audit.h"
#include "cert.h"
#include "err.h"
#include "username.h"

#define BEARER "Bearer "
#define HOST_KEY_MAX 16384

/* The body {"host_key": "<ssh public key line>"}, nothing else. */
static int
parse_host_key(struct pgl_request *rq, struct pgl_key **key, char **line,
    const char **why)
{
	json_tokener *tok;
	json_object *o, *v = NULL;
	int r = PGL_E_FORMAT;

	*why = "body must be {\"host_key\": \"<public key>\"}";
	if ((tok = json_tokener_new_ex(4)) == NULL)
		return PGL_E_NOMEM;
	o = json_tokener_parse_ex(tok, (const char *)pgl_buf_ptr(rq->body),
	    (int)pgl_buf_len(rq->body));
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != pgl_buf_len(rq->body) ||
	    !json_object_is_type(o, json_type_object) ||
	    json_object_object_length(o) != 1 ||
	    !json_object_object_get_ex(o, "host_key", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto out;
	if ((r = pgl_key_parse_public_line(json_object_get_string(v),
	    (size_t)json_object_get_string_len(v), key, NULL)) != 0) {
		*why = pgl_strerror(r);
		goto out;
	}
	if ((r = pgl_key_format_public_line(*key, NULL, line)) != 0) {
		pgl_key_free(*key);
		*key = NULL;
	}
 out:
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

static const char *
bearer(struct pgl_request *rq)
{
	const char *auth = pgl_http_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);

	if (auth == NULL || strncmp(auth, BEARER, strlen(BEARER)) != 0 ||
	    strlen(auth) > 256)
		return NULL;
	return auth + strlen(BEARER);
}

static void
audit_host(struct pgl_request *rq, const char *action, const char *host,
    int allowed, const char *reason, uint64_t serial, const char *fp)
{
	struct pgl_audit_event ev = { .action = action, .identity = host,
	    .source = rq->source, .resource = host, .allowed = allowed,
	    .reason = reason, .serial = serial, .fingerprint = fp };

	if (!allowed)
		atomic_fetch_add(&rq->svc->metrics.denied, 1);
	pgl_audit_log(rq->svc->audit, &ev);
}

/* A host certificate for key: principals are the host's name and, if
 * the policy knows it as a resource, its aliases and address. */
static int
sign_host(struct pgl_service *svc, const char *host, const struct pgl_key *key,
    char **line, uint64_t *serial_out)
{
	struct pgl_policy_ref *pol = pgl_service_policy_get(svc);
	const struct pgl_resource *res = pgl_policy_resource(pol->policy, host);
	const char *names[66];
	struct pgl_cert_req req;
	struct pgl_cert_record rec;
	struct pgl_buf *blob = NULL;
	char key_id[512], *fp = NULL;
	const char *what;
	uint64_t now = (uint64_t)time(NULL), seq;
	size_t n = 0, i;
	int r;

	names[n++] = host;
	if (res != NULL) {
		for (i = 0; i < res->naliases && n < 64; i++)
			names[n++] = res->aliases[i];
		if (res->address != NULL && strcmp(res->address, host) != 0)
			names[n++] = res->address;
	}
	memset(&req, 0, sizeof(req));
	req.type = PGL_CERT_TYPE_HOST;
	req.principals = names;
	req.nprincipals = n;
	req.valid_after = now - 60;
	req.valid_before = now + svc->config->host_cert_ttl;
	req.key_id = key_id;
	if ((r = pgl_store_new_serial(svc->store, &seq, &req.serial)) != 0)
		goto out;
	snprintf(key_id, sizeof(key_id), "pgl-host:%s:%" PRIu64, host, req.serial);
	if ((blob = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_cert_sign(key, svc->host_ca, &req, blob, &what)) != 0 ||
	    (r = pgl_key_fingerprint(key, &fp)) != 0)
		goto out;
	memset(&rec, 0, sizeof(rec));
	rec.seq = seq;
	rec.serial = req.serial;
	rec.key_id = key_id;
	rec.identity = host;
	rec.resource = host;
	rec.type = PGL_CERT_TYPE_HOST;
	rec.valid_after = req.valid_after;
	rec.valid_before = req.valid_before;
	rec.fingerprint = fp;
	if ((r = pgl_store_record_cert(svc->store, &rec)) != 0 ||
	    (r = pgl_cert_format_line(key->type, blob, host, line)) != 0)
		goto out;
	*serial_out = req.serial;
 out:
	pgl_service_policy_put(pol);
	pgl_buf_free(blob);
	free(fp);
	return r;
}

static json_object *
ca_array(const char *line)
{
	json_object *a = json_object_new_array();

	if (a != NULL)
		json_object_array_add(a, json_object_new_string(line));
	return a;
}

enum MHD_Result
pgl_api_enroll(struct pgl_request *rq)
{
	struct pgl_service *svc = rq->svc;
	const char *token = bearer(rq), *why;
	struct pgl_key *key = NULL;
	char *key_line = NULL, *cred = NULL, *cert = NULL, host[256];
	json_object *o;
	uint64_t serial = 0;
	enum MHD_Result ret;
	int r;

	if (token == NULL) {
		audit_host(rq, "enroll", NULL, 0, "missing enrollment token", 0, NULL);
		return pgl_http_error(rq, MHD_HTTP_UNAUTHORIZED,
		    "missing Authorization: Bearer <enrollment token>");
	}
	if (parse_host_key(rq, &key, &key_line, &why) != 0) {
		audit_host(rq, "enroll", NULL, 0, why, 0, NULL);
		return pgl_http_error(rq, MHD_HTTP_BAD_REQUEST, "%s", why);
	}
	r = pgl_store_host_enroll(svc->store, token, key_line, host, sizeof(host),
	    &cred);
	if (r != 0) {
		audit_host(rq, "enroll", NULL, 0, "invalid, used or expired "
		    "enrollment token", 0, NULL);
		ret = r == PGL_E_NOT_FOUND ? pgl_http_error(rq,
		    MHD_HTTP_UNAUTHORIZED, "invalid, used or expired enrollment "
		    "token") : pgl_http_error(rq, 500, "state database error");
		goto out;
	}
	if ((r = sign_host(svc, host, key, &cert, &serial)) != 0) {
		ret = pgl_http_error(rq, 500, "cannot sign the host key: %s",
		    pgl_strerror(r));
		goto out;
	}
	audit_host(rq, "enroll", host, 1, NULL, serial, NULL);
	if ((o = json_object_new_object()) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "credential", json_object_new_string(cred));
	json_object_object_add(o, "host_certificate", json_object_new_string(cert));
	json_object_object_add(o, "user_ca", ca_array(svc->user_ca_line));
	json_object_object_add(o, "host_ca", ca_array(svc->host_ca_line));
	ret = pgl_http_json(rq, MHD_HTTP_OK, o);
 out:
	if (cred != NULL) {
		explicit_bzero(cred, strlen(cred));
		free(cred);
	}
	pgl_key_free(key);
	free(key_line);
	free(cert);
	return ret;
}

/* The calling host, from its credential; on failure the response is
 * queued and *ret set. */
static int
authenticate_host(struct pgl_request *rq, const char *action,
    struct pgl_host *host, enum MHD_Result *ret)
{
	const char *cred = bearer(rq);
	int r;

	if (cred == NULL || (r = pgl_store_host_check(rq->svc->store, cred,
	    host)) == PGL_E_NOT_FOUND) {
		audit_host(rq, action, NULL, 0, "invalid or revoked host "
		    "credential", 0, NULL);
		*ret = pgl_http_error(rq, MHD_HTTP_UNAUTHORIZED,
		    "invalid or revoked host credential");
		return PGL_E_NOT_ALLOWED;
	}
	if (r != 0) {
		*ret = pgl_http_error(rq, 500, "state database error");
		return r;
	}
	/* Hosts share the per-token limit; their keys cannot collide with
	 * identities, which always hold an '@'. */
	return pgl_api_rate(rq, host->name, ret);
}

enum MHD_Result
pgl_api_host_cert(struct pgl_request *rq)
{
	struct pgl_host host;
	struct pgl_key *key = NULL;
	char *key_line = NULL, *cert = NULL;
	const char *why;
	json_object *o;
	uint64_t serial = 0;
	enum MHD_Result ret;
	int r;

	if (authenticate_host(rq, "host-cert", &host, &ret) != 0)
		return ret;
	if (parse_host_key(rq, &key, &key_line, &why) != 0) {
		audit_host(rq, "host-cert", host.name, 0, why, 0, NULL);
		return pgl_http_error(rq, MHD_HTTP_BAD_REQUEST, "%s", why);
	}
	/* Renewal is for the key that enrolled; a new key re-enrolls. */
	if (strcmp(key_line, host.host_key) != 0) {
		audit_host(rq, "host-cert", host.name, 0, "host key differs from "
		    "the enrolled one", 0, NULL);
		ret = pgl_http_error(rq, MHD_HTTP_FORBIDDEN, "host key differs "
		    "from the enrolled one; enroll again to change it");
		goto out;
	}
	if ((r = sign_host(rq->svc, host.name, key, &cert, &serial)) != 0) {
		ret = pgl_http_error(rq, 500, "cannot sign: %s", pgl_strerror(r));
		goto out;
	}
	audit_host(rq, "host-cert", host.name, 1, NULL, serial, NULL);
	if ((o = json_object_new_object()) == NULL) {
		ret = MHD_NO;
		goto out;
	}
	json_object_object_add(o, "host_certificate", json_object_new_string(cert));
	ret = pgl_http_json(rq, MHD_HTTP_OK, o);
 out:
	pgl_key_free(key);
	free(key_line);
	free(cert);
	return ret;
}

struct dir_ctx {
	struct pgl_service *svc;
	const char *host;
	const char *only;               /* one username, or NULL */
	json_object *users;
	json_object *groups;            /* name -> {gid, members} */
	int error;
};

static json_object *
group_entry(struct dir_ctx *dc, const char *name)
{
	json_object *g;
	uint32_t gid;

	if (json_object_object_get_ex(dc->groups, name, &g))
		return g;
	if (pgl_store_group(dc->svc->store, name, &gid) != 0)
		return NULL;
	if ((g = json_object_new_object()) == NULL)
		return NULL;
	json_object_object_add(g, "name", json_object_new_string(name));
	json_object_object_add(g, "gid", json_object_new_int64(gid));
	json_object_object_add(g, "members", json_object_new_array());
	json_object_object_add(dc->groups, name, g);
	return g;
}

static int
add_user(const struct pgl_decision *d, void *arg)
{
	struct dir_ctx *dc = arg;
	const struct pgl_grant *g = d->grant;
	struct pgl_identity who;
	json_object *u, *arr, *ge, *members;
	char buf[512];
	size_t i;
	int r;

	/* Looking up one user must not assign names to the others (nor
	 * to anyone, when the answer is 404): read only. */
	if (dc->only != NULL) {
		r = pgl_store_identity_get(dc->svc->store, d->user->identity, &who);
		if (r == PGL_E_NOT_FOUND ||
		    (r == 0 && strcmp(dc->only, who.username) != 0))
			return 0;
	} else
		r = pgl_store_identity(dc->svc->store, d->user->identity, &who);
	if (r != 0) {
		dc->error = r;
		return r;
	}
	if ((u = json_object_new_object()) == NULL)
		return PGL_E_NOMEM;
	json_object_object_add(u, "name", json_object_new_string(who.username));
	json_object_object_add(u, "uid", json_object_new_int64(who.uid));
	json_object_object_add(u, "gid", json_object_new_int64(who.uid));
	json_object_object_add(u, "identity", json_object_new_string(d->user->identity));
	json_object_object_add(u, "gecos", json_object_new_string(
	    d->user->name != NULL ? d->user->name : d->user->identity));
	snprintf(buf, sizeof(buf), "%s/%s", dc->svc->config->home_base,
	    who.username);
	json_object_object_add(u, "home", json_object_new_string(buf));
	json_object_object_add(u, "shell", json_object_new_string(
	    d->user->shell != NULL ? d->user->shell : dc->svc->config->default_shell));
	arr = json_object_new_array();
	snprintf(buf, sizeof(buf), "%s@%s", who.username, d->resource->name);
	json_object_array_add(arr, json_object_new_string(buf));
	json_object_object_add(u, "principals", arr);
	if (g->sudo == PGL_SUDO_ALL)
		json_object_object_add(u, "sudo", json_object_new_string("all"));
	else if (g->sudo == PGL_SUDO_COMMANDS) {
		arr = json_object_new_array();
		for (i = 0; i < g->nsudo_commands; i++)
			json_object_array_add(arr, json_object_new_string(g->sudo_commands[i]));
		json_object_object_add(u, "sudo", arr);
	} else
		json_object_object_add(u, "sudo", json_object_new_string("none"));
	arr = json_object_new_array();
	for (i = 0; i < g->ngroups; i++) {
		if ((ge = group_entry(dc, g->groups[i])) == NULL) {
			json_object_put(u);
			json_object_put(arr);
			dc->error = PGL_E_STORE;
			return PGL_E_STORE;
		}
		json_object_array_add(arr, json_object_new_string(g->groups[i]));
		if (json_object_object_get_ex(ge, "members", &members))
			json_object_array_add(members,
			    json_object_new_string(who.username));
	}
	json_object_object_add(u, "groups", arr);
	json_object_array_add(dc->users, u);
	return 0;
}

static enum MHD_Result
directory(struct pgl_request *rq, const char *only)
{
	struct pgl_service *svc = rq->svc;
	struct pgl_policy_ref *pol = NULL;
	struct json_object_iterator it, end;
	struct pgl_host host;
	struct dir_ctx dc;
	json_object *o = NULL, *garr, *range;
	const char *text, *inm;
	unsigned char md[32];
	unsigned mdlen = sizeof(md);
	char etag[40];
	size_t len, i;
	uint64_t krlv = 0;
	enum MHD_Result ret;

	if (authenticate_host(rq, "directory", &host, &ret) != 0)
		return ret;
	memset(&dc, 0, sizeof(dc));
	dc.svc = svc;
	dc.host = host.name;
	dc.only = only;
	if ((o = json_object_new_object()) == NULL ||
	    (dc.users = json_object_new_array()) == NULL ||
	    (dc.groups = json_object_new_object()) == NULL) {
		json_object_put(dc.users);
		json_object_put(dc.groups);
		json_object_put(o);
		return MHD_NO;
	}
	pol = pgl_service_policy_get(svc);
	if (pgl_policy_resource(pol->policy, host.name) != NULL)
		(void)pgl_policy_each_allowed(pol->policy, host.name, add_user, &dc);
	pgl_service_policy_put(pol);
	if (dc.error != 0) {
		json_object_put(dc.users);
		json_object_put(dc.groups);
		json_object_put(o);
		return pgl_http_error(rq, 500, "cannot build the directory: %s",
		    pgl_strerror(dc.error));
	}
	if (only != NULL && json_object_array_length(dc.users) == 0) {
		json_object_put(dc.users);
		json_object_put(dc.groups);
		json_object_put(o);
		return pgl_http_error(rq, MHD_HTTP_NOT_FOUND,
		    "no such user on this host");
	}
	garr = json_object_new_array();
	for (it = json_object_iter_begin(dc.groups),
	    end = json_object_iter_end(dc.groups);
	    !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
		json_object_array_add(garr,
		    json_object_get(json_object_iter_peek_value(&it)));
	json_object_put(dc.groups);
	(void)pgl_store_revocation_version(svc->store, &krlv);
	json_object_object_add(o, "host", json_object_new_string(host.name));
	/* The host's cache accepts ids in this range only. */
	range = json_object_new_array();
	json_object_array_add(range, json_object_new_int64(svc->config->uid_min));
	json_object_array_add(range, json_object_new_int64(svc->config->uid_max));
	json_object_object_add(o, "uid_range", range);
	json_object_object_add(o, "users", dc.users);
	json_object_object_add(o, "groups", garr);
	json_object_object_add(o, "user_ca", ca_array(svc->user_ca_line));
	json_object_object_add(o, "krl_version", json_object_new_int64((int64_t)krlv));
	text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	/* The ETag is the content's hash: unchanged content, same tag. */
	EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
	etag[0] = '"';
	for (i = 0; i < 16; i++)
		snprintf(etag + 1 + 2 * i, 3, "%02x", md[i]);
	snprintf(etag + 33, sizeof(etag) - 33, "\"");
	inm = pgl_http_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && strcmp(inm, etag) == 0)
		ret = pgl_http_bytes(rq, MHD_HTTP_NOT_MODIFIED, NULL, "", 0, etag);
	else
		ret = pgl_http_bytes(rq, MHD_HTTP_OK, "application/json", text,
		    len, etag);
	json_object_put(o);
	return ret;
}

enum MHD_Result
pgl_api_directory(struct pgl_request *rq)
{
	return directory(rq, NULL);
}

enum MHD_Result
pgl_api_host_user(struct pgl_request *rq, const char *name)
{
	if (!pgl_username_valid(name))
		return pgl_http_error(rq, MHD_HTTP_BAD_REQUEST, "invalid user name");
	return directory(rq, name);
}
