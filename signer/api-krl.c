/* GET /v1/krl (the KRL of the user CA) and GET /metrics. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "audit.h"
#include "err.h"
#include "krl.h"

struct collect {
	struct pgl_serial_range *serials;
	size_t nserials, aserials;
	char **ids;
	size_t nids, aids;
};

static int
add_serial(uint64_t serial, void *arg)
{
	struct collect *c = arg;
	struct pgl_serial_range *n;

	if (c->nserials == c->aserials) {
		size_t na = c->aserials ? c->aserials * 2 : 64;

		if ((n = reallocarray(c->serials, na, sizeof(*n))) == NULL)
			return PGL_E_NOMEM;
		c->serials = n;
		c->aserials = na;
	}
	c->serials[c->nserials].lo = c->serials[c->nserials].hi = serial;
	c->nserials++;
	return 0;
}

static int
add_key_id(const char *id, void *arg)
{
	struct collect *c = arg;
	char **n;

	if (c->nids == c->aids) {
		size_t na = c->aids ? c->aids * 2 : 16;

		if ((n = reallocarray(c->ids, na, sizeof(*n))) == NULL)
			return PGL_E_NOMEM;
		c->ids = n;
		c->aids = na;
	}
	if ((c->ids[c->nids] = strdup(id)) == NULL)
		return PGL_E_NOMEM;
	c->nids++;
	return 0;
}

/* The KRL is rebuilt only when a revocation changed the version. */
static pthread_mutex_t krl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pgl_buf *krl_cache;
static uint64_t krl_version = UINT64_MAX;

static int
krl_build(struct pgl_service *svc, uint64_t version, struct pgl_buf *out)
{
	struct collect c = { 0 };
	struct pgl_krl_ca ca;
	size_t i;
	int r;

	if ((r = pgl_store_each_revoked(svc->store, add_serial, add_key_id,
	    &c)) != 0)
		goto out;
	ca.ca = svc->user_ca;
	ca.serials = c.serials;
	ca.nserials = c.nserials;
	ca.key_ids = (const char *const *)c.ids;
	ca.nkey_ids = c.nids;
	r = pgl_krl_encode(&ca, 1, version, (uint64_t)time(NULL), "pgl", out);
 out:
	for (i = 0; i < c.nids; i++)
		free(c.ids[i]);
	free(c.ids);
	free(c.serials);
	return r;
}

enum MHD_Result
pgl_api_krl(struct pgl_request *rq)
{
	struct pgl_service *svc = rq->svc;
	struct pgl_buf *b = NULL;
	const char *inm;
	char etag[32];
	uint64_t version;
	enum MHD_Result ret;
	int r;

	if ((r = pgl_store_revocation_version(svc->store, &version)) != 0)
		return pgl_http_error(rq, 500, "state database error");
	snprintf(etag, sizeof(etag), "\"krl-%" PRIu64 "\"", version);
	inm = pgl_http_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm != NULL && strcmp(inm, etag) == 0)
		return pgl_http_bytes(rq, MHD_HTTP_NOT_MODIFIED, NULL, "", 0, etag);
	pthread_mutex_lock(&krl_lock);
	if (krl_cache == NULL || krl_version != version) {
		if ((b = pgl_buf_new()) == NULL ||
		    pgl_buf_set_max(b, 64 * 1024 * 1024) != 0 ||
		    (r = krl_build(svc, version, b)) != 0) {
			pthread_mutex_unlock(&krl_lock);
			pgl_buf_free(b);
			return pgl_http_error(rq, 500, "cannot build the KRL");
		}
		pgl_buf_free(krl_cache);
		krl_cache = b;
		krl_version = version;
	}
	ret = pgl_http_bytes(rq, MHD_HTTP_OK, "application/octet-stream",
	    pgl_buf_ptr(krl_cache), pgl_buf_len(krl_cache), etag);
	pthread_mutex_unlock(&krl_lock);
	return ret;
}

static int
is_loopback(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	    strcmp(addr, "unix") == 0;
}

enum MHD_Result
pgl_api_metrics(struct pgl_request *rq)
{
	struct pgl_metrics *m = &rq->svc->metrics;
	char *text = NULL;
	enum MHD_Result ret;
	int len;

	if (!rq->svc->config->metrics_public && !is_loopback(rq->source))
		return pgl_http_error(rq, MHD_HTTP_FORBIDDEN,
		    "metrics are only served on loopback");
	len = asprintf(&text,
	    "# HELP pgl_requests_total HTTP requests received.\n"
	    "# TYPE pgl_requests_total counter\n"
	    "pgl_requests_total %" PRIuFAST64 "\n"
	    "# HELP pgl_responses_total HTTP responses by status class.\n"
	    "# TYPE pgl_responses_total counter\n"
	    "pgl_responses_total{class=\"2xx\"} %" PRIuFAST64 "\n"
	    "pgl_responses_total{class=\"3xx\"} %" PRIuFAST64 "\n"
	    "pgl_responses_total{class=\"4xx\"} %" PRIuFAST64 "\n"
	    "pgl_responses_total{class=\"5xx\"} %" PRIuFAST64 "\n"
	    "# HELP pgl_certificates_issued_total Certificates issued.\n"
	    "# TYPE pgl_certificates_issued_total counter\n"
	    "pgl_certificates_issued_total{type=\"user\"} %" PRIuFAST64 "\n"
	    "# HELP pgl_denied_total Requests denied by policy or validation.\n"
	    "# TYPE pgl_denied_total counter\n"
	    "pgl_denied_total %" PRIuFAST64 "\n"
	    "# HELP pgl_rate_limited_total Requests refused by the rate limit.\n"
	    "# TYPE pgl_rate_limited_total counter\n"
	    "pgl_rate_limited_total %" PRIuFAST64 "\n"
	    "# HELP pgl_policy_reloads_total Policy reloads, by outcome.\n"
	    "# TYPE pgl_policy_reloads_total counter\n"
	    "pgl_policy_reloads_total{result=\"ok\"} %" PRIuFAST64 "\n"
	    "pgl_policy_reloads_total{result=\"error\"} %" PRIuFAST64 "\n"
	    "# HELP pgl_audit_write_errors_total Audit lines that could not be written.\n"
	    "# TYPE pgl_audit_write_errors_total counter\n"
	    "pgl_audit_write_errors_total %" PRIu64 "\n"
	    "# HELP pgl_start_time_seconds When the service started.\n"
	    "# TYPE pgl_start_time_seconds gauge\n"
	    "pgl_start_time_seconds %" PRIu64 "\n",
	    atomic_load(&m->requests), atomic_load(&m->responses[2]),
	    atomic_load(&m->responses[3]), atomic_load(&m->responses[4]),
	    atomic_load(&m->responses[5]), atomic_load(&m->certs_user),
	    atomic_load(&m->denied), atomic_load(&m->rate_limited),
	    atomic_load(&m->policy_reloads),
	    atomic_load(&m->policy_reload_failures),
	    pgl_audit_errors(rq->svc->audit), rq->svc->started);
	if (len < 0)
		return MHD_NO;
	ret = pgl_http_bytes(rq, MHD_HTTP_OK,
	    "text/plain; version=0.0.4; charset=utf-8", text, (size_t)len, NULL);
	free(text);
	return ret;
}
