/* The host user cache: what the writer accepts and refuses, that the
 * reader returns exactly what was written, and that corrupt, truncated
 * or hostile files never crash a lookup or answer the wrong entry. */
#include <dirent.h>

#include "util.h"

#include "cache.h"
#include "cache-format.h"
#include "err.h"
#include "../host/cache-check.h"

static char dir[] = "/tmp/pgl-test-cache-XXXXXX";

static void
put_text(const char *path, const char *text)
{
	if (tu_write_file(path, text, strlen(text), 0644) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static const char *alice_pr[] = { "alice@vm-01" };
static const char *alice_gr[] = { "deploy", "ops" };
static const char *bob_pr[] = { "bob@vm-01", "bob@vm-01.example" };
static const char *bob_cmds[] = { "/usr/bin/systemctl restart nginx",
    "/usr/bin/id" };
static const char *ops_members[] = { "bob" };

static struct pgl_cache_user_in
alice(void)
{
	return (struct pgl_cache_user_in){
		.name = "alice", .uid = 100000, .gecos = "Alice Example",
		.home = "/home/alice", .shell = "/bin/bash",
		.principals = alice_pr, .nprincipals = 1,
		.groups = alice_gr, .ngroups = 2,
		.sudo = PGL_CACHE_SUDO_ALL,
	};
}

static struct pgl_cache_user_in
bob(void)
{
	return (struct pgl_cache_user_in){
		.name = "bob", .uid = 100002, .home = "/home/bob",
		.shell = "/bin/sh", .expire = 2000000000,
		.principals = bob_pr, .nprincipals = 2,
		.sudo = PGL_CACHE_SUDO_COMMANDS,
		.sudo_commands = bob_cmds, .nsudo_commands = 2,
		.passwd = "$6$salt$hash",
	};
}

static struct pgl_cache_builder *
base_builder(void)
{
	struct pgl_cache_builder *b = pgl_cache_builder_new("vm-01", 100000,
	    199999);
	struct pgl_cache_user_in a = alice(), o = bob();
	struct pgl_cache_group_in deploy = { "deploy", 100001, NULL, 0 };
	struct pgl_cache_group_in ops = { "ops", 100003, ops_members, 1 };

	if (b == NULL || pgl_cache_builder_set_local(b, NULL, NULL) != 0 ||
	    pgl_cache_builder_add_user(b, &a) != 0 ||
	    pgl_cache_builder_add_user(b, &o) != 0 ||
	    pgl_cache_builder_add_group(b, &deploy) != 0 ||
	    pgl_cache_builder_add_group(b, &ops) != 0) {
		printf("Bail out! base builder: %s\n",
		    pgl_cache_builder_error(b));
		exit(1);
	}
	return b;
}

static int
str_is(struct pgl_cache_str s, const char *want)
{
	return s.p != NULL && strlen(want) == s.len && strcmp(s.p, want) == 0;
}

static int
span_is(const struct pgl_cache *c, struct pgl_cache_span sp,
    const char **want, uint32_t n)
{
	struct pgl_cache_str s;
	uint32_t i;

	if (sp.n != n)
		return 0;
	for (i = 0; i < n; i++)
		if (pgl_cache_str_at(c, sp, i, &s) != 0 || !str_is(s, want[i]))
			return 0;
	return pgl_cache_str_at(c, sp, n, &s) != 0;
}

static void
test_roundtrip(void)
{
	struct pgl_cache_builder *b = base_builder();
	struct pgl_cache c;
	struct pgl_cache_user u;
	struct pgl_cache_group g;
	struct pgl_cache_shadow s;
	uint8_t *p = NULL, *sp = NULL;
	size_t n = 0, sn = 0;
	uint32_t gid0 = 0, gid1 = 0;
	const char *deploy_members[] = { "alice" };
	const char *ops_all[] = { "bob", "alice" };

	tap_ok(pgl_cache_builder_encode(b, PGL_CACHE_USERS, &p, &n) == 0,
	    "encode users");
	tap_ok(pgl_cache_from_memory(&c, p, n, PGL_CACHE_USERS) == 0,
	    "reader accepts what the writer made");
	tap_ok(str_is(c.host, "vm-01") && c.uid_min == 100000 &&
	    c.uid_max == 199999, "header: host and range");
	tap_ok(c.users.n == 2 && c.groups.n == 4,
	    "2 users, 4 groups (2 explicit, 2 self-groups)");

	tap_ok(pgl_cache_user_by_name(&c, "alice", &u) == 0 &&
	    u.uid == 100000 && u.gid == 100000 && u.expire == 0 &&
	    str_is(u.name, "alice") && str_is(u.gecos, "Alice Example") &&
	    str_is(u.home, "/home/alice") && str_is(u.shell, "/bin/bash") &&
	    u.sudo == PGL_CACHE_SUDO_ALL && u.sudo_commands.n == 0,
	    "alice by name: every field");
	tap_ok(span_is(&c, u.principals, alice_pr, 1), "alice's principal");
	tap_ok(u.gids.n == 2 && pgl_cache_u32_at(&c, u.gids, 0, &gid0) == 0 &&
	    pgl_cache_u32_at(&c, u.gids, 1, &gid1) == 0 &&
	    gid0 == 100001 && gid1 == 100003 &&
	    pgl_cache_u32_at(&c, u.gids, 2, &gid0) != 0,
	    "alice's supplementary gids, in order, bounded");
	tap_ok(pgl_cache_user_by_uid(&c, 100002, &u) == 0 &&
	    str_is(u.name, "bob") && str_is(u.gecos, "") &&
	    u.expire == 2000000000 && u.sudo == PGL_CACHE_SUDO_COMMANDS &&
	    span_is(&c, u.sudo_commands, bob_cmds, 2) &&
	    span_is(&c, u.principals, bob_pr, 2) && u.gids.n == 1 &&
	    pgl_cache_u32_at(&c, u.gids, 0, &gid0) == 0 && gid0 == 100003,
	    "bob by uid: empty gecos, expiry, command grant, 2 principals, "
	    "ops's gid from its member list");
	tap_ok(pgl_cache_user_expired(&u, 1999999999) == 0 &&
	    pgl_cache_user_expired(&u, 2000000000) == 1,
	    "expired exactly at the expiry time");
	tap_ok(pgl_cache_user_by_name(&c, "carol", &u) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_name(&c, "", &u) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_name(&c, "alic", &u) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_name(&c, "alice ", &u) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_uid(&c, 100001, &u) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_uid(&c, 0, &u) == PGL_E_NOT_FOUND,
	    "misses by name and uid (a group's gid is not a uid)");

	tap_ok(pgl_cache_group_by_name(&c, "deploy", &g) == 0 &&
	    g.gid == 100001 && span_is(&c, g.members, deploy_members, 1),
	    "deploy: members derived from alice's groups");
	tap_ok(pgl_cache_group_by_gid(&c, 100003, &g) == 0 &&
	    str_is(g.name, "ops") && span_is(&c, g.members, ops_all, 2),
	    "ops: explicit member first, then alice, no duplicate");
	tap_ok(pgl_cache_group_by_name(&c, "alice", &g) == 0 &&
	    g.gid == 100000 && g.members.n == 0 &&
	    pgl_cache_group_by_gid(&c, 100002, &g) == 0 &&
	    str_is(g.name, "bob"), "self-groups by name and gid");
	tap_ok(pgl_cache_group_by_name(&c, "wheel", &g) == PGL_E_NOT_FOUND &&
	    pgl_cache_group_by_gid(&c, 100004, &g) == PGL_E_NOT_FOUND,
	    "group misses");
	tap_ok(pgl_cache_shadow_by_name(&c, "alice", &s) == PGL_E_NOT_FOUND,
	    "a users cache answers no shadow lookups");
	tap_ok(cc_check_users(&c) == 0, "every entry consistent");

	tap_ok(pgl_cache_builder_encode(b, PGL_CACHE_SHADOW, &sp, &sn) == 0 &&
	    pgl_cache_from_memory(&c, sp, sn, PGL_CACHE_SHADOW) == 0,
	    "shadow encodes and reads");
	tap_ok(pgl_cache_shadow_by_name(&c, "alice", &s) == 0 &&
	    str_is(s.passwd, "*") && s.lastchg == -1 && s.max == -1 &&
	    s.expire == -1, "alice's shadow: no password, no aging");
	tap_ok(pgl_cache_shadow_by_name(&c, "bob", &s) == 0 &&
	    str_is(s.passwd, "$6$salt$hash"), "bob's shadow: his hash");
	tap_ok(pgl_cache_shadow_by_name(&c, "carol", &s) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_name(&c, "alice", &u) == PGL_E_NOT_FOUND,
	    "shadow misses; a shadow file answers no user lookups");
	tap_ok(pgl_cache_from_memory(&c, sp, sn, PGL_CACHE_USERS) ==
	    PGL_E_FORMAT && pgl_cache_from_memory(&c, p, n,
	    PGL_CACHE_SHADOW) == PGL_E_FORMAT,
	    "each kind refuses the other's file");
	free(p);
	free(sp);
	pgl_cache_builder_free(b);
}

/* --- writer refusals --- */

static size_t
count_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	if (d == NULL)
		return (size_t)-1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Writes the base set, then tries a change that must be refused: the
 * old files stay byte for byte and no temp file is left. */
typedef int (*mutate_fn)(struct pgl_cache_builder *);

static void
refused(const char *what, mutate_fn f, const char *passwd, const char *group)
{
	struct pgl_cache_builder *b = base_builder();
	char cpath[256], spath[256];
	uint8_t *before = NULL, *after = NULL;
	size_t nb = 0, na = 0, files;
	int r;

	snprintf(cpath, sizeof(cpath), "%s/cache", dir);
	snprintf(spath, sizeof(spath), "%s/shadow", dir);
	if (pgl_cache_builder_write(b, cpath, spath) != 0) {
		printf("Bail out! base write: %s\n", pgl_cache_builder_error(b));
		exit(1);
	}
	pgl_cache_builder_free(b);
	before = (uint8_t *)tu_read_file(cpath, &nb);
	files = count_dir();

	b = base_builder();
	if (passwd != NULL || group != NULL)
		pgl_cache_builder_set_local(b, passwd, group);
	r = f(b);
	if (r == 0)
		r = pgl_cache_builder_write(b, cpath, spath);
	after = (uint8_t *)tu_read_file(cpath, &na);
	tap_ok(r < 0 && before != NULL && after != NULL && na == nb &&
	    memcmp(before, after, nb) == 0 && count_dir() == files,
	    "refused: %s (%s)", what, pgl_cache_builder_error(b));
	free(before);
	free(after);
	pgl_cache_builder_free(b);
}

static int
add_user_with(struct pgl_cache_builder *b, struct pgl_cache_user_in u)
{
	return pgl_cache_builder_add_user(b, &u);
}

#define USER_CASE(fn, body) \
	static int fn(struct pgl_cache_builder *b) \
	{ struct pgl_cache_user_in u = { .name = "carol", .uid = 100010, \
	  .home = "/home/carol", .shell = "/bin/sh" }; body; \
	  return add_user_with(b, u); }

static const char *bad_pr_space[] = { "carol @vm-01" };
static const char *bad_pr_nl[] = { "carol@vm-01\nroot" };
static const char *bad_group[] = { "nosuchgroup" };
static const char *rel_cmd[] = { "systemctl" };

USER_CASE(u_bad_name, u.name = "Carol")
USER_CASE(u_name_nl, u.name = "carol\nroot")
USER_CASE(u_name_long, u.name = "abcdefghijklmnopqrstuvwxyz0123456")
USER_CASE(u_uid_low, u.uid = 1000)
USER_CASE(u_uid_high, u.uid = 200000)
USER_CASE(u_uid_zero, u.uid = 0)
USER_CASE(u_dup_name, u.name = "alice")
USER_CASE(u_dup_uid, u.uid = 100002)
USER_CASE(u_uid_is_group, u.uid = 100001)
USER_CASE(u_gecos_colon, u.gecos = "Carol: admin")
USER_CASE(u_gecos_nl, u.gecos = "Carol\nroot::0:0::/:/bin/sh")
USER_CASE(u_home_rel, u.home = "home/carol")
USER_CASE(u_home_dotdot, u.home = "/home/../etc")
USER_CASE(u_shell_ctrl, u.shell = "/bin/sh\x1b")
USER_CASE(u_shell_null, u.shell = NULL)
USER_CASE(u_pr_space, u.principals = bad_pr_space; u.nprincipals = 1)
USER_CASE(u_pr_nl, u.principals = bad_pr_nl; u.nprincipals = 1)
USER_CASE(u_pr_null, u.nprincipals = 1)
USER_CASE(u_group_unknown, u.groups = bad_group; u.ngroups = 1)
USER_CASE(u_sudo_rel, u.sudo = PGL_CACHE_SUDO_COMMANDS;
    u.sudo_commands = rel_cmd; u.nsudo_commands = 1)
USER_CASE(u_sudo_empty, u.sudo = PGL_CACHE_SUDO_COMMANDS)
USER_CASE(u_sudo_bad, u.sudo = (enum pgl_cache_sudo)7)
USER_CASE(u_passwd_colon, u.passwd = "$6$a:b")
USER_CASE(u_local_name, u.name = "pgllocal")
USER_CASE(u_local_uid, u.uid = 100050)

static int
g_add(struct pgl_cache_builder *b, const char *name, uint32_t gid,
    const char **members, size_t n)
{
	struct pgl_cache_group_in g = { name, gid, members, n };

	return pgl_cache_builder_add_group(b, &g);
}

static const char *ghost[] = { "ghost" };

static int g_dup_name(struct pgl_cache_builder *b)
{ return g_add(b, "deploy", 100020, NULL, 0); }
static int g_dup_gid(struct pgl_cache_builder *b)
{ return g_add(b, "web", 100001, NULL, 0); }
static int g_user_gid(struct pgl_cache_builder *b)
{ return g_add(b, "web", 100000, NULL, 0); }
static int g_user_name(struct pgl_cache_builder *b)
{ return g_add(b, "bob", 100020, NULL, 0); }
static int g_member_unknown(struct pgl_cache_builder *b)
{ return g_add(b, "web", 100020, ghost, 1); }
static int g_bad_name(struct pgl_cache_builder *b)
{ return g_add(b, "we:b", 100020, NULL, 0); }
static int g_out_of_range(struct pgl_cache_builder *b)
{ return g_add(b, "web", 27, NULL, 0); }
static int g_local_name(struct pgl_cache_builder *b)
{ return g_add(b, "pglgroup", 100020, NULL, 0); }
static int g_local_gid(struct pgl_cache_builder *b)
{ return g_add(b, "web", 100060, NULL, 0); }
static int nothing(struct pgl_cache_builder *b)
{ (void)b; return 0; }

static void
test_refusals(void)
{
	char passwd[256], group[256], cpath[256];
	struct pgl_cache_builder *b;

	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	put_text(passwd, "root:x:0:0:root:/root:/bin/bash\n"
	    "pgllocal:x:1001:1001::/home/pgllocal:/bin/sh\n"
	    "highuid:x:100050:100:::\n");
	put_text(group, "root:x:0:\npglgroup:x:1002:\n"
	    "highgid:x:100060:\n");

	refused("a name with capitals", u_bad_name, NULL, NULL);
	refused("a name with a newline", u_name_nl, NULL, NULL);
	refused("a 33-character name", u_name_long, NULL, NULL);
	refused("a uid below the range", u_uid_low, NULL, NULL);
	refused("a uid above the range", u_uid_high, NULL, NULL);
	refused("uid 0", u_uid_zero, NULL, NULL);
	refused("a second alice", u_dup_name, NULL, NULL);
	refused("bob's uid again", u_dup_uid, NULL, NULL);
	refused("a uid equal to a group's gid", u_uid_is_group, NULL, NULL);
	refused("gecos with ':'", u_gecos_colon, NULL, NULL);
	refused("gecos with a newline", u_gecos_nl, NULL, NULL);
	refused("a relative home", u_home_rel, NULL, NULL);
	refused("a home with /../", u_home_dotdot, NULL, NULL);
	refused("a shell with ESC", u_shell_ctrl, NULL, NULL);
	refused("no shell", u_shell_null, NULL, NULL);
	refused("a principal with a space", u_pr_space, NULL, NULL);
	refused("a principal with a newline", u_pr_nl, NULL, NULL);
	refused("a principal count without a list", u_pr_null, NULL, NULL);
	refused("a group not in the cache", u_group_unknown, NULL, NULL);
	refused("a relative sudo command", u_sudo_rel, NULL, NULL);
	refused("an empty command grant", u_sudo_empty, NULL, NULL);
	refused("an unknown sudo grant", u_sudo_bad, NULL, NULL);
	refused("a password hash with ':'", u_passwd_colon, NULL, NULL);
	refused("a user named like a local account", u_local_name, passwd,
	    group);
	refused("a uid a local account has", u_local_uid, passwd, group);
	refused("a group named like another", g_dup_name, NULL, NULL);
	refused("a gid used twice", g_dup_gid, NULL, NULL);
	refused("a group taking a user's gid", g_user_gid, NULL, NULL);
	refused("a group named like a user, other gid", g_user_name, NULL,
	    NULL);
	refused("a member that is not a cache user", g_member_unknown, NULL,
	    NULL);
	refused("a group name with ':'", g_bad_name, NULL, NULL);
	refused("a gid outside the range", g_out_of_range, NULL, NULL);
	refused("a group named like a local group", g_local_name, passwd,
	    group);
	refused("a gid a local group has", g_local_gid, passwd, group);

	/* A local account named like a cache user, found in either file. */
	put_text(passwd, "alice:x:1003:1003::/home/alice:/bin/sh\n");
	refused("alice exists locally", nothing, passwd, NULL);
	put_text(group, "deploy:x:1004:\n");
	refused("group deploy exists locally", nothing, NULL, group);
	put_text(group, "alice:x:1005:\n");
	refused("a local group takes alice's self-group name", nothing, NULL,
	    group);

	tap_ok(pgl_cache_builder_new("vm 01", 100000, 199999) == NULL &&
	    pgl_cache_builder_new("", 100000, 199999) == NULL &&
	    pgl_cache_builder_new("a@b", 100000, 199999) == NULL &&
	    pgl_cache_builder_new("vm-01", 0, 199999) == NULL &&
	    pgl_cache_builder_new("vm-01", 5, 4) == NULL,
	    "builder refuses a bad host or range");

	/* The whole set is written or nothing: a missing directory. */
	b = base_builder();
	snprintf(cpath, sizeof(cpath), "%s/nodir/cache", dir);
	tap_ok(pgl_cache_builder_write(b, cpath, NULL) == PGL_E_SYSTEM &&
	    strstr(pgl_cache_builder_error(b), "nodir") != NULL,
	    "a failed write says where: %s", pgl_cache_builder_error(b));
	pgl_cache_builder_free(b);
}

/* --- files, modes, replacement --- */

static void
test_files(void)
{
	struct pgl_cache_builder *b = base_builder();
	struct pgl_cache c, d;
	struct pgl_cache_user u;
	struct pgl_cache_user_in carol = { .name = "carol", .uid = 100010,
	    .home = "/home/carol", .shell = "/bin/sh" };
	char cpath[256], spath[256], empty[256], fpath[256], lpath[256];
	const uint8_t *old_base;
	struct stat st;

	snprintf(cpath, sizeof(cpath), "%s/cache", dir);
	snprintf(spath, sizeof(spath), "%s/shadow", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	unlink(cpath);
	tap_ok(pgl_cache_refresh(&c, cpath, PGL_CACHE_USERS) ==
	    PGL_E_NOT_FOUND && c.base == NULL, "no file: not found");
	tap_ok(pgl_cache_map(&c, dir, PGL_CACHE_USERS) == PGL_E_NOT_REGULAR,
	    "a directory is refused");
	put_text(empty, "");
	tap_ok(pgl_cache_map(&c, empty, PGL_CACHE_USERS) == PGL_E_FORMAT,
	    "an empty file is refused");

	tap_ok(pgl_cache_builder_write(b, cpath, spath) == 0, "write both");
	tap_ok(stat(cpath, &st) == 0 && (st.st_mode & 07777) == 0644 &&
	    stat(spath, &st) == 0 && (st.st_mode & 07777) == 0600,
	    "cache 0644, shadow 0600");
	tap_ok(pgl_cache_refresh(&c, cpath, PGL_CACHE_USERS) == 0 &&
	    pgl_cache_user_by_name(&c, "alice", &u) == 0, "map and look up");
	tap_ok(pgl_cache_map(&d, spath, PGL_CACHE_SHADOW) == 0 &&
	    pgl_cache_map(&d, cpath, PGL_CACHE_SHADOW) == PGL_E_FORMAT &&
	    d.base != NULL, "a failed map keeps the previous mapping");
	pgl_cache_unmap(&d);
	old_base = c.base;
	tap_ok(pgl_cache_refresh(&c, cpath, PGL_CACHE_USERS) == 0 &&
	    c.base == old_base, "unchanged file: no remap");

	tap_ok(pgl_cache_builder_add_user(b, &carol) == 0 &&
	    pgl_cache_builder_write(b, cpath, spath) == 0, "rewrite with carol");
	tap_ok(pgl_cache_user_by_name(&c, "carol", &u) == PGL_E_NOT_FOUND &&
	    pgl_cache_user_by_name(&c, "alice", &u) == 0,
	    "the old mapping still answers from the old file");
	tap_ok(pgl_cache_refresh(&c, cpath, PGL_CACHE_USERS) == 0 &&
	    pgl_cache_user_by_name(&c, "carol", &u) == 0 &&
	    u.uid == 100010, "refresh sees the replaced file");
	/* What decides who logs in: root's, writable by nobody else. */
	snprintf(fpath, sizeof(fpath), "%s/fifo", dir);
	snprintf(lpath, sizeof(lpath), "%s/link", dir);
	tap_ok(mkfifo(fpath, 0644) == 0 &&
	    pgl_cache_map(&d, fpath, PGL_CACHE_USERS) == PGL_E_NOT_REGULAR &&
	    pgl_cache_map_trusted(&d, fpath, PGL_CACHE_USERS) ==
	    PGL_E_NOT_REGULAR, "a FIFO is refused, without waiting for a "
	    "writer");
	tap_ok(symlink(cpath, lpath) == 0 &&
	    pgl_cache_map(&d, lpath, PGL_CACHE_USERS) == 0 &&
	    pgl_cache_map_trusted(&d, lpath, PGL_CACHE_USERS) != 0,
	    "a symbolic link: followed by map, refused by map_trusted");
	pgl_cache_unmap(&d);
	if (geteuid() == 0) {
		tap_ok(pgl_cache_map_trusted(&d, cpath, PGL_CACHE_USERS) == 0,
		    "map_trusted: root's 0644 file is mapped");
		pgl_cache_unmap(&d);
		tap_ok(chmod(cpath, 0664) == 0 && pgl_cache_map_trusted(&d,
		    cpath, PGL_CACHE_USERS) == PGL_E_NOT_ALLOWED &&
		    pgl_cache_map(&d, cpath, PGL_CACHE_USERS) == 0,
		    "map_trusted refuses a group-writable file");
		pgl_cache_unmap(&d);
		tap_ok(chmod(cpath, 0644) == 0 && chown(cpath, 1000, 0) == 0 &&
		    pgl_cache_map_trusted(&d, cpath, PGL_CACHE_USERS) ==
		    PGL_E_NOT_ALLOWED, "and a file not owned by root");
		(void)chown(cpath, 0, 0);
	} else
		tap_diag("not root: the ownership checks are not run");
	tap_ok(unlink(fpath) == 0 && unlink(lpath) == 0, "clean up");
	tap_ok(unlink(cpath) == 0 &&
	    pgl_cache_refresh(&c, cpath, PGL_CACHE_USERS) == PGL_E_NOT_FOUND &&
	    c.base == NULL, "a removed file unmaps");
	pgl_cache_unmap(&c);
	pgl_cache_unmap(&c);
	pgl_cache_builder_free(b);
}

/* --- many entries --- */

static void
test_large(void)
{
	enum { N = 100000 };
	struct pgl_cache_builder *b = pgl_cache_builder_new("vm-01", 100000,
	    399999);
	struct pgl_cache_user_in u = { .home = "/home/x", .shell = "/bin/sh" };
	struct pgl_cache_user v;
	struct pgl_cache c;
	char name[32];
	uint8_t *p = NULL;
	size_t n = 0, i, bad = 0;

	pgl_cache_builder_set_local(b, NULL, NULL);
	for (i = 0; i < N && bad == 0; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		u.name = name;
		u.uid = 100000 + (uint32_t)i * 2;
		bad += pgl_cache_builder_add_user(b, &u) != 0;
	}
	tap_ok(bad == 0 && pgl_cache_builder_encode(b, PGL_CACHE_USERS, &p,
	    &n) == 0 && pgl_cache_from_memory(&c, p, n, PGL_CACHE_USERS) == 0,
	    "100,000 users encode (%zu bytes)", n);
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "user%zu", i);
		if (pgl_cache_user_by_name(&c, name, &v) != 0 ||
		    v.uid != 100000 + i * 2 ||
		    pgl_cache_user_by_uid(&c, v.uid, &v) != 0 ||
		    !str_is(v.name, name) ||
		    pgl_cache_user_by_uid(&c, v.uid + 1, &v) != PGL_E_NOT_FOUND)
			bad++;
	}
	tap_ok(bad == 0, "every one found by name and uid, odd uids missed");
	free(p);
	pgl_cache_builder_free(b);
}

/* --- corrupt files --- */

static void
set_size(uint8_t *p, size_t n)
{
	if (n >= CF_H_FILE_SIZE + 8)
		cf_put64(p + CF_H_FILE_SIZE, n);
}

static void
test_corrupt(void)
{
	struct pgl_cache_builder *b = base_builder();
	struct pgl_cache c;
	uint8_t *p = NULL, *sp = NULL, *t;
	size_t n = 0, sn = 0, i, accepted = 0, bad = 0, crashes = 0;
	static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
	unsigned v, seed = 12345;

	pgl_cache_builder_encode(b, PGL_CACHE_USERS, &p, &n);
	pgl_cache_builder_encode(b, PGL_CACHE_SHADOW, &sp, &sn);

	/* Truncated at every offset: refused by the size check, and again
	 * with the header's size patched to match, so the deeper checks
	 * have to catch it. */
	for (i = 0; i < n; i++) {
		t = malloc(i + 1);
		memcpy(t, p, i);
		if (pgl_cache_from_memory(&c, t, i, PGL_CACHE_USERS) == 0)
			accepted++;
		set_size(t, i);
		if (pgl_cache_from_memory(&c, t, i, PGL_CACHE_USERS) == 0)
			bad += cc_check_users(&c);
		free(t);
	}
	tap_ok(accepted == 0 && bad == 0, "truncated at each of %zu offsets: "
	    "refused, or consistent with the size patched", n);

	/* Every byte set to each of a few values, then random flips. */
	accepted = 0;
	for (i = 0; i < n; i++)
		for (v = 0; v < sizeof(vals); v++) {
			t = malloc(n);
			memcpy(t, p, n);
			t[i] = vals[v];
			if (pgl_cache_from_memory(&c, t, n,
			    PGL_CACHE_USERS) == 0) {
				accepted++;
				bad += cc_check_users(&c);
			}
			free(t);
		}
	tap_ok(bad == 0, "each byte set to 00/01/7f/80/ff: no inconsistent "
	    "answer (%zu of %zu variants still open)", accepted,
	    n * sizeof(vals));
	for (i = 0; i < 20000; i++) {
		size_t k, flips = 1 + rand_r(&seed) % 8;

		t = malloc(n);
		memcpy(t, p, n);
		for (k = 0; k < flips; k++)
			t[(size_t)rand_r(&seed) % n] = (uint8_t)rand_r(&seed);
		if (pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == 0)
			bad += cc_check_users(&c);
		if (pgl_cache_from_memory(&c, t, n, PGL_CACHE_SHADOW) == 0)
			bad += cc_check_shadow(&c);
		free(t);
	}
	tap_ok(bad == 0, "20,000 randomly damaged copies: no inconsistency");
	for (i = 0; i < sn; i++) {
		t = malloc(sn);
		memcpy(t, sp, sn);
		t[i] ^= 0xff;
		if (pgl_cache_from_memory(&c, t, sn, PGL_CACHE_SHADOW) == 0)
			bad += cc_check_shadow(&c);
		free(t);
	}
	tap_ok(bad == 0, "shadow with each byte inverted: no inconsistency");

	/* Pure noise with a valid header prefix. */
	for (i = 0; i < 2000; i++) {
		size_t k, len = CF_HEADER_SIZE + (size_t)rand_r(&seed) % 4096;

		t = malloc(len);
		for (k = 0; k < len; k++)
			t[k] = (uint8_t)rand_r(&seed);
		memcpy(t, p, CF_H_FILE_SIZE);
		set_size(t, len);
		if (pgl_cache_from_memory(&c, t, len, PGL_CACHE_USERS) == 0) {
			crashes++;
			bad += cc_check_users(&c);
		}
		free(t);
	}
	tap_ok(bad == 0, "2,000 random files with a valid magic: no "
	    "inconsistency (%zu opened)", crashes);

	/* Hostile counts and offsets. */
	t = malloc(n);
	memcpy(t, p, n);
	cf_put32(t + CF_H_USERS + 4, UINT32_MAX);
	tap_ok(pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == PGL_E_FORMAT,
	    "a user count of 2^32-1 is refused");
	memcpy(t, p, n);
	cf_put32(t + CF_H_GROUPS, UINT32_MAX - 8);
	tap_ok(pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == PGL_E_FORMAT,
	    "a table offset past the end is refused");
	memcpy(t, p, n);
	cf_put32(t + CF_H_USERS_BY_NAME + 4, 3);
	tap_ok(pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == PGL_E_FORMAT,
	    "an index size that is not a power of two is refused");
	memcpy(t, p, n);
	cf_put32(t + CF_H_HOST + 4, UINT32_MAX);
	tap_ok(pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == PGL_E_FORMAT,
	    "a host string longer than the file is refused");
	memcpy(t, p, n);
	cf_put32(t + CF_HEADER_SIZE + CF_U_NAME + 4, UINT32_MAX);
	tap_ok(pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == 0 &&
	    pgl_cache_user_at(&c, 0, &(struct pgl_cache_user){ 0 }) ==
	    PGL_E_FORMAT && pgl_cache_user_by_name(&c, "alice",
	    &(struct pgl_cache_user){ 0 }) == PGL_E_NOT_FOUND,
	    "a record's name running past the end: that record fails alone");
	memcpy(t, p, n);
	/* Every slot of the name index full and pointing at record 1: a
	 * miss must still end after one pass over the table. */
	{
		uint32_t off = cf_get32(t + CF_H_USERS_BY_NAME);
		uint32_t slots = cf_get32(t + CF_H_USERS_BY_NAME + 4), k;

		for (k = 0; k < slots; k++)
			cf_put32(t + off + k * 4, 2);
		tap_ok(pgl_cache_from_memory(&c, t, n, PGL_CACHE_USERS) == 0 &&
		    pgl_cache_user_by_name(&c, "carol",
		    &(struct pgl_cache_user){ 0 }) == PGL_E_NOT_FOUND,
		    "a full index ends the probe");
		for (k = 0; k < slots; k++)
			cf_put32(t + off + k * 4, 99);
		tap_ok(pgl_cache_user_by_name(&c, "alice",
		    &(struct pgl_cache_user){ 0 }) == PGL_E_FORMAT,
		    "a slot naming a record past the table is an error");
	}
	free(t);
	free(p);
	free(sp);
	pgl_cache_builder_free(b);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_roundtrip();
	test_refusals();
	test_files();
	test_large();
	test_corrupt();
	tu_rmtree(strdup(dir));
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}
