#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "http.h"

/* Per connection: the request line and headers (about 7.5 KB of them
 * fit), then the response's header.  libmicrohttpd zeroes this pool on
 * every request (twice: ~1.5 times its size), so it is no larger than
 * requests need; bodies are streamed through it, not kept. */
#define HEADER_MEMORY (8 * 1024)
#define MAX_CONNECTIONS 1024
#define TLS_FILE_MAX (64 * 1024)
#define DISCARD_MAX (16 * 1024 * 1024)  /* an oversized body read and dropped */

/* Connections are accepted here and handed to MHD: MHD_add_connection
 * spreads them evenly over the worker threads (by descriptor number),
 * where MHD's own accept gives each connection to whichever worker
 * wakes first.  With keep-alive that unevenness lasts: at 64 clients
 * one worker served 30 connections and another 7, and the busy one's
 * clients waited the longest. */
struct pgl_http {
	struct pgl_service *svc;
	struct MHD_Daemon *d;
	struct pgl_buf *key, *cert;     /* kept until the daemon stops */
	int listen_fd;
	int unix_fd;                    /* listen_fd, when it is a UNIX socket */
	pthread_t acceptor;
	int accepting;
	atomic_int stopping;
};

static enum MHD_Result
send_response(struct pgl_request *rq, unsigned status,
    struct MHD_Response *resp)
{
	enum MHD_Result ret;
	unsigned cls = status / 100;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	if (cls < 6)
		atomic_fetch_add(&rq->svc->metrics.responses[cls], 1);
	return ret;
}

enum MHD_Result
pgl_http_bytes(struct pgl_request *rq, unsigned status,
    const char *content_type, const void *p, size_t n, const char *etag)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(n, (void *)p,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (content_type != NULL)
		MHD_add_response_header(resp, "Content-Type", content_type);
	if (etag != NULL)
		MHD_add_response_header(resp, "ETag", etag);
	return send_response(rq, status, resp);
}

enum MHD_Result
pgl_http_json(struct pgl_request *rq, unsigned status, json_object *body)
{
	const char *s;
	size_t len;
	enum MHD_Result ret;

	s = json_object_to_json_string_length(body, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	ret = pgl_http_bytes(rq, status, "application/json", s, len, NULL);
	json_object_put(body);
	return ret;
}

enum MHD_Result
pgl_http_error(struct pgl_request *rq, unsigned status, const char *fmt, ...)
{
	json_object *o;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if ((o = json_object_new_object()) == NULL)
		return MHD_NO;
	json_object_object_add(o, "error", json_object_new_string(msg));
	return pgl_http_json(rq, status, o);
}

void
pgl_http_suspend(struct pgl_request *rq)
{
	atomic_fetch_add(&rq->svc->suspended, 1);
	MHD_suspend_connection(rq->conn);
}

void
pgl_http_resume(struct pgl_request *rq)
{
	struct pgl_service *svc = rq->svc;

	MHD_resume_connection(rq->conn);
	/* After the call: the daemon is stopped only once this is 0. */
	atomic_fetch_sub(&svc->suspended, 1);
}

const char *
pgl_http_header(struct pgl_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static void
client_address(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, len, "unknown");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    out, (socklen_t)len);
	else if (sa->sa_family == AF_UNIX)
		snprintf(out, len, "unix");
}

