/* The access policy: loaded from a libconfig file, checked completely
 * (a policy that loads is one the rest of pgl can use as is), then
 * read-only.  The format is described in pgl-signer.conf(5). */
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "err.h"
#include "lcfg.h"
#include "policy.h"
#include "text.h"

#define POLICY_FILE_MAX         (16 * 1024 * 1024)
#define TTL_DEFAULT             300
#define TTL_MAX_DEFAULT         3600
#define TTL_LIMIT               86400   /* a day: certificates live minutes */
#define RESOURCE_NAME_MAX       128     /* leaves room in a principal */
#define ADDRESS_MAX             253
#define ROLE_NAME_MAX           64
#define IDENTITY_MAX            254
#define GECOS_MAX               256
#define SHELL_MAX               256
#define SUDO_COMMAND_MAX        1024
#define GROUP_NAME_MAX          32

static const char *const top_keys[] = {
	"ttl_default", "ttl_max", "privileged_groups", "resources", "roles",
	"users", NULL,
};
static const char *const resource_keys[] = {
	"name", "aliases", "address", "port", "via", NULL,
};
static const char *const role_keys[] = { "name", "grants", NULL };
static const char *const grant_keys[] = {
	"resources", "sudo", "groups", "ttl_max", "extensions",
	"force_command", "source_address", NULL,
};
static const char *const user_keys[] = {
	"identity", "name", "shell", "roles", "disabled", NULL,
};

/* Groups whose members are root or close to it (sudo rules, container
 * and VM managers, raw disks and memory), or read what others may not
 * (logs, password hashes, TLS keys), or that belong to system services.
 * A grant may name one only when privileged_groups lists it.  No list
 * can know every host, so this errs on the side of refusing. */
static const char *const privileged_builtin[] = {
	/* root outright, or by sudo/polkit/su rules */
	"root", "sudo", "admin", "wheel", "staff", "operator", "lpadmin",
	/* container and VM managers: root on the host */
	"docker", "lxd", "lxc", "incus", "incus-admin", "libvirt",
	"libvirt-qemu", "kvm", "podman",
	/* raw devices, memory, terminals */
	"disk", "kmem", "mem", "tty", "tape", "cdrom", "floppy", "dialout",
	"video", "render", "input", "audio", "plugdev", "sgx", "tss",
	/* logs, password hashes, keys, session records */
	"adm", "systemd-journal", "shadow", "ssl-cert", "sasl", "utmp",
	"crontab", "_ssh", "ssh", "sshd",
	/* system services' own groups (Debian base-passwd and common ones) */
	"daemon", "bin", "sys", "lp", "mail", "news", "uucp", "man", "proxy",
	"www-data", "backup", "list", "irc", "src", "gnats", "dip", "fax",
	"voice", "games", "nogroup", "nobody", "netdev", "messagebus",
	"polkitd", "systemd-network", "systemd-resolve", "systemd-timesync",
	"systemd-coredump", "systemd-oom",
	NULL,
};

/* ASCII only: identities are ASCII, and the locale must not matter. */
static int
ascii_casecmp(const char *a, const char *b)
{
	unsigned char x, y;

	for (;; a++, b++) {
		x = (unsigned char)*a;
		y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y || x == '\0')
			return (int)x - (int)y;
	}
}

static int
in_list(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* ---- lookups ---- */

const struct pgl_resource *
pgl_policy_resource(const struct pgl_policy *p, const char *name)
{
	size_t i, j;

	if (p == NULL || name == NULL)
		return NULL;
	/* Names are lowercase; "VM-01" typed by a user still finds vm-01,
	 * and the canonical name is what goes into a certificate. */
	for (i = 0; i < p->nresources; i++) {
		if (ascii_casecmp(p->resources[i].name, name) == 0)
			return &p->resources[i];
		for (j = 0; j < p->resources[i].naliases; j++)
			if (ascii_casecmp(p->resources[i].aliases[j], name) == 0)
				return &p->resources[i];
	}
	return NULL;
}

const struct pgl_user *
pgl_policy_user(const struct pgl_policy *p, const char *identity)
{
	size_t i;

	if (p == NULL || identity == NULL)
		return NULL;
	for (i = 0; i < p->nusers; i++)
		if (ascii_casecmp(p->users[i].identity, identity) == 0)
			return &p->users[i];
	return NULL;
}

static const struct pgl_role *
find_role(const struct pgl_policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].name, name) == 0)
			return &p->roles[i];
	return NULL;
}

