/* Writing the user cache: collect entries, check them one by one and as a
 * set, encode the indexed file, and replace the old one atomically. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cache-format.h"
#include "err.h"
#include "fileio.h"
#include "name.h"
#include "text.h"

#define MAX_ENTRIES     (1u << 22)      /* users or groups */
#define MAX_FIELD       4096            /* bytes in one string */
#define MAX_LIST        65536           /* principals, groups, members */

struct user {
	char *name, *gecos, *home, *shell, *passwd;
	uint32_t uid;
	uint64_t expire;
	char **principals;
	size_t nprincipals;
	char **groups;
	size_t ngroups;
	uint32_t *gids;                 /* supplementary, resolved at encode */
	size_t ngids;
	enum pgl_cache_sudo sudo;
	char **sudo_commands;
	size_t nsudo_commands;
};

struct group {
	char *name;
	uint32_t gid;
	char **members;
	size_t nmembers;
	size_t nexplicit;               /* members given; the rest derived */
};

struct pgl_cache_builder {
	char *host;
	uint32_t uid_min, uid_max;
	struct user *users;
	size_t nusers, ausers;
	struct group *groups;           /* explicit groups */
	size_t ngroups, agroups;
	char *local_passwd, *local_group;
	char err[256];
};

__attribute__((format(printf, 3, 4)))
static int
fail(struct pgl_cache_builder *b, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return r;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_user(struct user *u)
{
	free(u->name);
	free(u->gecos);
	free(u->home);
	free(u->shell);
	if (u->passwd != NULL) {
		explicit_bzero(u->passwd, strlen(u->passwd));
		free(u->passwd);
	}
	free_list(u->principals, u->nprincipals);
	free_list(u->groups, u->ngroups);
	free_list(u->sudo_commands, u->nsudo_commands);
	free(u->gids);
}

static void
free_group(struct group *g)
{
	free(g->name);
	free_list(g->members, g->nmembers);
}

struct pgl_cache_builder *
pgl_cache_builder_new(const char *host, uint32_t uid_min, uint32_t uid_max)
{
	struct pgl_cache_builder *b;

	if (host == NULL || *host == '\0' || strlen(host) > 255 ||
	    pgl_has_ctrl(host) || strpbrk(host, " @:/") != NULL ||
	    uid_min == 0 || uid_min > uid_max || uid_max == UINT32_MAX)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->host = strdup(host)) == NULL ||
	    (b->local_passwd = strdup("/etc/passwd")) == NULL ||
	    (b->local_group = strdup("/etc/group")) == NULL) {
		pgl_cache_builder_free(b);
		return NULL;
	}
	b->uid_min = uid_min;
	b->uid_max = uid_max;
	return b;
}

void
pgl_cache_builder_free(struct pgl_cache_builder *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nusers; i++)
		free_user(&b->users[i]);
	for (i = 0; i < b->ngroups; i++)
		free_group(&b->groups[i]);
	free(b->users);
	free(b->groups);
	free(b->host);
	free(b->local_passwd);
	free(b->local_group);
	free(b);
}

const char *
pgl_cache_builder_error(const struct pgl_cache_builder *b)
{
	return b == NULL || b->err[0] == '\0' ? "no error" : b->err;
}

int
pgl_cache_builder_set_local(struct pgl_cache_builder *b,
    const char *passwd_path, const char *group_path)
{
	char *p = NULL, *g = NULL;

	if (b == NULL)
		return PGL_E_INVALID_ARG;
	if ((passwd_path != NULL && (p = strdup(passwd_path)) == NULL) ||
	    (group_path != NULL && (g = strdup(group_path)) == NULL)) {
		free(p);
		return PGL_E_NOMEM;
	}
	free(b->local_passwd);
	free(b->local_group);
	b->local_passwd = p;
	b->local_group = g;
	return 0;
}

/* --- one entry --- */

/* Text that ends up in a passwd/group line: no control bytes and no ':'
 * (the field separator every reader of getent output splits on). */
static int
field_ok(const char *s)
{
	return s != NULL && strlen(s) <= MAX_FIELD && !pgl_has_ctrl(s) &&
	    strchr(s, ':') == NULL;
}

static int
path_ok(const char *s)
{
	return field_ok(s) && s[0] == '/' && strchr(s, ',') == NULL &&
	    strstr(s, "/../") == NULL;
}

/* A principal is printed to sshd one per line: printable, no spaces. */
static int
principal_ok(const char *s)
{
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 256)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == ',')
			return 0;
	return 1;
}

