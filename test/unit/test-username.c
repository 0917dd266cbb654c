/* Unit tests for signer/username.c: identity -> username, candidates,
 * reserved and valid names. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "username.h"
#include "util.h"

#define SENTINEL "sentinel"

static void
base_is(const char *id, const char *want)
{
	char out[PGL_USERNAME_MAX + 1] = SENTINEL;
	int r = pgl_username_base(id, out);

	tap_ok(r == 0 && strcmp(out, want) == 0,
	    "base \"%s\" = \"%s\" (r %d, got \"%s\")", tu_esc(id), want, r,
	    tu_esc(out));
}

static void
base_bad(const char *id)
{
	char out[PGL_USERNAME_MAX + 1] = SENTINEL;
	int r = pgl_username_base(id, out);

	tap_ok(r == PGL_E_INVALID_ARG && strcmp(out, SENTINEL) == 0,
	    "base \"%s\" refused, output untouched (r %d)", tu_esc(id), r);
}

/* Whatever the input, a valid name within the limit, the same twice. */
static void
base_sane(const char *id)
{
	char a[PGL_USERNAME_MAX + 1], b[PGL_USERNAME_MAX + 1], c[PGL_USERNAME_MAX + 1];
	int r1 = pgl_username_base(id, a), r2 = pgl_username_base(id, b);
	int r3 = r1 == 0 ? pgl_username_candidate(a, 1, c) : -1;

	tap_ok(r1 == 0 && r2 == 0 && pgl_username_valid(a) &&
	    strlen(a) <= PGL_USERNAME_MAX && strcmp(a, b) == 0 &&
	    a[0] >= 'a' && a[0] <= 'z' && r3 == 0 && pgl_username_valid(c) &&
	    !pgl_username_reserved(c),
	    "base \"%s\" -> \"%s\" (%zu chars), valid, stable; candidate 1 \"%s\"",
	    tu_esc(id), r1 == 0 ? a : "?", r1 == 0 ? strlen(a) : 0,
	    r3 == 0 ? c : "?");
}

static void
cand_is(const char *base, unsigned n, const char *want)
{
	char out[PGL_USERNAME_MAX + 1] = SENTINEL;
	int r = pgl_username_candidate(base, n, out);

	tap_ok(r == 0 && strcmp(out, want) == 0,
	    "candidate(\"%s\", %u) = \"%s\" (r %d, got \"%s\")", base, n, want,
	    r, tu_esc(out));
}

static void
cand_bad(const char *base, unsigned n)
{
	char out[PGL_USERNAME_MAX + 1] = SENTINEL;
	int r = pgl_username_candidate(base, n, out);

	tap_ok(r == PGL_E_INVALID_ARG && strcmp(out, SENTINEL) == 0,
	    "candidate(\"%s\", %u) refused (r %d)", tu_esc(base), n, r);
}

