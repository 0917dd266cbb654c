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

#include <json-c/json.h>

#include "audit.h"
#include "err.h"

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

static void
add_str(json_object *o, const char *k, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, k, json_object_new_string(v));
}

void
pgl_audit_log(struct pgl_audit *a, const struct pgl_audit_event *e)
{
	json_object *o;
	const char *line;
	char ts[40], ms[8], serial[24];
	struct timespec now;
	struct tm tm;
	char *buf = NULL;
	int len;

	if ((o = json_object_new_object()) == NULL) {
		atomic_fetch_add(&a->errors, 1);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts) - sizeof(ms), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ms, sizeof(ms), ".%03dZ", (int)(now.tv_nsec / 1000000) % 1000);
	strcat(ts, ms);
	add_str(o, "time", ts);
	add_str(o, "action", e->action);
	add_str(o, "result", e->allowed ? "allowed" : "denied");
	add_str(o, "identity", e->identity);
	add_str(o, "source", e->source);
	add_str(o, "resource", e->resource);
	add_str(o, "reason", e->reason);
	if (e->serial != 0) {
		/* As a string: JSON numbers lose precision past 2^53. */
		snprintf(serial, sizeof(serial), "%" PRIu64, e->serial);
		add_str(o, "serial", serial);
	}
	add_str(o, "key_id", e->key_id);
	add_str(o, "fingerprint", e->fingerprint);
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	/* One write per line: O_APPEND keeps concurrent lines whole. */
	if ((len = asprintf(&buf, "%s\n", line)) < 0 ||
	    write(a->fd, buf, (size_t)len) != len)
		atomic_fetch_add(&a->errors, 1);
	if (now.tv_sec - atomic_load(&a->syslog_checked) >= SYSLOG_RECHECK) {
		atomic_store(&a->syslog_checked, (long long)now.tv_sec);
		atomic_store(&a->syslog_up, access(_PATH_LOG, W_OK) == 0);
	}
	if (atomic_load(&a->syslog_up))
		syslog(LOG_AUTHPRIV | (e->allowed ? LOG_INFO : LOG_NOTICE),
		    "%s", line);
	free(buf);
	json_object_put(o);
}
