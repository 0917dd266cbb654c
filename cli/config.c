/* The client's configuration: $XDG_CONFIG_HOME/pgl/config (libconfig
 * syntax), holding the signer's address, its TLS pin and the user's
 * token.  The directory is 0700 and the file 0600, replaced atomically;
 * a file others could read is refused, as ssh refuses such a key. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "err.h"
#include "fileio.h"
#include "pgl.h"

#define CONFIG_MAX (64 * 1024)

void
cli_seterr(struct cli_err *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int
cli_report(const struct cli_err *e)
{
	fprintf(stderr, "%s: %s\n", PGL_PROG, e->msg);
	return e->status != 0 ? e->status : PGL_EXIT_ERROR;
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: warning: ", PGL_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
home_dir(void)
{
	struct passwd *pw;
	const char *h;

	/* ssh expands ~ from the password database, not $HOME. */
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL &&
	    pw->pw_dir[0] == '/')
		return pw->pw_dir;
	if ((h = getenv("HOME")) != NULL && h[0] == '/')
		return h;
	return NULL;
}

/* The XDG base: $HOME, as every XDG program does, then the database. */
static const char *
xdg_home(void)
{
	const char *h = getenv("HOME");

	return h != NULL && h[0] == '/' ? h : home_dir();
}

int
cfg_dir(char *buf, size_t len)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h;
	int n;

	if (x != NULL && x[0] == '/')
		n = snprintf(buf, len, "%s/pgl", x);
	else if ((h = xdg_home()) != NULL)
		n = snprintf(buf, len, "%s/.config/pgl", h);
	else
		return PGL_E_NOT_FOUND;
	return n < 0 || (size_t)n >= len ? PGL_E_TOO_LARGE : 0;
}

void
cfg_free(struct pgl_config *c)
{
	if (c == NULL)
		return;
	free(c->signer);
	free(c->pin);
	free(c->cafile);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c);
}

static int
get_opt(config_t *cf, const char *key, char **out)
{
	const char *v;

	if (config_lookup_string(cf, key, &v) != CONFIG_TRUE)
		return 0;
	return (*out = strdup(v)) == NULL ? PGL_E_NOMEM : 0;
}

int
cfg_load(struct pgl_config **out, struct cli_err *e)
{
	struct pgl_config *c = NULL;
	struct pgl_buf *b = NULL, *z = NULL;
	struct stat st;
	config_t cf;
	char dir[4096], path[4200];
	int r;

	config_init(&cf);
	if ((r = cfg_dir(dir, sizeof(dir))) != 0) {
		cli_seterr(e, PGL_EXIT_NOT_LOGGED_IN, "not logged in (no home "
		    "directory for the configuration); run: pgl login "
		    "--signer URL");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	if (lstat(path, &st) == -1) {
		r = errno == ENOENT ? PGL_E_NOT_FOUND : PGL_E_SYSTEM;
		if (r == PGL_E_NOT_FOUND)
			cli_seterr(e, PGL_EXIT_NOT_LOGGED_IN, "not logged in: "
			    "run pgl login --signer URL first");
		else
			cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path,
			    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077) != 0) {
		r = PGL_E_NOT_ALLOWED;
		cli_seterr(e, PGL_EXIT_ERROR, "%s: must be a regular file of "
		    "yours that only you can read (chmod 600); it holds your "
		    "token", path);
		goto out;
	}
	if ((r = pgl_file_read(path, CONFIG_MAX, &b)) != 0 ||
	    (z = pgl_buf_new()) == NULL ||
	    (r = pgl_buf_put(z, pgl_buf_ptr(b), pgl_buf_len(b))) != 0 ||
	    (r = pgl_buf_put_u8(z, 0)) != 0) {
		if (r == 0)
			r = PGL_E_NOMEM;
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path, pgl_strerror(r));
		goto out;
	}
	if (config_read_string(&cf, (const char *)pgl_buf_ptr(z)) != CONFIG_TRUE) {
		r = PGL_E_FORMAT;
		cli_seterr(e, PGL_EXIT_ERROR, "%s:%d: %s", path,
		    config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    get_opt(&cf, "signer", &c->signer) != 0 ||
	    get_opt(&cf, "pin", &c->pin) != 0 ||
	    get_opt(&cf, "cafile", &c->cafile) != 0 ||
	    get_opt(&cf, "token", &c->token) != 0) {
		r = PGL_E_NOMEM;
		cli_seterr(e, PGL_EXIT_ERROR, "%s", pgl_strerror(r));
		goto out;
	}
	if (c->signer == NULL || c->token == NULL) {
		r = PGL_E_NOT_FOUND;
		cli_seterr(e, PGL_EXIT_NOT_LOGGED_IN, "not logged in (%s has "
		    "no signer or token): run pgl login --signer URL", path);
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
 out:
	/* libconfig's copy of the token goes with config_destroy. */
	config_destroy(&cf);
	pgl_buf_free(b);
	pgl_buf_free(z);
	cfg_free(c);
	return r;
}

static int
mkdir_private(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return PGL_E_SYSTEM;
	if (lstat(path, &st) == -1)
		return PGL_E_SYSTEM;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid()) {
		errno = EPERM;
		return PGL_E_NOT_ALLOWED;
	}
	if ((st.st_mode & 077) != 0 && chmod(path, 0700) == -1)
		return PGL_E_SYSTEM;
	return 0;
}

