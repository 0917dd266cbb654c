/* pgl, the user's client: declarations shared by its files. */
#ifndef PGL_CLI_H
#define PGL_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "response.h"
#include "sshkey.h"

#define PGL_PROG "pgl"

/* Exit statuses, pgl(1) EXIT STATUS.  `pgl ssh` exits with ssh's own
 * status once ssh ran. */
enum {
	PGL_EXIT_OK = 0,
	PGL_EXIT_ERROR = 1,             /* anything else */
	PGL_EXIT_USAGE = 2,
	PGL_EXIT_NOT_LOGGED_IN = 3,     /* no login, or the token is refused */
	PGL_EXIT_UNREACHABLE = 4,       /* no answer from the signer */
	PGL_EXIT_DENIED = 5,            /* the policy says no */
	PGL_EXIT_UNKNOWN = 6,           /* no such resource */
	PGL_EXIT_SIGNER = 7,            /* the signer failed or said nonsense */
};

/* An error for the user: the exit status and one sentence.  Library
 * functions fill it; the command prints it once. */
struct cli_err {
	int status;
	char msg[1024];
};

void cli_seterr(struct cli_err *e, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prints "pgl: msg" to stderr and returns e->status. */
int cli_report(const struct cli_err *e);
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- config.c: ~/.config/pgl/config ---- */

struct pgl_config {
	char *signer;                   /* base URL, no trailing '/' */
	char *pin;                      /* "sha256//...", or NULL */
	char *cafile;                   /* CA bundle, or NULL (system CAs) */
	char *token;                    /* secret */
};

/* $XDG_CONFIG_HOME/pgl, or ~/.config/pgl. */
int cfg_dir(char *buf, size_t len);
/* PGL_E_NOT_FOUND when not logged in; e is filled on any error. */
int cfg_load(struct pgl_config **out, struct cli_err *e);
int cfg_save(const struct pgl_config *c, struct cli_err *e);
int cfg_remove(struct cli_err *e);
void cfg_free(struct pgl_config *c);
/* The user's home as ssh sees it (the password database). */
const char *home_dir(void);

/* ---- http.c: the signer's API over libcurl ---- */

struct api_resp {
	long status;
	struct pgl_buf *body;
	time_t date;                    /* the server's Date, 0 if none */
};

/* One request; on transport failure fills e (PGL_EXIT_UNREACHABLE). 
 * token may be NULL (public endpoints).  body NULL for GET. */
int api_request(const struct pgl_config *c, const char *method,
    const char *path, int with_token, const char *body, struct api_resp *out,
    struct cli_err *e);
void api_resp_clear(struct api_resp *r);
/* Maps an error status to e, with the signer's reason. */
void api_status_err(const struct pgl_config *c, const struct api_resp *r,
    const char *what, struct cli_err *e);
/* Warns once when the local clock and the signer's differ by > 30 s. */
void api_check_clock(const struct pgl_config *c, time_t server_now);
int api_global_init(void);

/* ---- signer.c: the calls, parsed ---- */

int signer_me(const struct pgl_config *c, struct pgl_me **out,
    struct cli_err *e);
/* Signs pubkey_line for resources; unknown names get close matches. */
int signer_sign(const struct pgl_config *c, const char *pubkey_line,
    const char *const *resources, size_t n, long ttl,
    struct pgl_signed **out, struct cli_err *e);
int signer_host_ca(const struct pgl_config *c, char ***keys, size_t *n,
    struct cli_err *e);
/* Close names among the user's resources, "a, b, c", or "" */
void suggest(const struct pgl_me *me, const char *name, char *out,
    size_t len);
/* The server's time at signing, from the answer. */
time_t signed_server_now(const struct pgl_signed *sg);

/* ---- util.c ---- */

/* mkdtemp under $XDG_RUNTIME_DIR, $TMPDIR or /tmp, mode 0700. */
int private_tmpdir(const char *prefix, char **out, struct cli_err *e);
/* Removes the files of a private temp dir (key files wiped) and it. */
void private_tmpdir_remove(const char *dir);
/* Writes a new file (O_EXCL, O_NOFOLLOW) with mode. */
int write_new_file(const char *path, const void *p, size_t n, int mode);
/* The absolute path of ssh (PGL_SSH, else PATH). */
int find_ssh(char *buf, size_t len, struct cli_err *e);
int parse_ttl(const char *s, long *out);
/* Only characters that need no quoting in ssh_config and sh. */
int plain_path(const char *s);
/* A fresh Ed25519 key and its public line. */
int new_key(struct pgl_key **key, char **publine, struct cli_err *e);
/* known_hosts "@cert-authority" line for the resources of an answer. */
int known_hosts_text(const struct pgl_signed *sg, struct pgl_buf *out);

/* ---- commands ---- */

int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_whoami(int argc, char **argv);
int cmd_ssh(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_agent_add(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_ensure(int argc, char **argv);

#endif
