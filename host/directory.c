/* Directory JSON -> checked entries -> cache builder.  Unknown keys are
 * ignored (a newer signer may add fields); every known key must have its
 * type and a value the cache may hold. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "err.h"
#include "name.h"
#include "sshkey.h"
#include "text.h"
#include "directory.h"

#define JSON_DEPTH 8

struct local_accounts {
	char **names;
	size_t nnames;
	uint32_t *ids;
	size_t nids;
};

/* --- local accounts --- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
local_read(struct local_accounts *l, const char *path, struct host_err *e)
{
	FILE *f;
	char *line = NULL, *name, *id, *end, *save, **nn;
	uint32_t *ni;
	size_t cap = 0;
	unsigned long v;
	int r = 0;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return herr(e, "%s: %s", path, strerror(errno));
	}
	while (r == 0 && getline(&line, &cap, f) > 0) {
		if ((name = strtok_r(line, ":\n", &save)) == NULL ||
		    strtok_r(NULL, ":", &save) == NULL ||
		    (id = strtok_r(NULL, ":\n", &save)) == NULL)
			continue;
		if ((nn = realloc(l->names, (l->nnames + 1) *
		    sizeof(*nn))) == NULL) {
			r = herr(e, "out of memory");
			break;
		}
		l->names = nn;
		if ((l->names[l->nnames] = strdup(name)) == NULL) {
			r = herr(e, "out of memory");
			break;
		}
		l->nnames++;
		errno = 0;
		v = strtoul(id, &end, 10);
		if (errno != 0 || *end != '\0' || v > UINT32_MAX)
			continue;
		if ((ni = realloc(l->ids, (l->nids + 1) * sizeof(*ni))) == NULL) {
			r = herr(e, "out of memory");
			break;
		}
		l->ids = ni;
		l->ids[l->nids++] = (uint32_t)v;
	}
	if (r == 0 && ferror(f))
		r = herr(e, "%s: read error", path);
	free(line);
	fclose(f);
	return r;
}

int
local_load(const char *passwd, const char *group, struct local_accounts **out,
    struct host_err *e)
{
	struct local_accounts *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return herr(e, "out of memory");
	if (local_read(l, passwd, e) != 0 || local_read(l, group, e) != 0) {
		local_free(l);
		return -1;
	}
	if (l->nnames > 0)
		qsort(l->names, l->nnames, sizeof(*l->names), cmp_str);
	if (l->nids > 0)
		qsort(l->ids, l->nids, sizeof(*l->ids), cmp_u32);
	*out = l;
	return 0;
}

void
local_free(struct local_accounts *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nnames; i++)
		free(l->names[i]);
	free(l->names);
	free(l->ids);
	free(l);
}

int
local_has_name(const struct local_accounts *l, const char *name)
{
	return l != NULL && l->nnames > 0 && bsearch(&name, l->names,
	    l->nnames, sizeof(*l->names), cmp_str) != NULL;
}

int
local_has_id(const struct local_accounts *l, uint32_t id)
{
	return l != NULL && l->nids > 0 && bsearch(&id, l->ids, l->nids,
	    sizeof(*l->ids), cmp_u32) != NULL;
}

/* --- parsing --- */

struct parse {
	struct directory *d;
	size_t aptrs;
	struct host_err *e;
};

/* A JSON string without NUL bytes or control characters. */
static int
get_string(json_object *o, const char *key, int required, const char **out,
    struct parse *ps, const char *where)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		if (!required) {
			*out = NULL;
			return 0;
		}
		return herr(ps->e, "%s: missing \"%s\"", where, key);
	}
	if (!json_object_is_type(v, json_type_string))
		return herr(ps->e, "%s: \"%s\" must be a string", where, key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) ||
	    pgl_has_ctrl(s))
		return herr(ps->e, "%s: \"%s\" holds a control character",
		    where, key);
	*out = s;
	return 0;
}

