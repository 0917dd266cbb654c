/* mkcache: writes a user cache and shadow cache from a line-based spec on
 * stdin, through the real writer (for shell tests and benchmarks).
 *
 *   host:NAME
 *   range:MIN:MAX
 *   user:NAME:UID:GECOS:HOME:SHELL:EXPIRE:PRINCIPALS:GROUPS:SUDO:PASSWD
 *   group:NAME:GID:MEMBERS
 *
 * Lists are comma-separated (may be empty); SUDO is none, all, or a
 * comma-separated command list; an empty PASSWD means "*".  Options: --local PASSWD GROUP (default
 * /etc/passwd /etc/group), --no-local.  Exit 1 with the writer's message
 * on refusal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "err.h"

#define MAXF 16
#define MAXL 64

static size_t
split(char *s, char sep, char **v, size_t max)
{
	size_t n = 0;

	if (*s == '\0')
		return 0;
	for (;;) {
		if (n == max)
			return max + 1;
		v[n++] = s;
		if ((s = strchr(s, sep)) == NULL)
			return n;
		*s++ = '\0';
	}
}

int
main(int argc, char **argv)
{
	struct pgl_cache_builder *b = NULL;
	char *line = NULL, *f[MAXF + 1] = { NULL }, *pr[MAXL + 1], *gr[MAXL + 1];
	char *su[MAXL + 1], *host = NULL;
	const char *lp = "/etc/passwd", *lg = "/etc/group";
	size_t cap = 0, nf, lineno = 0;
	unsigned long min = 100000, max = 199999;
	int i = 1, r;
	ssize_t len;

	if (argc > 1 && strcmp(argv[1], "--no-local") == 0) {
		lp = lg = NULL;
		i = 2;
	} else if (argc > 3 && strcmp(argv[1], "--local") == 0) {
		lp = argv[2];
		lg = argv[3];
		i = 4;
	}
	if (argc - i < 1 || argc - i > 2) {
		fprintf(stderr, "usage: mkcache [--no-local | --local PASSWD "
		    "GROUP] CACHE [SHADOW] < spec\n");
		return 2;
	}
	while ((len = getline(&line, &cap, stdin)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		nf = split(line, ':', f, MAXF);
		if (strcmp(f[0], "host") == 0 && nf == 2) {
			free(host);
			host = strdup(f[1]);
		} else if (strcmp(f[0], "range") == 0 && nf == 3) {
			min = strtoul(f[1], NULL, 10);
			max = strtoul(f[2], NULL, 10);
		} else if (b == NULL && host == NULL) {
			fprintf(stderr, "mkcache: line %zu: host first\n",
			    lineno);
			return 2;
		}
		if (b == NULL && host != NULL && (strcmp(f[0], "user") == 0 ||
		    strcmp(f[0], "group") == 0)) {
			if ((b = pgl_cache_builder_new(host, (uint32_t)min,
			    (uint32_t)max)) == NULL ||
			    pgl_cache_builder_set_local(b, lp, lg) != 0) {
				fprintf(stderr, "mkcache: bad host or range\n");
				return 1;
			}
		}
		if (strcmp(f[0], "user") == 0 && nf == 11) {
			struct pgl_cache_user_in u = {
				.name = f[1],
				.uid = (uint32_t)strtoul(f[2], NULL, 10),
				.gecos = f[3], .home = f[4], .shell = f[5],
				.expire = strtoull(f[6], NULL, 10),
			};
			u.nprincipals = split(f[7], ',', pr, MAXL);
			u.ngroups = split(f[8], ',', gr, MAXL);
			u.principals = (const char *const *)pr;
			u.groups = (const char *const *)gr;
			if (strcmp(f[9], "all") == 0)
				u.sudo = PGL_CACHE_SUDO_ALL;
			else if (strcmp(f[9], "none") != 0 && f[9][0] != '\0') {
				u.sudo = PGL_CACHE_SUDO_COMMANDS;
				u.nsudo_commands = split(f[9], ',', su, MAXL);
				u.sudo_commands = (const char *const *)su;
			}
			u.passwd = f[10][0] != '\0' ? f[10] : NULL;
			r = pgl_cache_builder_add_user(b, &u);
		} else if (strcmp(f[0], "group") == 0 && nf == 4) {
			struct pgl_cache_group_in g = {
				.name = f[1],
				.gid = (uint32_t)strtoul(f[2], NULL, 10),
			};
			g.nmembers = split(f[3], ',', pr, MAXL);
			g.members = (const char *const *)pr;
			r = pgl_cache_builder_add_group(b, &g);
		} else if (strcmp(f[0], "host") == 0 ||
		    strcmp(f[0], "range") == 0) {
			r = 0;
		} else {
			fprintf(stderr, "mkcache: line %zu: bad spec\n", lineno);
			return 2;
		}
		if (r != 0) {
			fprintf(stderr, "mkcache: line %zu: %s\n", lineno,
			    pgl_cache_builder_error(b));
			return 1;
		}
	}
	if (b == NULL && host != NULL && (b = pgl_cache_builder_new(host,
	    (uint32_t)min, (uint32_t)max)) != NULL)
		pgl_cache_builder_set_local(b, lp, lg);
	if (b == NULL) {
		fprintf(stderr, "mkcache: no host line\n");
		return 2;
	}
	if ((r = pgl_cache_builder_write(b, argv[i],
	    argc - i == 2 ? argv[i + 1] : NULL)) != 0) {
		fprintf(stderr, "mkcache: %s\n", pgl_cache_builder_error(b));
		return 1;
	}
	pgl_cache_builder_free(b);
	free(host);
	free(line);
	return 0;
}
