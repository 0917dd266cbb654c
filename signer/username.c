/* Identity -> POSIX username (DESIGN.md, "Identity rules").
 *
 * Everything here is libc only and independent of the locale: no
 * tolower()/isalpha(), which change with LC_CTYPE, because a base name
 * must be the same on every signer that ever computes it.
 *
 * The mapping of a local part, byte by byte (first rule that applies):
 *
 *   A-Z                  lowercased.
 *   a-z 0-9              kept.
 *   '"' '\\'             dropped: RFC 5321 quoting syntax, not content
 *                        ("\"john doe\""@x -> john_doe).
 *   '+' after a letter   ends the local part: a subaddress tag
 *       or digit         (alice+ops@x -> alice), as mail systems treat it.
 *                        A leading '+' is only punctuation.
 *   '-'                  a separator written as '-'.
 *   anything else        a separator written as '_': '.', '_', space,
 *                        '@' (a local part may hold one), other ASCII
 *                        punctuation, control bytes, invalid UTF-8 bytes
 *                        and code points we cannot transliterate.
 *   U+00C0..U+017F       Latin-1 and Latin Extended-A letters become
 *                        their base letters (e-acute -> e, u-umlaut -> u,
 *                        n-tilde -> n, s-caron -> s), a few become two
 *                        (ae, oe, ij, ss, th); the multiplication and
 *                        division signs are separators.  Diacritics are
 *                        simply stripped (a-umlaut -> a, not "ae"): that
 *                        is the same in every language, "ae" is German
 *                        only.
 *   U+0300..U+036F,      combining marks and invisible format
 *   U+00AD, U+200B..F,   characters are dropped, so a decomposed
 *   U+2060..4, U+FEFF    "e + acute" maps like the precomposed one.
 *
 * A run of separators becomes one character, the one of the run's first
 * separator: "first.last" -> first_last (readable, and keeps the word
 * boundary that "firstlast" would lose), "a.-b" -> a_b, "a-.b" -> a-b,
 * "a__b" -> a_b.  Separators at the start or the end are dropped, so a
 * base never starts with '-' (invalid) or '_' (reserved for system
 * accounts), nor ends with either.  A base that would start with a digit
 * gets a 'u' in front ("2fa@x" -> u2fa): '_' is the other legal start,
 * but it is the reserved system prefix, and an all-digit name would read
 * as a uid to chown(1) and friends.  The result is cut at
 * PGL_USERNAME_MAX characters (then trailing separators are dropped
 * again); a local part with nothing left ("@@@", CJK only) becomes
 * "user", which the numeric suffix then disambiguates in the org. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "username.h"

#define FALLBACK "user"

/* Names never handed out, sorted (strcmp order) for bsearch.  Beyond the
 * prefixes "_" and "systemd-" (checked in code), this is:
 *  - Debian base-passwd's users and groups (the self-group has the
 *    user's name, so a user called "sudo" or "shadow" would own a
 *    privileged group's name) and the common daemon accounts of Debian
 *    and Fedora;
 *  - the default login of cloud images (admin, ubuntu, debian, ec2-user,
 *    ...) and the conventional shared accounts, git above all: a host
 *    whose sshd trusts our CA matches a certificate's principal against
 *    the login name, so a user *named* git or ubuntu would hold a
 *    certificate that opens the existing git / ubuntu account (with its
 *    repositories or its sudo rights), whatever the JIT layer does;
 *  - the RFC 2142 mailbox names, so no user receives postmaster@ or
 *    abuse@ mail delivered to local accounts.
 * No entry ends in a digit: every suffixed candidate does, so the suffix
 * step can never land on one of these. */
