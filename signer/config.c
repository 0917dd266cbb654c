/* pgl-signer.conf: the service's own settings (see config.h for the
 * keys and pgl-signer.conf(5) for their meaning). */
#include <arpa/inet.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "err.h"
#include "lcfg.h"
#include "text.h"

#define CONFIG_FILE_MAX         (1024 * 1024)
#define UID_MIN_FLOOR           1000
#define UID_LIMIT               2147483647u     /* 2^31 - 1, exclusive */

static const char *const config_keys[] = {
	"listen", "tls", "tls_cert", "tls_key", "ca_dir", "state_dir", "policy",
	"audit_log", "uid_min", "uid_max", "home_base", "default_shell",
	"workers", "max_body", "request_timeout", "rate_limit", "rate_burst",
	"metrics_public", "enroll_token_ttl", "host_cert_ttl", NULL,
};

void
pgl_config_free(struct pgl_signer_config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->ca_dir);
	free(c->state_dir);
	free(c->policy);
	free(c->audit_log);
	free(c->home_base);
	free(c->default_shell);
	free(c);
}

static int
nomem(const struct lcfg *l, const config_setting_t *s)
{
	return lcfg_fail(l, s, PGL_E_NOMEM, "%s", pgl_strerror(PGL_E_NOMEM));
}

/* v relative to dir, unless absolute. */
static int
resolve(const struct lcfg *l, const config_setting_t *s, const char *dir,
    const char *key, const char *v, char **out)
{
	char *p = NULL;

	if (*v == '\0' || pgl_has_ctrl(v))
		return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "%s must be a "
		    "path without control characters", key);
	if (*v == '/')
		p = strdup(v);
	else if (asprintf(&p, "%s/%s", dir, v) < 0)
		p = NULL;
	if (p == NULL)
		return nomem(l, s);
	free(*out);
	*out = p;
	return 0;
}

/* A path on the target hosts (not resolved here): absolute, normalized,
 * and free of what passwd(5) or a shell would split on. */
static int
host_path(const struct lcfg *l, const config_setting_t *s, const char *key,
    const char *v, char **out)
{
	size_t i, len = strlen(v);
	char *p;

	if (len < 2 || len > PATH_MAX || v[0] != '/' || v[len - 1] == '/' ||
	    strstr(v, "//") != NULL || strstr(v, "/./") != NULL ||
	    strstr(v, "/../") != NULL || (len >= 2 &&
	    strcmp(v + len - 2, "/.") == 0) || (len >= 3 &&
	    strcmp(v + len - 3, "/..") == 0))
		goto bad;
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] <= 0x20 || v[i] == 0x7f || v[i] == ':')
			goto bad;
	if ((p = strdup(v)) == NULL)
		return nomem(l, s);
	free(*out);
	*out = p;
	return 0;
 bad:
	return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "%s '%s' must be a "
	    "normalized absolute path (not \"/\", no spaces or ':')", key, v);
}

static int
valid_hostname(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 253 || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return 0;
	return 1;
}

