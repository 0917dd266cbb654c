/* Parsing of the signer's answers (see response.h). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "err.h"
#include "name.h"
#include "response.h"
#include "sshkey.h"
#include "text.h"

int
pgl_valid_resource_name(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '-' || s[i] == '_'))
			return 0;
	return i <= PGL_RESOURCE_NAME_MAX;
}

int
pgl_valid_address(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '-')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-' || s[i] == '_' || s[i] == ':' || s[i] == '%'))
			return 0;
	return i <= PGL_ADDRESS_MAX;
}

void
pgl_strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
resource_clear(struct pgl_resource_info *r)
{
	free(r->name);
	pgl_strv_free(r->aliases, r->naliases);
	free(r->address);
	free(r->via);
	free(r->principal);
}

static void
resources_free(struct pgl_resource_info *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		resource_clear(&v[i]);
	free(v);
}

void
pgl_me_free(struct pgl_me *me)
{
	if (me == NULL)
		return;
	free(me->identity);
	free(me->username);
	resources_free(me->res, me->nres);
	free(me);
}

void
pgl_signed_free(struct pgl_signed *sg)
{
	if (sg == NULL)
		return;
	free(sg->certificate);
	free(sg->serial);
	free(sg->key_id);
	free(sg->username);
	free(sg->host_ca);
	resources_free(sg->res, sg->nres);
	free(sg);
}

/* The whole text as one JSON object, with a depth limit. */
static int
parse_object(const char *s, size_t n, json_object **out)
{
	json_tokener *tok;
	json_object *o;
	int r = PGL_E_FORMAT;

	if (n > PGL_RESP_MAX)
		return PGL_E_TOO_LARGE;
	if ((tok = json_tokener_new_ex(8)) == NULL)
		return PGL_E_NOMEM;
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == n &&
	    json_object_is_type(o, json_type_object)) {
		*out = o;
		o = NULL;
		r = 0;
	}
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

/* A string member; NULL (and 0) when absent and optional. */
static int
get_str(json_object *o, const char *key, int optional, const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return optional ? 0 : PGL_E_FORMAT;
	if (!json_object_is_type(v, json_type_string))
		return PGL_E_FORMAT;
	*out = json_object_get_string(v);
	/* No NUL inside, no control characters: lines and arguments. */
	if ((size_t)json_object_get_string_len(v) != strlen(*out) ||
	    pgl_has_ctrl(*out))
		return PGL_E_FORMAT;
	return 0;
}

static int
get_int(json_object *o, const char *key, int optional, int64_t lo, int64_t hi,
    int64_t *out)
{
	json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return optional ? 0 : PGL_E_FORMAT;
	if (!json_object_is_type(v, json_type_int))
		return PGL_E_FORMAT;
	*out = json_object_get_int64(v);
	if (*out < lo || *out > hi)
		return PGL_E_FORMAT;
	return 0;
}

static int
dup_str(const char *s, char **out)
{
	*out = NULL;
	if (s == NULL)
		return 0;
	if ((*out = strdup(s)) == NULL)
		return PGL_E_NOMEM;
	return 0;
}

static int
parse_resource(json_object *o, int in_me, struct pgl_resource_info *r)
{
	json_object *a, *e;
	const char *name, *address, *via, *principal, *s;
	int64_t port, ttl;
	size_t i, n;
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return PGL_E_FORMAT;
	if ((ret = get_str(o, "name", 0, &name)) != 0 ||
	    (ret = get_str(o, "address", 0, &address)) != 0 ||
	    (ret = get_str(o, "via", 1, &via)) != 0 ||
	    (ret = get_str(o, "principal", in_me, &principal)) != 0 ||
	    (ret = get_int(o, "port", 0, 1, 65535, &port)) != 0 ||
	    (ret = get_int(o, "ttl_max", 1, 0, UINT32_MAX, &ttl)) != 0)
		return ret;
	if (!pgl_valid_resource_name(name) || !pgl_valid_address(address) ||
	    (via != NULL && !pgl_valid_resource_name(via)))
		return PGL_E_FORMAT;
	if ((ret = dup_str(name, &r->name)) != 0 ||
	    (ret = dup_str(address, &r->address)) != 0 ||
	    (ret = dup_str(via, &r->via)) != 0 ||
	    (ret = dup_str(principal, &r->principal)) != 0)
		return ret;
	r->port = (unsigned)port;
	r->ttl_max = (uint32_t)ttl;
	if (!json_object_object_get_ex(o, "aliases", &a) || a == NULL)
		return 0;
	if (!json_object_is_type(a, json_type_array) ||
	    (n = json_object_array_length(a)) > PGL_ALIASES_MAX)
		return PGL_E_FORMAT;
	if (n == 0)
		return 0;
	if ((r->aliases = calloc(n, sizeof(*r->aliases))) == NULL)
		return PGL_E_NOMEM;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string))
			return PGL_E_FORMAT;
		s = json_object_get_string(e);
		if (!pgl_valid_resource_name(s))
			return PGL_E_FORMAT;
		if ((r->aliases[i] = strdup(s)) == NULL)
			return PGL_E_NOMEM;
		r->naliases = i + 1;
	}
	return 0;
}