/* MHD calls this first with no body, then once per body chunk, then
 * once more with none: that last call answers. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct pgl_service *svc = cls;
	struct pgl_request *rq = *con_cls;
	const char *cl, *expect;
	unsigned long long clen;
	char *end;

	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->svc = svc;
		rq->conn = conn;
		rq->method = method;
		rq->url = url;
		client_address(conn, rq->source, sizeof(rq->source));
		if ((rq->body = pgl_buf_new()) == NULL ||
		    pgl_buf_set_max(rq->body, svc->config->max_body) != 0) {
			pgl_buf_free(rq->body);
			free(rq);
			return MHD_NO;
		}
		*con_cls = rq;
		atomic_fetch_add(&svc->metrics.requests, 1);
		/* A declared oversized body: answer 413 at once only if the
		 * client waits for "100 Continue"; others are sending it
		 * anyway, and a reply before the body is read would reach
		 * them as a connection reset.  Their body is discarded. */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL) {
			errno = 0;
			clen = strtoull(cl, &end, 10);
			if (errno != 0 || *end != '\0' || clen > svc->config->max_body) {
				rq->too_large = 1;
				expect = MHD_lookup_connection_value(conn,
				    MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
				if (expect != NULL && strcasecmp(expect, "100-continue") == 0)
					return pgl_http_error(rq,
					    MHD_HTTP_CONTENT_TOO_LARGE,
					    "request body larger than %zu bytes",
					    svc->config->max_body);
			}
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (!rq->too_large && pgl_buf_put(rq->body, upload_data,
		    *upload_data_size) != 0)
			rq->too_large = 1;
		/* Discarding has a limit too: past it, drop the connection. */
		rq->received += *upload_data_size;
		if (rq->too_large && rq->received > DISCARD_MAX)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return pgl_http_error(rq, MHD_HTTP_CONTENT_TOO_LARGE,
		    "request body larger than %zu bytes", svc->config->max_body);
	return pgl_api_handle(rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct pgl_request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rq == NULL)
		return;
	if (rq->state_free != NULL)
		rq->state_free(rq->state);
	pgl_buf_free(rq->body);         /* bodies may hold tokens: wiped */
	free(rq);
	*con_cls = NULL;
}

/* MHD's messages; the format comes from MHD itself. */
__attribute__((format(printf, 2, 0)))
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fprintf(stderr, "pgl-signer: http: ");
	vfprintf(stderr, fmt, ap);
}

/* "host:port", "[v6]:port", or "unix:/path". */
static int
parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
    char *err, size_t errlen)
{
	char host[256];
	const char *colon, *p = listen;
	struct addrinfo hints, *ai = NULL;
	size_t hlen;
	int rc;

	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL || rb[1] != ':')
			goto bad;
		hlen = (size_t)(rb - p - 1);
		p++;
		colon = rb + 1;
	} else {
		if ((colon = strrchr(p, ':')) == NULL)
			goto bad;
		hlen = (size_t)(colon - p);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, p, hlen);
	host[hlen] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		snprintf(err, errlen, "listen %s: %s", listen, gai_strerror(rc));
		return PGL_E_INVALID_ARG;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
 bad:
	snprintf(err, errlen, "listen %s: expected HOST:PORT, [V6]:PORT or "
	    "unix:PATH", listen);
	return PGL_E_INVALID_ARG;
}

static int
unix_listener(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "listen unix:%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	(void)unlink(path);     /* a stale socket from a previous run */
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0660) == -1 || listen(fd, 128) == -1) {
		snprintf(err, errlen, "listen unix:%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	return fd;
}

static int
tcp_listener(const struct sockaddr_storage *ss, socklen_t sslen,
    const char *listen_on, char *err, size_t errlen)
{
	int fd, on = 1;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ss->ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, (const struct sockaddr *)ss, sslen) == -1 ||
	    listen(fd, SOMAXCONN) == -1)
		goto fail;
	return fd;
 fail:
	snprintf(err, errlen, "cannot listen on %s: %s", listen_on,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	return -1;
}

