/* Small files pgl-host keeps for itself, the locks that order its
 * processes, and the files it writes for sshd and sudo. */
#ifndef PGL_HOST_STATE_H
#define PGL_HOST_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cache.h"
#include "host.h"

/* flock(LOCK_EX) on path (created 0600), waiting up to wait_ms
 * (-1: forever).  *fd holds the lock until lock_release. */
int lock_take(const char *path, int wait_ms, int *fd, struct host_err *e);
void lock_release(int fd);

/* The first line of a small file, without its newline, into buf.
 * PGL_E_NOT_FOUND if it does not exist. */
int state_read_line(const char *path, char *buf, size_t n);
/* Writes text atomically (temp file, fsync, rename) with mode. */
int state_write(const char *path, const char *text, mode_t mode,
    struct host_err *e);

/* statedir/sync-state: what the last sync did. */
struct sync_state {
	int64_t attempt;                /* unix seconds, 0: never */
	int64_t success;
	int64_t fetched_ns;             /* when the directory now in the
					   cache was requested */
	char result[512];               /* "ok" or the error */
};

int sync_state_read(const char *path, struct sync_state *s);
int sync_state_write(const char *path, const struct sync_state *s,
    struct host_err *e);

/* The user CA keys file (TrustedUserCAKeys), one key a line; written
 * only when its content changes. */
int write_user_ca(const char *path, const char *const *lines, size_t n,
    int *changed, struct host_err *e);
/* Writes data to path atomically unless it already holds exactly that. */
int write_if_changed(const char *path, const void *p, size_t n, mode_t mode,
    int *changed, struct host_err *e);
/* True if p looks like an OpenSSH KRL (magic and format version). */
int krl_valid(const void *p, size_t n);

/* Removes sudoers.d/pgl-NAME drop-ins whose user is absent from the
 * new cache, has no sudo grant there, or whose grant differs from the
 * old cache's (pam_pgl writes it again at the next session).  old may
 * be unmapped. */
int sudoers_prune(const char *dir, const struct pgl_cache *old,
    const struct pgl_cache *new, size_t *removed, struct host_err *e);

/* Adds the live entries of c to b: users (expire replaced by expire
 * unless 0; expired ones dropped; skip_user left out) and groups other
 * than self-groups and those named in skip_groups. */
struct pgl_cache_builder;
int cache_carry(const struct pgl_cache *c, struct pgl_cache_builder *b,
    const char *skip_user, const char *const *skip_groups, size_t nskip,
    uint32_t uid_min, uint32_t uid_max, uint64_t now, uint64_t expire,
    struct host_err *e);

/* The earliest expiry among c's users (0 if none expires). */
uint64_t cache_min_expire(const struct pgl_cache *c);

#endif
