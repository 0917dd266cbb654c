/* dumpcache: prints a user cache (and optionally its shadow cache) as
 * text through the reader API, for shell tests:
 *
 *   host NAME
 *   range MIN MAX
 *   user NAME UID GID EXPIRE gecos=G home=H shell=S principals=A,B
 *        groups=GID,GID sudo=none|all|CMD,CMD
 *   group NAME GID members=A,B
 *   shadow NAME HASH
 *
 * Usage: dumpcache CACHE [SHADOW].  Exit 1 if a file cannot be mapped or
 * an entry is corrupt. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "err.h"

static int
put_list(const struct pgl_cache *c, struct pgl_cache_span s)
{
	struct pgl_cache_str v;
	uint32_t i;

	for (i = 0; i < s.n; i++) {
		if (pgl_cache_str_at(c, s, i, &v) != 0)
			return -1;
		printf("%s%s", i > 0 ? "," : "", v.p);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct pgl_cache c, sh;
	struct pgl_cache_user u;
	struct pgl_cache_group g;
	struct pgl_cache_shadow s;
	uint32_t i, j, gid;
	int r, rc = 0;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: dumpcache CACHE [SHADOW]\n");
		return 2;
	}
	if ((r = pgl_cache_map(&c, argv[1], PGL_CACHE_USERS)) != 0) {
		fprintf(stderr, "dumpcache: %s: %s\n", argv[1], pgl_strerror(r));
		return 1;
	}
	printf("host %s\nrange %u %u\n", c.host.p, c.uid_min, c.uid_max);
	for (i = 0; i < c.users.n; i++) {
		if (pgl_cache_user_at(&c, i, &u) != 0) {
			rc = 1;
			continue;
		}
		printf("user %s %u %u %" PRIu64 " gecos=%s home=%s shell=%s "
		    "principals=", u.name.p, u.uid, u.gid, u.expire, u.gecos.p,
		    u.home.p, u.shell.p);
		if (put_list(&c, u.principals) != 0)
			rc = 1;
		printf(" groups=");
		for (j = 0; j < u.gids.n; j++) {
			if (pgl_cache_u32_at(&c, u.gids, j, &gid) != 0)
				rc = 1;
			else
				printf("%s%u", j > 0 ? "," : "", gid);
		}
		printf(" sudo=");
		if (u.sudo == PGL_CACHE_SUDO_NONE)
			printf("none");
		else if (u.sudo == PGL_CACHE_SUDO_ALL)
			printf("all");
		else if (put_list(&c, u.sudo_commands) != 0)
			rc = 1;
		printf("\n");
	}
	for (i = 0; i < c.groups.n; i++) {
		if (pgl_cache_group_at(&c, i, &g) != 0) {
			rc = 1;
			continue;
		}
		printf("group %s %u members=", g.name.p, g.gid);
		if (put_list(&c, g.members) != 0)
			rc = 1;
		printf("\n");
	}
	pgl_cache_unmap(&c);
	if (argc == 3) {
		if ((r = pgl_cache_map(&sh, argv[2], PGL_CACHE_SHADOW)) != 0) {
			fprintf(stderr, "dumpcache: %s: %s\n", argv[2],
			    pgl_strerror(r));
			return 1;
		}
		for (i = 0; i < sh.users.n; i++) {
			if (pgl_cache_shadow_at(&sh, i, &s) != 0) {
				rc = 1;
				continue;
			}
			printf("shadow %s %s\n", s.name.p, s.passwd.p);
		}
		pgl_cache_unmap(&sh);
	}
	return rc;
}