static const char *const reserved_names[] = {
	"abuse",
	"adm",
	"admin",
	"administrator",
	"almalinux",
	"alpine",
	"amavis",
	"apache",
	"arch",
	"audio",
	"avahi",
	"avahi-autoipd",
	"azureuser",
	"backup",
	"bin",
	"bind",
	"bluetooth",
	"cdrom",
	"centos",
	"chrony",
	"clamav",
	"cloud-user",
	"cockpit-ws",
	"cockpit-wsinstance",
	"colord",
	"core",
	"crontab",
	"daemon",
	"dbus",
	"debian",
	"debian-tor",
	"dialout",
	"dip",
	"disk",
	"dnsmasq",
	"docker",
	"dovecot",
	"dovenull",
	"ec2-user",
	"elasticsearch",
	"exim",
	"fax",
	"fedora",
	"floppy",
	"forgejo",
	"ftp",
	"games",
	"gdm",
	"geoclue",
	"git",
	"gitea",
	"gitlab",
	"gitlab-runner",
	"gitolite",
	"gnats",
	"grafana",
	"guest",
	"halt",
	"haproxy",
	"hostmaster",
	"incus",
	"incus-admin",
	"input",
	"irc",
	"jenkins",
	"kmem",
	"kvm",
	"libvirt",
	"libvirt-dnsmasq",
	"libvirt-qemu",
	"lightdm",
	"list",
	"lp",
	"lpadmin",
	"lxd",
	"mail",
	"mailer-daemon",
	"man",
	"memcache",
	"messagebus",
	"mongodb",
	"mysql",
	"nagios",
	"named",
	"netdev",
	"news",
	"nfsnobody",
	"nginx",
	"nobody",
	"noc",
	"nogroup",
	"nscd",
	"nslcd",
	"ntp",
	"ntpsec",
	"opc",
	"opendkim",
	"openldap",
	"operator",
	"pi",
	"plugdev",
	"polkitd",
	"postdrop",
	"postfix",
	"postgres",
	"postmaster",
	"prometheus",
	"proxy",
	"pulse",
	"qemu",
	"rabbitmq",
	"redis",
	"render",
	"rocky",
	"root",
	"rpc",
	"rpcuser",
	"rtkit",
	"sambashare",
	"saned",
	"sasl",
	"scanner",
	"sddm",
	"sgx",
	"shadow",
	"shutdown",
	"squid",
	"src",
	"ssh",
	"sshd",
	"ssl-cert",
	"sssd",
	"staff",
	"statd",
	"sudo",
	"sync",
	"sys",
	"syslog",
	"tape",
	"tcpdump",
	"tftp",
	"tomcat",
	"toor",
	"tss",
	"tty",
	"ubuntu",
	"unbound",
	"usbmux",
	"users",
	"utmp",
	"uucp",
	"uuidd",
	"vagrant",
	"video",
	"voice",
	"webmaster",
	"wheel",
	"www-data",
	"zabbix",
};

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

int
pgl_username_reserved(const char *name)
{
	char low[PGL_USERNAME_MAX + 1];
	size_t i;

	/* Nothing is not a name anyone may have. */
	if (name == NULL || name[0] == '\0')
		return 1;
	/* Compare case-insensitively, so "Root" is as reserved as "root"
	 * should a caller ever ask about an unmapped name.  Every table
	 * entry is shorter than PGL_USERNAME_MAX; a longer name can only
	 * hit the prefix rules. */
	for (i = 0; name[i] != '\0' && i < PGL_USERNAME_MAX; i++)
		low[i] = name[i] >= 'A' && name[i] <= 'Z' ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	low[i] = '\0';
	if (low[0] == '_' || strncmp(low, "systemd-", 8) == 0)
		return 1;
	if (name[i] != '\0')
		return 0;
	return bsearch(low, reserved_names,
	    sizeof(reserved_names) / sizeof(reserved_names[0]),
	    sizeof(reserved_names[0]), cmp_name) != NULL;
}

