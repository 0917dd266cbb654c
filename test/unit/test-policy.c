/* Unit tests for signer/policy.c: the example loads, every validation
 * error names the right line, and decisions follow the documented
 * order (roles in the user's order, grants in the role's order). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "examples.h"
#include "policy.h"
#include "util.h"
#include "refusal.h"

static char *dir;
static int nfile;

/* Writes text to a new file in dir; the caller frees the path. */
static char *
write_policy(const char *text, size_t len)
{
	char *path = tu_fmt("%s/policy-%d.conf", dir, ++nfile);

	if (tu_write_file(path, text, len, 0644) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	return path;
}

static int
load(const char *text, struct pgl_policy **p, char *err, size_t errlen)
{
	char *path = write_policy(text, strlen(text));
	int r = pgl_policy_load(path, p, err, errlen);

	free(path);
	return r;
}

/* Loading must fail with "PATH:LINE: " (LINE from the marker) and a
 * message holding want; want_r 0 means any error code. */
static void
refused(const char *text, int want_r, const char *want, const char *label)
{
	struct pgl_policy *p = (struct pgl_policy *)&p;   /* sentinel: must stay */
	char err[1024] = "", *path = write_policy(text, strlen(text));
	int r = pgl_policy_load(path, &p, err, sizeof(err));

	check_refusal(text, path, r, err, want_r, want,
	    p == (struct pgl_policy *)&p, label);
	if (r == 0 && p != (struct pgl_policy *)&p)
		pgl_policy_free(p);
	free(path);
}

static struct pgl_policy *
accepted(const char *text, const char *label)
{
	struct pgl_policy *p = NULL;
	char err[1024] = "";
	int r = load(text, &p, err, sizeof(err));

	tap_ok(r == 0 && p != NULL, "accepts %s", label);
	if (r != 0)
		tap_diag("r=%d err \"%s\"", r, tu_esc(err));
	return p;
}

static void
accept_and_free(const char *text, const char *label)
{
	pgl_policy_free(accepted(text, label));
}

#define RES "resources = ( { name = \"vm-01\"; aliases = [ \"web\" ]; },\n" \
	"  { name = \"vm-02\"; } );\n"
#define ROLE_OPEN "roles = ( { name = \"r\"; grants = ( {\n" \
	"  resources = [ \"vm-01\" ];\n"
#define ROLE_CLOSE "} ); } );\n"
#define GRANT(x) RES ROLE_OPEN x ROLE_CLOSE

static void
test_example(void)
{
	struct pgl_policy *p;
	struct pgl_decision d;
	const char *why = "unset";

	if ((p = accepted(pgl_example_policy, "the example policy")) == NULL)
		return;
	TAP_EQ_INT(p->nusers, 1, "example: one user");
	TAP_EQ_INT(p->nroles, 1, "example: one role");
	TAP_EQ_INT(p->nresources, 2, "example: two resources");
	TAP_EQ_INT(p->ttl_default, 300, "example: ttl_default 300");
	TAP_EQ_INT(p->ttl_max, 3600, "example: ttl_max 3600");
	TAP_EQ_INT(p->nprivileged_groups, 0, "example: no privileged groups");
	tap_ok(strcmp(p->resources[0].name, "vm-01") == 0 &&
	    strcmp(p->resources[0].address, "127.0.0.1") == 0 &&
	    p->resources[0].port == 22, "example: vm-01 at 127.0.0.1 port 22");
	tap_ok(strcmp(p->resources[1].name, "vm-02") == 0,
	    "example: vm-02 defined");
	tap_ok(pgl_policy_decide(p, "alice@example.com", "vm-01", &d, &why) ==
	    0 && why == NULL && d.grant->sudo == PGL_SUDO_ALL &&
	    d.grant->ngroups == 0 && d.grant->extensions == NULL,
	    "example: alice may reach vm-01 with sudo all, default extensions");
	tap_ok(pgl_policy_decide(p, "alice@example.com", "vm-02", &d, &why) ==
	    PGL_E_NOT_ALLOWED && why != NULL &&
	    strcmp(why, "no grant for resource") == 0,
	    "example: alice has no grant for vm-02");
	pgl_policy_free(p);
}

static void
test_file_errors(void)
{
	struct pgl_policy *p = NULL;
	char err[512] = "", *path, *want;
	static const char nul[] = "ttl_max = 60;\n\0\n";
	int r;

	path = tu_path(dir, "does-not-exist.conf");
	r = pgl_policy_load(path, &p, err, sizeof(err));
	want = tu_fmt("%s: ", path);
	tap_ok(r == PGL_E_SYSTEM && p == NULL &&
	    strncmp(err, want, strlen(want)) == 0,
	    "missing file: \"PATH: reason\" (%s)", tu_esc(err));
	free(want);
	free(path);

	path = write_policy(nul, sizeof(nul) - 1);
	r = pgl_policy_load(path, &p, err, sizeof(err));
	tap_ok(r == PGL_E_FORMAT && p == NULL && strstr(err, "NUL") != NULL,
	    "a NUL byte is refused (%s)", tu_esc(err));
	free(path);

	/* A tiny error buffer is truncated, never overrun. */
	r = load("ttl_max = ;\n", &p, err, 8);
	tap_ok(r == PGL_E_FORMAT && strlen(err) == 7, "short error buffer");
	tap_ok(load("ttl_max = ;\n", &p, NULL, 0) == PGL_E_FORMAT,
	    "NULL error buffer");

	refused("ttl_max = 300;\nttl_default = ; #<\n", PGL_E_FORMAT,
	    "syntax error", "a syntax error, with its line");
	refused("ttl_max = 300;\n@include \"other.conf\" #<\n", PGL_E_FORMAT,
	    "@include is not supported", "@include");
	refused("resources = ( { name = \"a\";\n"
	    "  address = \"b\\x00c\"; } ); #<\n", PGL_E_FORMAT,
	    "a string holds \\x00", "a NUL escape in a string");
	accept_and_free("resources = ( { name = \"a\";\n"
	    "  address = \"b\\x41c\"; } );\n", "a \\x41 escape");
	accept_and_free("", "an empty file");
	accept_and_free("# only a comment\n// another\n/* and\n a block */\n",
	    "only comments");
}

static void
test_numbers(void)
{
	refused("\n\nttl_max = 4294967596; #<\n", PGL_E_FORMAT,
	    "number out of range", "a number libconfig would truncate");
	refused("ttl_max = 0xffffffff; #<\n", PGL_E_FORMAT,
	    "number out of range", "a hex number libconfig would truncate");
	refused("ttl_max = -2147483649; #<\n", PGL_E_FORMAT,
	    "number out of range", "a large negative number");
	refused("ttl_max = 99999999999999999999L; #<\n", PGL_E_FORMAT,
	    "number out of range", "a number past 64 bits");
	refused("ttl_max = 3600000000L; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "between 1 and 86400", "a 64-bit ttl_max");
	refused("ttl_max = 1.5; #<\n", PGL_E_FORMAT, "must be an integer",
	    "a float");
	refused("ttl_max = -5; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "between 1 and 86400", "a negative ttl_max");
	accept_and_free("# 99999999999 in a comment\nttl_max = 600; "
	    "/* 0xfffffffff */\nresources = ( { name = \"n99999999999\"; "
	    "address = \"h99999999999\"; } );\n",
	    "big digits in comments, names and strings");
	accept_and_free("ttl_max = 0x258;\n", "a hex number");
	accept_and_free("ttl_max = 600L;\n", "an L-suffixed number");
}

static void
test_unknown_keys(void)
{
	refused("ttl_max = 300;\nttl_maxx = 300; #<\n", PGL_E_UNKNOWN_OPTION,
	    "unknown key 'ttl_maxx'", "a typo at the top level");
	refused("resources = ( { name = \"a\";\n adress = \"x\"; } ); #<\n",
	    PGL_E_UNKNOWN_OPTION, "unknown key 'adress' in a resource",
	    "a typo in a resource");
	refused(GRANT("  sudoo = \"all\"; #<\n"), PGL_E_UNKNOWN_OPTION,
	    "unknown key 'sudoo' in a grant", "a typo in a grant");
	refused(RES "roles = ( { name = \"r\";\n grant = ( ); } ); #<\n",
	    PGL_E_UNKNOWN_OPTION, "unknown key 'grant' in a role",
	    "a typo in a role");
	refused("users = ( { identity = \"a@b.c\";\n role = [ ]; } ); #<\n",
	    PGL_E_UNKNOWN_OPTION, "unknown key 'role' in a user",
	    "a typo in a user");
}

static void
test_types(void)
{
	refused("\nttl_max = \"300\"; #<\n", PGL_E_FORMAT,
	    "ttl_max must be an integer, not a string", "a string for a number");
	refused("resources = { name = \"a\"; }; #<\n", PGL_E_FORMAT,
	    "resources must be a list", "a group for a list");
	refused("resources = ( \"a\" ); #<\n", PGL_E_FORMAT,
	    "a resource must be a group", "a string in the list of resources");
	refused("resources = ( { name = \"a\"; port = \"22\"; } ); #<\n",
	    PGL_E_FORMAT, "port must be an integer", "a string port");
	refused("resources = ( { name = \"a\"; aliases = \"b\"; } ); #<\n",
	    PGL_E_FORMAT, "aliases must be a list of strings",
	    "a string for a list of strings");
	refused("resources = ( { name = \"a\"; aliases = ( \"b\",\n"
	    "  1 ); } ); #<\n", PGL_E_FORMAT, "element 2 must be a string",
	    "a number in a list of strings");
	refused("resources = ( { name = \"a\"; aliases = [ \"b\",\n"
	    "  1 ]; } ); #<\n", PGL_E_FORMAT, "mismatched element type",
	    "a number in an array of strings (libconfig's own check)");
	refused("resources = ( { name = 1; } ); #<\n", PGL_E_FORMAT,
	    "name must be a string", "a number for a name");
	refused("users = ( { identity = \"a@b.c\";\n disabled = \"yes\"; } ); #<\n",
	    PGL_E_FORMAT, "disabled must be true or false", "a string bool");
	refused(GRANT("  sudo = 1; #<\n"), PGL_E_FORMAT,
	    "sudo must be \"none\", \"all\" or a list", "a number for sudo");
	refused(GRANT("  ttl_max = true; #<\n"), PGL_E_FORMAT,
	    "ttl_max must be an integer", "a bool for a grant's ttl_max");
	refused("privileged_groups = \"docker\"; #<\n", PGL_E_FORMAT,
	    "privileged_groups must be a list", "a string for a group list");
}

/* libconfig reports a string in a list at the token after it; the
 * loader puts it back where it starts. */
static void
test_element_lines(void)
{
	refused(GRANT("  sudo = [\n    \"/usr/bin/a\",\n"
	    "    \"usr/bin/b\" #<\n  ];\n"), PGL_E_BAD_OPTION_VALUE,
	    "absolute path", "the last element, bracket on the next line");
	refused(GRANT("  sudo = [\n    \"usr/bin/a\" #<\n"
	    "    , \"/usr/bin/b\"\n  ];\n"), PGL_E_BAD_OPTION_VALUE,
	    "absolute path", "an element, comma on the next line");
	refused(GRANT("  groups = [ \"dev\",\n    \"Ops\" #<\n"
	    "    /* comment */\n  ];\n"), PGL_E_BAD_OPTION_VALUE,
	    "not a valid group name", "an element before a comment");
	refused(GRANT("  groups = [ \"dev\",\n    \"o\"\n"
	    "    \"ps\",\n    \"Ops\" #<\n  ];\n"), PGL_E_BAD_OPTION_VALUE,
	    "'Ops'", "an element after a string split over two lines");
	refused("users = ( { identity = \"a@b.c\"; },\n  \"bob\" #<\n);\n",
	    PGL_E_FORMAT, "a user must be a group", "a string for a user");
	refused("users = ( { identity = \"a@b.c\"; name = \"x\\\"\ny\"; } );\n"
	    "privileged_groups = [ \"dev\",\n  \"Bad\" #<\n];\n",
	    PGL_E_BAD_OPTION_VALUE, "'Bad'",
	    "after a string with an escaped quote and a newline");
}

static void
test_missing(void)
{
	refused("resources = (\n { address = \"x\"; } #<\n);\n",
	    PGL_E_INVALID_ARG, "resource has no name", "a resource without name");
	refused(RES "roles = (\n { grants = ( ); } #<\n);\n",
	    PGL_E_INVALID_ARG, "role has no name", "a role without name");
	refused(RES "roles = ( { name = \"r\"; grants = (\n { sudo = \"all\"; } #<\n); } );\n",
	    PGL_E_INVALID_ARG, "grant has no resources",
	    "a grant without resources");
	refused(RES "roles = ( { name = \"r\"; grants = ( {\n"
	    "  resources = [ ]; #<\n} ); } );\n", PGL_E_INVALID_ARG,
	    "resources: the list is empty", "a grant with no resources");
	refused("users = ( { identity = \"a@b.c\"; },\n  { name = \"x\"; } #<\n);\n",
	    PGL_E_INVALID_ARG, "user has no identity", "a user without identity");
}

static void
test_duplicates(void)
{
	refused("users = ( { identity = \"alice@example.com\"; },\n"
	    "  { identity = \"Alice@Example.COM\"; } ); #<\n",
	    PGL_E_DUPLICATE_OPTION, "identity 'Alice@Example.COM' is already "
	    "defined (line 1", "a duplicate identity (any case)");
	refused(RES "roles = ( { name = \"ops\"; },\n"
	    "  { name = \"db\"; },\n  { name = \"ops\"; } ); #<\n",
	    PGL_E_DUPLICATE_OPTION, "role 'ops' is already defined (line 3",
	    "a duplicate role");
	refused("resources = ( { name = \"a\"; },\n { name = \"b\"; },\n"
	    "  { name = \"a\"; } ); #<\n", PGL_E_DUPLICATE_OPTION,
	    "resource 'a' is already defined (line 1, as resource)",
	    "a duplicate resource");
	refused("resources = ( { name = \"a\"; },\n"
	    "  { name = \"b\"; aliases = [ \"c\", \"a\" ]; } ); #<\n",
	    PGL_E_DUPLICATE_OPTION, "alias 'a' is already defined (line 1, "
	    "as resource)", "an alias colliding with a name");
	refused("resources = ( { name = \"a\"; aliases = [ \"x\" ]; },\n"
	    "  { name = \"x\"; } ); #<\n", PGL_E_DUPLICATE_OPTION,
	    "resource 'x' is already defined (line 1, as alias)",
	    "a name colliding with an earlier alias");
	refused("resources = ( { name = \"a\"; aliases = [ \"x\" ]; },\n"
	    "  { name = \"b\"; aliases = [ \"x\" ]; } ); #<\n",
	    PGL_E_DUPLICATE_OPTION, "alias 'x' is already defined",
	    "an alias colliding with another alias");
	refused("resources = ( { name = \"a\"; aliases = [ \"a\" ]; } ); #<\n",
	    PGL_E_DUPLICATE_OPTION, "is already defined",
	    "an alias equal to its own name");
	refused("resources = ( { name = \"a\"; aliases = [ \"x\",\n"
	    "  \"x\" ]; } ); #<\n", PGL_E_DUPLICATE_OPTION,
	    "'x' is listed twice", "an alias listed twice");
	refused(GRANT("  groups = [ \"dev\",\n  \"dev\" ]; #<\n"),
	    PGL_E_DUPLICATE_OPTION, "groups: 'dev' is listed twice",
	    "a group listed twice");
	refused(RES "roles = ( { name = \"r\"; grants = ( {\n"
	    "  resources = [ \"vm-01\",\n  \"web\" ]; #<\n} ); } );\n",
	    PGL_E_DUPLICATE_OPTION, "resources: 'web' is listed twice",
	    "a resource and its alias in one grant");
	refused(RES "roles = ( { name = \"r\"; } );\n"
	    "users = ( { identity = \"a@b.c\"; roles = [ \"r\",\n"
	    "  \"r\" ]; } ); #<\n", PGL_E_DUPLICATE_OPTION,
	    "roles: 'r' is listed twice", "a role listed twice for a user");
	refused("ttl_max = 600;\nttl_max = 300; #<\n", PGL_E_FORMAT,
	    "duplicate setting name", "a key given twice");
}

static void
test_references(void)
{
	refused(RES "roles = ( { name = \"r\"; grants = ( {\n"
	    "  resources = [ \"vm-01\", \"vm-03\" ]; #<\n} ); } );\n",
	    PGL_E_INVALID_ARG, "unknown resource 'vm-03'",
	    "a grant naming an unknown resource");
	refused(RES "roles = ( { name = \"r\"; } );\n"
	    "users = ( { identity = \"a@b.c\";\n  roles = [ \"r\", \"R\" ]; } ); #<\n",
	    PGL_E_INVALID_ARG, "unknown role 'R'",
	    "a user naming an unknown role (roles are case-sensitive)");
	accept_and_free("users = ( { identity = \"a@b.c\"; roles = [ \"r\" ]; } );\n"
	    "roles = ( { name = \"r\"; grants = ( { resources = [ \"a\" ]; } ); } );\n"
	    "resources = ( { name = \"a\"; } );\n",
	    "sections in any order");
	refused("resources = ( { name = \"a\";\n  via = \"b\"; } ); #<\n",
	    PGL_E_INVALID_ARG, "via: unknown resource 'b'",
	    "via naming an unknown resource");
	refused("resources = ( { name = \"a\"; aliases = [ \"x\" ];\n"
	    "  via = \"x\"; } ); #<\n", PGL_E_INVALID_ARG,
	    "cannot be its own bastion", "via naming itself by alias");
	refused("resources = ( { name = \"a\"; via = \"b\"; }, #<\n"
	    "  { name = \"b\"; via = \"c\"; },\n"
	    "  { name = \"c\"; via = \"a\"; } );\n", PGL_E_INVALID_ARG,
	    "leads back to it", "a loop of bastions");
	refused("resources = ( { name = \"a\"; via = \"b\"; },\n"
	    "  { name = \"b\"; via = \"c\"; }, #<\n"
	    "  { name = \"c\"; via = \"b\"; } );\n", PGL_E_INVALID_ARG,
	    "leads back", "a chain into a loop");
}

static void
test_sudo(void)
{
	static const struct {
		const char *cmd;
		const char *want;
		const char *label;
	} bad[] = {
		{ "systemctl restart nginx", "absolute path", "a relative command" },
		{ "ALL", "write sudo = \"all\"", "ALL as a command" },
		{ "/usr/bin/cat /a,/b", "character ','", "a comma" },
		{ "/usr/bin/env A:B", "character ':'", "a colon" },
		{ "/usr/bin/env A=B", "character '='", "an equals sign" },
		{ "/usr/bin/echo \\\\", "character '\\'", "a backslash" },
		{ "/usr/bin/cat /var/log/*", "character '*'", "a wildcard" },
		{ "/usr/bin/cat /var/log/?", "character '?'", "a ? wildcard" },
		{ "/usr/bin/cat [a]", "character '['", "a bracket" },
		{ "/usr/bin/echo \\\"\\\"", "character '\"'", "a double quote" },
		{ "/usr/bin/echo #1", "character '#'", "a hash" },
		{ "/usr/bin/echo !x", "character '!'", "a negation" },
		{ "/usr/bin/grep ^a$", "character '^'", "a regular expression" },
		{ "/usr/bin/echo $HOME", "character '$'", "a dollar" },
		{ "/usr/bin/echo a;b", "character ';'", "a semicolon" },
		{ "/usr/bin/echo \\ta", "control or non-ASCII", "a tab" },
		{ "/usr/bin/echo \xc3\xa9", "control or non-ASCII", "non-ASCII" },
		{ "/usr/bin/", "is a directory", "a directory" },
		{ "/usr/bin/ restart", "is a directory", "a directory with args" },
		{ "/usr/bin/../bin/sh", "normalized", "a .. component" },
		{ "/usr/./bin/sh", "normalized", "a . component" },
		{ "//usr/bin/sh", "normalized", "a double slash" },
		{ "/usr/bin/systemctl restart nginx ", "extra spaces",
		  "a trailing space" },
		{ "/usr/bin/systemctl  restart", "extra spaces", "two spaces" },
	};
	struct pgl_policy *p;
	char *text, *label;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		text = tu_fmt(RES ROLE_OPEN "  sudo = [ \"/usr/bin/true\",\n"
		    "    \"%s\" ]; #<\n" ROLE_CLOSE, bad[i].cmd);
		label = tu_fmt("sudo: %s", bad[i].label);
		refused(text, 0, bad[i].want, label);
		free(text);
		free(label);
	}
	refused(GRANT("  sudo = \"root\"; #<\n"), PGL_E_BAD_OPTION_VALUE,
	    "not \"root\"", "an unknown sudo keyword");
	refused(GRANT("  sudo = \"ALL\"; #<\n"), PGL_E_BAD_OPTION_VALUE,
	    "not \"ALL\"", "sudo keywords are lowercase");
	refused(GRANT("  sudo = [ ]; #<\n"), PGL_E_BAD_OPTION_VALUE,
	    "write sudo = \"none\"", "an empty list of commands");
	refused(GRANT("  sudo = [ \"/usr/bin/true\",\n  \"/usr/bin/true\" ]; #<\n"),
	    PGL_E_DUPLICATE_OPTION, "listed twice", "a command listed twice");

	p = accepted(GRANT("  sudo = [ \"/usr/bin/systemctl restart nginx\",\n"
	    "    \"/usr/sbin/service foo@bar.service reload\",\n"
	    "    \"/opt/app-1.2/bin/ctl_x --level +3 -v\" ];\n"),
	    "sudo commands with arguments");
	if (p != NULL) {
		const struct pgl_grant *g = &p->roles[0].grants[0];

		tap_ok(g->sudo == PGL_SUDO_COMMANDS && g->nsudo_commands == 3 &&
		    strcmp(g->sudo_commands[0],
		    "/usr/bin/systemctl restart nginx") == 0 &&
		    g->sudo_commands[3] == NULL,
		    "sudo commands kept in order, NULL-terminated");
		pgl_policy_free(p);
	}
	p = accepted(GRANT("  sudo = \"all\";\n"), "sudo = \"all\"");
	if (p != NULL)
		TAP_EQ_INT(p->roles[0].grants[0].sudo, PGL_SUDO_ALL, "sudo all");
	pgl_policy_free(p);
	p = accepted(GRANT("  sudo = \"none\";\n"), "sudo = \"none\"");
	if (p != NULL)
		tap_ok(p->roles[0].grants[0].sudo == PGL_SUDO_NONE &&
		    p->roles[0].grants[0].sudo_commands == NULL, "sudo none");
	pgl_policy_free(p);
	p = accepted(GRANT(""), "no sudo key");
	if (p != NULL)
		TAP_EQ_INT(p->roles[0].grants[0].sudo, PGL_SUDO_NONE,
		    "no sudo key means none");
	pgl_policy_free(p);
}

static void
test_groups(void)
{
	static const char *const privileged[] = {
		"root", "sudo", "adm", "wheel", "shadow", "disk", "docker", "lxd",
		"libvirt", "kvm", "systemd-journal", "admin", "staff", "kmem",
		"tty", "incus-admin", "ssl-cert",
	};
	static const char *const invalid[] = {
		"Docker", "1dev", "-dev", "dev ops", "dev.ops", "",
		"a23456789012345678901234567890123", "dev$",
	};
	struct pgl_policy *p;
	char *text, *label;
	size_t i;

	for (i = 0; i < sizeof(privileged) / sizeof(*privileged); i++) {
		text = tu_fmt(GRANT("  groups = [ \"dev\",\n  \"%s\" ]; #<\n"),
		    privileged[i]);
		label = tu_fmt("privileged group %s without privileged_groups",
		    privileged[i]);
		refused(text, PGL_E_NOT_ALLOWED, "is privileged", label);
		free(text);
		free(label);
	}
	for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
		text = tu_fmt(GRANT("  groups = [\n  \"%s\" ]; #<\n"), invalid[i]);
		label = tu_fmt("invalid group name '%s'", invalid[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "not a valid group name",
		    label);
		free(text);
		free(label);
	}
	refused("privileged_groups = [ \"docker\",\n \"Wheel\" ]; #<\n",
	    PGL_E_BAD_OPTION_VALUE, "not a valid group name",
	    "an invalid name in privileged_groups");
	refused("privileged_groups = [ \"docker\" ];\n" GRANT(
	    "  groups = [ \"docker\",\n  \"sudo\" ]; #<\n"), PGL_E_NOT_ALLOWED,
	    "'sudo' is privileged", "only the listed privileged groups");
	p = accepted("privileged_groups = [ \"docker\", \"adm\" ];\n" GRANT(
	    "  groups = [ \"docker\", \"dev\", \"_svc\", \"a-b_c9\", \"adm\" ];\n"),
	    "privileged groups listed in privileged_groups");
	if (p != NULL) {
		const struct pgl_grant *g = &p->roles[0].grants[0];

		tap_ok(p->nprivileged_groups == 2 && g->ngroups == 5 &&
		    strcmp(g->groups[0], "docker") == 0 &&
		    strcmp(g->groups[4], "adm") == 0 && g->groups[5] == NULL,
		    "groups kept in order");
	}
	pgl_policy_free(p);
	accept_and_free(GRANT("  groups = [ \"a2345678901234567890123456789012\" ];\n"),
	    "a group name of 32 characters");
}

static void
test_cert_options(void)
{
	struct pgl_policy *p;

	refused(GRANT("  extensions = [ \"permit-pty\",\n"
	    "  \"permit-x11-forwarding\" ]; #<\n"), PGL_E_UNKNOWN_OPTION,
	    "'permit-x11-forwarding': unknown option", "a misspelt extension");
	refused(GRANT("  extensions = [ \"force-command\" ]; #<\n"),
	    PGL_E_UNKNOWN_OPTION, "unknown option",
	    "a critical option as an extension");
	refused(GRANT("  extensions = [ \"permit-pty\",\n \"permit-pty\" ]; #<\n"),
	    PGL_E_DUPLICATE_OPTION, "listed twice", "an extension twice");
	refused(GRANT("  force_command = \"/usr/bin/top\\n\"; #<\n"),
	    PGL_E_CTRL_CHAR, "force_command: contains control characters",
	    "a force_command with a newline");
	refused(GRANT("  force_command = \"\"; #<\n"), 0,
	    "force_command: is empty", "an empty force_command");
	refused(GRANT("  source_address = \"10.0.0.1/8\"; #<\n"),
	    PGL_E_BAD_OPTION_VALUE, "source_address '10.0.0.1/8' is not",
	    "a source_address with host bits set");
	refused(GRANT("  source_address = \"10.0.0.0/8, 10.1.0.0/16\"; #<\n"),
	    PGL_E_BAD_OPTION_VALUE, "source_address", "a source_address with "
	    "a space");
	refused(GRANT("  source_address = \"\"; #<\n"), 0, "source_address",
	    "an empty source_address");
	refused(GRANT("  source_address = \"example.com\"; #<\n"), 0,
	    "source_address", "a host name as source_address");

	p = accepted(GRANT("  extensions = [ \"permit-pty\", "
	    "\"permit-X11-forwarding\", \"custom@example.com\" ];\n"
	    "  force_command = \"/usr/bin/top -b\";\n"
	    "  source_address = \"10.0.0.0/8,192.168.1.7,2001:db8::/32\";\n"),
	    "X11 named explicitly, force_command, source_address");
	if (p != NULL) {
		const struct pgl_grant *g = &p->roles[0].grants[0];

		tap_ok(g->nextensions == 3 &&
		    strcmp(g->extensions[1], "permit-X11-forwarding") == 0 &&
		    strcmp(g->force_command, "/usr/bin/top -b") == 0 &&
		    strcmp(g->source_address,
		    "10.0.0.0/8,192.168.1.7,2001:db8::/32") == 0,
		    "certificate options stored");
	}
	pgl_policy_free(p);
	p = accepted(GRANT("  extensions = [ ];\n"), "an empty extension list");
	if (p != NULL)
		tap_ok(p->roles[0].grants[0].extensions != NULL &&
		    p->roles[0].grants[0].nextensions == 0 &&
		    p->roles[0].grants[0].force_command == NULL &&
		    p->roles[0].grants[0].source_address == NULL,
		    "empty list: no extensions (not the default set)");
	pgl_policy_free(p);
	p = accepted(GRANT(""), "no extensions key");
	if (p != NULL)
		tap_ok(p->roles[0].grants[0].extensions == NULL,
		    "no key: the default set (NULL)");
	pgl_policy_free(p);
}

static void
test_ttl(void)
{
	struct pgl_policy *p;

	refused("ttl_max = 0; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "ttl_max must be between 1 and 86400, not 0", "a ttl_max of 0");
	refused("ttl_max = 86401; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "between 1 and 86400", "a ttl_max above a day");
	refused("ttl_default = 0; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "ttl_default must be between 1", "a ttl_default of 0");
	refused("ttl_max = 600;\nttl_default = 900; #<\n", PGL_E_BAD_OPTION_VALUE,
	    "ttl_default (900) is greater than ttl_max (600)",
	    "ttl_default above ttl_max");
	refused(GRANT("  ttl_max = 0; #<\n"), PGL_E_BAD_OPTION_VALUE,
	    "ttl_max must be between 1 and the policy's ttl_max (3600), not 0",
	    "a grant's ttl_max of 0");
	refused("ttl_max = 600;\n" GRANT("  ttl_max = 601; #<\n"),
	    PGL_E_BAD_OPTION_VALUE, "policy's ttl_max (600), not 601",
	    "a grant's ttl_max above the policy's");
	refused("ttl_max = 600;\n" GRANT("  ttl_max = -1; #<\n"),
	    PGL_E_BAD_OPTION_VALUE, "not -1", "a negative grant ttl_max");

	p = accepted("ttl_max = 120;\n", "ttl_max below the default ttl_default");
	if (p != NULL)
		tap_ok(p->ttl_max == 120 && p->ttl_default == 120,
		    "ttl_default follows a lower ttl_max");
	pgl_policy_free(p);
	p = accepted("", "no ttl keys");
	if (p != NULL)
		tap_ok(p->ttl_max == 3600 && p->ttl_default == 300,
		    "ttl defaults 300 and 3600");
	pgl_policy_free(p);
	p = accepted("ttl_max = 86400;\nttl_default = 60;\n" GRANT(
	    "  ttl_max = 86400;\n"), "the largest ttl_max");
	if (p != NULL)
		tap_ok(p->ttl_default == 60 && p->roles[0].grants[0].ttl_max ==
		    86400, "ttl values stored");
	pgl_policy_free(p);
}

static void
test_identities(void)
{
	static const char *const bad[] = {
		"alice", "@example.com", "alice@", "al ice@example.com",
		"alice@ex@ample.com", "al\\tice@example.com", "alic\xc3\xa9@example.com",
		"alice@example.com ", "",
	};
	struct pgl_policy *p;
	char *text, *label;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		text = tu_fmt("users = (\n  { identity = \"%s\"; } #<\n);\n",
		    bad[i]);
		label = tu_fmt("identity \"%s\"", bad[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "must be local@domain",
		    label);
		free(text);
		free(label);
	}
	refused("users = (\n  { identity = \"a@b.c\"; name = \"A:B\"; } #<\n);\n",
	    PGL_E_BAD_OPTION_VALUE, "without ':'", "a name with ':'");
	refused("users = (\n  { identity = \"a@b.c\"; name = \"A\\nB\"; } #<\n);\n",
	    PGL_E_BAD_OPTION_VALUE, "control characters",
	    "a name with a newline");
	refused("users = (\n  { identity = \"a@b.c\"; shell = \"zsh\"; } #<\n);\n",
	    PGL_E_BAD_OPTION_VALUE, "absolute path", "a relative shell");
	refused("users = (\n  { identity = \"a@b.c\"; shell = \"/bin/sh \"; } #<\n);\n",
	    PGL_E_BAD_OPTION_VALUE, "absolute path", "a shell with a space");
	p = accepted("users = ( { identity = \"o'brien+ops@sub.example.com\";\n"
	    "  name = \"Seán O'Brien, Ops\"; shell = \"/usr/bin/zsh\";\n"
	    "  disabled = false; } );\n", "an identity with + and '");
	if (p != NULL)
		tap_ok(strcmp(p->users[0].name, "Seán O'Brien, Ops") == 0 &&
		    strcmp(p->users[0].shell, "/usr/bin/zsh") == 0 &&
		    p->users[0].nroles == 0 && !p->users[0].disabled,
		    "user fields stored");
	pgl_policy_free(p);
}

static void
test_resource_fields(void)
{
	static const char *const bad_address[] = {
		"10.0.0.1 ", "a b", "a\\tb", "-oProxyCommand=x", "root@host",
		"[::1]", "", "host/path",
	};
	static const char *const bad_name[] = {
		"VM-01", "-vm", ".vm", "vm 01", "vm/01", "", "vm@x",
	};
	struct pgl_policy *p;
	char *text, *label;
	size_t i;

	for (i = 0; i < sizeof(bad_address) / sizeof(*bad_address); i++) {
		text = tu_fmt("resources = ( { name = \"a\";\n"
		    "  address = \"%s\"; } ); #<\n", bad_address[i]);
		label = tu_fmt("address \"%s\"", bad_address[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "must be a host name or IP",
		    label);
		free(text);
		free(label);
	}
	for (i = 0; i < sizeof(bad_name) / sizeof(*bad_name); i++) {
		text = tu_fmt("resources = (\n { name = \"%s\"; } ); #<\n",
		    bad_name[i]);
		label = tu_fmt("resource name \"%s\"", bad_name[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "is not valid", label);
		free(text);
		free(label);
		text = tu_fmt("resources = ( { name = \"a\";\n"
		    "  aliases = [ \"%s\" ]; } ); #<\n", bad_name[i]);
		label = tu_fmt("alias \"%s\"", bad_name[i]);
		refused(text, PGL_E_BAD_OPTION_VALUE, "not a valid resource name",
		    label);
		free(text);
		free(label);
	}
	refused("resources = ( { name = \"a\";\n  port = 0; } ); #<\n",
	    PGL_E_BAD_OPTION_VALUE, "port must be between 1 and 65535, not 0",
	    "port 0");
	refused("resources = ( { name = \"a\";\n  port = 65536; } ); #<\n",
	    PGL_E_BAD_OPTION_VALUE, "not 65536", "port 65536");

	p = accepted("resources = ( { name = \"db-01.prod\"; aliases = [ \"db\" ]; },\n"
	    "  { name = \"bastion\"; aliases = [ \"jump\" ]; address = "
	    "\"fe80::1%eth0\"; port = 65535; },\n"
	    "  { name = \"vm_2\"; address = \"Host-2.Example.com\"; "
	    "via = \"JUMP\"; } );\n", "resource fields");
	if (p != NULL) {
		tap_ok(strcmp(p->resources[0].address, "db-01.prod") == 0 &&
		    p->resources[0].port == 22 && p->resources[0].via == NULL,
		    "address defaults to the name, port to 22");
		tap_ok(p->resources[1].port == 65535 &&
		    strcmp(p->resources[1].address, "fe80::1%eth0") == 0,
		    "port 65535 and an IPv6 address kept");
		tap_ok(p->resources[2].via != NULL &&
		    strcmp(p->resources[2].via, "bastion") == 0,
		    "via by alias (any case) stored as the canonical name");
		tap_ok(pgl_policy_resource(p, "DB") == &p->resources[0] &&
		    pgl_policy_resource(p, "jump") == &p->resources[1] &&
		    pgl_policy_resource(p, "vm_2") == &p->resources[2] &&
		    pgl_policy_resource(p, "vm") == NULL &&
		    pgl_policy_resource(p, "") == NULL &&
		    pgl_policy_resource(NULL, "db") == NULL,
		    "resource lookup by name or alias");
		tap_ok(p->resources[0].aliases[1] == NULL &&
		    p->resources[2].aliases == NULL,
		    "aliases NULL-terminated; none: NULL");
	}
	pgl_policy_free(p);
}

static const char fixture[] =
"ttl_default = 300;\n"
"ttl_max = 3600;\n"
"privileged_groups = [ \"docker\" ];\n"
"resources = (\n"
"  { name = \"vm-01\"; aliases = [ \"web\", \"www\" ]; address = \"10.0.0.1\"; },\n"
"  { name = \"vm-02\"; address = \"10.0.0.2\"; port = 2222; via = \"jump\"; },\n"
"  { name = \"db-01\"; },\n"
"  { name = \"bastion\"; aliases = [ \"jump\" ]; },\n"
"  { name = \"lonely\"; }\n"
");\n"
"roles = (\n"
"  { name = \"web\"; grants = (\n"
"      { resources = [ \"www\" ]; sudo = [ \"/usr/bin/systemctl restart nginx\" ];\n"
"        groups = [ \"developers\" ]; ttl_max = 600; },\n"
"      { resources = [ \"vm-01\", \"vm-02\" ]; sudo = \"all\"; }\n"
"  ); },\n"
"  { name = \"dba\"; grants = (\n"
"      { resources = [ \"db-01\", \"web\" ]; sudo = \"all\"; groups = [ \"docker\" ];\n"
"        ttl_max = 1800; }\n"
"  ); },\n"
"  { name = \"x11\"; grants = (\n"
"      { resources = [ \"db-01\" ]; extensions = [ \"permit-X11-forwarding\" ]; }\n"
"  ); },\n"
"  { name = \"nothing\"; }\n"
");\n"
"users = (\n"
"  { identity = \"alice@example.com\"; name = \"Alice\"; roles = [ \"web\", \"dba\" ]; },\n"
"  { identity = \"bob@example.com\"; roles = [ \"dba\", \"web\" ]; },\n"
"  { identity = \"carol@example.com\"; roles = [ \"web\" ]; disabled = true; },\n"
"  { identity = \"dave@example.com\"; roles = [ \"nothing\" ]; },\n"
"  { identity = \"Erin@Example.com\"; roles = [ \"x11\", \"dba\" ]; },\n"
"  { identity = \"frank@example.com\"; }\n"
");\n";

/* One decision, checked against what is expected of it. */
static void
decide(const struct pgl_policy *p, const char *who, const char *where,
    int want_r, const char *want_reason, const char *want_role,
    size_t want_grant, uint32_t want_ttl, const char *label)
{
	struct pgl_decision d, orig;
	const char *why = "unset";
	int r, ok;

	memset(&d, 0xa5, sizeof(d));
	orig = d;
	r = pgl_policy_decide(p, who, where, &d, &why);
	if (want_r != 0) {
		ok = r == want_r && why != NULL &&
		    strcmp(why, want_reason) == 0 &&
		    memcmp(&d, &orig, sizeof(d)) == 0;
		tap_ok(ok, "decide %s -> %s: %s", who, where, label);
		if (!ok)
			tap_diag("r=%d reason \"%s\"", r, tu_esc(why));
		return;
	}
	ok = r == 0 && why == NULL && d.user == pgl_policy_user(p, who) &&
	    d.resource == pgl_policy_resource(p, where) && d.role != NULL &&
	    strcmp(d.role->name, want_role) == 0 &&
	    d.grant == &d.role->grants[want_grant] && d.ttl_max == want_ttl;
	tap_ok(ok, "decide %s -> %s: %s", who, where, label);
	if (!ok)
		tap_diag("r=%d reason \"%s\" role %s grant %td ttl %u", r,
		    tu_esc(why), r == 0 && d.role ? d.role->name : "-",
		    r == 0 && d.role ? d.grant - d.role->grants : -1,
		    r == 0 ? d.ttl_max : 0);
}

static void
test_decide(void)
{
	struct pgl_policy *p;
	struct pgl_decision d;
	const char *why;

	if ((p = accepted(fixture, "the decision fixture")) == NULL)
		return;
	decide(p, "alice@example.com", "vm-01", 0, NULL, "web", 0, 600,
	    "allowed by the first grant, its ttl_max");
	decide(p, "alice@example.com", "web", 0, NULL, "web", 0, 600,
	    "alias resolves to vm-01");
	decide(p, "alice@example.com", "WWW", 0, NULL, "web", 0, 600,
	    "alias in another case");
	decide(p, "ALICE@EXAMPLE.COM", "vm-01", 0, NULL, "web", 0, 600,
	    "identity in another case");
	decide(p, "alice@example.com", "vm-02", 0, NULL, "web", 1, 3600,
	    "second grant; no ttl_max: the policy's");
	decide(p, "alice@example.com", "db-01", 0, NULL, "dba", 0, 1800,
	    "second role");
	decide(p, "bob@example.com", "vm-01", 0, NULL, "dba", 0, 1800,
	    "first role in the user's order wins");
	decide(p, "bob@example.com", "vm-02", 0, NULL, "web", 1, 3600,
	    "later role when the first has no grant");
	decide(p, "erin@example.com", "db-01", 0, NULL, "x11", 0, 3600,
	    "first grant wins, X11 role first");
	decide(p, "carol@example.com", "vm-01", PGL_E_NOT_ALLOWED,
	    "user disabled", NULL, 0, 0, "disabled user");
	decide(p, "dave@example.com", "vm-01", PGL_E_NOT_ALLOWED,
	    "no grant for resource", NULL, 0, 0, "role without grants");
	decide(p, "frank@example.com", "vm-01", PGL_E_NOT_ALLOWED,
	    "no grant for resource", NULL, 0, 0, "user without roles");
	decide(p, "alice@example.com", "lonely", PGL_E_NOT_ALLOWED,
	    "no grant for resource", NULL, 0, 0, "resource nobody may reach");
	decide(p, "alice@example.com", "bastion", PGL_E_NOT_ALLOWED,
	    "no grant for resource", NULL, 0, 0, "bastion not granted");
	decide(p, "zed@example.com", "vm-01", PGL_E_NOT_ALLOWED,
	    "no such user", NULL, 0, 0, "unknown user");
	decide(p, "alice@example.co", "vm-01", PGL_E_NOT_ALLOWED,
	    "no such user", NULL, 0, 0, "no prefix match");
	decide(p, "alice@example.com", "vm-03", PGL_E_UNKNOWN_OPTION,
	    "unknown resource", NULL, 0, 0, "unknown resource");
	decide(p, "zed@example.com", "vm-03", PGL_E_UNKNOWN_OPTION,
	    "unknown resource", NULL, 0, 0, "unknown resource first");
	decide(p, "carol@example.com", "vm-03", PGL_E_UNKNOWN_OPTION,
	    "unknown resource", NULL, 0, 0, "unknown resource, disabled user");

	tap_ok(pgl_policy_decide(p, "alice@example.com", "vm-01", &d, NULL) == 0,
	    "reason may be NULL");
	if (pgl_policy_decide(p, "alice@example.com", "vm-01", &d, &why) == 0) {
		tap_ok(d.grant->sudo == PGL_SUDO_COMMANDS &&
		    d.grant->nsudo_commands == 1 && d.grant->ngroups == 1 &&
		    strcmp(d.grant->groups[0], "developers") == 0 &&
		    strcmp(d.resource->name, "vm-01") == 0 &&
		    strcmp(d.user->name, "Alice") == 0,
		    "decision points at the grant, resource and user");
		tap_ok(strcmp(d.grant->resources[0], "vm-01") == 0,
		    "grant resources stored by canonical name");
	}
	if (pgl_policy_decide(p, "bob@example.com", "web", &d, &why) == 0)
		tap_ok(d.grant->ngroups == 1 &&
		    strcmp(d.grant->groups[0], "docker") == 0,
		    "privileged group granted when listed");
	if (pgl_policy_decide(p, "erin@example.com", "db-01", &d, &why) == 0)
		tap_ok(d.grant->nextensions == 1 && strcmp(d.grant->extensions[0],
		    "permit-X11-forwarding") == 0, "X11 only where listed");
	tap_ok(pgl_policy_decide(NULL, "a@b.c", "vm-01", &d, &why) ==
	    PGL_E_INVALID_ARG && pgl_policy_decide(p, NULL, "vm-01", &d,
	    &why) == PGL_E_INVALID_ARG && pgl_policy_decide(p, "a@b.c", NULL,
	    &d, &why) == PGL_E_INVALID_ARG, "NULL arguments refused");
	tap_ok(pgl_policy_user(p, "erin@EXAMPLE.com") == &p->users[4] &&
	    pgl_policy_user(p, "nobody@example.com") == NULL &&
	    pgl_policy_user(p, NULL) == NULL, "user lookup");
	pgl_policy_free(p);

	/* The global ttl_max caps every grant, also one without its own. */
	p = accepted("ttl_max = 900;\n" GRANT("  ttl_max = 900;\n}, {\n"
	    "  resources = [ \"vm-02\" ];\n  ttl_max = 60;\n")
	    "users = ( { identity = \"a@b.c\"; roles = [ \"r\" ]; } );\n",
	    "ttl caps");
	if (p != NULL) {
		decide(p, "a@b.c", "vm-01", 0, NULL, "r", 0, 900,
		    "grant ttl_max equal to the policy's");
		decide(p, "a@b.c", "vm-02", 0, NULL, "r", 1, 60,
		    "grant ttl_max below the policy's");
	}
	pgl_policy_free(p);
	p = accepted("ttl_max = 900;\n" GRANT("") "users = ( { identity = "
	    "\"a@b.c\"; roles = [ \"r\" ]; } );\n", "no grant ttl");
	if (p != NULL)
		decide(p, "a@b.c", "vm-01", 0, NULL, "r", 0, 900,
		    "no grant ttl_max: the policy's ttl_max");
	pgl_policy_free(p);
}

struct collect {
	char names[512];
	int stop_after;
	int calls;
};

static int
collect_cb(const struct pgl_decision *d, void *arg)
{
	struct collect *c = arg;

	c->calls++;
	if (c->names[0] != '\0')
		strncat(c->names, " ", sizeof(c->names) - strlen(c->names) - 1);
	strncat(c->names, d->user->identity,
	    sizeof(c->names) - strlen(c->names) - 1);
	strncat(c->names, "/", sizeof(c->names) - strlen(c->names) - 1);
	strncat(c->names, d->role->name, sizeof(c->names) - strlen(c->names) - 1);
	return c->stop_after != 0 && c->calls >= c->stop_after ? 42 : 0;
}

static void
allowed(const struct pgl_policy *p, const char *resource, const char *want,
    const char *label)
{
	struct collect c;
	int r;

	memset(&c, 0, sizeof(c));
	r = pgl_policy_each_allowed(p, resource, collect_cb, &c);
	tap_ok(r == 0 && strcmp(c.names, want) == 0, "each_allowed %s: %s",
	    resource, label);
	if (r != 0 || strcmp(c.names, want) != 0)
		tap_diag("r=%d got \"%s\" want \"%s\"", r, c.names, want);
}

static void
test_each_allowed(void)
{
	struct pgl_policy *p;
	struct collect c;

	if ((p = accepted(fixture, "the decision fixture again")) == NULL)
		return;
	allowed(p, "vm-01", "alice@example.com/web bob@example.com/dba "
	    "Erin@Example.com/dba", "in policy order, not the disabled user");
	allowed(p, "web", "alice@example.com/web bob@example.com/dba "
	    "Erin@Example.com/dba", "by alias");
	allowed(p, "vm-02", "alice@example.com/web bob@example.com/web",
	    "only through the web role");
	allowed(p, "db-01", "alice@example.com/dba bob@example.com/dba "
	    "Erin@Example.com/x11", "first grant per user");
	allowed(p, "lonely", "", "nobody");
	memset(&c, 0, sizeof(c));
	tap_ok(pgl_policy_each_allowed(p, "nowhere", collect_cb, &c) ==
	    PGL_E_UNKNOWN_OPTION && c.calls == 0, "each_allowed: unknown resource");
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	tap_ok(pgl_policy_each_allowed(p, "vm-01", collect_cb, &c) == 42 &&
	    c.calls == 2, "each_allowed stops at the callback's error");
	pgl_policy_free(p);
}

int
main(void)
{
	dir = tu_mkdtemp();
	test_example();
	test_file_errors();
	test_numbers();
	test_unknown_keys();
	test_types();
	test_element_lines();
	test_missing();
	test_duplicates();
	test_references();
	test_sudo();
	test_groups();
	test_cert_options();
	test_ttl();
	test_identities();
	test_resource_fields();
	test_decide();
	test_each_allowed();
	pgl_policy_free(NULL);
	tap_ok(1, "pgl_policy_free(NULL)");
	tu_rmtree(dir);
	return tap_done();
}