static int
get_u32(json_object *v, uint32_t *out)
{
	int64_t x;

	if (v == NULL || !json_object_is_type(v, json_type_int))
		return -1;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno != 0 || x < 0 || x > (int64_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* Room for n more list pointers; returns the first. */
static const char **
ptrs(struct parse *ps, size_t n)
{
	struct directory *d = ps->d;
	const char **t;

	/* Lists point into the array: it is sized once, up front. */
	if (n > ps->aptrs - d->nptrs)
		return NULL;
	t = d->ptrs + d->nptrs;
	d->nptrs += n;
	return t;
}

/* An array of 0..max strings (1..max if nonempty) into list. */
static int
get_list(json_object *o, const char *key, size_t min, size_t max,
    const char ***list, size_t *n, struct parse *ps, const char *where)
{
	json_object *a, *v;
	const char **t;
	size_t i, len;

	if (!json_object_object_get_ex(o, key, &a) ||
	    !json_object_is_type(a, json_type_array))
		return herr(ps->e, "%s: \"%s\" must be an array", where, key);
	len = json_object_array_length(a);
	if (len < min || len > max)
		return herr(ps->e, "%s: \"%s\" must have %zu to %zu entries",
		    where, key, min, max);
	if (len > 0 && (t = ptrs(ps, len)) == NULL)
		return herr(ps->e, "%s: too many list entries", where);
	else if (len == 0)
		t = NULL;
	for (i = 0; i < len; i++) {
		v = json_object_array_get_idx(a, i);
		if (v == NULL || !json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) !=
		    strlen(json_object_get_string(v)) ||
		    pgl_has_ctrl(json_object_get_string(v)))
			return herr(ps->e, "%s: \"%s\" must hold strings "
			    "without control characters", where, key);
		t[i] = json_object_get_string(v);
	}
	*list = t;
	*n = len;
	return 0;
}

/* Counts the list slots the document can need, so that ptrs() never
 * reallocates under the pointers it handed out. */
static size_t
count_lists(json_object *users)
{
	size_t i, n = 0, len = json_object_array_length(users);
	json_object *u, *v;
	const char *keys[] = { "principals", "groups", "sudo" };
	size_t k;

	for (i = 0; i < len; i++) {
		u = json_object_array_get_idx(users, i);
		if (!json_object_is_type(u, json_type_object))
			continue;
		for (k = 0; k < 3; k++)
			if (json_object_object_get_ex(u, keys[k], &v) &&
			    json_object_is_type(v, json_type_array))
				n += json_object_array_length(v);
	}
	return n;
}

static int
parse_user(json_object *o, struct dir_user *u, struct parse *ps, size_t idx)
{
	struct directory *d = ps->d;
	json_object *v;
	const char *s;
	char where[64];
	uint32_t gid;
	size_t i;

	snprintf(where, sizeof(where), "users[%zu]", idx);
	if (!json_object_is_type(o, json_type_object))
		return herr(ps->e, "%s: must be an object", where);
	if (get_string(o, "name", 1, &u->name, ps, where) != 0)
		return -1;
	if (!pgl_username_valid(u->name))
		return herr(ps->e, "%s: \"name\" is not a valid user name", where);
	snprintf(where, sizeof(where), "user %s", u->name);
	if (!json_object_object_get_ex(o, "uid", &v) || get_u32(v, &u->uid) != 0)
		return herr(ps->e, "%s: \"uid\" must be an integer", where);
	if (u->uid < d->uid_min || u->uid > d->uid_max)
		return herr(ps->e, "%s: uid %u is outside the range %u-%u",
		    where, u->uid, d->uid_min, d->uid_max);
	/* The primary group is always the self-group. */
	if (!json_object_object_get_ex(o, "gid", &v) || get_u32(v, &gid) != 0 ||
	    gid != u->uid)
		return herr(ps->e, "%s: \"gid\" must equal the uid", where);
	if (get_string(o, "gecos", 0, &u->gecos, ps, where) != 0 ||
	    get_string(o, "home", 1, &u->home, ps, where) != 0 ||
	    get_string(o, "shell", 1, &u->shell, ps, where) != 0 ||
	    get_string(o, "identity", 0, &s, ps, where) != 0)
		return -1;
	if (u->gecos != NULL && strchr(u->gecos, ':') != NULL)
		return herr(ps->e, "%s: \"gecos\" holds ':'", where);
	if (u->home[0] != '/' || u->shell[0] != '/' ||
	    strchr(u->home, ':') != NULL || strchr(u->shell, ':') != NULL ||
	    strstr(u->home, "/../") != NULL || strcmp(u->home, "/") == 0)
		return herr(ps->e, "%s: \"home\" and \"shell\" must be absolute "
		    "paths", where);
	if (get_list(o, "principals", 1, DIR_MAX_LIST, &u->principals,
	    &u->nprincipals, ps, where) != 0 ||
	    get_list(o, "groups", 0, DIR_MAX_LIST, &u->groups, &u->ngroups,
	    ps, where) != 0)
		return -1;
	for (i = 0; i < u->ngroups; i++)
		if (!pgl_username_valid(u->groups[i]))
			return herr(ps->e, "%s: group name is not valid", where);
	if (!json_object_object_get_ex(o, "sudo", &v))
		return herr(ps->e, "%s: missing \"sudo\"", where);
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strcmp(s, "none") == 0)
			u->sudo = PGL_CACHE_SUDO_NONE;
		else if (strcmp(s, "all") == 0)
			u->sudo = PGL_CACHE_SUDO_ALL;
		else
			return herr(ps->e, "%s: \"sudo\" must be \"none\", "
			    "\"all\" or a list of commands", where);
	} else {
		u->sudo = PGL_CACHE_SUDO_COMMANDS;
		if (get_list(o, "sudo", 1, DIR_MAX_LIST, &u->sudo_commands,
		    &u->nsudo_commands, ps, where) != 0)
			return -1;
		for (i = 0; i < u->nsudo_commands; i++)
			if (u->sudo_commands[i][0] != '/')
				return herr(ps->e, "%s: sudo commands must be "
				    "absolute paths", where);
	}
	return 0;
}