/* "host:port", "[v6]:port" or "unix:/path"; sets *loopback. */
static int
parse_listen(const struct lcfg *l, const config_setting_t *s, const char *dir,
    const char *v, char **out, int *loopback)
{
	struct in6_addr a6;
	struct in_addr a4;
	char host[256], *path = NULL, *end;
	const char *colon, *hs;
	size_t hlen;
	unsigned long port;
	int r;

	if (strncmp(v, "unix:", 5) == 0) {
		if ((r = resolve(l, s, dir, "listen", v + 5, &path)) != 0)
			return r;
		if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			free(path);
			return lcfg_fail(l, s, PGL_E_TOO_LARGE, "listen: socket "
			    "path is longer than a unix socket allows");
		}
		r = asprintf(out, "unix:%s", path) < 0 ? nomem(l, s) : 0;
		free(path);
		*loopback = 1;
		return r;
	}
	if ((colon = strrchr(v, ':')) == NULL)
		goto bad;
	hs = v;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && hs[0] == '[' && hs[hlen - 1] == ']') {
		hs++;
		hlen -= 2;
	} else if (memchr(hs, ':', hlen) != NULL)
		goto bad;               /* IPv6 needs brackets */
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, hs, hlen);
	host[hlen] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		goto bad;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		goto bad;
	if (hs != v) {
		if (inet_pton(AF_INET6, host, &a6) != 1)
			goto bad;
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	} else if (inet_pton(AF_INET, host, &a4) == 1)
		*loopback = (ntohl(a4.s_addr) >> 24) == 127;
	else if (valid_hostname(host, hlen))
		*loopback = strcmp(host, "localhost") == 0;
	else
		goto bad;
	if ((*out = strdup(v)) == NULL)
		return nomem(l, s);
	return 0;
 bad:
	return lcfg_fail(l, s, PGL_E_BAD_OPTION_VALUE, "listen '%s' must be "
	    "HOST:PORT, [IPV6]:PORT or unix:PATH", v);
}

