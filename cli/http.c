/* The signer's HTTP API over libcurl.  TLS is always verified: by the
 * system's CAs, by a CA file, or by the public key pin `pgl login --pin`
 * stored.  With a pin and no CA file the chain is not checked (the
 * signer's certificate is usually self-signed) but the key must match
 * the pin, which curl enforces before any byte is sent.  Plain http://
 * only to a loopback address. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "err.h"
#include "pgl.h"

#define CONNECT_TIMEOUT 10L
#define TOTAL_TIMEOUT 30L
#define CLOCK_SKEW_WARN 30

struct sink {
	struct pgl_buf *body;
	time_t date;
	int too_large;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (pgl_buf_put(s->body, p, size * n) != 0) {
		s->too_large = 1;
		return 0;
	}
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	char line[128];

	if (len > 5 && len < sizeof(line) && strncasecmp(p, "Date:", 5) == 0) {
		memcpy(line, p + 5, len - 5);
		line[len - 5] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		s->date = curl_getdate(line, NULL);
		if (s->date < 0)
			s->date = 0;
	}
	return len;
}

int
api_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 :
	    PGL_E_SYSTEM;
}

void
api_resp_clear(struct api_resp *r)
{
	pgl_buf_free(r->body);
	memset(r, 0, sizeof(*r));
}

/* http:// only to loopback; anything else must be https://. */
static int
scheme_ok(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	int ok = 0;

	if ((u = curl_url()) == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (strcmp(scheme, "https") == 0)
			ok = 1;
		else if (strcmp(scheme, "http") == 0)
			ok = strcmp(host, "localhost") == 0 ||
			    strncmp(host, "127.", 4) == 0 ||
			    strcmp(host, "[::1]") == 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

int
api_request(const struct pgl_config *c, const char *method, const char *path,
    int with_token, const char *body, struct api_resp *out,
    struct cli_err *e)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL, *l;
	struct sink s = { NULL, 0, 0 };
	char errbuf[CURL_ERROR_SIZE] = "", *url = NULL, *auth = NULL;
	CURLcode cc;
	int r = PGL_E_SYSTEM;

	memset(out, 0, sizeof(*out));
	if (!scheme_ok(c->signer)) {
		cli_seterr(e, PGL_EXIT_ERROR, "signer address %s: use https:// "
		    "(plain http:// only to a loopback address)", c->signer);
		return PGL_E_INVALID_ARG;
	}
	if (asprintf(&url, "%s%s", c->signer, path) < 0)
		url = NULL;
	if (url == NULL || (s.body = pgl_buf_new()) == NULL ||
	    pgl_buf_set_max(s.body, PGL_RESP_MAX) != 0 ||
	    (h = curl_easy_init()) == NULL) {
		cli_seterr(e, PGL_EXIT_ERROR, "out of memory");
		r = PGL_E_NOMEM;
		goto out;
	}
	if (with_token) {
		if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0) {
			auth = NULL;
			cli_seterr(e, PGL_EXIT_ERROR, "out of memory");
			r = PGL_E_NOMEM;
			goto out;
		}
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (body != NULL)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTPS | CURLPROTO_HTTP);
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, TOTAL_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "pgl/" PGL_VERSION);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &s);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->cafile != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cafile);
	if (c->pin != NULL) {
		curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, c->pin);
		/* The pin names the key: no chain to check for a
		 * self-signed signer.  Never without a pin. */
		if (c->cafile == NULL) {
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body != NULL ? body : "");
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		const char *why = errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc);

		if (s.too_large)
			cli_seterr(e, PGL_EXIT_SIGNER, "the signer at %s sent "
			    "an answer too large", c->signer);
		else if (cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
			cli_seterr(e, PGL_EXIT_UNREACHABLE, "the signer at %s "
			    "presented a key that does not match the pin "
			    "(%s): refusing to talk to it", c->signer, c->pin);
		else if (cc == CURLE_PEER_FAILED_VERIFICATION ||
		    cc == CURLE_SSL_CACERT_BADFILE)
			cli_seterr(e, PGL_EXIT_UNREACHABLE, "cannot verify the "
			    "signer at %s: %s (for a self-signed signer, log in "
			    "with --pin sha256//...)", c->signer, why);
		else
			cli_seterr(e, PGL_EXIT_UNREACHABLE, "cannot reach the "
			    "signer at %s: %s", c->signer, why);
		r = PGL_E_SYSTEM;
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
	out->body = s.body;
	out->date = s.date;
	s.body = NULL;
	r = 0;
 out:
	/* The token lives in these copies too: wipe before freeing. */
	for (l = hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(hdrs);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (h != NULL)
		curl_easy_cleanup(h);
	free(url);
	pgl_buf_free(s.body);
	return r;
}

void
api_status_err(const struct pgl_config *c, const struct api_resp *r,
    const char *what, struct cli_err *e)
{
	char *reason = NULL;
	const char *why;

	if (r->body != NULL)
		pgl_resp_error((const char *)pgl_buf_ptr(r->body),
		    pgl_buf_len(r->body), &reason);
	why = reason != NULL ? reason : "no reason given";
	switch (r->status) {
	case 401:
		cli_seterr(e, PGL_EXIT_NOT_LOGGED_IN, "the signer at %s does "
		    "not accept your token (%s): log in again with pgl login",
		    c->signer, why);
		break;
	case 403:
		cli_seterr(e, PGL_EXIT_DENIED, "access denied: %s", why);
		break;
	case 404:
		cli_seterr(e, PGL_EXIT_UNKNOWN, "%s: %s", what, why);
		break;
	case 429:
		cli_seterr(e, PGL_EXIT_SIGNER, "the signer at %s is rate "
		    "limiting you: try again in a moment", c->signer);
		break;
	default:
		cli_seterr(e, r->status >= 500 ? PGL_EXIT_SIGNER :
		    PGL_EXIT_ERROR, "the signer at %s answered %ld: %s",
		    c->signer, r->status, why);
		break;
	}
	free(reason);
}

void
api_check_clock(const struct pgl_config *c, time_t server_now)
{
	static int warned;
	time_t now = time(NULL);
	long d;

	if (server_now <= 0 || warned)
		return;
	d = (long)(now - server_now);
	if (d > CLOCK_SKEW_WARN || d < -CLOCK_SKEW_WARN) {
		warned = 1;
		cli_warn("clock skew detected: this computer's clock is %ld s "
		    "%s the signer's (%s); certificates may look expired or "
		    "not yet valid", d > 0 ? d : -d, d > 0 ? "ahead of" :
		    "behind", c->signer);
	}
}