static int
parse_group(json_object *o, struct dir_group *g, struct parse *ps, size_t idx)
{
	json_object *v;
	char where[64];

	snprintf(where, sizeof(where), "groups[%zu]", idx);
	if (!json_object_is_type(o, json_type_object))
		return herr(ps->e, "%s: must be an object", where);
	if (get_string(o, "name", 1, &g->name, ps, where) != 0)
		return -1;
	if (!pgl_username_valid(g->name))
		return herr(ps->e, "%s: \"name\" is not a valid group name", where);
	if (!json_object_object_get_ex(o, "gid", &v) || get_u32(v, &g->gid) != 0)
		return herr(ps->e, "group %s: \"gid\" must be an integer", g->name);
	if (g->gid < ps->d->uid_min || g->gid > ps->d->uid_max)
		return herr(ps->e, "group %s: gid %u is outside the range %u-%u",
		    g->name, g->gid, ps->d->uid_min, ps->d->uid_max);
	/* Members are derived from the users' "groups" lists. */
	return 0;
}

static int
parse_ca(json_object *o, struct parse *ps)
{
	struct directory *d = ps->d;
	struct pgl_key *k;
	size_t i;
	int r;

	if (get_list(o, "user_ca", 1, DIR_MAX_CA, &d->user_ca, &d->nuser_ca,
	    ps, "directory") != 0)
		return -1;
	for (i = 0; i < d->nuser_ca; i++) {
		if ((r = pgl_key_parse_public_line(d->user_ca[i],
		    strlen(d->user_ca[i]), &k, NULL)) != 0)
			return herr(ps->e, "directory: user_ca[%zu]: %s", i,
			    pgl_strerror(r));
		pgl_key_free(k);
	}
	return 0;
}

int
directory_parse(const void *p, size_t n, struct directory **out,
    struct host_err *e)
{
	struct directory *d = NULL;
	struct parse ps;
	json_tokener *tok = NULL;
	json_object *o = NULL, *v, *users, *groups;
	size_t i, j, k, nlist;
	int64_t krl;
	int r = -1;

	if (n > DIR_MAX_BYTES || n > INT32_MAX)
		return herr(e, "directory: too large");
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (tok = json_tokener_new_ex(JSON_DEPTH)) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	memset(&ps, 0, sizeof(ps));
	ps.d = d;
	ps.e = e;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, p, (int)n);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n) {
		herr(e, "directory: not a JSON document");
		goto out;
	}
	d->json = o;
	if (!json_object_is_type(o, json_type_object)) {
		herr(e, "directory: not a JSON object");
		goto out;
	}
	if (get_string(o, "host", 1, &d->host, &ps, "directory") != 0)
		goto out;
	if (!json_object_object_get_ex(o, "uid_range", &v) ||
	    !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) != 2 ||
	    get_u32(json_object_array_get_idx(v, 0), &d->uid_min) != 0 ||
	    get_u32(json_object_array_get_idx(v, 1), &d->uid_max) != 0 ||
	    d->uid_min < 1000 || d->uid_min > d->uid_max ||
	    d->uid_max == UINT32_MAX) {
		herr(e, "directory: \"uid_range\" must be [MIN, MAX] with "
		    "1000 <= MIN <= MAX");
		goto out;
	}
	if (!json_object_object_get_ex(o, "users", &users) ||
	    !json_object_is_type(users, json_type_array) ||
	    !json_object_object_get_ex(o, "groups", &groups) ||
	    !json_object_is_type(groups, json_type_array)) {
		herr(e, "directory: \"users\" and \"groups\" must be arrays");
		goto out;
	}
	d->nusers = json_object_array_length(users);
	d->ngroups = json_object_array_length(groups);
	if (d->nusers > DIR_MAX_ENTRIES || d->ngroups > DIR_MAX_ENTRIES) {
		herr(e, "directory: too many entries");
		goto out;
	}
	nlist = count_lists(users) + DIR_MAX_CA;
	if ((d->nusers > 0 && (d->users = calloc(d->nusers,
	    sizeof(*d->users))) == NULL) ||
	    (d->ngroups > 0 && (d->groups = calloc(d->ngroups,
	    sizeof(*d->groups))) == NULL) ||
	    (d->ptrs = calloc(nlist, sizeof(*d->ptrs))) == NULL) {
		herr(e, "out of memory");
		goto out;
	}
	ps.aptrs = nlist;
	if (parse_ca(o, &ps) != 0)
		goto out;
	if (json_object_object_get_ex(o, "krl_version", &v)) {
		if (!json_object_is_type(v, json_type_int) ||
		    (krl = json_object_get_int64(v)) < 0) {
			herr(e, "directory: \"krl_version\" must be an integer");
			goto out;
		}
		d->krl_version = (uint64_t)krl;
	}
	for (i = 0; i < d->nusers; i++)
		if (parse_user(json_object_array_get_idx(users, i),
		    &d->users[i], &ps, i) != 0)
			goto out;
	for (i = 0; i < d->ngroups; i++)
		if (parse_group(json_object_array_get_idx(groups, i),
		    &d->groups[i], &ps, i) != 0)
			goto out;
	/* Every group a user lists must be in the document. */
	for (i = 0; i < d->nusers; i++)
		for (j = 0; j < d->users[i].ngroups; j++) {
			for (k = 0; k < d->ngroups; k++)
				if (strcmp(d->groups[k].name,
				    d->users[i].groups[j]) == 0)
					break;
			if (k == d->ngroups) {
				herr(e, "user %s: group %s is not in the "
				    "directory", d->users[i].name,
				    d->users[i].groups[j]);
				goto out;
			}
		}
	*out = d;
	d = NULL;
	r = 0;
 out:
	if (tok != NULL)
		json_tokener_free(tok);
	if (d != NULL && d->json == NULL)
		json_object_put(o);
	directory_free(d);
	return r;
}