/* The decision for a known user and resource. */
static int
decide_user(const struct pgl_policy *p, const struct pgl_user *u,
    const struct pgl_resource *res, struct pgl_decision *out,
    const char **reason)
{
	const struct pgl_role *role;
	const struct pgl_grant *g;
	size_t i, j, k;

	if (u->disabled) {
		*reason = "user disabled";
		return PGL_E_NOT_ALLOWED;
	}
	for (i = 0; i < u->nroles; i++) {
		if ((role = find_role(p, u->roles[i])) == NULL)
			continue;       /* cannot happen: checked at load */
		for (j = 0; j < role->ngrants; j++) {
			g = &role->grants[j];
			for (k = 0; k < g->nresources; k++) {
				if (strcmp(g->resources[k], res->name) != 0)
					continue;
				memset(out, 0, sizeof(*out));
				out->user = u;
				out->resource = res;
				out->role = role;
				out->grant = g;
				out->ttl_max = g->ttl_max != 0 &&
				    g->ttl_max < p->ttl_max ? g->ttl_max :
				    p->ttl_max;
				*reason = NULL;
				return 0;
			}
		}
	}
	*reason = "no grant for resource";
	return PGL_E_NOT_ALLOWED;
}

int
pgl_policy_decide(const struct pgl_policy *p, const char *identity,
    const char *resource, struct pgl_decision *out, const char **reason)
{
	const struct pgl_resource *res;
	const struct pgl_user *u;
	struct pgl_decision d;
	const char *why = NULL;
	int r;

	if (p == NULL || identity == NULL || resource == NULL || out == NULL) {
		why = "invalid request";
		r = PGL_E_INVALID_ARG;
		goto out;
	}
	if ((res = pgl_policy_resource(p, resource)) == NULL) {
		why = "unknown resource";
		r = PGL_E_UNKNOWN_OPTION;
		goto out;
	}
	if ((u = pgl_policy_user(p, identity)) == NULL) {
		why = "no such user";
		r = PGL_E_NOT_ALLOWED;
		goto out;
	}
	if ((r = decide_user(p, u, res, &d, &why)) != 0)
		goto out;
	*out = d;
 out:
	if (reason != NULL)
		*reason = why;
	return r;
}

int
pgl_policy_each_allowed(const struct pgl_policy *p, const char *resource,
    int (*fn)(const struct pgl_decision *d, void *arg), void *arg)
{
	const struct pgl_resource *res;
	struct pgl_decision d;
	const char *why;
	size_t i;
	int r;

	if (p == NULL || resource == NULL || fn == NULL)
		return PGL_E_INVALID_ARG;
	if ((res = pgl_policy_resource(p, resource)) == NULL)
		return PGL_E_UNKNOWN_OPTION;
	for (i = 0; i < p->nusers; i++) {
		if (decide_user(p, &p->users[i], res, &d, &why) != 0)
			continue;
		if ((r = fn(&d, arg)) != 0)
			return r;
	}
	return 0;
}

/* ---- freeing ---- */

static void
free_grant(struct pgl_grant *g)
{
	lcfg_strv_free(g->resources);
	lcfg_strv_free(g->sudo_commands);
	lcfg_strv_free(g->groups);
	lcfg_strv_free(g->extensions);
	free(g->force_command);
	free(g->source_address);
}

void
pgl_policy_free(struct pgl_policy *p)
{
	size_t i, j;

	if (p == NULL)
		return;
	for (i = 0; i < p->nusers; i++) {
		free(p->users[i].identity);
		free(p->users[i].name);
		free(p->users[i].shell);
		lcfg_strv_free(p->users[i].roles);
	}
	free(p->users);
	for (i = 0; i < p->nroles; i++) {
		free(p->roles[i].name);
		for (j = 0; j < p->roles[i].ngrants; j++)
			free_grant(&p->roles[i].grants[j]);
		free(p->roles[i].grants);
	}
	free(p->roles);
	for (i = 0; i < p->nresources; i++) {
		free(p->resources[i].name);
		lcfg_strv_free(p->resources[i].aliases);
		free(p->resources[i].address);
		free(p->resources[i].via);
	}
	free(p->resources);
	lcfg_strv_free(p->privileged_groups);
	free(p);
}