static int
copy_list(const char *const *in, size_t n, char ***out)
{
	char **v;
	size_t i;

	*out = NULL;
	if (n == 0)
		return 0;
	if (in == NULL || n > MAX_LIST)
		return PGL_E_INVALID_ARG;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return PGL_E_NOMEM;
	for (i = 0; i < n; i++)
		if (in[i] == NULL || (v[i] = strdup(in[i])) == NULL) {
			free_list(v, n);
			return in[i] == NULL ? PGL_E_INVALID_ARG : PGL_E_NOMEM;
		}
	*out = v;
	return 0;
}

static int
grow(void **v, size_t *alloc, size_t n, size_t size)
{
	void *t;
	size_t a;

	if (n < *alloc)
		return 0;
	if (n >= MAX_ENTRIES)
		return PGL_E_TOO_LARGE;
	a = *alloc == 0 ? 64 : *alloc * 2;
	if ((t = realloc(*v, a * size)) == NULL)
		return PGL_E_NOMEM;
	*v = t;
	*alloc = a;
	return 0;
}

static int
check_user(struct pgl_cache_builder *b, const struct pgl_cache_user_in *u)
{
	size_t i;

	if (!pgl_username_valid(u->name))
		return fail(b, PGL_E_INVALID_ARG, "user name is not a valid "
		    "username");
	if (u->uid < b->uid_min || u->uid > b->uid_max)
		return fail(b, PGL_E_INVALID_ARG, "user %s: uid %u outside "
		    "%u-%u", u->name, u->uid, b->uid_min, b->uid_max);
	if (u->gecos != NULL && (!field_ok(u->gecos) ||
	    strchr(u->gecos, '\n') != NULL))
		return fail(b, PGL_E_INVALID_ARG, "user %s: gecos holds a "
		    "control character or ':'", u->name);
	if (!path_ok(u->home) || !path_ok(u->shell))
		return fail(b, PGL_E_INVALID_ARG, "user %s: home and shell "
		    "must be absolute paths without ':' or control "
		    "characters", u->name);
	if (u->passwd != NULL && !field_ok(u->passwd))
		return fail(b, PGL_E_INVALID_ARG, "user %s: password hash "
		    "holds a control character or ':'", u->name);
	if ((u->nprincipals > 0 && u->principals == NULL) ||
	    (u->ngroups > 0 && u->groups == NULL) ||
	    (u->nsudo_commands > 0 && u->sudo_commands == NULL))
		return fail(b, PGL_E_INVALID_ARG, "user %s: missing list",
		    u->name);
	for (i = 0; i < u->nprincipals; i++)
		if (!principal_ok(u->principals[i]))
			return fail(b, PGL_E_INVALID_ARG, "user %s: invalid "
			    "principal", u->name);
	for (i = 0; i < u->ngroups; i++)
		if (!pgl_username_valid(u->groups[i]))
			return fail(b, PGL_E_INVALID_ARG, "user %s: invalid "
			    "group name", u->name);
	switch (u->sudo) {
	case PGL_CACHE_SUDO_NONE:
	case PGL_CACHE_SUDO_ALL:
		if (u->nsudo_commands != 0)
			return fail(b, PGL_E_INVALID_ARG, "user %s: sudo "
			    "commands without a command grant", u->name);
		break;
	case PGL_CACHE_SUDO_COMMANDS:
		if (u->nsudo_commands == 0)
			return fail(b, PGL_E_INVALID_ARG, "user %s: empty "
			    "sudo command list", u->name);
		for (i = 0; i < u->nsudo_commands; i++)
			if (u->sudo_commands[i] == NULL ||
			    u->sudo_commands[i][0] != '/' ||
			    strlen(u->sudo_commands[i]) > MAX_FIELD ||
			    pgl_has_ctrl(u->sudo_commands[i]))
				return fail(b, PGL_E_INVALID_ARG, "user %s: "
				    "sudo command is not an absolute path",
				    u->name);
		break;
	default:
		return fail(b, PGL_E_INVALID_ARG, "user %s: unknown sudo "
		    "grant", u->name);
	}
	if (u->nprincipals > MAX_LIST || u->ngroups > MAX_LIST ||
	    u->nsudo_commands > MAX_LIST)
		return fail(b, PGL_E_TOO_LARGE, "user %s: list too long",
		    u->name);
	return 0;
}

