/* The signer's host directory (GET /v1/host/directory, and the one-user
 * form GET /v1/host/users/NAME), parsed and checked field by field, and
 * turned into cache builder entries.  Outside input: fuzzed by
 * test/fuzz/fuzz-directory.c. */
#ifndef PGL_HOST_DIRECTORY_H
#define PGL_HOST_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "host.h"

#define DIR_MAX_BYTES   (64u * 1024 * 1024)
#define DIR_MAX_ENTRIES (1u << 20)      /* users, groups */
#define DIR_MAX_LIST    1024            /* principals, groups, commands */
#define DIR_MAX_CA      16

struct dir_user {
	const char *name, *gecos, *home, *shell;
	uint32_t uid;
	const char **principals;
	size_t nprincipals;
	const char **groups;
	size_t ngroups;
	enum pgl_cache_sudo sudo;
	const char **sudo_commands;
	size_t nsudo_commands;
};

struct dir_group {
	const char *name;
	uint32_t gid;
};

struct directory {
	void *json;                     /* owns every string below */
	const char *host;
	uint32_t uid_min, uid_max;
	struct dir_user *users;
	size_t nusers;
	struct dir_group *groups;
	size_t ngroups;
	const char **user_ca;           /* OpenSSH public key lines */
	size_t nuser_ca;
	uint64_t krl_version;
	const char **ptrs;              /* storage of the lists above */
	size_t nptrs;
};

/* Local accounts (passwd and group files): JIT entries must not
 * collide with them by name or id. */
struct local_accounts;

int local_load(const char *passwd, const char *group,
    struct local_accounts **out, struct host_err *e);
void local_free(struct local_accounts *l);
int local_has_name(const struct local_accounts *l, const char *name);
int local_has_id(const struct local_accounts *l, uint32_t id);

/* Parses and checks a directory document.  Refuses it whole on any bad
 * field: a signer that sends one is broken or not the signer. */
int directory_parse(const void *p, size_t n, struct directory **out,
    struct host_err *e);
void directory_free(struct directory *d);
const struct dir_user *directory_user(const struct directory *d,
    const char *name);

/* Adds the directory's users (all, or only the one named) and the groups
 * they use to b, each user expiring at expire.  Users and groups that
 * collide with local accounts are left out and counted in *skipped
 * (a user keeps its other groups).  Returns the builder's refusal. */
int directory_add(const struct directory *d, struct pgl_cache_builder *b,
    const struct local_accounts *l, uint64_t expire, const char *only,
    size_t *skipped, struct host_err *e);

#endif
