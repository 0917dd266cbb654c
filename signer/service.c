/* Bringing the service's parts together, and policy reloads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "err.h"
#include "fileio.h"
#include "rate.h"
#include "service.h"

#define KEY_FILE_MAX (64 * 1024)

static int
load_ca(const char *dir, const char *name, struct pgl_key **key, char **line,
    char *err, size_t errlen)
{
	struct pgl_buf *data = NULL;
	struct stat st;
	char *path = NULL;
	int r;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return PGL_E_NOMEM;
	if (stat(path, &st) == -1) {
		r = PGL_E_SYSTEM;
		snprintf(err, errlen, "%s: %s", path, pgl_strerror(r));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = PGL_E_NOT_ALLOWED;
		snprintf(err, errlen, "%s: private key is accessible by others "
		    "(mode %04o)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if ((r = pgl_file_read(path, KEY_FILE_MAX, &data)) != 0 ||
	    (r = pgl_key_parse_private((const char *)pgl_buf_ptr(data),
	    pgl_buf_len(data), key)) != 0 ||
	    (r = pgl_key_format_public_line(*key, name, line)) != 0) {
		snprintf(err, errlen, "%s: %s", path, pgl_strerror(r));
		goto out;
	}
 out:
	pgl_buf_free(data);     /* wiped */
	free(path);
	return r;
}

static int
policy_ref_new(const char *path, struct pgl_policy_ref **out, char *err,
    size_t errlen)
{
	struct pgl_policy_ref *ref;
	int r;

	if ((ref = calloc(1, sizeof(*ref))) == NULL)
		return PGL_E_NOMEM;
	if ((r = pgl_policy_load(path, &ref->policy, err, errlen)) != 0) {
		free(ref);
		return r;
	}
	atomic_init(&ref->refs, 1);
	*out = ref;
	return 0;
}

struct pgl_policy_ref *
pgl_service_policy_get(struct pgl_service *s)
{
	struct pgl_policy_ref *ref;

	pthread_mutex_lock(&s->policy_lock);
	ref = s->current;
	atomic_fetch_add(&ref->refs, 1);
	pthread_mutex_unlock(&s->policy_lock);
	return ref;
}

void
pgl_service_policy_put(struct pgl_policy_ref *ref)
{
	if (ref == NULL)
		return;
	if (atomic_fetch_sub(&ref->refs, 1) == 1) {
		pgl_policy_free(ref->policy);
		free(ref);
	}
}

int
pgl_service_reload(struct pgl_service *s, char *err, size_t errlen)
{
	struct pgl_policy_ref *ref, *old;
	int r;

	if ((r = policy_ref_new(s->config->policy, &ref, err, errlen)) != 0) {
		atomic_fetch_add(&s->metrics.policy_reload_failures, 1);
		return r;
	}
	pthread_mutex_lock(&s->policy_lock);
	old = s->current;
	s->current = ref;
	pthread_mutex_unlock(&s->policy_lock);
	pgl_service_policy_put(old);
	atomic_fetch_add(&s->metrics.policy_reloads, 1);
	return 0;
}

int
pgl_service_open(const char *config_path, struct pgl_service **out,
    char *err, size_t errlen)
{
	struct pgl_service *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PGL_E_NOMEM;
	pthread_mutex_init(&s->policy_lock, NULL);
	s->started = (uint64_t)time(NULL);
	if ((r = pgl_config_load(config_path, &s->config, err, errlen)) != 0 ||
	    (r = policy_ref_new(s->config->policy, &s->current, err, errlen)) != 0 ||
	    (r = load_ca(s->config->ca_dir, "user_ca", &s->user_ca,
	    &s->user_ca_line, err, errlen)) != 0 ||
	    (r = load_ca(s->config->ca_dir, "host_ca", &s->host_ca,
	    &s->host_ca_line, err, errlen)) != 0)
		goto fail;
	if ((r = pgl_store_open(s->config->state_dir, s->config->uid_min,
	    s->config->uid_max, &s->store)) != 0) {
		snprintf(err, errlen, "%s/signer.db: %s", s->config->state_dir,
		    pgl_strerror(r));
		goto fail;
	}
	if ((r = pgl_audit_open(s->config->audit_log, &s->audit)) != 0) {
		snprintf(err, errlen, "%s: %s", s->config->audit_log,
		    pgl_strerror(r));
		goto fail;
	}
	if ((r = pgl_rate_new(s->config->rate_limit, s->config->rate_burst,
	    &s->rate)) != 0) {
		snprintf(err, errlen, "rate limit: %s", pgl_strerror(r));
		goto fail;
	}
	*out = s;
	return 0;
 fail:
	pgl_service_close(s);
	return r;
}

void
pgl_service_close(struct pgl_service *s)
{
	if (s == NULL)
		return;
	pgl_rate_free(s->rate);
	pgl_audit_close(s->audit);
	pgl_store_close(s->store);
	pgl_key_free(s->user_ca);
	pgl_key_free(s->host_ca);
	free(s->user_ca_line);
	free(s->host_ca_line);
	pgl_service_policy_put(s->current);
	pgl_config_free(s->config);
	pthread_mutex_destroy(&s->policy_lock);
	free(s);
}