int
pgl_config_load(const char *path, struct pgl_signer_config **out, char *err,
    size_t errlen)
{
	static const struct {
		const char *key;
		const char *def;
		size_t off;
	} paths[] = {
		{ "tls_cert", "tls.crt", offsetof(struct pgl_signer_config, tls_cert) },
		{ "tls_key", "tls.key", offsetof(struct pgl_signer_config, tls_key) },
		{ "ca_dir", ".", offsetof(struct pgl_signer_config, ca_dir) },
		{ "state_dir", "state", offsetof(struct pgl_signer_config, state_dir) },
		{ "policy", "policy.conf", offsetof(struct pgl_signer_config, policy) },
		{ "audit_log", "audit.log", offsetof(struct pgl_signer_config, audit_log) },
	};
	struct lcfg l;
	const config_setting_t *root, *s, *tls_s, *min_s, *max_s;
	struct pgl_signer_config *c = NULL;
	const char *v, *base;
	char *copy = NULL, *dir = NULL, *slash;
	uint64_t uid_min = 100000, uid_max = 199999, n;
	size_t i;
	int r, loopback = 0;

	if ((r = lcfg_open(&l, path, CONFIG_FILE_MAX, err, errlen)) != 0)
		goto out;
	if ((c = calloc(1, sizeof(*c))) == NULL || (copy = strdup(path)) == NULL) {
		r = nomem(&l, NULL);
		goto out;
	}
	/* Relative paths follow the file, wherever it was named from. */
	if ((slash = strrchr(copy, '/')) != NULL) {
		base = path + (slash - copy) + 1;
		*slash = '\0';
		dir = realpath(slash == copy ? "/" : copy, NULL);
	} else {
		base = path;
		dir = realpath(".", NULL);
	}
	if (dir == NULL) {
		r = lcfg_fail(&l, NULL, PGL_E_SYSTEM, "cannot resolve its "
		    "directory: %s", pgl_strerror(PGL_E_SYSTEM));
		goto out;
	}
	if (asprintf(&c->path, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/",
	    base) < 0) {
		c->path = NULL;
		r = nomem(&l, NULL);
		goto out;
	}
	root = config_root_setting(&l.cf);
	if ((r = lcfg_keys(&l, root, "the configuration", config_keys)) != 0)
		goto out;

	v = "127.0.0.1:8443";
	if ((r = lcfg_string(&l, root, "listen", &s, &v)) != 0 ||
	    (r = parse_listen(&l, s, dir, v, &c->listen, &loopback)) != 0)
		goto out;
	c->tls = 1;
	if ((r = lcfg_bool(&l, root, "tls", &tls_s, &c->tls)) != 0)
		goto out;
	/* Tokens and credentials cross this socket: in clear text only
	 * where nobody else can listen. */
	if (!c->tls && !loopback) {
		r = lcfg_fail(&l, tls_s, PGL_E_NOT_ALLOWED, "tls = false is "
		    "allowed only when listen is on loopback (127.0.0.0/8, ::1, "
		    "localhost) or a unix socket");
		goto out;
	}
	for (i = 0; i < sizeof(paths) / sizeof(*paths); i++) {
		v = paths[i].def;
		if ((r = lcfg_string(&l, root, paths[i].key, &s, &v)) != 0 ||
		    (r = resolve(&l, s, dir, paths[i].key, v,
		    (char **)((char *)c + paths[i].off))) != 0)
			goto out;
	}

	if ((r = lcfg_uint(&l, root, "uid_min", UID_MIN_FLOOR, UID_LIMIT - 1,
	    &min_s, &uid_min)) != 0 ||
	    (r = lcfg_uint(&l, root, "uid_max", UID_MIN_FLOOR, UID_LIMIT - 1,
	    &max_s, &uid_max)) != 0)
		goto out;
	if (uid_min >= uid_max) {
		r = lcfg_fail(&l, max_s != NULL ? max_s : min_s,
		    PGL_E_BAD_OPTION_VALUE, "uid_max (%llu) must be greater "
		    "than uid_min (%llu)", (unsigned long long)uid_max,
		    (unsigned long long)uid_min);
		goto out;
	}
	/* 65534 is nobody/nogroup and 65535 the 16-bit (uid_t)-1: an
	 * allocated user must never be either. */
	if (uid_min <= 65535 && uid_max >= 65534) {
		r = lcfg_fail(&l, max_s != NULL ? max_s : min_s,
		    PGL_E_BAD_OPTION_VALUE, "the uid range %llu-%llu contains "
		    "65534 (nobody) or 65535", (unsigned long long)uid_min,
		    (unsigned long long)uid_max);
		goto out;
	}
	c->uid_min = (uint32_t)uid_min;
	c->uid_max = (uint32_t)uid_max;

	v = "/home";
	if ((r = lcfg_string(&l, root, "home_base", &s, &v)) != 0 ||
	    (r = host_path(&l, s, "home_base", v, &c->home_base)) != 0)
		goto out;
	v = "/bin/bash";
	if ((r = lcfg_string(&l, root, "default_shell", &s, &v)) != 0 ||
	    (r = host_path(&l, s, "default_shell", v, &c->default_shell)) != 0)
		goto out;

	n = 4;
	if ((r = lcfg_uint(&l, root, "workers", 1, 64, NULL, &n)) != 0)
		goto out;
	c->workers = (unsigned)n;
	n = 65536;
	if ((r = lcfg_uint(&l, root, "max_body", 1024, 16 * 1024 * 1024, NULL,
	    &n)) != 0)
		goto out;
	c->max_body = (size_t)n;
	n = 10;
	if ((r = lcfg_uint(&l, root, "request_timeout", 1, 300, NULL, &n)) != 0)
		goto out;
	c->request_timeout = (unsigned)n;
	n = 60;
	if ((r = lcfg_uint(&l, root, "rate_limit", 1, 100000000, NULL, &n)) != 0)
		goto out;
	c->rate_limit = (unsigned)n;
	n = 30;
	if ((r = lcfg_uint(&l, root, "rate_burst", 1, 1000000, NULL, &n)) != 0)
		goto out;
	c->rate_burst = (unsigned)n;
	c->metrics_public = 1;
	if ((r = lcfg_bool(&l, root, "metrics_public", NULL,
	    &c->metrics_public)) != 0)
		goto out;
	n = 3600;
	if ((r = lcfg_uint(&l, root, "enroll_token_ttl", 60, 7 * 86400, NULL,
	    &n)) != 0)
		goto out;
	c->enroll_token_ttl = (uint32_t)n;
	n = 2592000;
	if ((r = lcfg_uint(&l, root, "host_cert_ttl", 3600, 365 * 86400, NULL,
	    &n)) != 0)
		goto out;
	c->host_cert_ttl = (uint32_t)n;
	*out = c;
	c = NULL;
 out:
	pgl_config_free(c);
	free(copy);
	free(dir);
	lcfg_close(&l);
	return r;
}
