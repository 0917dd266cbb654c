/* Strict reading of a libconfig file, shared by the configuration and
 * the policy: unknown keys and wrong types are errors, and every error
 * names the file and line ("PATH:LINE: message").  Internal to the
 * signer; not an API. */
#ifndef PGL_LCFG_H
#define PGL_LCFG_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

struct lcfg {
	config_t cf;
	int inited;
	const char *path;               /* for messages */
	char *err;
	size_t errlen;
	unsigned *string_lines;         /* where each string value starts */
	size_t nstring_lines;
	size_t astring_lines;
};

/* Checks one string element of a list; may set *canon to the value to
 * store instead (e.g. a resource's canonical name). */
typedef int (*lcfg_elem_check)(const struct lcfg *l,
    const config_setting_t *elem, const char *v, void *ctx,
    const char **canon);

/* Reads path (a regular file of at most max bytes).  Refuses what
 * libconfig 1.5 would accept silently: NUL bytes, integers that do not
 * fit (it truncates them), and @include (errors in another file would
 * carry the wrong name, and the policy should be one reviewable file). */
int lcfg_open(struct lcfg *l, const char *path, size_t max, char *err,
    size_t errlen);
/* Frees what lcfg_open allocated, also after it failed. */
void lcfg_close(struct lcfg *l);

/* Writes "PATH:LINE: message" (or "PATH: message" when s is NULL or the
 * root) into the error buffer and returns r. */
int lcfg_fail(const struct lcfg *l, const config_setting_t *s, int r,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* g must be a group holding only the NULL-terminated keys. */
int lcfg_keys(const struct lcfg *l, const config_setting_t *g,
    const char *what, const char *const *keys);

/* Typed members of a group.  An absent key leaves *out untouched and
 * returns 0; *sp (optional) is the setting, or NULL when absent. */
int lcfg_string(const struct lcfg *l, const config_setting_t *g,
    const char *key, const config_setting_t **sp, const char **out);
int lcfg_uint(const struct lcfg *l, const config_setting_t *g,
    const char *key, uint64_t min, uint64_t max,
    const config_setting_t **sp, uint64_t *out);
int lcfg_bool(const struct lcfg *l, const config_setting_t *g,
    const char *key, const config_setting_t **sp, int *out);
/* A list ( ... ) of groups; an empty list is fine. */
int lcfg_groups(const struct lcfg *l, const config_setting_t *g,
    const char *key, const config_setting_t **out);
/* An array [ ... ] or list ( ... ) of strings, each passed to check
 * (which may be NULL), duplicates (after check) refused.  *out is a
 * new NULL-terminated array, even when empty. */
int lcfg_strings(const struct lcfg *l, const config_setting_t *g,
    const char *key, lcfg_elem_check check, void *ctx,
    const config_setting_t **sp, char ***out, size_t *n);

/* The same check on a setting already found (e.g. sudo's list form). */
int lcfg_strings_of(const struct lcfg *l, const config_setting_t *s,
    lcfg_elem_check check, void *ctx, char ***out, size_t *n);

void lcfg_strv_free(char **v);

#endif