int
pgl_cache_builder_add_user(struct pgl_cache_builder *b,
    const struct pgl_cache_user_in *in)
{
	struct user u;
	int r;

	if (b == NULL || in == NULL)
		return PGL_E_INVALID_ARG;
	if ((r = check_user(b, in)) != 0)
		return r;
	if ((r = grow((void **)&b->users, &b->ausers, b->nusers,
	    sizeof(*b->users))) != 0)
		return fail(b, r, "too many users");
	memset(&u, 0, sizeof(u));
	u.uid = in->uid;
	u.expire = in->expire;
	u.sudo = in->sudo;
	u.nprincipals = in->nprincipals;
	u.ngroups = in->ngroups;
	u.nsudo_commands = in->nsudo_commands;
	if ((u.name = strdup(in->name)) == NULL ||
	    (u.gecos = strdup(in->gecos != NULL ? in->gecos : "")) == NULL ||
	    (u.home = strdup(in->home)) == NULL ||
	    (u.shell = strdup(in->shell)) == NULL ||
	    (u.passwd = strdup(in->passwd != NULL ? in->passwd : "*")) == NULL ||
	    (r = copy_list(in->principals, in->nprincipals,
	    &u.principals)) != 0 ||
	    (r = copy_list(in->groups, in->ngroups, &u.groups)) != 0 ||
	    (r = copy_list(in->sudo_commands, in->nsudo_commands,
	    &u.sudo_commands)) != 0) {
		/* Lists not yet copied are NULL, so free_user sees 0 of them. */
		if (u.principals == NULL)
			u.nprincipals = 0;
		if (u.groups == NULL)
			u.ngroups = 0;
		if (u.sudo_commands == NULL)
			u.nsudo_commands = 0;
		free_user(&u);
		return fail(b, r != 0 ? r : PGL_E_NOMEM, "out of memory");
	}
	b->users[b->nusers++] = u;
	return 0;
}

int
pgl_cache_builder_add_group(struct pgl_cache_builder *b,
    const struct pgl_cache_group_in *in)
{
	struct group g;
	size_t i;
	int r;

	if (b == NULL || in == NULL)
		return PGL_E_INVALID_ARG;
	if (!pgl_username_valid(in->name))
		return fail(b, PGL_E_INVALID_ARG, "group name is not valid");
	if (in->gid < b->uid_min || in->gid > b->uid_max)
		return fail(b, PGL_E_INVALID_ARG, "group %s: gid %u outside "
		    "%u-%u", in->name, in->gid, b->uid_min, b->uid_max);
	if (in->nmembers > MAX_LIST || (in->nmembers > 0 && in->members == NULL))
		return fail(b, PGL_E_INVALID_ARG, "group %s: bad member list",
		    in->name);
	for (i = 0; i < in->nmembers; i++)
		if (!pgl_username_valid(in->members[i]))
			return fail(b, PGL_E_INVALID_ARG, "group %s: invalid "
			    "member name", in->name);
	if ((r = grow((void **)&b->groups, &b->agroups, b->ngroups,
	    sizeof(*b->groups))) != 0)
		return fail(b, r, "too many groups");
	memset(&g, 0, sizeof(g));
	g.gid = in->gid;
	g.nmembers = g.nexplicit = in->nmembers;
	if ((g.name = strdup(in->name)) == NULL ||
	    (r = copy_list(in->members, in->nmembers, &g.members)) != 0) {
		free(g.name);
		return fail(b, PGL_E_NOMEM, "out of memory");
	}
	b->groups[b->ngroups++] = g;
	return 0;
}

/* --- the set --- */

/* A sorted (key, index) table to find duplicates and resolve names. */
struct key {
	const char *name;
	uint32_t id;
	size_t index;
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->name,
	    ((const struct key *)b)->name);
}

static int
cmp_id(const void *a, const void *b)
{
	uint32_t x = ((const struct key *)a)->id, y = ((const struct key *)b)->id;

	return x < y ? -1 : x > y;
}

static const struct key *
find_name(const struct key *v, size_t n, const char *name)
{
	struct key k = { .name = name };

	return bsearch(&k, v, n, sizeof(*v), cmp_name);
}

static const struct key *
find_id(const struct key *v, size_t n, uint32_t id)
{
	struct key k = { .id = id };

	return bsearch(&k, v, n, sizeof(*v), cmp_id);
}

/* Every group of the cache: explicit ones plus each user's self-group.
 * A self-group given explicitly (same name and gid) is merged. */
