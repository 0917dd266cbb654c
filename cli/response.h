/* The signer's JSON answers, parsed and checked.  Everything here ends up
 * in ssh command lines, ssh_config and known_hosts files, so every string
 * is validated to its narrow form (a resource name, a host address, a
 * username, one public key line): a hostile or broken signer can make a
 * parse fail, never inject an option or a line.  No network, no libcurl:
 * the fuzz target links only this. */
#ifndef PGL_CLI_RESPONSE_H
#define PGL_CLI_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#define PGL_RESP_MAX            (1024 * 1024)
#define PGL_RESOURCES_MAX       4096
#define PGL_ALIASES_MAX         64
#define PGL_RESOURCE_NAME_MAX   128
#define PGL_ADDRESS_MAX         253

struct pgl_resource_info {
	char *name;
	char **aliases;
	size_t naliases;
	char *address;
	unsigned port;
	char *via;                      /* bastion, or NULL */
	char *principal;                /* in a sign answer; else NULL */
	uint32_t ttl_max;               /* in /v1/me; else 0 */
};

struct pgl_me {
	char *identity;
	char *username;                 /* NULL until assigned */
	struct pgl_resource_info *res;
	size_t nres;
};

struct pgl_signed {
	char *certificate;              /* one OpenSSH certificate line */
	char *serial;
	char *key_id;
	char *username;
	uint64_t valid_after;
	uint64_t valid_before;
	struct pgl_resource_info *res;  /* requested first, then bastions */
	size_t nres;
	char *host_ca;                  /* one public key line */
};

/* PGL_E_FORMAT when the text is not the expected JSON. */
int pgl_resp_me(const char *s, size_t n, struct pgl_me **out);
int pgl_resp_signed(const char *s, size_t n, struct pgl_signed **out);
/* {"host_ca": ["line", ...]}: the host CA keys of GET /v1/ca. */
int pgl_resp_ca(const char *s, size_t n, char ***host_ca, size_t *nkeys);
/* {"error": "..."}: the message, with control characters replaced. */
int pgl_resp_error(const char *s, size_t n, char **msg);

void pgl_me_free(struct pgl_me *me);
void pgl_signed_free(struct pgl_signed *sg);
void pgl_strv_free(char **v, size_t n);

/* A resource in an answer by name or alias; NULL if none. */
const struct pgl_resource_info *pgl_me_find(const struct pgl_me *me,
    const char *name);

/* The validity of an OpenSSH certificate line (any key type). */
int pgl_cert_line_validity(const char *line, uint64_t *valid_after,
    uint64_t *valid_before);

int pgl_valid_resource_name(const char *s);
int pgl_valid_address(const char *s);

#endif
