/* libcurl, configured once per request: HTTPS only, no redirects, TLS
 * 1.2 or later, the peer verified by the CA store or by the pinned key.
 * With a pin the certificate chain is not checked (the signer's
 * certificate is self-signed) but libcurl still aborts the handshake
 * unless the server's public key hashes to the pin. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "err.h"
#include "text.h"
#include "http.h"

#ifndef PGL_VERSION
#define PGL_VERSION "0"
#endif

struct sink {
	struct pgl_buf *b;
	int too_large;
};

void
http_global_init(void)
{
	(void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	if (pgl_buf_put(s->b, p, n) != 0) {
		s->too_large = 1;
		return 0;
	}
	return n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *r = arg;
	size_t k = strlen("ETag:"), len = n;

	if (len > k && strncasecmp(p, "ETag:", k) == 0) {
		p += k;
		len -= k;
		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		/* Only a tag we can store on a line and send back. */
		if (len > 0 && len < sizeof(r->etag) &&
		    !pgl_has_ctrl_n(p, len) && memchr(p, ' ', len) == NULL) {
			memcpy(r->etag, p, len);
			r->etag[len] = '\0';
		}
	}
	return n;
}

static const char *
curl_why(CURLcode cc, const struct host_config *c)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return c->pin != NULL ? "the signer's TLS certificate failed "
		    "verification" : "the signer's TLS certificate is not "
		    "trusted (a self-signed signer needs --pin sha256//..., "
		    "as pgl-signer init printed it, or --ca-file)";
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return "the signer's TLS public key does not match the pin";
	case CURLE_SSL_CACERT_BADFILE:
		return "cannot read the CA file";
	case CURLE_OPERATION_TIMEDOUT:
		return "timed out";
	case CURLE_WRITE_ERROR:
		return "response too large";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "only https:// signer URLs are allowed";
	default:
		return curl_easy_strerror(cc);
	}
}

int
http_request(const struct host_config *c, const struct http_req *rq,
    struct http_resp *out, struct host_err *e)
{
	struct curl_slist *hdr = NULL, *t;
	struct http_resp resp;
	struct sink sink;
	char url[4096], *auth = NULL, *inm = NULL;
	CURLcode cc = CURLE_OK;
	CURL *h = NULL;
	int r = -1;

	memset(&resp, 0, sizeof(resp));
	memset(&sink, 0, sizeof(sink));
	if (c->signer == NULL || strncmp(c->signer, "https://", 8) != 0)
		return herr(e, "the signer URL must start with https://");
	if ((size_t)snprintf(url, sizeof(url), "%s%s", c->signer, rq->path) >=
	    sizeof(url))
		return herr(e, "signer URL too long");
	if ((resp.body = pgl_buf_new()) == NULL ||
	    pgl_buf_set_max(resp.body, rq->max) != 0 ||
	    (h = curl_easy_init()) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	sink.b = resp.body;
	if (rq->bearer != NULL) {
		if (asprintf(&auth, "Authorization: Bearer %s", rq->bearer) < 0) {
			auth = NULL;
			herr(e, "out of memory");
			goto out;
		}
		if ((t = curl_slist_append(hdr, auth)) == NULL)
			goto nomem;
		hdr = t;
	}
	if (rq->if_none_match != NULL) {
		if (asprintf(&inm, "If-None-Match: %s", rq->if_none_match) < 0) {
			inm = NULL;
			goto nomem;
		}
		if ((t = curl_slist_append(hdr, inm)) == NULL)
			goto nomem;
		hdr = t;
	}
	if (rq->body != NULL) {
		if ((t = curl_slist_append(hdr,
		    "Content-Type: application/json")) == NULL)
			goto nomem;
		hdr = t;
	}
	/* Each setopt below can only fail for lack of memory or support;
	 * the TLS ones must not fail silently. */
	if ((cc = curl_easy_setopt(h, CURLOPT_URL, url)) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500
	    (cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https")) != CURLE_OK ||
#else
	    (cc = curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    (cc = curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    rq->timeout_ms)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_USERAGENT,
	    "pgl-host/" PGL_VERSION)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header)) != CURLE_OK ||
	    (cc = curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp)) != CURLE_OK)
		goto curlfail;
	if (c->pin != NULL) {
		/* The pin is the verification: the chain may be self-signed
		 * and the name anything, the key must hash to the pin. */
		if ((cc = curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY,
		    c->pin)) != CURLE_OK ||
		    (cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L)) != CURLE_OK ||
		    (cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L)) != CURLE_OK)
			goto curlfail;
	} else {
		if ((cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L)) != CURLE_OK ||
		    (cc = curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L)) != CURLE_OK)
			goto curlfail;
		if (c->ca_file != NULL) {
			char ca[PATH_MAX];

			if (root_path(c->root, c->ca_file, ca, sizeof(ca)) != 0) {
				herr(e, "ca_file path too long");
				goto out;
			}
			if ((cc = curl_easy_setopt(h, CURLOPT_CAINFO, ca)) != CURLE_OK)
				goto curlfail;
		}
	}
	if (strcmp(rq->method, "POST") == 0) {
		if ((cc = curl_easy_setopt(h, CURLOPT_POSTFIELDS,
		    rq->body != NULL ? rq->body : "")) != CURLE_OK)
			goto curlfail;
	} else if ((cc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L)) != CURLE_OK)
		goto curlfail;
	if ((cc = curl_easy_perform(h)) != CURLE_OK) {
		if (sink.too_large)
			herr(e, "%s %s: response larger than %zu bytes",
			    rq->method, rq->path, rq->max);
		else
			herr(e, "%s: %s", c->signer, curl_why(cc, c));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
	*out = resp;
	resp.body = NULL;
	r = 0;
	goto out;
 curlfail:
	herr(e, "libcurl: %s", curl_why(cc, c));
	goto out;
 nomem:
	herr(e, "out of memory");
 out:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(inm);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	pgl_buf_free(resp.body);
	return r;
}

void
http_resp_free(struct http_resp *r)
{
	if (r == NULL)
		return;
	pgl_buf_free(r->body);
	r->body = NULL;
}

void
http_error(const struct http_resp *r, const char *what, struct host_err *e)
{
	json_object *o = NULL, *v;
	char msg[256] = "";
	const char *s;
	size_t i, n = 0;

	if (r->body != NULL && pgl_buf_len(r->body) > 0 &&
	    pgl_buf_len(r->body) < 65536) {
		json_tokener *tok = json_tokener_new_ex(3);

		if (tok != NULL) {
			o = json_tokener_parse_ex(tok,
			    (const char *)pgl_buf_ptr(r->body),
			    (int)pgl_buf_len(r->body));
			json_tokener_free(tok);
		}
	}
	if (o != NULL && json_object_object_get_ex(o, "error", &v) &&
	    (s = json_object_get_string(v)) != NULL) {
		/* Printable ASCII only: it goes into logs and terminals. */
		for (i = 0; s[i] != '\0' && n < sizeof(msg) - 1; i++)
			msg[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		msg[n] = '\0';
	}
	json_object_put(o);
	herr(e, "%s: the signer answered %ld%s%s", what, r->status,
	    msg[0] != '\0' ? ": " : "", msg);
}