/* ---- syntax of names and values ---- */

static int
valid_resource_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return 0;
	return i <= RESOURCE_NAME_MAX;
}

static int
valid_role_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return 0;
	return i <= ROLE_NAME_MAX;
}

/* POSIX-portable and what useradd accepts by default. */
static int
valid_group_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return i <= GROUP_NAME_MAX;
}

/* local@domain, one '@', printable ASCII without spaces. */
static int
valid_identity(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i;

	if (at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return i <= IDENTITY_MAX;
}

/* What the client hands to ssh as a host: a name or an IP literal.  A
 * leading '-' would be an ssh option, '@' a user name. */
static int
valid_address(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-' || s[i] == '_' || s[i] == ':' || s[i] == '%'))
			return 0;
	return i <= ADDRESS_MAX;
}

/* An absolute, normalized path: no ".", "..", "//" or trailing '/'. */
static int
valid_abs_path(const char *s, size_t len)
{
	size_t i;

	if (len < 2 || s[0] != '/' || s[len - 1] == '/')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] != '/')
			continue;
		if (i + 1 < len && s[i + 1] == '/')
			return 0;
		if (i + 1 < len && s[i + 1] == '.' &&
		    (i + 2 == len || s[i + 2] == '/' || (s[i + 2] == '.' &&
		    (i + 3 == len || s[i + 3] == '/'))))
			return 0;
	}
	return 1;
}

/* A sudoers command: an absolute path, optionally with arguments.  Only
 * letters, digits, space and / . _ - + @ are allowed.  In sudoers
 * , : = \ separate or escape, " quotes, # starts a comment or a uid,
 * * ? [ ] ! are wildcards and negation, ^...$ a regular expression,
 * and a path ending in '/' allows every command in that directory; no
 * escaping would be as safe as not accepting them. */
static int
check_sudo_command(const struct lcfg *l, const config_setting_t *e,
    const char *v, void *ctx, const char **canon)
{
	size_t i, len = strlen(v), pathlen;
	unsigned char c;

	(void)ctx;
	(void)canon;
	if (len > SUDO_COMMAND_MAX)
		return lcfg_fail(l, e, PGL_E_TOO_LARGE, "sudo: command is "
		    "longer than %d bytes", SUDO_COMMAND_MAX);
	for (i = 0; i < len; i++) {
		c = (unsigned char)v[i];
		if (c < 0x20 || c >= 0x7f)
			return lcfg_fail(l, e, PGL_E_CTRL_CHAR, "sudo: command "
			    "'%s' contains a control or non-ASCII character", v);
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == ' ' || c == '/' ||
		    c == '.' || c == '_' || c == '-' || c == '+' || c == '@'))
			return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "sudo: "
			    "character '%c' is not allowed in a command (it is "
			    "special to sudoers); allowed are letters, digits, "
			    "space and / . _ - + @", c);
	}
	if (v[0] != '/')
		return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "sudo: command "
		    "'%s' must start with an absolute path (for every command, "
		    "write sudo = \"all\")", v);
	if (v[len - 1] == ' ' || strstr(v, "  ") != NULL)
		return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "sudo: command "
		    "'%s' has extra spaces", v);
	pathlen = strcspn(v, " ");
	if (v[pathlen - 1] == '/')
		return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "sudo: '%.*s' "
		    "is a directory (sudoers would allow every command in it)",
		    (int)pathlen, v);
	if (!valid_abs_path(v, pathlen))
		return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "sudo: path "
		    "'%.*s' must be normalized (no '.', '..' or '//')",
		    (int)pathlen, v);
	return 0;
}

/* Checks one certificate option as the engine will: the policy must
 * never hold something pgl_cert_sign refuses later. */
