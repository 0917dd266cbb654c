/* The running signing service: everything a request handler needs. */
#ifndef PGL_SERVICE_H
#define PGL_SERVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "config.h"
#include "policy.h"
#include "sshkey.h"
#include "store.h"

struct pgl_audit;
struct pgl_rate;

struct pgl_metrics {
	atomic_uint_fast64_t requests;
	atomic_uint_fast64_t responses[6];      /* by status class 1xx..5xx */
	atomic_uint_fast64_t certs_user;
	atomic_uint_fast64_t denied;
	atomic_uint_fast64_t rate_limited;
	atomic_uint_fast64_t policy_reloads;
	atomic_uint_fast64_t policy_reload_failures;
};

/* A policy with a reference count: a request keeps the policy it
 * started with while a reload swaps in a new one. */
struct pgl_policy_ref {
	struct pgl_policy *policy;
	atomic_uint refs;
};

struct pgl_service {
	struct pgl_signer_config *config;
	pthread_mutex_t policy_lock;            /* guards current */
	struct pgl_policy_ref *current;
	struct pgl_store *store;
	struct pgl_key *user_ca;
	struct pgl_key *host_ca;
	char *user_ca_line;                     /* public key lines */
	char *host_ca_line;
	struct pgl_audit *audit;
	struct pgl_rate *rate;
	struct pgl_metrics metrics;
	atomic_uint suspended;                  /* connections awaiting a commit */
	uint64_t started;
};

/* Loads config, policy, CA keys and state; nothing listens yet. */
int pgl_service_open(const char *config_path, struct pgl_service **out,
    char *err, size_t errlen);
void pgl_service_close(struct pgl_service *s);
/* The current policy, held until released. */
struct pgl_policy_ref *pgl_service_policy_get(struct pgl_service *s);
void pgl_service_policy_put(struct pgl_policy_ref *ref);
/* Re-reads the policy; on error keeps the current one. */
int pgl_service_reload(struct pgl_service *s, char *err, size_t errlen);

#endif