void
directory_free(struct directory *d)
{
	if (d == NULL)
		return;
	json_object_put(d->json);
	free(d->users);
	free(d->groups);
	free(d->ptrs);
	free(d);
}

const struct dir_user *
directory_user(const struct directory *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nusers; i++)
		if (strcmp(d->users[i].name, name) == 0)
			return &d->users[i];
	return NULL;
}

static const struct dir_group *
find_group(const struct directory *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->ngroups; i++)
		if (strcmp(d->groups[i].name, name) == 0)
			return &d->groups[i];
	return NULL;
}

static int
group_ok(const struct dir_group *g, const struct local_accounts *l)
{
	return !local_has_name(l, g->name) && !local_has_id(l, g->gid);
}

int
directory_add(const struct directory *d, struct pgl_cache_builder *b,
    const struct local_accounts *l, uint64_t expire, const char *only,
    size_t *skipped, struct host_err *e)
{
	const struct dir_user *u;
	const struct dir_group *g;
	struct pgl_cache_user_in in;
	struct pgl_cache_group_in gin;
	const char **gl = NULL;
	unsigned char *used = NULL;
	size_t i, j, ng, skip = 0;
	int r = -1;

	if (d->ngroups > 0 && (used = calloc(d->ngroups, 1)) == NULL)
		return herr(e, "out of memory");
	for (i = 0; i < d->nusers; i++) {
		u = &d->users[i];
		if (only != NULL && strcmp(u->name, only) != 0)
			continue;
		/* Local accounts win: leave out, never shadow. */
		if (local_has_name(l, u->name) || local_has_id(l, u->uid)) {
			skip++;
			continue;
		}
		free(gl);
		if ((gl = calloc(u->ngroups + 1, sizeof(*gl))) == NULL) {
			herr(e, "out of memory");
			goto out;
		}
		for (j = ng = 0; j < u->ngroups; j++) {
			if ((g = find_group(d, u->groups[j])) == NULL)
				continue;
			if (!group_ok(g, l)) {
				skip++;
				continue;
			}
			used[g - d->groups] = 1;
			gl[ng++] = g->name;
		}
		memset(&in, 0, sizeof(in));
		in.name = u->name;
		in.uid = u->uid;
		in.gecos = u->gecos;
		in.home = u->home;
		in.shell = u->shell;
		in.expire = expire;
		in.principals = u->principals;
		in.nprincipals = u->nprincipals;
		in.groups = gl;
		in.ngroups = ng;
		in.sudo = u->sudo;
		in.sudo_commands = u->sudo_commands;
		in.nsudo_commands = u->nsudo_commands;
		if (pgl_cache_builder_add_user(b, &in) != 0) {
			herr(e, "%s", pgl_cache_builder_error(b));
			goto out;
		}
	}
	for (i = 0; i < d->ngroups; i++) {
		if (!used[i])
			continue;
		memset(&gin, 0, sizeof(gin));
		gin.name = d->groups[i].name;
		gin.gid = d->groups[i].gid;
		if (pgl_cache_builder_add_group(b, &gin) != 0) {
			herr(e, "%s", pgl_cache_builder_error(b));
			goto out;
		}
	}
	if (skipped != NULL)
		*skipped = skip;
	r = 0;
 out:
	free(gl);
	free(used);
	return r;
}