static int
cert_option_check(int critical, const char *name, const char *value)
{
	static const char *const principal[] = { "policy-check" };
	struct pgl_cert_option o;
	struct pgl_cert_req req;
	const char *what;

	o.name = name;
	o.value = value;
	memset(&req, 0, sizeof(req));
	req.type = PGL_CERT_TYPE_USER;
	req.serial = 1;
	req.key_id = "policy-check";
	req.principals = principal;
	req.nprincipals = 1;
	req.valid_after = 0;
	req.valid_before = 1;
	if (critical) {
		req.critical = &o;
		req.ncritical = 1;
	} else {
		req.extensions = &o;
		req.nextensions = 1;
	}
	return pgl_cert_check(&req, &what);
}

/* ---- loading ---- */

static int
check_group(const struct lcfg *l, const config_setting_t *e, const char *v,
    void *ctx, const char **canon)
{
	const struct pgl_policy *p = ctx;

	(void)canon;
	if (!valid_group_name(v))
		return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "group '%s' is "
		    "not a valid group name ([a-z_][a-z0-9_-]*, at most %d "
		    "characters)", v, GROUP_NAME_MAX);
	/* ctx is NULL for privileged_groups itself. */
	if (p != NULL && in_list(privileged_builtin,
	    sizeof(privileged_builtin) / sizeof(*privileged_builtin) - 1, v) &&
	    !in_list((const char *const *)p->privileged_groups,
	    p->nprivileged_groups, v))
		return lcfg_fail(l, e, PGL_E_NOT_ALLOWED, "group '%s' is "
		    "privileged; list it in privileged_groups to grant it", v);
	return 0;
}

static int
check_resource_ref(const struct lcfg *l, const config_setting_t *e,
    const char *v, void *ctx, const char **canon)
{
	const struct pgl_resource *res;

	if ((res = pgl_policy_resource(ctx, v)) == NULL)
		return lcfg_fail(l, e, PGL_E_INVALID_ARG,
		    "unknown resource '%s'", v);
	*canon = res->name;
	return 0;
}

static int
check_role_ref(const struct lcfg *l, const config_setting_t *e,
    const char *v, void *ctx, const char **canon)
{
	(void)canon;
	if (find_role(ctx, v) == NULL)
		return lcfg_fail(l, e, PGL_E_INVALID_ARG,
		    "unknown role '%s'", v);
	return 0;
}

static int
check_alias(const struct lcfg *l, const config_setting_t *e, const char *v,
    void *ctx, const char **canon)
{
	(void)ctx;
	(void)canon;
	if (!valid_resource_name(v))
		return lcfg_fail(l, e, PGL_E_BAD_OPTION_VALUE, "alias '%s' is "
		    "not a valid resource name ([a-z0-9][a-z0-9._-]*, at most "
		    "%d characters)", v, RESOURCE_NAME_MAX);
	return 0;
}

static int
check_extension(const struct lcfg *l, const config_setting_t *e,
    const char *v, void *ctx, const char **canon)
{
	int r;

	(void)ctx;
	(void)canon;
	if ((r = cert_option_check(0, v, NULL)) != 0)
		return lcfg_fail(l, e, r, "extensions: '%s': %s (known: "
		    "permit-pty, permit-port-forwarding, "
		    "permit-agent-forwarding, permit-user-rc, "
		    "permit-X11-forwarding, no-touch-required)", v,
		    pgl_strerror(r));
	return 0;
}

