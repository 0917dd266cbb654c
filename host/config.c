/* host.conf and the file layout.  host.conf is libconfig syntax, written
 * by `pgl-host enroll` and read by every command:
 *
 *   signer = "https://signer.example.com:8443";
 *   pin = "sha256//...";            # or ca_file = "/path/ca.pem";
 *   host = "vm-01";
 *   host_key = "/etc/ssh/ssh_host_ed25519_key.pub";
 *   max_stale = 86400; negative_ttl = 60; resolve_rate = 60;
 *
 * --root DIR prefixes every path pgl-host touches (image building and
 * tests); the paths written into files stay as the system sees them. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "pgl-config.h"
#include "err.h"
#include "fileio.h"
#include "text.h"
#include "host.h"

#define CRED_MAX 512

static int
set(struct host_config *c, char *out, const char *path, struct host_err *e)
{
	if (root_path(c->root, path, out, PATH_MAX) != 0)
		return herr(e, "path too long: %s%s", c->root, path);
	return 0;
}

int
hconf_init(struct host_config *c, const char *root, const char *conf,
    struct host_err *e)
{
	struct host_paths *p = &c->p;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (root != NULL) {
		if (root[0] != '/')
			return herr(e, "--root must be an absolute path");
		n = strlen(root);
		while (n > 1 && root[n - 1] == '/')
			n--;
		if (n == 1)
			n = 0;          /* "/" is no prefix */
		if (n >= sizeof(c->root))
			return herr(e, "--root too long");
		memcpy(c->root, root, n);
		c->root[n] = '\0';
	}
	c->max_stale = 86400;
	c->negative_ttl = 60;
	c->resolve_rate = 60;
	c->timeout = 30;
	if (set(c, p->conf, conf != NULL ? conf : HOST_CONFIG_DEFAULT, e) ||
	    set(c, p->statedir, PGL_STATEDIR, e) ||
	    set(c, p->credential, PGL_STATEDIR "/credential", e) ||
	    set(c, p->host_ca, PGL_STATEDIR "/host_ca.pub", e) ||
	    set(c, p->cache, PGL_CACHE_PATH, e) ||
	    set(c, p->shadow, PGL_SHADOW_PATH, e) ||
	    set(c, p->etag, PGL_STATEDIR "/directory.etag", e) ||
	    set(c, p->krl_etag, PGL_STATEDIR "/krl.etag", e) ||
	    set(c, p->sync_state, PGL_STATEDIR "/sync-state", e) ||
	    set(c, p->resolve_state, PGL_STATEDIR "/resolve-state", e) ||
	    set(c, p->sync_lock, PGL_STATEDIR "/sync.lock", e) ||
	    set(c, p->cache_lock, PGL_STATEDIR "/cache.lock", e) ||
	    set(c, p->resolve_lock, PGL_STATEDIR "/resolve.lock", e) ||
	    set(c, p->user_ca, HOST_USER_CA_PATH, e) ||
	    set(c, p->krl, HOST_KRL_PATH, e) ||
	    set(c, p->sshd_config, HOST_SSHD_CONFIG, e) ||
	    set(c, p->sshd_snippet, HOST_SSHD_SNIPPET, e) ||
	    set(c, p->sshd_pid, HOST_SSHD_PID, e) ||
	    set(c, p->sudoers_d, HOST_SUDOERS_D, e) ||
	    set(c, p->nsswitch, HOST_NSSWITCH, e) ||
	    set(c, p->passwd, "/etc/passwd", e) ||
	    set(c, p->group, "/etc/group", e) ||
	    set(c, p->pam_d, HOST_PAM_D, e) ||
	    set(c, p->pam_profile, HOST_PAM_PROFILE, e))
		return -1;
	if ((c->host_key = strdup(HOST_HOST_KEY_DEFAULT)) == NULL)
		return herr(e, "out of memory");
	return hconf_paths(c, e);
}

int
hconf_paths(struct host_config *c, struct host_err *e)
{
	char cert[PATH_MAX];
	size_t n = strlen(c->host_key);

	if (c->host_key[0] != '/' || n < 5 ||
	    strcmp(c->host_key + n - 4, ".pub") != 0 || n >= PATH_MAX - 16)
		return herr(e, "host_key must be an absolute path ending in .pub");
	/* sshd's convention: KEY.pub's certificate is KEY-cert.pub. */
	snprintf(cert, sizeof(cert), "%.*s-cert.pub", (int)(n - 4), c->host_key);
	if (set(c, c->p.host_key, c->host_key, e) ||
	    set(c, c->p.host_cert, cert, e))
		return -1;
	return 0;
}