struct set {
	struct group *groups;           /* all; own only their member arrays */
	size_t ngroups;
	struct key *user_names, *user_ids, *group_names, *group_ids;
};

static void
set_free(struct set *s)
{
	size_t i;

	/* Names and members are borrowed from the builder. */
	if (s->groups != NULL)
		for (i = 0; i < s->ngroups; i++)
			free(s->groups[i].members);
	free(s->groups);
	free(s->user_names);
	free(s->user_ids);
	free(s->group_names);
	free(s->group_ids);
	memset(s, 0, sizeof(*s));
}

static int
sorted_keys(size_t n, struct key **names, struct key **ids)
{
	*names = calloc(n + 1, sizeof(**names));
	*ids = calloc(n + 1, sizeof(**ids));
	return *names == NULL || *ids == NULL ? PGL_E_NOMEM : 0;
}

/* Local accounts: "name:x:id:..." lines of a passwd or group file. */
static int
check_local(struct pgl_cache_builder *b, const struct set *s, const char *path,
    int is_group)
{
	FILE *f;
	char *line = NULL, *name, *id, *end, *save;
	size_t cap = 0;
	const struct key *k;
	unsigned long v;
	int r = 0;

	if (path == NULL)
		return 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		return fail(b, PGL_E_SYSTEM, "%s: %s", path, strerror(errno));
	}
	while (r == 0 && getline(&line, &cap, f) > 0) {
		if ((name = strtok_r(line, ":\n", &save)) == NULL ||
		    strtok_r(NULL, ":", &save) == NULL ||
		    (id = strtok_r(NULL, ":\n", &save)) == NULL)
			continue;
		errno = 0;
		v = strtoul(id, &end, 10);
		if (errno != 0 || *end != '\0' || v > UINT32_MAX)
			continue;
		/* A user entry also claims its self-group's name and gid. */
		if ((k = find_name(s->group_names, s->ngroups, name)) != NULL ||
		    (!is_group && (k = find_name(s->user_names, b->nusers,
		    name)) != NULL))
			r = fail(b, PGL_E_EXISTS, "%s: name %s is a local "
			    "account", path, name);
		else if ((k = find_id(s->group_ids, s->ngroups,
		    (uint32_t)v)) != NULL || (!is_group &&
		    (k = find_id(s->user_ids, b->nusers, (uint32_t)v)) != NULL))
			r = fail(b, PGL_E_EXISTS, "%s: id %lu of local account "
			    "%s is in the cache", path, v, name);
	}
	if (r == 0 && ferror(f))
		r = fail(b, PGL_E_SYSTEM, "%s: read error", path);
	free(line);
	fclose(f);
	return r;
}

static int
add_member(struct group *g, const char *name)
{
	char **t;
	size_t i;

	for (i = 0; i < g->nmembers; i++)
		if (strcmp(g->members[i], name) == 0)
			return 0;
	if ((t = realloc(g->members, (g->nmembers + 1) * sizeof(*t))) == NULL)
		return PGL_E_NOMEM;
	g->members = t;
	g->members[g->nmembers++] = (char *)(uintptr_t)name;
	return 0;
}

static int
add_gid(struct user *u, uint32_t gid)
{
	uint32_t *t;
	size_t i;

	for (i = 0; i < u->ngids; i++)
		if (u->gids[i] == gid)
			return 0;
	if ((t = realloc(u->gids, (u->ngids + 1) * sizeof(*t))) == NULL)
		return PGL_E_NOMEM;
	u->gids = t;
	u->gids[u->ngids++] = gid;
	return 0;
}