static int
dup_string(const struct lcfg *l, const config_setting_t *s, const char *v,
    char **out)
{
	if ((*out = strdup(v)) == NULL)
		return lcfg_fail(l, s, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
	return 0;
}

/* A name defined in the file, for the duplicate check. */
struct defname {
	const char *s;
	const config_setting_t *where;
	const char *kind;
};

struct strcmp_fn {
	int (*cmp)(const char *, const char *);
};

static int
cmp_defname(const void *a, const void *b, void *arg)
{
	const struct strcmp_fn *f = arg;
	const struct defname *x = a, *y = b;
	int c = f->cmp(x->s, y->s);

	if (c != 0)
		return c;
	return (int)config_setting_source_line(x->where) -
	    (int)config_setting_source_line(y->where);
}

/* Sorted, so a policy with many entries still loads fast; the later
 * definition is the one reported. */
static int
check_unique(const struct lcfg *l, struct defname *v, size_t n,
    int (*cmp)(const char *, const char *))
{
	struct strcmp_fn f;
	size_t i;

	f.cmp = cmp;
	if (n > 1)
		qsort_r(v, n, sizeof(*v), cmp_defname, &f);
	for (i = 1; i < n; i++)
		if (cmp(v[i - 1].s, v[i].s) == 0)
			return lcfg_fail(l, v[i].where, PGL_E_DUPLICATE_OPTION,
			    "%s '%s' is already defined (line %u, as %s)",
			    v[i].kind, v[i].s,
			    config_setting_source_line(v[i - 1].where),
			    v[i - 1].kind);
	return 0;
}

static int
load_resource(const struct lcfg *l, const config_setting_t *g,
    struct pgl_resource *res)
{
	const config_setting_t *s;
	const char *name = NULL, *address = NULL, *via = NULL;
	uint64_t port = 22;
	int r;

	if ((r = lcfg_keys(l, g, "a resource", resource_keys)) != 0 ||
	    (r = lcfg_string(l, g, "name", &s, &name)) != 0)
		return r;
	if (name == NULL)
		return lcfg_fail(l, g, PGL_E_INVALID_ARG,
		    "resource has no name");
	if (!valid_resource_name(name))
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "resource name "
		    "'%s' is not valid ([a-z0-9][a-z0-9._-]*, at most %d "
		    "characters)", name, RESOURCE_NAME_MAX);
	if ((r = dup_string(l, s, name, &res->name)) != 0 ||
	    (r = lcfg_strings(l, g, "aliases", check_alias, NULL, NULL,
	    &res->aliases, &res->naliases)) != 0 ||
	    (r = lcfg_string(l, g, "address", &s, &address)) != 0)
		return r;
	if (address != NULL && !valid_address(address))
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "address '%s' "
		    "must be a host name or IP address (letters, digits and "
		    ". - _ : %%; not starting with '-')", address);
	if ((r = dup_string(l, s, address != NULL ? address : name,
	    &res->address)) != 0 ||
	    (r = lcfg_uint(l, g, "port", 1, 65535, NULL, &port)) != 0 ||
	    (r = lcfg_string(l, g, "via", NULL, &via)) != 0)
		return r;
	res->port = (uint16_t)port;
	/* Resolved once every resource is known. */
	if (via != NULL && (r = dup_string(l, g, via, &res->via)) != 0)
		return r;
	return 0;
}

static int
load_resources(const struct lcfg *l, const config_setting_t *root,
    struct pgl_policy *p)
{
	const config_setting_t *list, *g, *a;
	const struct pgl_resource *to, *cur;
	struct defname *names = NULL;
	size_t i, j, n = 0, len, total = 0, steps;
	int r;