int
hconf_pin_valid(const char *pin)
{
	const char *s = pin;
	size_t n;

	/* Only the hash form: curl reads anything else as a file name. */
	for (;;) {
		if (strncmp(s, "sha256//", 8) != 0)
			return 0;
		s += 8;
		n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/=");
		if (n != 44 || s[43] != '=' || s[42] == '=')
			return 0;
		s += n;
		if (*s == '\0')
			return 1;
		if (*s++ != ';')
			return 0;
	}
}

static int
get_str(config_t *cf, const char *key, char **out, struct host_err *e)
{
	config_setting_t *s = config_lookup(cf, key);
	const char *v;

	if (s == NULL)
		return 0;
	if ((v = config_setting_get_string(s)) == NULL)
		return herr(e, "%s must be a string", key);
	if (pgl_has_ctrl(v) || strlen(v) > 4096)
		return herr(e, "%s holds a control character or is too long", key);
	free(*out);
	if ((*out = strdup(v)) == NULL)
		return herr(e, "out of memory");
	return 0;
}

static int
get_uint(config_t *cf, const char *key, uint64_t min, uint64_t max,
    uint64_t *out, struct host_err *e)
{
	config_setting_t *s = config_lookup(cf, key);
	long long v;

	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return herr(e, "%s must be an integer", key);
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return herr(e, "%s must be between %llu and %llu", key,
		    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

static const char *const known[] = {
	"signer", "pin", "ca_file", "host", "host_key", "max_stale",
	"negative_ttl", "resolve_rate", "timeout", "uid_min", "uid_max", NULL
};

int
hconf_load(struct host_config *c, int required, struct host_err *e)
{
	config_t cf;
	config_setting_t *root;
	uint64_t umin = 0, umax = 0;
	struct stat st;
	const char *name;
	int i, j, r = -1;

	if (stat(c->p.conf, &st) != 0) {
		if (errno == ENOENT && !required)
			return 0;
		if (errno == ENOENT)
			return herr(e, "%s does not exist: enroll this host first "
			    "(pgl-host enroll --signer URL --token TOKEN)", c->p.conf);
		return herr(e, "%s: %s", c->p.conf, strerror(errno));
	}
	config_init(&cf);
	if (!config_read_file(&cf, c->p.conf)) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			herr(e, "%s: cannot read", c->p.conf);
		else
			herr(e, "%s:%d: %s", c->p.conf,
			    config_error_line(&cf), config_error_text(&cf));
		goto out;
	}
	root = config_root_setting(&cf);
	for (i = 0; i < config_setting_length(root); i++) {
		name = config_setting_name(config_setting_get_elem(root,
		    (unsigned)i));
		for (j = 0; known[j] != NULL; j++)
			if (name != NULL && strcmp(name, known[j]) == 0)
				break;
		if (known[j] == NULL) {
			herr(e, "%s: unknown setting '%s'", c->p.conf,
			    name != NULL ? name : "?");
			goto out;
		}
	}
	if (get_str(&cf, "signer", &c->signer, e) ||
	    get_str(&cf, "pin", &c->pin, e) ||
	    get_str(&cf, "ca_file", &c->ca_file, e) ||
	    get_str(&cf, "host", &c->host, e) ||
	    get_str(&cf, "host_key", &c->host_key, e) ||
	    get_uint(&cf, "max_stale", 60, 365 * 86400ULL, &c->max_stale, e) ||
	    get_uint(&cf, "negative_ttl", 0, 86400, &c->negative_ttl, e) ||
	    get_uint(&cf, "resolve_rate", 1, 100000, &c->resolve_rate, e) ||
	    get_uint(&cf, "timeout", 1, 600, &c->timeout, e) ||
	    get_uint(&cf, "uid_min", 1000, UINT32_MAX - 1, &umin, e) ||
	    get_uint(&cf, "uid_max", 1000, UINT32_MAX - 1, &umax, e))
		goto out;
	if ((umin == 0) != (umax == 0) || umin > umax) {
		herr(e, "%s: set both uid_min and uid_max, uid_min <= uid_max",
		    c->p.conf);
		goto out;
	}
	c->uid_min = (uint32_t)umin;
	c->uid_max = (uint32_t)umax;
	if (c->pin != NULL && !hconf_pin_valid(c->pin)) {
		herr(e, "%s: pin must be sha256//<base64 of 32 bytes>", c->p.conf);
		goto out;
	}
	if (required && (c->signer == NULL || c->host == NULL)) {
		herr(e, "%s: signer and host must be set (pgl-host enroll "
		    "writes them)", c->p.conf);
		goto out;
	}
	if (hconf_paths(c, e) != 0)
		goto out;
	r = 0;
 out:
	config_destroy(&cf);
	return r;
}

/* A libconfig string literal. */
static int
put_str(FILE *f, const char *key, const char *v)
{
	if (v == NULL)
		return 0;
	fprintf(f, "%s = \"", key);
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', f);
		fputc(*v, f);
	}
	return fputs("\";\n", f) < 0 ? -1 : 0;
}

