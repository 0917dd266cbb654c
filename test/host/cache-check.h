/* Walks every entry of a mapped cache through every lookup and checks
 * that what comes back is consistent: a lookup by name returns that name,
 * by id that id, and every string handed out is NUL-terminated inside the
 * mapping.  Shared by the unit tests (corrupt files) and the fuzz target.
 * Returns the number of inconsistencies; crashes are for ASan to catch. */
#ifndef PGL_TEST_CACHE_CHECK_H
#define PGL_TEST_CACHE_CHECK_H

#include <string.h>

#include "cache.h"

static inline int
cc_str_ok(const struct pgl_cache *c, struct pgl_cache_str s)
{
	const uint8_t *p = (const uint8_t *)s.p;

	return p >= c->base && p + s.len < c->base + c->size &&
	    s.p[s.len] == '\0' && strlen(s.p) == s.len;
}

static inline int
cc_span_strs(const struct pgl_cache *c, struct pgl_cache_span sp)
{
	struct pgl_cache_str s;
	uint32_t i, lim = sp.n < 4096 ? sp.n : 4096;
	int bad = 0;

	for (i = 0; i < lim; i++)
		if (pgl_cache_str_at(c, sp, i, &s) == 0 && !cc_str_ok(c, s))
			bad++;
	return bad;
}

static inline int
cc_check_users(const struct pgl_cache *c)
{
	struct pgl_cache_user u, v;
	struct pgl_cache_group g, h;
	uint32_t i, k, gid, lim;
	int bad = 0;

	lim = c->users.n < 65536 ? c->users.n : 65536;
	for (i = 0; i < lim; i++) {
		if (pgl_cache_user_at(c, i, &u) != 0)
			continue;
		if (!cc_str_ok(c, u.name) || !cc_str_ok(c, u.gecos) ||
		    !cc_str_ok(c, u.home) || !cc_str_ok(c, u.shell))
			bad++;
		bad += cc_span_strs(c, u.principals);
		bad += cc_span_strs(c, u.sudo_commands);
		for (k = 0; k < u.gids.n && k < 4096; k++)
			(void)pgl_cache_u32_at(c, u.gids, k, &gid);
		if (pgl_cache_user_by_name(c, u.name.p, &v) == 0 &&
		    strcmp(v.name.p, u.name.p) != 0)
			bad++;
		if (pgl_cache_user_by_uid(c, u.uid, &v) == 0 && v.uid != u.uid)
			bad++;
	}
	lim = c->groups.n < 65536 ? c->groups.n : 65536;
	for (i = 0; i < lim; i++) {
		if (pgl_cache_group_at(c, i, &g) != 0)
			continue;
		if (!cc_str_ok(c, g.name))
			bad++;
		bad += cc_span_strs(c, g.members);
		if (pgl_cache_group_by_name(c, g.name.p, &h) == 0 &&
		    strcmp(h.name.p, g.name.p) != 0)
			bad++;
		if (pgl_cache_group_by_gid(c, g.gid, &h) == 0 && h.gid != g.gid)
			bad++;
	}
	/* Names and ids that may or may not be there. */
	if (pgl_cache_user_by_name(c, "alice", &u) == 0 &&
	    strcmp(u.name.p, "alice") != 0)
		bad++;
	if (pgl_cache_user_by_uid(c, 100000, &u) == 0 && u.uid != 100000)
		bad++;
	if (pgl_cache_group_by_name(c, "deploy", &g) == 0 &&
	    strcmp(g.name.p, "deploy") != 0)
		bad++;
	if (pgl_cache_group_by_gid(c, 100001, &g) == 0 && g.gid != 100001)
		bad++;
	return bad;
}

static inline int
cc_check_shadow(const struct pgl_cache *c)
{
	struct pgl_cache_shadow s, t;
	uint32_t i, lim = c->users.n < 65536 ? c->users.n : 65536;
	int bad = 0;

	for (i = 0; i < lim; i++) {
		if (pgl_cache_shadow_at(c, i, &s) != 0)
			continue;
		if (!cc_str_ok(c, s.name) || !cc_str_ok(c, s.passwd))
			bad++;
		if (pgl_cache_shadow_by_name(c, s.name.p, &t) == 0 &&
		    strcmp(t.name.p, s.name.p) != 0)
			bad++;
	}
	if (pgl_cache_shadow_by_name(c, "alice", &s) == 0 &&
	    strcmp(s.name.p, "alice") != 0)
		bad++;
	return bad;
}

#endif