static int
build_set(struct pgl_cache_builder *b, struct set *s)
{
	size_t i, j, n;
	const struct key *k;
	struct group *g;
	int r;

	memset(s, 0, sizeof(*s));
	n = b->nusers + b->ngroups;
	if ((s->groups = calloc(n + 1, sizeof(*s->groups))) == NULL ||
	    (r = sorted_keys(b->nusers, &s->user_names, &s->user_ids)) != 0 ||
	    (r = sorted_keys(n, &s->group_names, &s->group_ids)) != 0)
		return fail(b, PGL_E_NOMEM, "out of memory");

	for (i = 0; i < b->nusers; i++) {
		s->user_names[i] = (struct key){ b->users[i].name, 0, i };
		s->user_ids[i] = (struct key){ NULL, b->users[i].uid, i };
	}
	qsort(s->user_names, b->nusers, sizeof(struct key), cmp_name);
	qsort(s->user_ids, b->nusers, sizeof(struct key), cmp_id);
	for (i = 1; i < b->nusers; i++) {
		if (strcmp(s->user_names[i - 1].name, s->user_names[i].name) == 0)
			return fail(b, PGL_E_EXISTS, "user %s appears twice",
			    s->user_names[i].name);
		if (s->user_ids[i - 1].id == s->user_ids[i].id)
			return fail(b, PGL_E_EXISTS, "uid %u is used twice",
			    s->user_ids[i].id);
	}

	/* Explicit groups first (they own their strings), then the
	 * self-groups not given explicitly. */
	for (i = 0; i < b->ngroups; i++, s->ngroups++) {
		g = &s->groups[i];
		g->name = b->groups[i].name;
		g->gid = b->groups[i].gid;
		if (b->groups[i].nmembers > 0 && (g->members = malloc(
		    b->groups[i].nmembers * sizeof(*g->members))) == NULL)
			return fail(b, PGL_E_NOMEM, "out of memory");
		if (b->groups[i].nmembers > 0)
			memcpy(g->members, b->groups[i].members,
			    b->groups[i].nmembers * sizeof(*g->members));
		g->nmembers = g->nexplicit = b->groups[i].nmembers;
	}
	for (i = 0; i < b->nusers; i++) {
		for (j = 0; j < b->ngroups; j++)
			if (b->groups[j].gid == b->users[i].uid)
				break;
		if (j < b->ngroups) {
			if (strcmp(b->groups[j].name, b->users[i].name) != 0)
				return fail(b, PGL_E_EXISTS, "group %s takes "
				    "the gid of user %s", b->groups[j].name,
				    b->users[i].name);
			continue;
		}
		g = &s->groups[s->ngroups++];
		g->name = b->users[i].name;
		g->gid = b->users[i].uid;
	}
	for (i = 0; i < s->ngroups; i++) {
		s->group_names[i] = (struct key){ s->groups[i].name, 0, i };
		s->group_ids[i] = (struct key){ NULL, s->groups[i].gid, i };
	}
	qsort(s->group_names, s->ngroups, sizeof(struct key), cmp_name);
	qsort(s->group_ids, s->ngroups, sizeof(struct key), cmp_id);
	for (i = 1; i < s->ngroups; i++) {
		if (strcmp(s->group_names[i - 1].name,
		    s->group_names[i].name) == 0)
			return fail(b, PGL_E_EXISTS, "group name %s is used "
			    "twice (a user's self-group has it too?)",
			    s->group_names[i].name);
		if (s->group_ids[i - 1].id == s->group_ids[i].id)
			return fail(b, PGL_E_EXISTS, "gid %u is used twice",
			    s->group_ids[i].id);
	}
	/* A group named like a user must be that user's self-group. */
	for (i = 0; i < b->ngroups; i++)
		if ((k = find_name(s->user_names, b->nusers,
		    b->groups[i].name)) != NULL &&
		    b->users[k->index].uid != b->groups[i].gid)
			return fail(b, PGL_E_EXISTS, "group %s is named like a "
			    "user but has another gid", b->groups[i].name);

	/* Members must be users of this cache; users' groups must exist,
	 * and membership is kept the same seen from both sides. */
	for (i = 0; i < b->ngroups; i++)
		for (j = 0; j < s->groups[i].nexplicit; j++)
			if (find_name(s->user_names, b->nusers,
			    s->groups[i].members[j]) == NULL)
				return fail(b, PGL_E_INVALID_ARG, "group %s: "
				    "member %s is not a user of this cache",
				    s->groups[i].name, s->groups[i].members[j]);
	for (i = 0; i < b->nusers; i++) {
		free(b->users[i].gids);
		b->users[i].gids = NULL;
		b->users[i].ngids = 0;
	}
	for (i = 0; i < b->nusers; i++) {
		struct user *u = &b->users[i];

		for (j = 0; j < u->ngroups; j++) {
			if ((k = find_name(s->group_names, s->ngroups,
			    u->groups[j])) == NULL)
				return fail(b, PGL_E_INVALID_ARG, "user %s: "
				    "group %s is not in the cache", u->name,
				    u->groups[j]);
			if ((r = add_gid(u, s->groups[k->index].gid)) != 0 ||
			    (r = add_member(&s->groups[k->index], u->name)) != 0)
				return fail(b, r, "out of memory");
		}
	}
	for (i = 0; i < b->ngroups; i++)
		for (j = 0; j < s->groups[i].nexplicit; j++) {
			k = find_name(s->user_names, b->nusers,
			    s->groups[i].members[j]);
			if ((r = add_gid(&b->users[k->index],
			    s->groups[i].gid)) != 0)
				return fail(b, r, "out of memory");
		}
	if ((r = check_local(b, s, b->local_passwd, 0)) != 0 ||
	    (r = check_local(b, s, b->local_group, 1)) != 0)
		return r;
	return 0;
}