int
hconf_format(const struct host_config *c, char **out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&text, &len)) == NULL)
		return PGL_E_NOMEM;
	fputs("# pgl-host(8) configuration, written by `pgl-host enroll`.\n"
	    "# The credential is in " PGL_STATEDIR "/credential (root only).\n", f);
	put_str(f, "signer", c->signer);
	put_str(f, "pin", c->pin);
	put_str(f, "ca_file", c->ca_file);
	put_str(f, "host", c->host);
	put_str(f, "host_key", c->host_key);
	fprintf(f, "# Seconds a user stays resolvable without reaching the signer.\n"
	    "max_stale = %llu;\n", (unsigned long long)c->max_stale);
	fprintf(f, "# Seconds an unknown name is answered without asking.\n"
	    "negative_ttl = %llu;\n", (unsigned long long)c->negative_ttl);
	fprintf(f, "# At most this many resolver requests to the signer a minute.\n"
	    "resolve_rate = %llu;\n", (unsigned long long)c->resolve_rate);
	fprintf(f, "timeout = %llu;\n", (unsigned long long)c->timeout);
	if (c->uid_min != 0)
		fprintf(f, "uid_min = %u;\nuid_max = %u;\n", c->uid_min,
		    c->uid_max);
	if (fclose(f) != 0) {
		free(text);
		return PGL_E_NOMEM;
	}
	*out = text;
	return 0;
}

void
hconf_free(struct host_config *c)
{
	if (c == NULL)
		return;
	free(c->signer);
	free(c->pin);
	free(c->ca_file);
	free(c->host);
	free(c->host_key);
	c->signer = c->pin = c->ca_file = c->host = c->host_key = NULL;
}

int
credential_read(const struct host_config *c, char **out, struct host_err *e)
{
	struct pgl_buf *b = NULL;
	struct stat st;
	char *s = NULL;
	size_t n;
	int fd, r;

	if ((fd = open(c->p.credential, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return herr(e, "%s: %s%s", c->p.credential, strerror(errno),
		    errno == ENOENT ? " (is this host enrolled?)" : "");
	if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return herr(e, "%s: refusing a credential readable by others "
		    "(mode must be 0600)", c->p.credential);
	}
	close(fd);
	if ((r = pgl_file_read(c->p.credential, CRED_MAX, &b)) != 0)
		return herr(e, "%s: %s", c->p.credential, pgl_strerror(r));
	n = pgl_buf_len(b);
	while (n > 0 && pgl_buf_ptr(b)[n - 1] == '\n')
		n--;
	if (n == 0 || pgl_has_ctrl_n((const char *)pgl_buf_ptr(b), n) ||
	    memchr(pgl_buf_ptr(b), ' ', n) != NULL ||
	    (s = malloc(n + 1)) == NULL) {
		pgl_buf_free(b);
		return herr(e, "%s: not a credential", c->p.credential);
	}
	memcpy(s, pgl_buf_ptr(b), n);
	s[n] = '\0';
	pgl_buf_free(b);        /* wipes */
	*out = s;
	return 0;
}

void
credential_free(char *cred)
{
	if (cred == NULL)
		return;
	explicit_bzero(cred, strlen(cred));
	free(cred);
}
