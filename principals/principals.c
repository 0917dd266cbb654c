/* principals: sshd's AuthorizedPrincipalsCommand.
 *
 *   AuthorizedPrincipalsCommand /usr/lib/pgl/principals %u
 *
 * Prints the principal a certificate must carry to log in as USER: the
 * line "USER@HOST", where HOST is the name the cache was written for, if
 * and only if USER is a managed user of this host that is currently
 * allowed.  For any other name it prints nothing.  sshd runs this before
 * every certificate login, so it reads only the cache and /etc/passwd,
 * allocates nothing, uses no stdio or locale, and writes once.
 *
 * Exit status: 0 whether or not it printed (sshd treats "no principals"
 * as "no access"), 1 if the cache or /etc/passwd cannot be read safely,
 * 2 on a usage error.  sshd ignores the output of a failed command. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pgl-config.h"
#include "cache.h"
#include "err.h"
#include "name.h"

#define PASSWD_PATH "/etc/passwd"

/* "name@host": the writer takes host names of at most 255 bytes, so a
 * longer principal is not one pgl wrote. */
#define PRINCIPAL_MAX (PGL_USERNAME_MAX + 1 + 255)

static void
say(const char *a, const char *b, const char *c)
{
	char msg[512];
	size_t n = 0, l;
	const char *v[4] = { "principals: ", a, b, c };
	int i;

	/* One write so concurrent sshd logs never interleave a line. */
	for (i = 0; i < 4; i++) {
		if (v[i] == NULL)
			continue;
		l = strlen(v[i]);
		if (l > sizeof(msg) - 2 - n)
			l = sizeof(msg) - 2 - n;
		memcpy(msg + n, v[i], l);
		n += l;
	}
	msg[n++] = '\n';
	(void)!write(STDERR_FILENO, msg, n);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A host name we can print to sshd: printable ASCII, no spaces. */
static int
host_ok(const struct pgl_cache_str *h)
{
	uint32_t i;

	if (h->len == 0)
		return 0;
	for (i = 0; i < h->len; i++)
		if ((unsigned char)h->p[i] <= ' ' ||
		    (unsigned char)h->p[i] >= 0x7f || h->p[i] == '@')
			return 0;
	return 1;
}

/* Is name or uid a local account?  Reads /etc/passwd itself: getpwnam()
 * would go through NSS and could be answered by pgl's own module.  A
 * streaming scan that keeps only the name and uid fields, so a line of
 * any length is handled in a fixed buffer.  "+name" and "-name" (compat
 * entries) count as that name. */
static int
local_account(const char *name, uint32_t uid, int *found)
{
	char buf[8192], nm[PGL_USERNAME_MAX + 2];
	size_t namelen = strlen(name), nmlen = 0, off, i;
	unsigned field = 0;
	int fd, r = 0, nm_over = 0, uid_bad = 0, uid_digits = 0, eof = 0;
	uint64_t v = 0;
	ssize_t n;

	*found = 0;
	if ((fd = open(PASSWD_PATH, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return PGL_E_SYSTEM;
	while (!eof) {
		if ((n = read(fd, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			r = PGL_E_SYSTEM;
			goto out;
		}
		if (n == 0) {
			/* A last line without '\n' still counts. */
			eof = 1;
			buf[0] = '\n';
			n = field > 0 || nmlen > 0 || nm_over ? 1 : 0;
		}
		for (i = 0; i < (size_t)n; i++) {
			char ch = buf[i];

			if (ch == '\n') {
				off = nmlen > 0 && (nm[0] == '+' ||
				    nm[0] == '-') ? 1 : 0;
				if (!nm_over && nmlen - off == namelen &&
				    memcmp(nm + off, name, namelen) == 0)
					*found = 1;
				if (field >= 2 && uid_digits > 0 && !uid_bad &&
				    v == uid)
					*found = 1;
				if (*found)
					goto out;
				field = 0;
				nmlen = 0;
				nm_over = uid_bad = uid_digits = 0;
				v = 0;
			} else if (ch == ':')
				field++;
			else if (field == 0) {
				if (nmlen < sizeof(nm))
					nm[nmlen++] = ch;
				else
					nm_over = 1;
			} else if (field == 2) {
				if (ch < '0' || ch > '9' || v > UINT32_MAX)
					uid_bad = 1;
				else {
					v = v * 10 + (uint64_t)(ch - '0');
					uid_digits++;
				}
			}
		}
	}
 out:
	close(fd);
	return r;
}

int
main(int argc, char **argv)
{
	struct pgl_cache c;
	struct pgl_cache_user u;
	struct pgl_cache_str p;
	char line[PRINCIPAL_MAX + 1];
	const char *name;
	size_t namelen, len = 0;
	uint32_t i;
	int r, local;

	if (argc != 2) {
		say("usage: principals USER", NULL, NULL);
		return 2;
	}
	name = argv[1];
	/* Not a name pgl would ever create: nothing to say about it. */
	if (!pgl_username_valid(name))
		return 0;
	namelen = strlen(name);

	memset(&c, 0, sizeof(c));
	/* Root's and writable by nobody else: whoever can write the cache
	 * decides who logs in.  Left mapped until exit. */
	if ((r = pgl_cache_map_trusted(&c, PGL_CACHE_PATH,
	    PGL_CACHE_USERS)) != 0) {
		/* No cache yet: this host has no managed users. */
		if (r == PGL_E_NOT_FOUND)
			return 0;
		say(PGL_CACHE_PATH ": ", r == PGL_E_NOT_ALLOWED ? "not owned "
		    "by root, or writable by group or others" :
		    pgl_strerror(r), NULL);
		return 1;
	}
	if ((r = pgl_cache_user_by_name(&c, name, &u)) != 0) {
		if (r == PGL_E_NOT_FOUND)
			return 0;
		say(PGL_CACHE_PATH ": entry for ", name, ": invalid format");
		return 1;
	}
	/* Never an id outside the range the cache was written for (the NSS
	 * module would not serve that user either), never root whatever the
	 * range says, never past the entry's expiry. */
	if (u.uid < c.uid_min || u.uid > c.uid_max || u.uid == 0 ||
	    u.gid < c.uid_min || u.gid > c.uid_max || u.gid == 0 ||
	    pgl_cache_user_expired(&u, (uint64_t)time(NULL)))
		return 0;
	if (!host_ok(&c.host) || namelen + 1 + c.host.len > PRINCIPAL_MAX)
		return 0;
	/* Only a principal bound to this user on this host: "name@host".
	 * Every such principal is the same string, so it is printed once. */
	for (i = 0; i < u.principals.n && len == 0; i++) {
		if ((r = pgl_cache_str_at(&c, u.principals, i, &p)) != 0) {
			say(PGL_CACHE_PATH ": entry for ", name,
			    ": invalid format");
			return 1;
		}
		if (p.len == namelen + 1 + c.host.len &&
		    memcmp(p.p, name, namelen) == 0 && p.p[namelen] == '@' &&
		    memcmp(p.p + namelen + 1, c.host.p, c.host.len) == 0) {
			memcpy(line, p.p, p.len);
			line[p.len] = '\n';
			len = p.len + 1;
		}
	}
	if (len == 0)
		return 0;
	/* A local account always wins, by name or by uid.  Checked last:
	 * only a name about to be printed costs the read. */
	if ((r = local_account(name, u.uid, &local)) != 0) {
		say(PASSWD_PATH ": ", pgl_strerror(r), NULL);
		return 1;
	}
	if (local)
		return 0;
	if (write_all(STDOUT_FILENO, line, len) != 0) {
		say("write: ", strerror(errno), NULL);
		return 1;
	}
	return 0;
}