	if ((r = lcfg_groups(l, root, "resources", &list)) != 0)
		return r;
	if (list == NULL || (len = (size_t)config_setting_length(list)) == 0)
		return 0;
	if ((p->resources = calloc(len, sizeof(*p->resources))) == NULL)
		return lcfg_fail(l, list, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
	for (i = 0; i < len; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		p->nresources = i + 1;
		if ((r = load_resource(l, g, &p->resources[i])) != 0)
			return r;
		total += 1 + p->resources[i].naliases;
	}
	/* Names and aliases share one namespace. */
	if ((names = calloc(total, sizeof(*names))) == NULL)
		return lcfg_fail(l, list, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
	for (i = 0; i < p->nresources; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		names[n].s = p->resources[i].name;
		names[n].where = config_setting_get_member(g, "name");
		names[n++].kind = "resource";
		a = config_setting_get_member(g, "aliases");
		for (j = 0; j < p->resources[i].naliases; j++) {
			names[n].s = p->resources[i].aliases[j];
			names[n].where = config_setting_get_elem(a, (unsigned)j);
			names[n++].kind = "alias";
		}
	}
	r = check_unique(l, names, n, strcmp);
	free(names);
	if (r != 0)
		return r;
	for (i = 0; i < p->nresources; i++) {
		if (p->resources[i].via == NULL)
			continue;
		g = config_setting_get_elem(list, (unsigned)i);
		a = config_setting_get_member(g, "via");
		if ((to = pgl_policy_resource(p, p->resources[i].via)) == NULL)
			return lcfg_fail(l, a, PGL_E_INVALID_ARG,
			    "via: unknown resource '%s'", p->resources[i].via);
		if (to == &p->resources[i])
			return lcfg_fail(l, a, PGL_E_INVALID_ARG,
			    "via: resource '%s' cannot be its own bastion",
			    p->resources[i].name);
		if (strcmp(p->resources[i].via, to->name) != 0) {
			char *canon;

			if ((r = dup_string(l, a, to->name, &canon)) != 0)
				return r;
			free(p->resources[i].via);
			p->resources[i].via = canon;
		}
	}
	/* A chain of bastions must end; a loop would hang the client. */
	for (i = 0; i < p->nresources; i++) {
		cur = &p->resources[i];
		for (steps = 0; cur->via != NULL && steps < p->nresources;
		    steps++) {
			cur = pgl_policy_resource(p, cur->via);
			if (cur != &p->resources[i])
				continue;
			g = config_setting_get_elem(list, (unsigned)i);
			return lcfg_fail(l, config_setting_get_member(g, "via"),
			    PGL_E_INVALID_ARG, "via: the chain of bastions "
			    "from '%s' leads back to it", cur->name);
		}
	}
	return 0;
}

static int
load_sudo(const struct lcfg *l, const config_setting_t *g,
    struct pgl_grant *gr)
{
	const config_setting_t *s;
	const char *v;
	int r;

	if ((s = config_setting_get_member(g, "sudo")) == NULL) {
		gr->sudo = PGL_SUDO_NONE;
		return 0;
	}
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		v = config_setting_get_string(s);
		if (strcmp(v, "none") == 0)
			gr->sudo = PGL_SUDO_NONE;
		else if (strcmp(v, "all") == 0)
			gr->sudo = PGL_SUDO_ALL;
		else
			return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "sudo "
			    "must be \"none\", \"all\" or a list of commands, "
			    "not \"%s\"", v);
		return 0;
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return lcfg_fail(l, s, PGL_E_FORMAT, "sudo must be \"none\", "
		    "\"all\" or a list of commands");
	if ((r = lcfg_strings_of(l, s, check_sudo_command, NULL,
	    &gr->sudo_commands, &gr->nsudo_commands)) != 0)
		return r;
	if (gr->nsudo_commands == 0)
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "sudo: the list "
		    "of commands is empty (write sudo = \"none\")");
	gr->sudo = PGL_SUDO_COMMANDS;
	return 0;
}

static int
load_grant(const struct lcfg *l, const config_setting_t *g,
    struct pgl_policy *p, struct pgl_grant *gr)
{
	const config_setting_t *s;
	const char *v;
	uint64_t ttl;
	int r;

	if ((r = lcfg_keys(l, g, "a grant", grant_keys)) != 0 ||
	    (r = lcfg_strings(l, g, "resources", check_resource_ref, p, &s,
	    &gr->resources, &gr->nresources)) != 0)
		return r;
	if (s == NULL)
		return lcfg_fail(l, g, PGL_E_INVALID_ARG,
		    "grant has no resources");
	if (gr->nresources == 0)
		return lcfg_fail(l, s, PGL_E_INVALID_ARG,
		    "resources: the list is empty");
	if ((r = load_sudo(l, g, gr)) != 0 ||
	    (r = lcfg_strings(l, g, "groups", check_group, p, NULL,
	    &gr->groups, &gr->ngroups)) != 0)
		return r;
	ttl = 0;
	if ((r = lcfg_uint(l, g, "ttl_max", 0, UINT32_MAX, &s, &ttl)) != 0)
		return r;
	if (s != NULL && (ttl == 0 || ttl > p->ttl_max))
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "ttl_max must "
		    "be between 1 and the policy's ttl_max (%u), not %llu",
		    (unsigned)p->ttl_max, (unsigned long long)ttl);
	gr->ttl_max = (uint32_t)ttl;
	if ((r = lcfg_strings(l, g, "extensions", check_extension, NULL, NULL,
	    &gr->extensions, &gr->nextensions)) != 0)
		return r;
	if (gr->nextensions > PGL_CERT_MAX_OPTIONS)
		return lcfg_fail(l, config_setting_get_member(g, "extensions"),
		    PGL_E_TOO_LARGE, "extensions: more than %d",
		    PGL_CERT_MAX_OPTIONS);
	v = NULL;
	if ((r = lcfg_string(l, g, "force_command", &s, &v)) != 0)
		return r;
	if (v != NULL) {
		if ((r = cert_option_check(1, "force-command", v)) != 0)
			return lcfg_fail(l, s, r, "force_command: %s",
			    *v == '\0' ? "is empty" : pgl_strerror(r));
		if ((r = dup_string(l, s, v, &gr->force_command)) != 0)
			return r;
	}
	v = NULL;
	if ((r = lcfg_string(l, g, "source_address", &s, &v)) != 0)
		return r;
	if (v != NULL) {
		if ((r = cert_option_check(1, "source-address", v)) != 0)
			return lcfg_fail(l, s, r, "source_address '%s' is not a "
			    "comma-separated list of addresses or CIDR blocks "
			    "(no spaces, no bits set past the prefix)", v);
		if ((r = dup_string(l, s, v, &gr->source_address)) != 0)
			return r;
	}
	return 0;
}