/* Writes a libconfig string value, escaped. */
static int
put_setting(struct pgl_buf *b, const char *key, const char *v)
{
	const char *p;
	char esc[8];
	int r;

	if (v == NULL)
		return 0;
	if ((r = pgl_buf_put(b, key, strlen(key))) != 0 ||
	    (r = pgl_buf_put(b, " = \"", 4)) != 0)
		return r;
	for (p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			snprintf(esc, sizeof(esc), "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			snprintf(esc, sizeof(esc), "\\x%02x", (unsigned char)*p);
		else
			snprintf(esc, sizeof(esc), "%c", *p);
		if ((r = pgl_buf_put(b, esc, strlen(esc))) != 0)
			return r;
	}
	return pgl_buf_put(b, "\";\n", 3);
}

int
cfg_save(const struct pgl_config *c, struct cli_err *e)
{
	struct pgl_buf *b = NULL;
	char dir[4096], parent[4096], path[4200], *slash;
	static const char head[] = "# pgl client configuration, written by "
	    "pgl login.  It holds your token: keep it 0600.\n";
	int r;

	if ((r = cfg_dir(dir, sizeof(dir))) != 0) {
		cli_seterr(e, PGL_EXIT_ERROR, "no home directory for the "
		    "configuration");
		return r;
	}
	/* The parent (~/.config) may be missing on a fresh account. */
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0700) == -1 && errno != EEXIST) {
			cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", parent,
			    strerror(errno));
			return PGL_E_SYSTEM;
		}
	}
	if ((r = mkdir_private(dir)) != 0) {
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", dir, r == PGL_E_SYSTEM ?
		    strerror(errno) : "not a directory of yours");
		return r;
	}
	snprintf(path, sizeof(path), "%s/config", dir);
	if ((b = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto fail;
	}
	if ((r = pgl_buf_put(b, head, strlen(head))) != 0 ||
	    (r = put_setting(b, "signer", c->signer)) != 0 ||
	    (r = put_setting(b, "pin", c->pin)) != 0 ||
	    (r = put_setting(b, "cafile", c->cafile)) != 0 ||
	    (r = put_setting(b, "token", c->token)) != 0 ||
	    (r = pgl_file_write_atomic(path, pgl_buf_ptr(b), pgl_buf_len(b),
	    0600, 0)) != 0)
		goto fail;
	pgl_buf_free(b);
	return 0;
 fail:
	cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path, r == PGL_E_SYSTEM ?
	    strerror(errno) : pgl_strerror(r));
	pgl_buf_free(b);        /* wiped */
	return r;
}

int
cfg_remove(struct cli_err *e)
{
	char dir[4096], path[4200];

	if (cfg_dir(dir, sizeof(dir)) != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/config", dir);
	if (unlink(path) == -1 && errno != ENOENT) {
		cli_seterr(e, PGL_EXIT_ERROR, "%s: %s", path, strerror(errno));
		return PGL_E_SYSTEM;
	}
	return 0;
}
