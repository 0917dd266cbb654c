/* pgl-host: the target host's side of pgl (docs/host.md).  One file per
 * role: config.c (host.conf and the file layout), http.c (the signer over
 * verified TLS), directory.c (directory JSON -> cache builder), certinfo.c
 * (host certificate validity), state.c (small state files and locks),
 * and one file per command. */
#ifndef PGL_HOST_H
#define PGL_HOST_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_PROG "pgl-host"
#define HOST_CONFIG_DEFAULT "/etc/pgl/host.conf"

/* A message for the operator, set once where an operation fails. */
struct host_err {
	char msg[768];
};

__attribute__((format(printf, 2, 3)))
int herr(struct host_err *e, const char *fmt, ...);

/* Every file pgl-host reads or writes, with --root prefixed. */
struct host_paths {
	char conf[PATH_MAX];
	char statedir[PATH_MAX];
	char credential[PATH_MAX];
	char host_ca[PATH_MAX];         /* host CA keys, to check renewals */
	char cache[PATH_MAX];
	char shadow[PATH_MAX];
	char etag[PATH_MAX];            /* directory ETag */
	char krl_etag[PATH_MAX];
	char sync_state[PATH_MAX];
	char resolve_state[PATH_MAX];
	char sync_lock[PATH_MAX];
	char cache_lock[PATH_MAX];
	char resolve_lock[PATH_MAX];
	char user_ca[PATH_MAX];
	char krl[PATH_MAX];
	char host_key[PATH_MAX];
	char host_cert[PATH_MAX];
	char sshd_config[PATH_MAX];
	char sshd_snippet[PATH_MAX];
	char sshd_pid[PATH_MAX];
	char sudoers_d[PATH_MAX];
	char nsswitch[PATH_MAX];
	char passwd[PATH_MAX];
	char group[PATH_MAX];
	char pam_d[PATH_MAX];
	char pam_profile[PATH_MAX];
};

/* The same files as sshd and the rest of the system name them (no
 * --root): what goes into the sshd_config snippet. */
#define HOST_USER_CA_PATH       "/etc/ssh/pgl_user_ca.pub"
#define HOST_KRL_PATH           "/etc/ssh/pgl_revoked.krl"
#define HOST_HOST_KEY_DEFAULT   "/etc/ssh/ssh_host_ed25519_key.pub"
#define HOST_SSHD_CONFIG        "/etc/ssh/sshd_config"
#define HOST_SSHD_SNIPPET       "/etc/ssh/sshd_config.d/pgl.conf"
#define HOST_SSHD_PID           "/run/sshd.pid"
#define HOST_SUDOERS_D          "/etc/sudoers.d"
#define HOST_NSSWITCH           "/etc/nsswitch.conf"
#define HOST_PAM_D              "/etc/pam.d"
#define HOST_PAM_PROFILE        "/usr/share/pam-configs/pgl"
#define HOST_PRINCIPALS_USER    "nobody"

struct host_config {
	char root[PATH_MAX];            /* "" for "/" */
	char *signer;                   /* https URL, no trailing '/' */
	char *pin;                      /* "sha256//..." or NULL */
	char *ca_file;                  /* PEM bundle or NULL: system CAs */
	char *host;                     /* name the signer enrolled us as */
	char *host_key;                 /* unprefixed path of the .pub */
	uint64_t max_stale;             /* seconds a cache entry lives */
	uint64_t negative_ttl;          /* seconds a "none" is remembered */
	uint64_t resolve_rate;          /* signer requests a minute */
	uint64_t timeout;               /* seconds for one sync request */
	uint32_t uid_min, uid_max;      /* 0: the directory's range */
	struct host_paths p;
};

/* config.c */
int hconf_init(struct host_config *c, const char *root, const char *conf,
    struct host_err *e);
/* Reads host.conf; a missing file is an error only if required. */
int hconf_load(struct host_config *c, int required, struct host_err *e);
/* Sets the paths that depend on settings (host key, certificate). */
int hconf_paths(struct host_config *c, struct host_err *e);
/* The host.conf text for c (enroll writes it). */
int hconf_format(const struct host_config *c, char **out);
void hconf_free(struct host_config *c);
int hconf_pin_valid(const char *pin);
/* root + path into out; PGL_E_TOO_LARGE if it does not fit. */
int root_path(const char *root, const char *path, char *out, size_t n);
/* mkdir -p of path's parent directories (mode for new ones). */
int mkparents(const char *path, unsigned mode);

/* Reads the host credential (0600 file); wipe with credential_free. */
int credential_read(const struct host_config *c, char **out,
    struct host_err *e);
void credential_free(char *cred);

/* The commands; each returns the process exit status. */
int cmd_enroll(struct host_config *c, int argc, char **argv);
int cmd_sync(struct host_config *c, int argc, char **argv);
int cmd_resolve(struct host_config *c, int argc, char **argv);
int cmd_status(struct host_config *c, int argc, char **argv);

void host_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