static int
load_role(const struct lcfg *l, const config_setting_t *g,
    struct pgl_policy *p, struct pgl_role *role)
{
	const config_setting_t *s, *list;
	const char *name = NULL;
	size_t i, n;
	int r;

	if ((r = lcfg_keys(l, g, "a role", role_keys)) != 0 ||
	    (r = lcfg_string(l, g, "name", &s, &name)) != 0)
		return r;
	if (name == NULL)
		return lcfg_fail(l, g, PGL_E_INVALID_ARG, "role has no name");
	if (!valid_role_name(name))
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "role name '%s' "
		    "is not valid ([A-Za-z0-9][A-Za-z0-9._-]*, at most %d "
		    "characters)", name, ROLE_NAME_MAX);
	if ((r = dup_string(l, s, name, &role->name)) != 0 ||
	    (r = lcfg_groups(l, g, "grants", &list)) != 0)
		return r;
	if (list == NULL || (n = (size_t)config_setting_length(list)) == 0)
		return 0;
	if ((role->grants = calloc(n, sizeof(*role->grants))) == NULL)
		return lcfg_fail(l, list, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
	for (i = 0; i < n; i++) {
		role->ngrants = i + 1;
		if ((r = load_grant(l, config_setting_get_elem(list,
		    (unsigned)i), p, &role->grants[i])) != 0)
			return r;
	}
	return 0;
}

static int
load_roles(const struct lcfg *l, const config_setting_t *root,
    struct pgl_policy *p)
{
	const config_setting_t *list, *g;
	struct defname *names = NULL;
	size_t i, n;
	int r;

	if ((r = lcfg_groups(l, root, "roles", &list)) != 0)
		return r;
	if (list == NULL || (n = (size_t)config_setting_length(list)) == 0)
		return 0;
	if ((p->roles = calloc(n, sizeof(*p->roles))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL) {
		r = lcfg_fail(l, list, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
		goto out;
	}
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		p->nroles = i + 1;
		if ((r = load_role(l, g, p, &p->roles[i])) != 0)
			goto out;
		names[i].s = p->roles[i].name;
		names[i].where = config_setting_get_member(g, "name");
		names[i].kind = "role";
	}
	r = check_unique(l, names, n, strcmp);
 out:
	free(names);
	return r;
}

static int
load_user(const struct lcfg *l, const config_setting_t *g,
    struct pgl_policy *p, struct pgl_user *u)
{
	const config_setting_t *s;
	const char *v;
	int r;

