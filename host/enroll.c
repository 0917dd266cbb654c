/* pgl-host enroll: trade a one-time enrollment token and the SSH host
 * key for a host credential, a host certificate, the CA keys and the
 * KRL, and point sshd at them.  Everything is fetched and checked before
 * the first file is written; then all files are staged and renamed into
 * place together. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pgl-config.h"
#include "err.h"
#include "fileio.h"
#include "sshkey.h"
#include "text.h"
#include "certinfo.h"
#include "configure.h"
#include "http.h"
#include "state.h"

#define TOKEN_MAX 256
#define ENROLL_MAX (1024 * 1024)
#define KRL_MAX (64u * 1024 * 1024)

struct staged {
	const char *path;
	char *tmp;
};

static int
read_token(const char *arg, char *out, size_t n, struct host_err *e)
{
	size_t len;

	if (strcmp(arg, "-") == 0) {
		/* From stdin: the token stays out of ps and shell history. */
		if (fgets(out, (int)n, stdin) == NULL)
			return herr(e, "no token on standard input");
	} else if (strlen(arg) >= n)
		return herr(e, "token too long");
	else
		strcpy(out, arg);
	len = strcspn(out, "\r\n");
	out[len] = '\0';
	if (len == 0 || pgl_has_ctrl(out) || strchr(out, ' ') != NULL)
		return herr(e, "the token must be one word of printable characters");
	return 0;
}

static int
host_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' ||
		    s[i] == '_'))
			return 0;
	return 1;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) || pgl_has_ctrl(s))
		return NULL;
	return s;
}

/* An array of 1..16 public key lines, each parsed; keys optional. */
static int
jkeys(json_object *o, const char *key, const char **lines, size_t *n,
    struct pgl_key **keys, struct host_err *e)
{
	json_object *a, *v;
	size_t i, len;
	const char *s;
	struct pgl_key *k;
	int r;

	if (!json_object_object_get_ex(o, key, &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (len = json_object_array_length(a)) == 0 || len > 16)
		return herr(e, "enroll response: \"%s\" must be 1 to 16 keys", key);
	for (i = 0; i < len; i++) {
		v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string) ||
		    (s = json_object_get_string(v)) == NULL ||
		    (size_t)json_object_get_string_len(v) != strlen(s) ||
		    pgl_has_ctrl(s))
			return herr(e, "enroll response: bad \"%s\"", key);
		if ((r = pgl_key_parse_public_line(s, strlen(s), &k, NULL)) != 0)
			return herr(e, "enroll response: %s[%zu]: %s", key, i,
			    pgl_strerror(r));
		if (keys != NULL)
			keys[i] = k;
		else
			pgl_key_free(k);
		lines[i] = s;
	}
	*n = len;
	return 0;
}

static int
stage(struct staged *s, size_t *n, const char *path, const void *p,
    size_t len, mode_t mode, struct host_err *e)
{
	int r;

	if (mkparents(path, 0755) != 0)
		return herr(e, "%s: cannot create its directory: %s", path,
		    strerror(errno));
	if ((r = pgl_file_stage(path, p, len, mode, &s[*n].tmp)) != 0)
		return herr(e, "%s: %s", path, pgl_strerror(r));
	s[(*n)++].path = path;
	return 0;
}

static int
sshd_snippet(const struct host_config *c, char **out)
{
	char cert[PATH_MAX];
	size_t n = strlen(c->host_key);

	snprintf(cert, sizeof(cert), "%.*s-cert.pub", (int)(n - 4), c->host_key);
	if (asprintf(out,
	    "# Written by pgl-host enroll (pgl-host(8)); checked by pgl-host status.\n"
	    "# Certificates from the pgl user CA log in as the user their\n"
	    "# host-bound principal names; principals reads only the pgl cache.\n"
	    "TrustedUserCAKeys %s\n"
	    "RevokedKeys %s\n"
	    "HostCertificate %s\n"
	    "AuthorizedPrincipalsCommand %s %%u\n"
	    "AuthorizedPrincipalsCommandUser %s\n"
	    "UsePAM yes\n"
	    "# pam_pgl logs the certificate's key ID and serial from SSH_AUTH_INFO_0.\n"
	    "ExposeAuthInfo yes\n",
	    HOST_USER_CA_PATH, HOST_KRL_PATH, cert, PGL_PRINCIPALS_PATH,
	    HOST_PRINCIPALS_USER) < 0)
		return PGL_E_NOMEM;
	return 0;
}