static int
is_lower(int c)
{
	return c >= 'a' && c <= 'z';
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_sep(int c)
{
	return c == '-' || c == '_';
}

/* U+00C0..U+017F, one character per code point: the base letter, '.'
 * for "not a letter" (a separator), or an upper-case letter standing
 * for two: see expand(). */
static const char latin[] =
    /* U+00C0 */ "aaaaaaAc" "eeeeiiii" "dnooooo." "ouuuuyTS"
    /* U+00E0 */ "aaaaaaAc" "eeeeiiii" "dnooooo." "ouuuuyTy"
    /* U+0100 */ "aaaaaacc" "ccccccdd" "ddeeeeee" "eeeegggg"
    /* U+0120 */ "gggghhhh" "iiiiiiii" "iiIIjjkk" "klllllll"
    /* U+0140 */ "lllnnnnn" "nnnnoooo" "ooOOrrrr" "rrssssss"
    /* U+0160 */ "sstttttt" "uuuuuuuu" "uuuuwwyy" "yzzzzzzs";

_Static_assert(sizeof(latin) - 1 == 0x180 - 0xc0, "latin[] covers U+00C0..U+017F");

static const char *
expand(char c)
{
	switch (c) {
	case 'A': return "ae";  /* U+00C6, U+00E6 */
	case 'I': return "ij";  /* U+0132, U+0133 */
	case 'O': return "oe";  /* U+0152, U+0153 */
	case 'S': return "ss";  /* U+00DF */
	case 'T': return "th";  /* U+00DE, U+00FE */
	default: return NULL;
	}
}

/* Decodes one UTF-8 sequence starting with a byte >= 0x80; strict:
 * no overlong forms, surrogates or values past U+10FFFF.  Returns the
 * code point, or -1 for an invalid byte, which then counts as one. */
static int32_t
utf8_next(const unsigned char *s, size_t len, size_t *used)
{
	int32_t cp, min;
	size_t need, k;

	*used = 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 1, min = 0x80, cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 2, min = 0x800, cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 3, min = 0x10000, cp = s[0] & 0x07;
	} else
		return -1;
	if (len < need + 1)
		return -1;
	for (k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	*used = need + 1;
	return cp;
}

static int
invisible(int32_t cp)
{
	return (cp >= 0x300 && cp <= 0x36f) || cp == 0xad ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2060 && cp <= 0x2064) ||
	    cp == 0xfeff;
}

/* The name being built. */
struct namebuf {
	char s[PGL_USERNAME_MAX + 1];
	size_t n;
	char pending;   /* a separator waiting for the next letter, or 0 */
	int full;
};

static void
put(struct namebuf *b, char c)
{
	if (b->n < PGL_USERNAME_MAX)
		b->s[b->n++] = c;
	else
		b->full = 1;
}

/* A letter or digit: flushes the pending separator first. */
static void
put_alnum(struct namebuf *b, char c)
{
	if (b->pending != 0) {
		put(b, b->pending);
		b->pending = 0;
	}
	if (b->n == 0 && is_digit(c))
		put(b, 'u');
	put(b, c);
}

/* A separator: dropped at the start, and in a run only the first
 * counts.  It is written only when a letter follows, so none trails. */
static void
put_sep(struct namebuf *b, char c)
{
	if (b->n > 0 && b->pending == 0)
		b->pending = c;
}

static void
put_cp(struct namebuf *b, int32_t cp)
{
	const char *two;
	char c;

	if (cp < 0xc0 || cp > 0x17f) {
		put_sep(b, '_');
		return;
	}
	c = latin[cp - 0xc0];
	if (c == '.')
		put_sep(b, '_');
	else if ((two = expand(c)) != NULL) {
		put_alnum(b, two[0]);
		put_alnum(b, two[1]);
	} else
		put_alnum(b, c);
}

int
pgl_username_base(const char *identity, char *out)
{
	const unsigned char *p;
	struct namebuf b;
	const char *at;
	size_t len, i, used;
	int32_t cp;
	unsigned char c;

	if (identity == NULL || out == NULL ||
	    (at = strrchr(identity, '@')) == NULL || at == identity)
		return PGL_E_INVALID_ARG;
	p = (const unsigned char *)identity;
	len = (size_t)(at - identity);
	memset(&b, 0, sizeof(b));
	for (i = 0; i < len && !b.full;) {
		c = p[i];
		if (c >= 0x80) {
			cp = utf8_next(p + i, len - i, &used);
			i += used;
			if (cp < 0)
				put_sep(&b, '_');
			else if (!invisible(cp))
				put_cp(&b, cp);
			continue;
		}
		i++;
		if (c >= 'A' && c <= 'Z')
			put_alnum(&b, (char)(c - 'A' + 'a'));
		else if (is_lower(c) || is_digit(c))
			put_alnum(&b, (char)c);
		else if (c == '"' || c == '\\')
			continue;
		else if (c == '+' && b.n > 0)
			break;
		else
			put_sep(&b, c == '-' ? '-' : '_');
	}
	/* Cutting at the limit may leave a separator last. */
	while (b.n > 0 && is_sep(b.s[b.n - 1]))
		b.n--;
	if (b.n == 0) {
		memcpy(b.s, FALLBACK, sizeof(FALLBACK));
		b.n = sizeof(FALLBACK) - 1;
	}
	b.s[b.n] = '\0';
	memcpy(out, b.s, b.n + 1);
	return 0;
}