	v = NULL;
	if ((r = lcfg_keys(l, g, "a user", user_keys)) != 0 ||
	    (r = lcfg_string(l, g, "identity", &s, &v)) != 0)
		return r;
	if (v == NULL)
		return lcfg_fail(l, g, PGL_E_INVALID_ARG,
		    "user has no identity");
	if (!valid_identity(v))
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "identity '%s' "
		    "must be local@domain in printable ASCII, without spaces",
		    v);
	if ((r = dup_string(l, s, v, &u->identity)) != 0)
		return r;
	v = NULL;
	if ((r = lcfg_string(l, g, "name", &s, &v)) != 0)
		return r;
	if (v != NULL) {
		/* It becomes the passwd gecos field. */
		if (*v == '\0' || strlen(v) > GECOS_MAX || pgl_has_ctrl(v) ||
		    strchr(v, ':') != NULL)
			return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "name "
			    "must be 1 to %d characters without ':' or control "
			    "characters", GECOS_MAX);
		if ((r = dup_string(l, s, v, &u->name)) != 0)
			return r;
	}
	v = NULL;
	if ((r = lcfg_string(l, g, "shell", &s, &v)) != 0)
		return r;
	if (v != NULL) {
		if (strlen(v) > SHELL_MAX || strpbrk(v, ": ") != NULL ||
		    pgl_has_ctrl(v) || !valid_abs_path(v, strlen(v)))
			return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "shell "
			    "'%s' must be a normalized absolute path without "
			    "spaces or ':'", v);
		if ((r = dup_string(l, s, v, &u->shell)) != 0)
			return r;
	}
	if ((r = lcfg_strings(l, g, "roles", check_role_ref, p, NULL,
	    &u->roles, &u->nroles)) != 0 ||
	    (r = lcfg_bool(l, g, "disabled", NULL, &u->disabled)) != 0)
		return r;
	return 0;
}

static int
load_users(const struct lcfg *l, const config_setting_t *root,
    struct pgl_policy *p)
{
	const config_setting_t *list, *g;
	struct defname *names = NULL;
	size_t i, n;
	int r;

	if ((r = lcfg_groups(l, root, "users", &list)) != 0)
		return r;
	if (list == NULL || (n = (size_t)config_setting_length(list)) == 0)
		return 0;
	if ((p->users = calloc(n, sizeof(*p->users))) == NULL ||
	    (names = calloc(n, sizeof(*names))) == NULL) {
		r = lcfg_fail(l, list, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
		goto out;
	}
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(list, (unsigned)i);
		p->nusers = i + 1;
		if ((r = load_user(l, g, p, &p->users[i])) != 0)
			goto out;
		names[i].s = p->users[i].identity;
		names[i].where = config_setting_get_member(g, "identity");
		names[i].kind = "identity";
	}
	/* Identities match case-insensitively, so they must differ so. */
	r = check_unique(l, names, n, ascii_casecmp);
 out:
	free(names);
	return r;
}

int
pgl_policy_load(const char *path, struct pgl_policy **out, char *err,
    size_t errlen)
{
	struct lcfg l;
	const config_setting_t *root, *s, *ttl_s;
	struct pgl_policy *p = NULL;
	uint64_t ttl_max = TTL_MAX_DEFAULT, ttl_default;
	int r;

	if ((r = lcfg_open(&l, path, POLICY_FILE_MAX, err, errlen)) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		r = lcfg_fail(&l, NULL, PGL_E_NOMEM, "%s",
		    pgl_strerror(PGL_E_NOMEM));
		goto out;
	}
	root = config_root_setting(&l.cf);
	if ((r = lcfg_keys(&l, root, "the policy", top_keys)) != 0 ||
	    (r = lcfg_uint(&l, root, "ttl_max", 1, TTL_LIMIT, NULL,
	    &ttl_max)) != 0)
		goto out;
	/* The default never exceeds the cap, even a lowered one. */
	ttl_default = ttl_max < TTL_DEFAULT ? ttl_max : TTL_DEFAULT;
	if ((r = lcfg_uint(&l, root, "ttl_default", 1, TTL_LIMIT, &ttl_s,
	    &ttl_default)) != 0)
		goto out;
	if (ttl_default > ttl_max) {
		r = lcfg_fail(&l, ttl_s, PGL_E_BAD_OPTION_VALUE, "ttl_default "
		    "(%llu) is greater than ttl_max (%llu)",
		    (unsigned long long)ttl_default,
		    (unsigned long long)ttl_max);
		goto out;
	}
	p->ttl_max = (uint32_t)ttl_max;
	p->ttl_default = (uint32_t)ttl_default;
	if ((r = lcfg_strings(&l, root, "privileged_groups", check_group, NULL,
	    &s, &p->privileged_groups, &p->nprivileged_groups)) != 0 ||
	    (r = load_resources(&l, root, p)) != 0 ||
	    (r = load_roles(&l, root, p)) != 0 ||
	    (r = load_users(&l, root, p)) != 0)
		goto out;
	*out = p;
	p = NULL;
 out:
	pgl_policy_free(p);
	lcfg_close(&l);
	return r;
}
