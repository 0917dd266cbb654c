/* The access policy: who may reach which resource, with what.
 * A human-edited libconfig file (see pgl-signer.conf(5)), loaded whole
 * and immutable afterwards; a reload builds a new one and swaps it.
 * Every char ** array below is also NULL-terminated. */
#ifndef PGL_POLICY_H
#define PGL_POLICY_H

#include <stddef.h>
#include <stdint.h>

enum pgl_sudo {
	PGL_SUDO_NONE = 0,
	PGL_SUDO_ALL,
	PGL_SUDO_COMMANDS,
};

struct pgl_grant {
	char **resources;               /* resource names (canonical) */
	size_t nresources;
	enum pgl_sudo sudo;
	char **sudo_commands;           /* absolute paths, PGL_SUDO_COMMANDS */
	size_t nsudo_commands;
	char **groups;                  /* supplementary groups on the host */
	size_t ngroups;
	uint32_t ttl_max;               /* seconds; 0: the policy default */
	char **extensions;              /* NULL: the default set (no X11) */
	size_t nextensions;
	char *force_command;            /* NULL: none */
	char *source_address;           /* NULL: none; CIDR list */
};

struct pgl_role {
	char *name;
	struct pgl_grant *grants;       /* first grant naming a resource wins */
	size_t ngrants;
};

struct pgl_user {
	char *identity;                 /* e.g. alice@example.com */
	char *name;                     /* display name (gecos); may be NULL */
	char *shell;                    /* NULL: the config default */
	char **roles;
	size_t nroles;
	int disabled;
};

struct pgl_resource {
	char *name;                     /* e.g. vm-01 */
	char **aliases;
	size_t naliases;
	char *address;                  /* host name or IP for the client */
	uint16_t port;                  /* default 22 */
	char *via;                      /* bastion resource name, or NULL */
};

struct pgl_policy {
	struct pgl_user *users;
	size_t nusers;
	struct pgl_role *roles;
	size_t nroles;
	struct pgl_resource *resources;
	size_t nresources;
	uint32_t ttl_default;           /* seconds, default 300 */
	uint32_t ttl_max;               /* global cap, default 3600 */
	char **privileged_groups;       /* groups a grant may name only if
	                                 * listed here (sudo, adm, wheel, ...
	                                 * are refused otherwise) */
	size_t nprivileged_groups;
};

/* What one identity may do on one resource. Pointers into the policy. */
struct pgl_decision {
	const struct pgl_user *user;
	const struct pgl_resource *resource;
	const struct pgl_grant *grant;
	uint32_t ttl_max;               /* effective maximum, seconds */
	const struct pgl_role *role;    /* the role holding grant (audit) */
};

/* Loads and checks a policy file.  On error returns a negative PGL_E_*
 * and writes "PATH:LINE: message" into err. */
int pgl_policy_load(const char *path, struct pgl_policy **out, char *err,
    size_t errlen);
void pgl_policy_free(struct pgl_policy *p);

/* A resource by name or alias; NULL if unknown. */
const struct pgl_resource *pgl_policy_resource(const struct pgl_policy *p,
    const char *name);
const struct pgl_user *pgl_policy_user(const struct pgl_policy *p,
    const char *identity);
/* Whether identity may reach resource (name or alias).  On refusal
 * returns PGL_E_NOT_ALLOWED (or PGL_E_UNKNOWN_OPTION for an unknown
 * resource) and sets *reason to a short sentence for the audit log
 * (NULL on success; reason may be NULL).  Identities match ASCII
 * case-insensitively, resource names too. */
int pgl_policy_decide(const struct pgl_policy *p, const char *identity,
    const char *resource, struct pgl_decision *out, const char **reason);
/* Every user allowed on resource (canonical name), in policy order;
 * calls fn for each with its decision.  For the host directory. */
int pgl_policy_each_allowed(const struct pgl_policy *p, const char *resource,
    int (*fn)(const struct pgl_decision *d, void *arg), void *arg);

#endif