static int
parse_resources(json_object *o, int in_me, struct pgl_resource_info **out,
    size_t *nout)
{
	struct pgl_resource_info *v = NULL;
	json_object *a;
	size_t i, n;
	int r;

	if (!json_object_object_get_ex(o, "resources", &a) ||
	    !json_object_is_type(a, json_type_array))
		return PGL_E_FORMAT;
	if ((n = json_object_array_length(a)) > PGL_RESOURCES_MAX)
		return PGL_E_TOO_LARGE;
	if (n > 0 && (v = calloc(n, sizeof(*v))) == NULL)
		return PGL_E_NOMEM;
	for (i = 0; i < n; i++) {
		if ((r = parse_resource(json_object_array_get_idx(a, i), in_me,
		    &v[i])) != 0) {
			resources_free(v, i + 1);
			return r;
		}
	}
	*out = v;
	*nout = n;
	return 0;
}

/* A public key line pgl can parse (so known_hosts gets one clean line). */
static int
valid_key_line(const char *s)
{
	struct pgl_key *k = NULL;
	int r;

	r = pgl_key_parse_public_line(s, strlen(s), &k, NULL);
	pgl_key_free(k);
	return r == 0;
}

int
pgl_resp_me(const char *s, size_t n, struct pgl_me **out)
{
	struct pgl_me *me = NULL;
	json_object *o = NULL;
	const char *identity, *username;
	int r;

	if ((r = parse_object(s, n, &o)) != 0)
		return r;
	if ((me = calloc(1, sizeof(*me))) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = get_str(o, "identity", 0, &identity)) != 0 ||
	    (r = get_str(o, "username", 1, &username)) != 0)
		goto out;
	r = PGL_E_FORMAT;
	if (*identity == '\0' || strlen(identity) > 256 ||
	    (username != NULL && !pgl_username_valid(username)))
		goto out;
	if ((r = dup_str(identity, &me->identity)) != 0 ||
	    (r = dup_str(username, &me->username)) != 0 ||
	    (r = parse_resources(o, 1, &me->res, &me->nres)) != 0)
		goto out;
	*out = me;
	me = NULL;
 out:
	pgl_me_free(me);
	json_object_put(o);
	return r;
}

int
pgl_resp_signed(const char *s, size_t n, struct pgl_signed **out)
{
	struct pgl_signed *sg = NULL;
	json_object *o = NULL;
	const char *cert, *serial, *key_id, *username, *host_ca;
	int64_t va, vb;
	uint64_t cva, cvb;
	size_t i;
	int r;

	if ((r = parse_object(s, n, &o)) != 0)
		return r;
	if ((sg = calloc(1, sizeof(*sg))) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = get_str(o, "certificate", 0, &cert)) != 0 ||
	    (r = get_str(o, "serial", 0, &serial)) != 0 ||
	    (r = get_str(o, "key_id", 0, &key_id)) != 0 ||
	    (r = get_str(o, "username", 0, &username)) != 0 ||
	    (r = get_str(o, "host_ca", 0, &host_ca)) != 0 ||
	    (r = get_int(o, "valid_after", 0, 0, INT64_MAX, &va)) != 0 ||
	    (r = get_int(o, "valid_before", 0, 0, INT64_MAX, &vb)) != 0)
		goto out;
	r = PGL_E_FORMAT;
	if (!pgl_username_valid(username) || !valid_key_line(host_ca) ||
	    strspn(serial, "0123456789") != strlen(serial) || *serial == '\0' ||
	    strlen(serial) > 20 || va >= vb)
		goto out;
	/* The certificate itself must say what the answer says. */
	if (pgl_cert_line_validity(cert, &cva, &cvb) != 0 ||
	    cva != (uint64_t)va || cvb != (uint64_t)vb)
		goto out;
	if ((r = dup_str(cert, &sg->certificate)) != 0 ||
	    (r = dup_str(serial, &sg->serial)) != 0 ||
	    (r = dup_str(key_id, &sg->key_id)) != 0 ||
	    (r = dup_str(username, &sg->username)) != 0 ||
	    (r = dup_str(host_ca, &sg->host_ca)) != 0 ||
	    (r = parse_resources(o, 0, &sg->res, &sg->nres)) != 0)
		goto out;
	r = PGL_E_FORMAT;
	if (sg->nres == 0)
		goto out;
	for (i = 0; i < sg->nres; i++)
		if (sg->res[i].principal == NULL)
			goto out;
	sg->valid_after = (uint64_t)va;
	sg->valid_before = (uint64_t)vb;
	*out = sg;
	sg = NULL;
	r = 0;
 out:
	pgl_signed_free(sg);
	json_object_put(o);
	return r;
}