/* --- encoding --- */

struct out {
	uint8_t *p;
	uint64_t size;
	uint64_t refs;          /* next free byte of the refs area */
	uint64_t pool;          /* next free byte of the string pool */
};

static void
put_str(struct out *o, uint8_t *ref, const char *s)
{
	size_t n = strlen(s);

	cf_put32(ref, (uint32_t)o->pool);
	cf_put32(ref + 4, (uint32_t)n);
	memcpy(o->p + o->pool, s, n + 1);
	o->pool += n + 1;
}

static void
put_str_list(struct out *o, uint8_t *span, char *const *v, size_t n)
{
	size_t i;

	cf_put32(span, (uint32_t)o->refs);
	cf_put32(span + 4, (uint32_t)n);
	for (i = 0; i < n; i++)
		put_str(o, o->p + o->refs + i * CF_REF_SIZE, v[i]);
	o->refs += n * CF_REF_SIZE;
}

static uint32_t
slots_for(size_t n)
{
	uint32_t s = 4;

	/* At most half full keeps probe chains short. */
	while (s < 2 * n)
		s *= 2;
	return n == 0 ? 0 : s;
}

static void
put_index(struct out *o, uint8_t *span, uint64_t off, uint32_t nslots)
{
	cf_put32(span, (uint32_t)off);
	cf_put32(span + 4, nslots);
}

static void
index_insert(uint8_t *slots, uint32_t nslots, uint32_t h, uint32_t rec)
{
	uint32_t k = h & (nslots - 1);

	while (cf_get32(slots + (size_t)k * CF_SLOT_SIZE) != 0)
		k = (k + 1) & (nslots - 1);
	cf_put32(slots + (size_t)k * CF_SLOT_SIZE, rec + 1);
}

static size_t
list_len(char *const *v, size_t n)
{
	size_t i, t = 0;

	for (i = 0; i < n; i++)
		t += strlen(v[i]) + 1;
	return t;
}