int
cmd_enroll(struct host_config *c, int argc, char **argv)
{
	struct host_err e = { "" }, ce = { "" };
	const char *signer = NULL, *tokarg = NULL, *pin = NULL, *ca_file = NULL;
	const char *host_key = NULL, *host, *cred = NULL, *certline;
	const char *user_ca[16], *host_ca[16];
	struct pgl_key *key = NULL, *hcas[16] = { NULL };
	struct pgl_buf *kb = NULL;
	struct http_resp resp = { 0 }, krl = { 0 };
	struct http_req rq;
	struct certinfo ci;
	struct staged st[8];
	json_object *body = NULL, *o = NULL;
	json_tokener *tok = NULL;
	char token[TOKEN_MAX], *key_line = NULL, *conf_text = NULL;
	char *snippet = NULL, *cert_text = NULL, *cred_text = NULL;
	char *ca_text = NULL, *hca_text = NULL;
	size_t nuser_ca = 0, nhost_ca = 0, nst = 0, i, len;
	int configure = 0, rc = 1, r, changed = 0;

	memset(st, 0, sizeof(st));
	memset(token, 0, sizeof(token));
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--signer") == 0 && i + 1 < (size_t)argc)
			signer = argv[++i];
		else if (strcmp(argv[i], "--token") == 0 && i + 1 < (size_t)argc)
			tokarg = argv[++i];
		else if (strcmp(argv[i], "--pin") == 0 && i + 1 < (size_t)argc)
			pin = argv[++i];
		else if (strcmp(argv[i], "--ca-file") == 0 && i + 1 < (size_t)argc)
			ca_file = argv[++i];
		else if (strcmp(argv[i], "--host-key") == 0 && i + 1 < (size_t)argc)
			host_key = argv[++i];
		else if (strcmp(argv[i], "--configure") == 0)
			configure = 1;
		else {
			fprintf(stderr, "%s enroll: unknown or incomplete option "
			    "'%s'\n", HOST_PROG, argv[i]);
			return 2;
		}
	}
	if (signer == NULL || tokarg == NULL) {
		fprintf(stderr, "%s enroll: --signer URL and --token TOKEN are "
		    "required\n", HOST_PROG);
		return 2;
	}
	/* Settings an operator put in host.conf beforehand are kept. */
	if (hconf_load(c, 0, &e) != 0)
		goto out;
	if (strncmp(signer, "https://", 8) != 0 || pgl_has_ctrl(signer) ||
	    strchr(signer, ' ') != NULL || strlen(signer) > 1024) {
		herr(&e, "--signer must be an https:// URL");
		goto out;
	}
	if (pin != NULL && !hconf_pin_valid(pin)) {
		herr(&e, "--pin must be sha256//<base64 of 32 bytes>, as "
		    "pgl-signer init prints it");
		goto out;
	}
	if (ca_file != NULL && ca_file[0] != '/') {
		herr(&e, "--ca-file must be an absolute path");
		goto out;
	}
	free(c->signer);
	if ((c->signer = strdup(signer)) == NULL)
		goto nomem;
	len = strlen(c->signer);
	while (len > 8 && c->signer[len - 1] == '/')
		c->signer[--len] = '\0';
	if (pin != NULL || ca_file != NULL) {
		free(c->pin);
		free(c->ca_file);
		c->pin = pin != NULL ? strdup(pin) : NULL;
		c->ca_file = ca_file != NULL ? strdup(ca_file) : NULL;
		if ((pin != NULL && c->pin == NULL) ||
		    (ca_file != NULL && c->ca_file == NULL))
			goto nomem;
	}
	if (host_key != NULL) {
		free(c->host_key);
		if ((c->host_key = strdup(host_key)) == NULL)
			goto nomem;
	}
	if (hconf_paths(c, &e) != 0 ||
	    read_token(tokarg, token, sizeof(token), &e) != 0)
		goto out;

	if ((r = pgl_file_read(c->p.host_key, 64 * 1024, &kb)) != 0) {
		herr(&e, "%s: %s", c->p.host_key, pgl_strerror(r));
		goto out;
	}
	if ((r = pgl_key_parse_public_line((const char *)pgl_buf_ptr(kb),
	    pgl_buf_len(kb), &key, NULL)) != 0 ||
	    (r = pgl_key_format_public_line(key, NULL, &key_line)) != 0) {
		herr(&e, "%s: %s", c->p.host_key, pgl_strerror(r));
		goto out;
	}
	if ((body = json_object_new_object()) == NULL)
		goto nomem;
	json_object_object_add(body, "host_key", json_object_new_string(key_line));

	memset(&rq, 0, sizeof(rq));
	rq.method = "POST";
	rq.path = "/v1/hosts/enroll";
	rq.bearer = token;
	rq.body = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	rq.timeout_ms = (long)c->timeout * 1000;
	rq.max = ENROLL_MAX;
	if (http_request(c, &rq, &resp, &e) != 0)
		goto out;
	if (resp.status != 200) {
		http_error(&resp, "enroll", &e);
		goto out;
	}
	if ((tok = json_tokener_new_ex(4)) == NULL)
		goto nomem;
	o = json_tokener_parse_ex(tok, (const char *)pgl_buf_ptr(resp.body),
	    (int)pgl_buf_len(resp.body));
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    json_tokener_get_parse_end(tok) != pgl_buf_len(resp.body)) {
		herr(&e, "enroll response: not a JSON object");
		goto out;
	}
	if ((host = jstr(o, "host")) == NULL || !host_name_ok(host)) {
		herr(&e, "enroll response: missing or invalid \"host\"");
		goto out;
	}
	if ((cred = jstr(o, "credential")) == NULL || strlen(cred) > 256 ||
	    strlen(cred) < 16 || strchr(cred, ' ') != NULL) {
		herr(&e, "enroll response: missing or invalid \"credential\"");
		goto out;
	}
	if ((certline = jstr(o, "host_certificate")) == NULL) {
		herr(&e, "enroll response: missing \"host_certificate\"");
		goto out;
	}
	if (jkeys(o, "user_ca", user_ca, &nuser_ca, NULL, &e) != 0 ||
	    jkeys(o, "host_ca", host_ca, &nhost_ca, hcas, &e) != 0)
		goto out;
	if (certinfo_parse(certline, strlen(certline), key, hcas, nhost_ca,
	    &ci, &ce) != 0 || ci.type != CERT_TYPE_HOST) {
		herr(&e, "enroll response: host certificate: %s",
		    ce.msg[0] != '\0' ? ce.msg : "not a host certificate");
		goto out;
	}
	free(c->host);
	if ((c->host = strdup(host)) == NULL)
		goto nomem;

	/* The KRL is public: no credential needed, but verified TLS. */
	memset(&rq, 0, sizeof(rq));
	rq.method = "GET";
	rq.path = "/v1/krl";
	rq.timeout_ms = (long)c->timeout * 1000;
	rq.max = KRL_MAX;
	if (http_request(c, &rq, &krl, &e) != 0)
		goto out;
	if (krl.status != 200) {
		http_error(&krl, "GET /v1/krl", &e);
		goto out;
	}
	if (!krl_valid(pgl_buf_ptr(krl.body), pgl_buf_len(krl.body))) {
		herr(&e, "GET /v1/krl: not an OpenSSH KRL");
		goto out;
	}

	/* All checked: write.  The credential first, so that a crash
	 * leaves a host that can retry without a new token. */
	if (asprintf(&cred_text, "%s\n", cred) < 0 ||
	    asprintf(&cert_text, "%s\n", certline) < 0 ||
	    hconf_format(c, &conf_text) != 0 || sshd_snippet(c, &snippet) != 0)
		goto nomem;
	len = 0;
	for (i = 0; i < nuser_ca; i++)
		len += strlen(user_ca[i]) + 1;
	if ((ca_text = calloc(1, len + 1)) == NULL)
		goto nomem;
	for (i = 0; i < nuser_ca; i++) {
		strcat(ca_text, user_ca[i]);
		strcat(ca_text, "\n");
	}
	len = 0;
	for (i = 0; i < nhost_ca; i++)
		len += strlen(host_ca[i]) + 1;
	if ((hca_text = calloc(1, len + 1)) == NULL)
		goto nomem;
	for (i = 0; i < nhost_ca; i++) {
		strcat(hca_text, host_ca[i]);
		strcat(hca_text, "\n");
	}
	if (stage(st, &nst, c->p.credential, cred_text, strlen(cred_text),
	    0600, &e) != 0 ||
	    stage(st, &nst, c->p.conf, conf_text, strlen(conf_text), 0644, &e) ||
	    stage(st, &nst, c->p.host_ca, hca_text, strlen(hca_text), 0644, &e) ||
	    stage(st, &nst, c->p.user_ca, ca_text, strlen(ca_text), 0644, &e) ||
	    stage(st, &nst, c->p.host_cert, cert_text, strlen(cert_text),
	    0644, &e) ||
	    stage(st, &nst, c->p.krl, pgl_buf_ptr(krl.body),
	    pgl_buf_len(krl.body), 0644, &e) ||
	    stage(st, &nst, c->p.sshd_snippet, snippet, strlen(snippet),
	    0644, &e))
		goto out;
	for (i = 0; i < nst; i++) {
		if ((r = pgl_file_commit(st[i].tmp, st[i].path, 0)) != 0) {
			herr(&e, "%s: %s", st[i].path, pgl_strerror(r));
			goto out;
		}
		free(st[i].tmp);
		st[i].tmp = NULL;
	}
	/* A new enrollment starts the caches over. */
	(void)unlink(c->p.etag);
	if (krl.etag[0] != '\0')
		(void)state_write(c->p.krl_etag, krl.etag, 0644, NULL);
	else
		(void)unlink(c->p.krl_etag);

	printf("enrolled as %s with %s\n", c->host, c->signer);
	printf("  host certificate %s (serial %llu, valid until %llu)\n",
	    c->p.host_cert, (unsigned long long)ci.serial,
	    (unsigned long long)ci.valid_before);
	printf("  user CA keys %s, KRL %s, sshd settings %s\n", c->p.user_ca,
	    c->p.krl, c->p.sshd_snippet);
	printf("  credential %s (root only), settings %s\n", c->p.credential,
	    c->p.conf);
	rc = configure_system(c, configure, &changed) == 0 ? 0 : 1;
	printf("next: pgl-host sync (the pgl-host-sync.timer runs it every "
	    "minute), then reload sshd\n");
	goto out;
 nomem:
	herr(&e, "out of memory");
 out:
	if (rc != 0 && e.msg[0] != '\0')
		fprintf(stderr, "%s enroll: %s\n", HOST_PROG, e.msg);
	for (i = 0; i < nst; i++)
		pgl_file_abort(st[i].tmp);
	explicit_bzero(token, sizeof(token));
	if (cred_text != NULL) {
		explicit_bzero(cred_text, strlen(cred_text));
		free(cred_text);
	}
	/* json-c does not wipe what it frees. */
	if (cred != NULL)
		explicit_bzero((char *)(uintptr_t)cred, strlen(cred));
	for (i = 0; i < 16; i++)
		pgl_key_free(hcas[i]);
	json_object_put(o);
	json_object_put(body);
	if (tok != NULL)
		json_tokener_free(tok);
	http_resp_free(&resp);
	http_resp_free(&krl);
	pgl_key_free(key);
	pgl_buf_free(kb);
	free(key_line);
	free(conf_text);
	free(snippet);
	free(cert_text);
	free(ca_text);
	free(hca_text);
	return rc;
}
