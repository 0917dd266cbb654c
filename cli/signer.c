/* The signer's endpoints the client uses, with their answers parsed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "err.h"
#include "pgl.h"

static void
bad_answer(const struct pgl_config *c, const char *path, int r,
    struct cli_err *e)
{
	cli_seterr(e, PGL_EXIT_SIGNER, "the signer at %s sent an answer to "
	    "%s that pgl cannot use (%s)", c->signer, path, pgl_strerror(r));
}

int
signer_me(const struct pgl_config *c, struct pgl_me **out, struct cli_err *e)
{
	struct api_resp resp;
	int r;

	if ((r = api_request(c, "GET", "/v1/me", 1, NULL, &resp, e)) != 0)
		return r;
	api_check_clock(c, resp.date);
	if (resp.status != 200) {
		api_status_err(c, &resp, "/v1/me", e);
		r = PGL_E_NOT_ALLOWED;
		goto out;
	}
	if ((r = pgl_resp_me((const char *)pgl_buf_ptr(resp.body),
	    pgl_buf_len(resp.body), out)) != 0)
		bad_answer(c, "GET /v1/me", r, e);
 out:
	api_resp_clear(&resp);
	return r;
}

int
signer_host_ca(const struct pgl_config *c, char ***keys, size_t *n,
    struct cli_err *e)
{
	struct api_resp resp;
	int r;

	if ((r = api_request(c, "GET", "/v1/ca", 0, NULL, &resp, e)) != 0)
		return r;
	if (resp.status != 200) {
		api_status_err(c, &resp, "/v1/ca", e);
		r = PGL_E_NOT_ALLOWED;
		goto out;
	}
	if ((r = pgl_resp_ca((const char *)pgl_buf_ptr(resp.body),
	    pgl_buf_len(resp.body), keys, n)) != 0)
		bad_answer(c, "GET /v1/ca", r, e);
 out:
	api_resp_clear(&resp);
	return r;
}

static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, cur, t;
	size_t row[PGL_RESOURCE_NAME_MAX + 2];

	if (la > PGL_RESOURCE_NAME_MAX || lb > PGL_RESOURCE_NAME_MAX)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = row[j];
			t = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < t)
				t = row[j] + 1;
			if (row[j - 1] + 1 < t)
				t = row[j - 1] + 1;
			row[j] = t;
			prev = cur;
		}
	}
	return row[lb];
}

static int
close_to(const char *typed, const char *name)
{
	size_t lt = strlen(typed), d = edit_distance(typed, name);

	return d <= (lt <= 4 ? 1 : lt <= 8 ? 2 : 3) ||
	    (lt >= 2 && strncmp(name, typed, lt) == 0);
}

void
suggest(const struct pgl_me *me, const char *name, char *out, size_t len)
{
	size_t i, j, n = 0, used;

	out[0] = '\0';
	for (i = 0; i < me->nres && n < 5; i++) {
		const struct pgl_resource_info *r = &me->res[i];
		int hit = close_to(name, r->name);

		for (j = 0; !hit && j < r->naliases; j++)
			hit = close_to(name, r->aliases[j]);
		if (!hit)
			continue;
		used = strlen(out);
		snprintf(out + used, len - used, "%s%s", n > 0 ? ", " : "",
		    r->name);
		n++;
	}
}

/* An unknown resource: say so, with close names the user may reach. */
static void
unknown_resource(const struct pgl_config *c, const char *const *resources,
    size_t n, struct cli_err *e)
{
	struct pgl_me *me = NULL;
	struct cli_err e2;
	char close[512] = "";
	size_t i;

	if (signer_me(c, &me, &e2) != 0)
		return;         /* keep the signer's own words */
	for (i = 0; i < n; i++) {
		if (pgl_me_find(me, resources[i]) != NULL)
			continue;
		suggest(me, resources[i], close, sizeof(close));
		if (close[0] != '\0')
			cli_seterr(e, PGL_EXIT_UNKNOWN, "unknown resource '%s'; "
			    "did you mean: %s?", resources[i], close);
		else
			cli_seterr(e, PGL_EXIT_UNKNOWN, "unknown resource '%s' "
			    "(pgl resources lists those you may reach)",
			    resources[i]);
		break;
	}
	pgl_me_free(me);
}

int
signer_sign(const struct pgl_config *c, const char *pubkey_line,
    const char *const *resources, size_t n, long ttl,
    struct pgl_signed **out, struct cli_err *e)
{
	struct api_resp resp;
	json_object *o = NULL, *a = NULL;
	const char *body;
	size_t i;
	int r;

	memset(&resp, 0, sizeof(resp));
	if ((o = json_object_new_object()) == NULL ||
	    (a = json_object_new_array()) == NULL) {
		json_object_put(o);
		cli_seterr(e, PGL_EXIT_ERROR, "out of memory");
		return PGL_E_NOMEM;
	}
	json_object_object_add(o, "public_key",
	    json_object_new_string(pubkey_line));
	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(resources[i]));
	json_object_object_add(o, "resources", a);
	if (ttl > 0)
		json_object_object_add(o, "ttl", json_object_new_int64(ttl));
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if ((r = api_request(c, "POST", "/v1/certs/user", 1, body, &resp,
	    e)) != 0)
		goto out;
	api_check_clock(c, resp.date);
	if (resp.status != 200) {
		api_status_err(c, &resp, "certificate", e);
		if (resp.status == 404)
			unknown_resource(c, resources, n, e);
		r = PGL_E_NOT_ALLOWED;
		goto out;
	}
	if ((r = pgl_resp_signed((const char *)pgl_buf_ptr(resp.body),
	    pgl_buf_len(resp.body), out)) != 0) {
		bad_answer(c, "POST /v1/certs/user", r, e);
		goto out;
	}
	if (resp.date <= 0)
		api_check_clock(c, signed_server_now(*out));
 out:
	json_object_put(o);
	api_resp_clear(&resp);
	return r;
}

time_t
signed_server_now(const struct pgl_signed *sg)
{
	/* valid_after is the signer's "now" less its 60 s back-dating. */
	return (time_t)sg->valid_after + 60;
}