static int
encode_users(struct pgl_cache_builder *b, const struct set *s,
    uint8_t **outp, size_t *outlen)
{
	struct out o;
	uint64_t nrefs = 0, npool = strlen(b->host) + 1, off, ui, gi;
	uint64_t ubn, ubu, gbn, gbg;
	uint32_t su = slots_for(b->nusers), sg = slots_for(s->ngroups);
	size_t i, j;
	uint8_t *h, *r;

	for (i = 0; i < b->nusers; i++) {
		const struct user *u = &b->users[i];

		nrefs += (u->nprincipals + u->nsudo_commands) * CF_REF_SIZE +
		    u->ngids * 4;
		npool += strlen(u->name) + strlen(u->gecos) + strlen(u->home) +
		    strlen(u->shell) + 4 +
		    list_len(u->principals, u->nprincipals) +
		    list_len(u->sudo_commands, u->nsudo_commands);
	}
	for (i = 0; i < s->ngroups; i++) {
		nrefs += s->groups[i].nmembers * CF_REF_SIZE;
		npool += strlen(s->groups[i].name) + 1 +
		    list_len(s->groups[i].members, s->groups[i].nmembers);
	}
	ui = CF_HEADER_SIZE;
	gi = ui + (uint64_t)b->nusers * CF_USER_SIZE;
	ubn = gi + (uint64_t)s->ngroups * CF_GROUP_SIZE;
	ubu = ubn + (uint64_t)su * CF_SLOT_SIZE;
	gbn = ubu + (uint64_t)su * CF_SLOT_SIZE;
	gbg = gbn + (uint64_t)sg * CF_SLOT_SIZE;
	off = gbg + (uint64_t)sg * CF_SLOT_SIZE;
	if (off + nrefs + npool > UINT32_MAX)
		return fail(b, PGL_E_TOO_LARGE, "cache would exceed 4 GiB");
	o.size = off + nrefs + npool;
	o.refs = off;
	o.pool = off + nrefs;
	if ((o.p = calloc(1, (size_t)o.size)) == NULL)
		return fail(b, PGL_E_NOMEM, "out of memory");

	h = o.p;
	memcpy(h, CF_MAGIC_USERS, CF_MAGIC_LEN);
	cf_put32(h + CF_H_VERSION, PGL_CACHE_VERSION);
	cf_put32(h + CF_H_HEADER_SIZE, CF_HEADER_SIZE);
	cf_put64(h + CF_H_FILE_SIZE, o.size);
	cf_put64(h + CF_H_GENERATED, (uint64_t)time(NULL));
	cf_put32(h + CF_H_UID_MIN, b->uid_min);
	cf_put32(h + CF_H_UID_MAX, b->uid_max);
	put_str(&o, h + CF_H_HOST, b->host);
	put_index(&o, h + CF_H_USERS, ui, (uint32_t)b->nusers);
	put_index(&o, h + CF_H_USERS_BY_NAME, ubn, su);
	put_index(&o, h + CF_H_USERS_BY_UID, ubu, su);
	put_index(&o, h + CF_H_GROUPS, gi, (uint32_t)s->ngroups);
	put_index(&o, h + CF_H_GROUPS_BY_NAME, gbn, sg);
	put_index(&o, h + CF_H_GROUPS_BY_GID, gbg, sg);

	for (i = 0; i < b->nusers; i++) {
		const struct user *u = &b->users[i];

		r = o.p + ui + i * CF_USER_SIZE;
		cf_put32(r + CF_U_UID, u->uid);
		cf_put32(r + CF_U_GID, u->uid);
		cf_put64(r + CF_U_EXPIRE, u->expire);
		put_str(&o, r + CF_U_NAME, u->name);
		put_str(&o, r + CF_U_GECOS, u->gecos);
		put_str(&o, r + CF_U_HOME, u->home);
		put_str(&o, r + CF_U_SHELL, u->shell);
		put_str_list(&o, r + CF_U_PRINCIPALS, u->principals,
		    u->nprincipals);
		cf_put32(r + CF_U_GIDS, (uint32_t)o.refs);
		cf_put32(r + CF_U_GIDS + 4, (uint32_t)u->ngids);
		for (j = 0; j < u->ngids; j++)
			cf_put32(o.p + o.refs + j * 4, u->gids[j]);
		o.refs += u->ngids * 4;
		cf_put32(r + CF_U_SUDO, u->sudo);
		put_str_list(&o, r + CF_U_SUDO_CMDS, u->sudo_commands,
		    u->nsudo_commands);
		index_insert(o.p + ubn, su, cf_hash_name(u->name,
		    strlen(u->name)), (uint32_t)i);
		index_insert(o.p + ubu, su, cf_hash_id(u->uid), (uint32_t)i);
	}
	for (i = 0; i < s->ngroups; i++) {
		const struct group *g = &s->groups[i];

		r = o.p + gi + i * CF_GROUP_SIZE;
		cf_put32(r + CF_G_GID, g->gid);
		put_str(&o, r + CF_G_NAME, g->name);
		put_str_list(&o, r + CF_G_MEMBERS, g->members, g->nmembers);
		index_insert(o.p + gbn, sg, cf_hash_name(g->name,
		    strlen(g->name)), (uint32_t)i);
		index_insert(o.p + gbg, sg, cf_hash_id(g->gid), (uint32_t)i);
	}
	*outp = o.p;
	*outlen = (size_t)o.size;
	return 0;
}