/* A system account's identity never gets the system account's name. */
static void
system_identity(const char *id, const char *name)
{
	char base[PGL_USERNAME_MAX + 1], c1[PGL_USERNAME_MAX + 1];
	int r = pgl_username_base(id, base);
	int r1 = r == 0 ? pgl_username_candidate(base, 1, c1) : -1;

	tap_ok(r == 0 && strcmp(base, name) == 0 &&
	    pgl_username_reserved(base) && r1 == 0 && strcmp(c1, name) != 0 &&
	    pgl_username_valid(c1) && !pgl_username_reserved(c1),
	    "%s: base \"%s\" is reserved, candidate 1 is \"%s\"", id,
	    r == 0 ? base : "?", r1 == 0 ? c1 : "?");
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Candidates 1..count of a base: valid, not reserved, within the limit,
 * pairwise distinct, deterministic. */
static void
cands_distinct(const char *base, unsigned first, unsigned count)
{
	char **v = calloc(count, sizeof(*v));
	char out[PGL_USERNAME_MAX + 1], again[PGL_USERNAME_MAX + 1];
	unsigned i, bad = 0, dup = 0;

	if (v == NULL)
		exit(99);
	for (i = 0; i < count; i++) {
		unsigned n = first + i;

		if (pgl_username_candidate(base, n, out) != 0 ||
		    pgl_username_candidate(base, n, again) != 0 ||
		    strcmp(out, again) != 0 || !pgl_username_valid(out) ||
		    strlen(out) > PGL_USERNAME_MAX ||
		    pgl_username_reserved(out)) {
			if (bad++ < 5)
				tap_diag("candidate(\"%s\", %u) = \"%s\"", base,
				    n, out);
			out[0] = '\0';
		}
		if ((v[i] = strdup(out)) == NULL)
			exit(99);
	}
	qsort(v, count, sizeof(*v), cmp_str);
	for (i = 1; i < count; i++)
		if (strcmp(v[i - 1], v[i]) == 0 && dup++ < 5)
			tap_diag("duplicate \"%s\"", v[i]);
	tap_ok(bad == 0 && dup == 0,
	    "candidates %u..%u of \"%s\": valid, unreserved, <= %d, distinct "
	    "(%u bad, %u duplicates)", first, first + count - 1, base,
	    PGL_USERNAME_MAX, bad, dup);
	for (i = 0; i < count; i++)
		free(v[i]);
	free(v);
}

static void
test_base(void)
{
	char x64[80], id[200];

	base_is("alice@example.com", "alice");
	base_is("Alice.Smith+ops@Example.com", "alice_smith");
	base_is("ALICE@EXAMPLE.COM", "alice");
	base_is("first.last@x", "first_last");
	base_is("first-last@x", "first-last");
	base_is("first_last@x", "first_last");
	base_is("a..b@x", "a_b");
	base_is("a.-b@x", "a_b");
	base_is("a-.b@x", "a-b");
	base_is("a__b@x", "a_b");
	base_is(".alice.@x", "alice");
	base_is("-alice-@x", "alice");
	base_is("_alice_@x", "alice");
	base_is("alice+@x", "alice");
	base_is("alice+tag+more@x", "alice");
	base_is("+alice@x", "alice");
	base_is("+@x", "user");
	base_is("\"john doe\"@example.com", "john_doe");
	base_is("\"john\\\"doe\"@example.com", "johndoe");
	base_is("\"a@b\"@example.com", "a_b");
	base_is("a@b@example.com", "a_b");
	base_is("alice@", "alice");
	base_is("@@@", "user");
	base_is("...@x", "user");
	base_is("\"\"@x", "user");
	base_is("\xe6\x97\xa5\xe6\x9c\xac@x", "user");               /* CJK */
	base_is("\xe6\x97\xa5\xe6\x9c\xac.bob@x", "bob");
	base_is("bob.\xe6\x97\xa5\xe6\x9c\xac.x@x", "bob_x");
	base_is("jos\xc3\xa9@x", "jose");                            /* é */
	base_is("Jos\xc3\x89@x", "jose");                            /* É */
	base_is("jose\xcc\x81@x", "jose");                 /* e + U+0301 */
	base_is("m\xc3\xbcller@x", "muller");                        /* ü */
	base_is("stra\xc3\x9f" "e@x", "strasse");                    /* ß */
	base_is("\xc3\x86sa@x", "aesa");                             /* Æ */
	base_is("\xc5\x93uvre@x", "oeuvre");                         /* œ */
	base_is("\xc3\xbeor@x", "thor");                             /* þ */
	base_is("\xc5\x81ukasz@x", "lukasz");                        /* Ł */
	base_is("\xc5\xa1koda@x", "skoda");                          /* š */
	base_is("\xc5\xbd" "i\xc5\xbe" "ek@x", "zizek");
	base_is("fran\xc3\xa7ois@x", "francois");
	base_is("a\xc3\x97" "b@x", "a_b");                           /* × */
	base_is("al\xe2\x80\x8bice@x", "alice");              /* U+200B */
	base_is("al\xc2\xad" "ice@x", "alice");               /* U+00AD */
	base_is("a\xff" "b@x", "a_b");                     /* invalid byte */
	base_is("a\xc3@x", "a");                     /* truncated sequence */
	base_is("a\xc0\xae" "b@x", "a_b");                     /* overlong */
	base_is("a\xed\xa0\x80" "b@x", "a_b");                /* surrogate */
	base_is("a\xf4\x90\x80\x80" "b@x", "a_b");       /* past U+10FFFF */
	base_is("a\x80\x80\x80" "b@x", "a_b");            /* continuations */
	base_is("a\tb\nc d@x", "a_b_c_d");
	base_is("2fa@x", "u2fa");
	base_is("007@x", "u007");
	base_is("0@x", "u0");
	base_is("-1@x", "u1");
	base_is("._9lives@x", "u9lives");
	base_is("\xc3\xa9" "1@x", "e1");
	base_is("r00t@x", "r00t");
	base_is("Root@X", "root");
	base_is("systemd-network@x", "systemd-network");

	/* 64-character local parts: cut to 32, no trailing separator. */
	memset(x64, 'a', 64);
	x64[64] = '\0';
	snprintf(id, sizeof(id), "%s@example.com", x64);
	base_is(id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	memcpy(x64 + 31, "-bbbb", 5);
	snprintf(id, sizeof(id), "%s@example.com", x64);
	base_is(id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	memset(x64, 'a', 64);
	memcpy(x64 + 30, "..b", 3);
	snprintf(id, sizeof(id), "%s@example.com", x64);
	base_is(id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa_b");
	memset(x64, 'a', 64);
	memcpy(x64 + 31, "\xc3\x9f", 2);                         /* ß at 32 */
	snprintf(id, sizeof(id), "%s@example.com", x64);
	base_is(id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaas");
	memset(x64, '9', 64);
	snprintf(id, sizeof(id), "%s@example.com", x64);
	base_is(id, "u9999999999999999999999999999999");

	base_bad("alice");
	base_bad("");
	base_bad("@example.com");
	base_bad(NULL);
	{
		int r = pgl_username_base("alice@x", NULL);

		tap_ok(r == PGL_E_INVALID_ARG, "base with NULL out refused");
	}
}

static void
test_odd(void)
{
	static const char *const odd[] = {
		"john.smith@x", "john+smith@x", "\"john smith\"@x",
		"\"very.(),:;<>[]\\\".VERY.\\\"very@\\\\ \\\"very\\\".unusual\"@x",
		"!#$%&'*+-/=?^_`{|}~@x", "-@x", "_@x", "-_-@x", "1@x", "12345@x",
		"\xce\xb1\xce\xb2\xce\xb3@x", "\xd0\xb8\xd0\xb2\xd0\xb0\xd0\xbd@x",
		"\xf0\x9f\x98\x80@x", "\xff\xfe\xfd@x", "\xc3\xa9\xff@x",
		"\xe2\x80\x8b@x", "a\x01\x7f" "b@x", "root@x", "_apt@x",
		"systemd-timesync@x", "systemd-@x", "\xc3\x9f@x",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x",
		"a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a-a@x",
		"0000000000000000000000000000000000000000000000000000000000000000@x",
		"\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86"
		"\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86\xc3\x86"
		"\xc3\x86\xc3\x86\xc3\x86\xc3\x86@x",
	};
	size_t i;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++)
		base_sane(odd[i]);
}

static void
test_reserved(void)
{
	static const char *const sys[] = {
		"root", "daemon", "bin", "sys", "sync", "games", "man", "lp",
		"mail", "news", "uucp", "proxy", "www-data", "backup", "list",
		"irc", "gnats", "nobody", "nogroup", "_apt", "sshd",
		"messagebus", "syslog", "polkitd", "ntp", "postfix", "postgres",
		"mysql", "redis", "nginx", "admin", "administrator",
		"operator", "halt", "shutdown", "ftp", "git", "docker", "sudo",
		"adm", "wheel", "staff", "users", "shadow", "disk", "kmem",
		"tty", "ubuntu", "debian", "ec2-user", "systemd-network",
		"systemd-resolve", "systemd-", "_", "_anything", "Root",
		"ROOT", "WWW-DATA", "abuse", "zabbix", "cdrom", "centos",
		"noc", "nogroup", "ssh", "sshd", "ssl-cert",
	};
	static const char *const fine[] = {
		"alice", "user", "root-1", "roots", "rooT1", "bob_smith",
		"u2fa", "systemd", "systemdx", "usystemd-x", "u_apt", "gits",
		"sudoer", "a", "zzzz", "aaaa", "mailx",
	};
	size_t i;

	for (i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
		tap_ok(pgl_username_reserved(sys[i]), "\"%s\" is reserved",
		    sys[i]);
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		tap_ok(!pgl_username_reserved(fine[i]),
		    "\"%s\" is not reserved", fine[i]);
	tap_ok(pgl_username_reserved(NULL) && pgl_username_reserved(""),
	    "NULL and \"\" count as reserved");

	system_identity("root@x", "root");
	system_identity("daemon@x", "daemon");
	system_identity("sshd@x", "sshd");
	system_identity("nobody@x", "nobody");
	system_identity("ROOT@example.com", "root");
	system_identity("git@example.com", "git");
	system_identity("www-data@x", "www-data");
	system_identity("systemd-network@x", "systemd-network");
}

static void
test_valid(void)
{
	static const char *const good[] = {
		"a", "_", "_a", "alice", "a-b", "a_b", "a1", "a-", "a_",
		"abcdefghijklmnopqrstuvwxyz012345",
	};
	static const char *const bad[] = {
		"", "1a", "-a", "A", "alice@x", "a.b", "a b", "a+b", "\xc3\xa9",
		"abcdefghijklmnopqrstuvwxyz0123456", "alicE",
	};
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(pgl_username_valid(good[i]), "\"%s\" is valid", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(!pgl_username_valid(bad[i]), "\"%s\" is not valid",
		    tu_esc(bad[i]));
	tap_ok(!pgl_username_valid(NULL), "NULL is not valid");
}

static void
test_candidates(void)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz012345";

	cand_is("alice", 1, "alice");
	cand_is("alice", 2, "alice-2");
	cand_is("alice", 3, "alice-3");
	cand_is("alice", 1000, "alice-1000");
	cand_is("alice", 4294967295u, "alice-4294967295");
	cand_is("user1", 2, "user1-2");
	cand_is("root", 1, "root-1");
	cand_is("root", 2, "root-2");
	cand_is("nobody", 1, "nobody-1");
	cand_is("_apt", 1, "u_apt");
	cand_is("_apt", 2, "u_apt-2");
	cand_is("_", 1, "u");
	cand_is("_-_", 1, "u");
	cand_is("systemd-network", 1, "usystemd-network");
	cand_is("systemd-network", 2, "usystemd-network-2");
	/* The suffix's '-' must not complete the "systemd-" prefix. */
	cand_is("systemd", 1, "systemd");
	cand_is("systemd", 2, "usystemd-2");
	cand_is("systemd_", 1, "systemd_");
	cand_is("systemd_", 3, "usystemd-3");
	cand_is("systemd--", 4294967295u, "usystemd-4294967295");
	cand_is(b32, 1, b32);
	cand_is(b32, 2, "abcdefghijklmnopqrstuvwxyz0123-2");
	cand_is(b32, 10, "abcdefghijklmnopqrstuvwxyz012-10");
	cand_is(b32, 4294967295u, "abcdefghijklmnopqrstu-4294967295");
	/* Shortening does not leave a separator before the suffix. */
	cand_is("abcdefghijklmnopqrstuvwxyz012_xx", 2,
	    "abcdefghijklmnopqrstuvwxyz012-2");
	cand_is("abcdefghijklmnopqrstuvwxyz012-_x", 2,
	    "abcdefghijklmnopqrstuvwxyz012-2");
	/* A shortened base that would come back as the base itself. */
	cand_is("abcdefghijklmnopqrstuvwxyz0123-7", 1,
	    "abcdefghijklmnopqrstuvwxyz0123-7");
	cand_is("abcdefghijklmnopqrstuvwxyz0123-7", 7,
	    "abcdefghijklmnopqrstuvwxyz012-7");
	cand_is("abcdefghijklmnopqrstuvwxyz012-17", 17,
	    "abcdefghijklmnopqrstuvwxyz01-17");
	cand_is("_bcdefghijklmnopqrstuvwxyz012345", 1,
	    "u_bcdefghijklmnopqrstuvwxyz01234");

	cand_bad("alice", 0);
	cand_bad(NULL, 1);
	cand_bad("", 1);
	cand_bad("Alice", 1);
	cand_bad("1alice", 2);
	cand_bad("a.b", 2);
	cand_bad("abcdefghijklmnopqrstuvwxyz0123456", 1);
	{
		int r = pgl_username_candidate("alice", 1, NULL);

		tap_ok(r == PGL_E_INVALID_ARG, "candidate with NULL out refused");
	}

	cands_distinct(b32, 1, 1000);
	cands_distinct("alice", 1, 1000);
	cands_distinct("root", 1, 1000);
	cands_distinct("_", 1, 1000);
	cands_distinct("systemd-abcdefghijklmnopqrstuvwx", 1, 1000);
	cands_distinct("systemd", 1, 1000);
	cands_distinct("systemd_", 1, 1000);
	cands_distinct("abcdefghijklmnopqrstuvwxyz0123-7", 1, 1000);
	cands_distinct("a1111111111111111111111111111111", 1, 1000);
	cands_distinct("a-------------------------------", 1, 1000);
	cands_distinct("abcdefghijklmnopqrstuvwxyz012345", 4294966296u, 1000);
}

int
main(void)
{
	test_base();
	test_odd();
	test_reserved();
	test_valid();
	test_candidates();
	return tap_done();
}
