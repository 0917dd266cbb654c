/* GET /v1/me: who the token belongs to, the username, and the resources
 * the policy grants.  The client uses it to check a token at login, to
 * resolve aliases and suggest names for a typo, and to write ssh_config.
 *
 * The username is assigned here on first use, as signing would, but only
 * for an identity with at least one grant: a uid is never spent on a
 * token the policy gives nothing. */
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "err.h"

static json_object *
resource_json(const struct pgl_resource *res, uint32_t ttl_max)
{
	json_object *o, *a;
	size_t i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if ((a = json_object_new_array()) == NULL) {
		json_object_put(o);
		return NULL;
	}
	for (i = 0; i < res->naliases; i++)
		json_object_array_add(a, json_object_new_string(res->aliases[i]));
	json_object_object_add(o, "name", json_object_new_string(res->name));
	json_object_object_add(o, "aliases", a);
	json_object_object_add(o, "address", json_object_new_string(res->address));
	json_object_object_add(o, "port", json_object_new_int(res->port));
	json_object_object_add(o, "via", res->via != NULL ?
	    json_object_new_string(res->via) : NULL);
	json_object_object_add(o, "ttl_max", json_object_new_int64(ttl_max));
	return o;
}

enum MHD_Result
pgl_api_me(struct pgl_request *rq)
{
	struct pgl_service *svc = rq->svc;
	struct pgl_policy_ref *pol = NULL;
	const struct pgl_policy *p;
	struct pgl_decision d;
	struct pgl_identity who;
	json_object *resp = NULL, *arr = NULL, *ro;
	char identity[256];
	enum MHD_Result ret;
	size_t i, granted = 0;
	int r;

	if (pgl_api_authenticate(rq, identity, sizeof(identity), &ret) != 0)
		return ret;
	if ((resp = json_object_new_object()) == NULL ||
	    (arr = json_object_new_array()) == NULL) {
		json_object_put(resp);
		return MHD_NO;
	}
	pol = pgl_service_policy_get(svc);
	p = pol->policy;
	for (i = 0; i < p->nresources; i++) {
		if (pgl_policy_decide(p, identity, p->resources[i].name, &d,
		    NULL) != 0)
			continue;
		if ((ro = resource_json(&p->resources[i], d.ttl_max)) == NULL) {
			ret = MHD_NO;
			goto out;
		}
		json_object_array_add(arr, ro);
		granted++;
	}
	r = granted > 0 ? pgl_store_identity(svc->store, identity, &who) :
	    pgl_store_identity_get(svc->store, identity, &who);
	if (r != 0 && r != PGL_E_NOT_FOUND) {
		ret = pgl_http_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "state database error: %s", pgl_strerror(r));
		goto out;
	}
	json_object_object_add(resp, "identity", json_object_new_string(identity));
	json_object_object_add(resp, "username", r == 0 ?
	    json_object_new_string(who.username) : NULL);
	json_object_object_add(resp, "uid", r == 0 ?
	    json_object_new_int64(who.uid) : NULL);
	json_object_object_add(resp, "ttl_default",
	    json_object_new_int64(p->ttl_default));
	json_object_object_add(resp, "resources", arr);
	arr = NULL;
	ret = pgl_http_json(rq, MHD_HTTP_OK, resp);
	resp = NULL;
 out:
	json_object_put(arr);
	json_object_put(resp);
	pgl_service_policy_put(pol);
	return ret;
}