static int
encode_shadow(struct pgl_cache_builder *b, uint8_t **outp, size_t *outlen)
{
	struct out o;
	uint64_t npool = strlen(b->host) + 1, off, ubn, i, k;
	uint32_t su = slots_for(b->nusers);
	uint8_t *h, *r;

	for (i = 0; i < b->nusers; i++)
		npool += strlen(b->users[i].name) +
		    strlen(b->users[i].passwd) + 2;
	ubn = CF_HEADER_SIZE + (uint64_t)b->nusers * CF_SHADOW_SIZE;
	off = ubn + (uint64_t)su * CF_SLOT_SIZE;
	if (off + npool > UINT32_MAX)
		return fail(b, PGL_E_TOO_LARGE, "shadow would exceed 4 GiB");
	o.size = off + npool;
	o.refs = off;
	o.pool = off;
	if ((o.p = calloc(1, (size_t)o.size)) == NULL)
		return fail(b, PGL_E_NOMEM, "out of memory");
	h = o.p;
	memcpy(h, CF_MAGIC_SHADOW, CF_MAGIC_LEN);
	cf_put32(h + CF_H_VERSION, PGL_CACHE_VERSION);
	cf_put32(h + CF_H_HEADER_SIZE, CF_HEADER_SIZE);
	cf_put64(h + CF_H_FILE_SIZE, o.size);
	cf_put64(h + CF_H_GENERATED, (uint64_t)time(NULL));
	cf_put32(h + CF_H_UID_MIN, b->uid_min);
	cf_put32(h + CF_H_UID_MAX, b->uid_max);
	put_str(&o, h + CF_H_HOST, b->host);
	put_index(&o, h + CF_H_USERS, CF_HEADER_SIZE, (uint32_t)b->nusers);
	put_index(&o, h + CF_H_USERS_BY_NAME, ubn, su);
	for (i = 0; i < b->nusers; i++) {
		r = o.p + CF_HEADER_SIZE + i * CF_SHADOW_SIZE;
		put_str(&o, r + CF_S_NAME, b->users[i].name);
		put_str(&o, r + CF_S_PASSWD, b->users[i].passwd);
		/* No password aging: pam_unix treats -1 as unset. */
		for (k = 0; k < 6; k++)
			cf_put64(r + CF_S_LASTCHG + k * 8, (uint64_t)-1);
		index_insert(o.p + ubn, su, cf_hash_name(b->users[i].name,
		    strlen(b->users[i].name)), (uint32_t)i);
	}
	*outp = o.p;
	*outlen = (size_t)o.size;
	return 0;
}

int
pgl_cache_builder_encode(struct pgl_cache_builder *b,
    enum pgl_cache_kind kind, uint8_t **out, size_t *outlen)
{
	struct set s;
	int r;

	if (b == NULL || out == NULL || outlen == NULL)
		return PGL_E_INVALID_ARG;
	b->err[0] = '\0';
	if ((r = build_set(b, &s)) == 0)
		r = kind == PGL_CACHE_SHADOW ? encode_shadow(b, out, outlen) :
		    encode_users(b, &s, out, outlen);
	set_free(&s);
	return r;
}

static void
free_wiped(uint8_t *p, size_t n)
{
	if (p == NULL)
		return;
	explicit_bzero(p, n);
	free(p);
}

int
pgl_cache_builder_write(struct pgl_cache_builder *b, const char *cache_path,
    const char *shadow_path)
{
	uint8_t *users = NULL, *shadow = NULL;
	size_t nusers = 0, nshadow = 0;
	char *tmp_users = NULL, *tmp_shadow = NULL;
	int r;

	if (b == NULL || cache_path == NULL)
		return PGL_E_INVALID_ARG;
	if ((r = pgl_cache_builder_encode(b, PGL_CACHE_USERS, &users,
	    &nusers)) != 0)
		goto out;
	if (shadow_path != NULL && (r = pgl_cache_builder_encode(b,
	    PGL_CACHE_SHADOW, &shadow, &nshadow)) != 0)
		goto out;
	/* Stage both before committing either: a full disk fails here. */
	if (shadow_path != NULL && (r = pgl_file_stage(shadow_path, shadow,
	    nshadow, 0600, &tmp_shadow)) != 0) {
		fail(b, r, "%s: %s", shadow_path, pgl_strerror(r));
		goto out;
	}
	if ((r = pgl_file_stage(cache_path, users, nusers, 0644,
	    &tmp_users)) != 0) {
		fail(b, r, "%s: %s", cache_path, pgl_strerror(r));
		goto out;
	}
	if (tmp_shadow != NULL) {
		if ((r = pgl_file_commit(tmp_shadow, shadow_path, 0)) != 0) {
			fail(b, r, "%s: %s", shadow_path, pgl_strerror(r));
			goto out;
		}
		free(tmp_shadow);
		tmp_shadow = NULL;
	}
	if ((r = pgl_file_commit(tmp_users, cache_path, 0)) != 0) {
		fail(b, r, "%s: %s", cache_path, pgl_strerror(r));
		goto out;
	}
	free(tmp_users);
	tmp_users = NULL;
 out:
	pgl_file_abort(tmp_shadow);
	pgl_file_abort(tmp_users);
	free(users);
	free_wiped(shadow, nshadow);
	return r;
}