int
pgl_resp_ca(const char *s, size_t n, char ***host_ca, size_t *nkeys)
{
	json_object *o = NULL, *a, *e;
	char **v = NULL;
	size_t i, len = 0;
	int r;

	if ((r = parse_object(s, n, &o)) != 0)
		return r;
	r = PGL_E_FORMAT;
	if (!json_object_object_get_ex(o, "host_ca", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    (len = json_object_array_length(a)) == 0 || len > 16)
		goto out;
	if ((v = calloc(len, sizeof(*v))) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	for (i = 0; i < len; i++) {
		e = json_object_array_get_idx(a, i);
		if (!json_object_is_type(e, json_type_string) ||
		    pgl_has_ctrl(json_object_get_string(e)) ||
		    !valid_key_line(json_object_get_string(e)))
			goto out;
		if ((v[i] = strdup(json_object_get_string(e))) == NULL) {
			r = PGL_E_NOMEM;
			goto out;
		}
	}
	*host_ca = v;
	*nkeys = len;
	v = NULL;
	r = 0;
 out:
	pgl_strv_free(v, len);
	json_object_put(o);
	return r;
}

int
pgl_resp_error(const char *s, size_t n, char **msg)
{
	json_object *o = NULL, *v;
	char *m, *p;
	int r;

	if ((r = parse_object(s, n, &o)) != 0)
		return r;
	r = PGL_E_FORMAT;
	if (!json_object_object_get_ex(o, "error", &v) ||
	    !json_object_is_type(v, json_type_string))
		goto out;
	if ((m = strndup(json_object_get_string(v), 512)) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	/* It is shown on a terminal: no escape sequences. */
	for (p = m; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	*msg = m;
	r = 0;
 out:
	json_object_put(o);
	return r;
}

const struct pgl_resource_info *
pgl_me_find(const struct pgl_me *me, const char *name)
{
	size_t i, j;

	for (i = 0; i < me->nres; i++) {
		if (strcmp(me->res[i].name, name) == 0)
			return &me->res[i];
		for (j = 0; j < me->res[i].naliases; j++)
			if (strcmp(me->res[i].aliases[j], name) == 0)
				return &me->res[i];
	}
	return NULL;
}

/* Skips the type-specific public key fields of a certificate body. */
static int
skip_key_fields(struct pgl_buf *b, const char *type, size_t tlen)
{
	const uint8_t *p;
	size_t n;
	int r, i, nfields;

#define IS(s) (tlen == strlen(s) && memcmp(type, s, tlen) == 0)
	if (IS("ssh-ed25519-cert-v01@openssh.com"))
		nfields = 1;                    /* pk */
	else if (IS("ecdsa-sha2-nistp256-cert-v01@openssh.com") ||
	    IS("ecdsa-sha2-nistp384-cert-v01@openssh.com") ||
	    IS("ecdsa-sha2-nistp521-cert-v01@openssh.com"))
		nfields = 2;                    /* curve, point */
	else if (IS("ssh-rsa-cert-v01@openssh.com"))
		nfields = 2;                    /* e, n */
	else
		return PGL_E_KEY_TYPE_UNSUPPORTED;
#undef IS
	for (i = 0; i < nfields; i++)
		if ((r = pgl_buf_get_string_direct(b, &p, &n)) != 0)
			return r;
	return 0;
}

int
pgl_cert_line_validity(const char *line, uint64_t *valid_after,
    uint64_t *valid_before)
{
	struct pgl_buf *blob = NULL, *b = NULL;
	const char *sp, *end, *type;
	const uint8_t *p;
	size_t n, tlen;
	uint64_t serial, va, vb;
	uint32_t ctype;
	int r;

	if ((sp = strchr(line, ' ')) == NULL)
		return PGL_E_FORMAT;
	if ((end = strchr(sp + 1, ' ')) == NULL)
		end = sp + 1 + strlen(sp + 1);
	if ((blob = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	if ((r = pgl_b64_decode(sp + 1, (size_t)(end - sp - 1), blob)) != 0)
		goto out;
	if ((b = pgl_buf_from(pgl_buf_ptr(blob), pgl_buf_len(blob))) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_buf_get_string_direct(b, &p, &tlen)) != 0)
		goto out;
	type = (const char *)p;
	r = PGL_E_KEY_TYPE_MISMATCH;
	if (tlen != (size_t)(sp - line) || memcmp(type, line, tlen) != 0)
		goto out;
	if ((r = pgl_buf_get_string_direct(b, &p, &n)) != 0 ||   /* nonce */
	    (r = skip_key_fields(b, type, tlen)) != 0 ||
	    (r = pgl_buf_get_u64(b, &serial)) != 0 ||
	    (r = pgl_buf_get_u32(b, &ctype)) != 0 ||
	    (r = pgl_buf_get_string_direct(b, &p, &n)) != 0 ||   /* key id */
	    (r = pgl_buf_get_string_direct(b, &p, &n)) != 0 ||   /* principals */
	    (r = pgl_buf_get_u64(b, &va)) != 0 ||
	    (r = pgl_buf_get_u64(b, &vb)) != 0)
		goto out;
	r = PGL_E_FORMAT;
	if (ctype != 1)                 /* SSH2_CERT_TYPE_USER */
		goto out;
	*valid_after = va;
	*valid_before = vb;
	r = 0;
 out:
	pgl_buf_free(b);
	pgl_buf_free(blob);
	return r;
}