static void *
accept_main(void *arg)
{
	struct pgl_http *h = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	for (;;) {
		len = sizeof(ss);
		fd = accept4(h->listen_fd, (struct sockaddr *)&ss, &len,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (atomic_load(&h->stopping)) {
			if (fd != -1)
				close(fd);
			break;
		}
		if (fd == -1) {
			/* Out of descriptors or memory, or worse: wait, do not
			 * spin.  A connection reset before accept is no error. */
			if (errno != EINTR && errno != ECONNABORTED &&
			    errno != EAGAIN)
				usleep(10000);
			continue;
		}
		/* On failure (connection limit), MHD closes fd. */
		(void)MHD_add_connection(h->d, fd, (struct sockaddr *)&ss, len);
	}
	return NULL;
}

int
pgl_http_start(struct pgl_service *svc, struct pgl_http **out, char *err,
    size_t errlen)
{
	const struct pgl_signer_config *cfg = svc->config;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	struct pgl_http *h;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
	    MHD_USE_NO_LISTEN_SOCKET;
	int r;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return PGL_E_NOMEM;
	h->svc = svc;
	h->listen_fd = h->unix_fd = -1;
	if (strncmp(cfg->listen, "unix:", 5) == 0) {
		if ((h->unix_fd = unix_listener(cfg->listen + 5, err, errlen)) == -1) {
			r = PGL_E_SYSTEM;
			goto fail;
		}
		h->listen_fd = h->unix_fd;
	} else {
		if ((r = parse_listen(cfg->listen, &ss, &sslen, err, errlen)) != 0)
			goto fail;
		if ((h->listen_fd = tcp_listener(&ss, sslen, cfg->listen, err,
		    errlen)) == -1) {
			r = PGL_E_SYSTEM;
			goto fail;
		}
	}
	if (cfg->tls) {
		flags |= MHD_USE_TLS;
		if ((r = pgl_file_read(cfg->tls_key, TLS_FILE_MAX, &h->key)) != 0 ||
		    (r = pgl_buf_put_u8(h->key, 0)) != 0) {
			snprintf(err, errlen, "%s: %s", cfg->tls_key, pgl_strerror(r));
			goto fail;
		}
		if ((r = pgl_file_read(cfg->tls_cert, TLS_FILE_MAX, &h->cert)) != 0 ||
		    (r = pgl_buf_put_u8(h->cert, 0)) != 0) {
			snprintf(err, errlen, "%s: %s", cfg->tls_cert, pgl_strerror(r));
			goto fail;
		}
	}
	/* Options as an array: which ones apply depends on the config. */
	{
		struct MHD_OptionItem o[12];
		size_t n = 0;

#define OPT(opt, val, ptr) do { o[n].option = (opt); \
	o[n].value = (intptr_t)(val); o[n].ptr_value = (ptr); n++; } while (0)
		OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL);
		OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL);
		OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->workers, NULL);
		OPT(MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, NULL);
		OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->request_timeout, NULL);
		OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, HEADER_MEMORY, NULL);
		if (cfg->tls) {
			OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)pgl_buf_ptr(h->key));
			OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)pgl_buf_ptr(h->cert));
		}
		OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
		h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, svc,
		    MHD_OPTION_ARRAY, o, MHD_OPTION_END);
	}
	if (h->d == NULL) {
		snprintf(err, errlen, "cannot serve on %s (a bad TLS key or "
		    "certificate?)", cfg->listen);
		r = PGL_E_SYSTEM;
		goto fail;
	}
	if (pthread_create(&h->acceptor, NULL, accept_main, h) != 0) {
		snprintf(err, errlen, "cannot start the accepting thread");
		r = PGL_E_SYSTEM;
		goto fail;
	}
	h->accepting = 1;
	*out = h;
	return 0;
 fail:
	pgl_http_stop(h);
	return r;
}

void
pgl_http_stop(struct pgl_http *h)
{
	int i;

	if (h == NULL)
		return;
	/* Take no new connections: shutdown() wakes the blocked accept. */
	if (h->accepting) {
		atomic_store(&h->stopping, 1);
		(void)shutdown(h->listen_fd, SHUT_RDWR);
		pthread_join(h->acceptor, NULL);
	}
	if (h->listen_fd != -1)
		close(h->listen_fd);
	if (h->d != NULL) {
		/* Let every suspended connection get its commit and answer
		 * before the daemon goes away (a resume on a stopped daemon
		 * would touch freed memory). */
		for (i = 0; i < 1000 && atomic_load(&h->svc->suspended) > 0; i++)
			usleep(10000);
		MHD_stop_daemon(h->d);
	}
	pgl_buf_free(h->key);
	pgl_buf_free(h->cert);
	free(h);
}