/* The suffix is "-N", N in decimal: alice, alice-2, alice-3, ...
 * Plain digits (alice2) read as part of the name, and they break
 * uniqueness once the base must be shortened: a 32-character base
 * "x...x11" would give the same name for n = 2 ("x...x1" + "2" cut to
 * fit) as for n = 12.  With "-N" the digits after the last '-' are N
 * itself, so different n always give different names, whatever the
 * base (a 'u' in front, below, does not change that); and every
 * suffixed name ends in a digit, which no entry of the table does, so
 * only the prefix rules can catch one. */
int
pgl_username_candidate(const char *base, unsigned n, char *out)
{
	char stem[PGL_USERNAME_MAX + 2], sfx[16], cand[PGL_USERNAME_MAX + 1];
	size_t stemlen, sfxlen, keep, u = 0;
	int w;

	if (base == NULL || out == NULL || n == 0 || !pgl_username_valid(base))
		return PGL_E_INVALID_ARG;
	/* A reserved prefix ("_", "systemd-") survives any suffix: put a
	 * 'u' in front, as for a leading digit. */
	if (base[0] == '_' || strncmp(base, "systemd-", 8) == 0) {
		stem[0] = 'u';
		memcpy(stem + 1, base, strlen(base) + 1);
		stemlen = strlen(stem);
		if (stemlen > PGL_USERNAME_MAX)
			stemlen = PGL_USERNAME_MAX;
		while (is_sep(stem[stemlen - 1]))
			stemlen--;
		stem[stemlen] = '\0';
	} else {
		stemlen = strlen(base);
		memcpy(stem, base, stemlen + 1);
	}
	if (n == 1 && !pgl_username_reserved(stem)) {
		memcpy(out, stem, stemlen + 1);
		return 0;
	}
	/* A reserved stem has no bare candidate: n == 1 is "root-1". */
	w = snprintf(sfx, sizeof(sfx), "-%u", n);
	if (w < 2 || (size_t)w >= sizeof(sfx))
		return PGL_E_INVALID_ARG;
	sfxlen = (size_t)w;
	keep = stemlen < PGL_USERNAME_MAX - sfxlen ? stemlen :
	    PGL_USERNAME_MAX - sfxlen;
	for (;;) {
		/* stem[0] is a letter, so this stops at 1 at the latest. */
		while (keep > 1 && is_sep(stem[keep - 1]))
			keep--;
		if (u)
			cand[0] = 'u';
		memcpy(cand + u, stem, keep);
		memcpy(cand + u + keep, sfx, sfxlen + 1);
		/* A shortened base can come back as the base itself
		 * (base "x...x-7" and n = 7): cut one more character, since
		 * the base is candidate 1. */
		if (strcmp(cand, stem) == 0 && keep > 1) {
			keep--;
			continue;
		}
		/* The suffix's '-' can complete a reserved prefix: "systemd"
		 * (or "systemd_", shortened) + "-2" is "systemd-2".  Put a
		 * 'u' in front, as for the base. */
		if (pgl_username_reserved(cand) && !u) {
			u = 1;
			if (keep + 1 + sfxlen > PGL_USERNAME_MAX)
				keep--;
			continue;
		}
		break;
	}
	/* Cannot happen (see above); never hand out a reserved name. */
	if (!pgl_username_valid(cand) || pgl_username_reserved(cand) ||
	    strcmp(cand, stem) == 0)
		return PGL_E_INVALID_ARG;
	memcpy(out, cand, strlen(cand) + 1);
	return 0;
}
