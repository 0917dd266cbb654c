#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "err.h"
#include "jsonw.h"

struct pgl_audit {
	int fd;
	atomic_uint_fast64_t errors;
	/* Whether a syslog daemon listens: without one, glibc's syslog()
	 * makes a socket and fails to connect on every call only to drop
	 * the line.  Looked at again every SYSLOG_RECHECK seconds. */
	atomic_int syslog_up;
	atomic_llong syslog_checked;
};

#define SYSLOG_RECHECK 10

int
pgl_audit_open(const char *path, struct pgl_audit **out)
{
	struct pgl_audit *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return PGL_E_NOMEM;
	if ((a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		free(a);
		return PGL_E_SYSTEM;
	}
	*out = a;
	return 0;
}

void
pgl_audit_close(struct pgl_audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a);
}

uint64_t
pgl_audit_errors(const struct pgl_audit *a)
{
	return a == NULL ? 0 : atomic_load(&a->errors);
}

/* "2026-11-21T21:34:04.123Z"; the part to the second changes once a
 * second, so each thread keeps it. */
static void
timestamp(const struct timespec *now, char *out, size_t len)
{
	static _Thread_local time_t last = -1;
	static _Thread_local char secs[32];
	struct tm tm;

	if (now->tv_sec != last) {
		gmtime_r(&now->tv_sec, &tm);
		strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
		last = now->tv_sec;
	}
	snprintf(out, len, "%s.%03dZ", secs, (int)(now->tv_nsec / 1000000) % 1000);
}

void
pgl_audit_log(struct pgl_audit *a, const struct pgl_audit_event *e)
{
	struct pgl_buf *b;
	struct pgl_jw w;
	char ts[40], serial[24];
	struct timespec now;
	size_t len;

	if ((b = pgl_buf_new()) == NULL) {
		atomic_fetch_add(&a->errors, 1);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	timestamp(&now, ts, sizeof(ts));
	pgl_jw_begin(&w, b);
	pgl_jw_str(&w, "time", ts);
	pgl_jw_str(&w, "action", e->action);
	pgl_jw_str(&w, "result", e->allowed ? "allowed" : "denied");
	pgl_jw_str(&w, "identity", e->identity);
	pgl_jw_str(&w, "source", e->source);
	pgl_jw_str(&w, "resource", e->resource);
	pgl_jw_str(&w, "reason", e->reason);
	if (e->serial != 0) {
		/* As a string: JSON numbers lose precision past 2^53. */
		snprintf(serial, sizeof(serial), "%" PRIu64, e->serial);
		pgl_jw_str(&w, "serial", serial);
	}
	pgl_jw_str(&w, "key_id", e->key_id);
	pgl_jw_str(&w, "fingerprint", e->fingerprint);
	if (pgl_jw_end(&w) != 0 || pgl_buf_put(b, "\n", 1) != 0) {
		atomic_fetch_add(&a->errors, 1);
		pgl_buf_free(b);
		return;
	}
	len = pgl_buf_len(b);
	/* One write per line: O_APPEND keeps concurrent lines whole. */
	if (write(a->fd, pgl_buf_ptr(b), len) != (ssize_t)len)
		atomic_fetch_add(&a->errors, 1);
	if (now.tv_sec - atomic_load(&a->syslog_checked) >= SYSLOG_RECHECK) {
		atomic_store(&a->syslog_checked, (long long)now.tv_sec);
		atomic_store(&a->syslog_up, access(_PATH_LOG, W_OK) == 0);
	}
	if (atomic_load(&a->syslog_up))
		syslog(LOG_AUTHPRIV | (e->allowed ? LOG_INFO : LOG_NOTICE),
		    "%.*s", (int)(len - 1), (const char *)pgl_buf_ptr(b));
	pgl_buf_free(b);
}
