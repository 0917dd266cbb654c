/* Concurrent first sign requests against a running pgl-signer (TAP).
 *
 *   svc-concurrency URL CACERT TOKENS
 *
 * TOKENS has one "IDENTITY TOKEN" line per identity: the first N-1 are
 * distinct identities, the last is the one that gets every request of
 * the second round.  test/service/concurrency.sh starts the signer and
 * writes the file.
 *
 * Round 1: one request per distinct identity, all at once (a thread and
 * an easy handle each, released together by a barrier), so that every
 * identity's username and uid are assigned concurrently.  Round 2: as
 * many requests at once for the single identity.  Every request has its
 * own freshly generated Ed25519 key.  Checked: every answer is 200 with
 * a well-formed body, usernames and uids unique across identities, one
 * username and uid for the single identity, serials unique over both
 * rounds, no 5xx and no "database is locked". */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "err.h"
#include "sshkey.h"
#include "../unit/tap.h"

#define MAX_IDS 256
#define BODY_MAX (1024 * 1024)

struct req {
	const char *identity;
	const char *token;
	char *public_line;
	pthread_barrier_t *barrier;
	/* results */
	CURLcode cc;
	long status;
	char *body;
	size_t len;
	char curl_err[CURL_ERROR_SIZE];
	char username[64];
	long long uid;
	char serial[32];
	char key_id[512];
	int well_formed;
	double seconds;
};

static const char *url, *cacert;

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;
	size_t len = size * n;
	char *nb;

	if (r->len + len > BODY_MAX)
		return 0;
	if ((nb = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	memcpy(nb + r->len, p, len);
	r->body = nb;
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
parse_answer(struct req *r)
{
	json_object *o, *v;
	const char *s;

	if (r->body == NULL || (o = json_tokener_parse(r->body)) == NULL)
		return;
	r->well_formed = 1;
	if (json_object_object_get_ex(o, "username", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(r->username, sizeof(r->username), "%s",
		    json_object_get_string(v));
	else
		r->well_formed = 0;
	if (json_object_object_get_ex(o, "uid", &v) &&
	    json_object_is_type(v, json_type_int))
		r->uid = (long long)json_object_get_int64(v);
	else
		r->well_formed = 0;
	if (json_object_object_get_ex(o, "serial", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(r->serial, sizeof(r->serial), "%s",
		    json_object_get_string(v));
	else
		r->well_formed = 0;
	if (json_object_object_get_ex(o, "key_id", &v) &&
	    json_object_is_type(v, json_type_string))
		snprintf(r->key_id, sizeof(r->key_id), "%s",
		    json_object_get_string(v));
	else
		r->well_formed = 0;
	if (!json_object_object_get_ex(o, "certificate", &v) ||
	    (s = json_object_get_string(v)) == NULL ||
	    strncmp(s, "ssh-ed25519-cert-v01@openssh.com ", 33) != 0)
		r->well_formed = 0;
	json_object_put(o);
}

static void *
run(void *arg)
{
	struct req *r = arg;
	struct curl_slist *h = NULL;
	json_object *o;
	char auth[512], target[1024];
	const char *body;
	CURL *c;
	double t0;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", r->token);
	snprintf(target, sizeof(target), "%s/v1/certs/user", url);
	o = json_object_new_object();
	json_object_object_add(o, "public_key",
	    json_object_new_string(r->public_line));
	json_object_object_add(o, "resource", json_object_new_string("vm-01"));
	body = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	c = curl_easy_init();
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (c == NULL || h == NULL) {
		r->cc = CURLE_OUT_OF_MEMORY;
		pthread_barrier_wait(r->barrier);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, target);
	curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Everyone starts together. */
	pthread_barrier_wait(r->barrier);
	t0 = now();
	r->cc = curl_easy_perform(c);
	r->seconds = now() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->cc == CURLE_OK && r->status == 200)
		parse_answer(r);
 out:
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	json_object_put(o);
	return NULL;
}

/* Runs n requests at once. */
static void
round_run(struct req *rs, size_t n)
{
	pthread_t th[MAX_IDS];
	pthread_barrier_t barrier;
	size_t i, started;

	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (started = 0; started < n; started++) {
		rs[started].barrier = &barrier;
		if (pthread_create(&th[started], NULL, run, &rs[started]) != 0) {
			tap_diag("pthread_create: %s", strerror(errno));
			/* The barrier would never open: give up. */
			exit(1);
		}
	}
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&barrier);
}

static int
valid_username(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_' || s[i] == '-'))
			return 0;
	return i <= 32;
}

/* Summary of one round: every answer 200 and well formed. */
static void
check_round(const char *what, struct req *rs, size_t n)
{
	size_t i, good = 0, shown = 0;
	double max = 0;

	for (i = 0; i < n; i++) {
		if (rs[i].cc == CURLE_OK && rs[i].status == 200 &&
		    rs[i].well_formed && valid_username(rs[i].username))
			good++;
		else if (shown++ < 5)
			tap_diag("%s: curl %d (%s), HTTP %ld, body %.300s",
			    rs[i].identity, (int)rs[i].cc, rs[i].curl_err,
			    rs[i].status, rs[i].body ? rs[i].body : "(none)");
		if (rs[i].seconds > max)
			max = rs[i].seconds;
	}
	tap_ok(good == n, "%s: %zu of %zu requests -> 200 with a certificate, "
	    "username, uid, serial (slowest %.2f s)", what, good, n, max);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static struct req r1[MAX_IDS], r2[MAX_IDS];
	static char idbuf[MAX_IDS][256], tokbuf[MAX_IDS][256];
	static const char *names[2 * MAX_IDS], *serials[2 * MAX_IDS];
	static long long uids[MAX_IDS];
	char line[1024];
	struct pgl_key *k;
	size_t n = 0, m, i, j, nserials = 0, bad;
	FILE *f;
	int r;

	if (argc != 4) {
		fprintf(stderr, "usage: %s URL CACERT TOKENS\n", argv[0]);
		return 2;
	}
	url = argv[1];
	cacert = argv[2];
	if ((f = fopen(argv[3], "r")) == NULL) {
		printf("Bail out! %s: %s\n", argv[3], strerror(errno));
		return 1;
	}
	while (n < MAX_IDS && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%255s %255s", idbuf[n], tokbuf[n]) == 2)
			n++;
	}
	fclose(f);
	if (n < 3) {
		printf("Bail out! %s: need at least 3 \"IDENTITY TOKEN\" lines\n",
		    argv[3]);
		return 1;
	}
	m = n - 1;      /* distinct identities; idbuf[m] is the single one */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		printf("Bail out! curl_global_init failed\n");
		return 1;
	}
	for (i = 0; i < 2 * m; i++) {
		struct req *q = i < m ? &r1[i] : &r2[i - m];

		if ((r = pgl_key_generate(PGL_KEY_ED25519, 0, &k)) != 0 ||
		    (r = pgl_key_format_public_line(k, "concurrency", &q->public_line)) != 0) {
			printf("Bail out! key generation: %s\n", pgl_strerror(r));
			return 1;
		}
		pgl_key_free(k);
		q->identity = i < m ? idbuf[i] : idbuf[m];
		q->token = i < m ? tokbuf[i] : tokbuf[m];
	}

	/* ---- round 1: m distinct identities, first requests ---- */
	round_run(r1, m);
	check_round("round 1 (distinct identities)", r1, m);
	for (i = 0; i < m; i++) {
		names[i] = r1[i].username;
		uids[i] = r1[i].uid;
	}
	qsort(names, m, sizeof(names[0]), cmp_str);
	qsort(uids, m, sizeof(uids[0]), cmp_ll);
	for (i = 1, bad = 0; i < m; i++) {
		if (strcmp(names[i], names[i - 1]) == 0) {
			if (bad++ < 5)
				tap_diag("username %s given twice", names[i]);
		}
	}
	tap_ok(bad == 0, "round 1: %zu distinct usernames for %zu identities",
	    m - bad, m);
	for (i = 1, bad = 0; i < m; i++) {
		if (uids[i] == uids[i - 1]) {
			if (bad++ < 5)
				tap_diag("uid %lld given twice", uids[i]);
		}
	}
	tap_ok(bad == 0, "round 1: %zu distinct uids for %zu identities",
	    m - bad, m);
	for (i = 0, bad = 0; i < m; i++) {
		char want[600];

		snprintf(want, sizeof(want), "pgl:%s:vm-01:%s", r1[i].identity,
		    r1[i].serial);
		if (strcmp(want, r1[i].key_id) != 0 && bad++ < 5)
			tap_diag("key_id %s, expected %s", r1[i].key_id, want);
	}
	tap_ok(bad == 0, "round 1: every key_id is pgl:IDENTITY:vm-01:SERIAL "
	    "of its own request");
	for (i = 0; i < m; i++)
		tap_diag("%s -> %s (%lld)", r1[i].identity, r1[i].username,
		    r1[i].uid);

	/* ---- round 2: m requests at once for one new identity ---- */
	round_run(r2, m);
	check_round("round 2 (one identity)", r2, m);
	for (i = 1, bad = 0; i < m; i++) {
		if (strcmp(r2[i].username, r2[0].username) != 0 ||
		    r2[i].uid != r2[0].uid) {
			if (bad++ < 5)
				tap_diag("%s got %s (%lld) and %s (%lld)",
				    idbuf[m], r2[0].username, r2[0].uid,
				    r2[i].username, r2[i].uid);
		}
	}
	tap_ok(bad == 0 && r2[0].username[0] != '\0', "round 2: one username "
	    "and uid for %s across %zu responses: %s (%lld)", idbuf[m], m,
	    r2[0].username, r2[0].uid);
	for (i = 0, bad = 0; i < m; i++)
		if (strcmp(r1[i].username, r2[0].username) == 0 ||
		    r1[i].uid == r2[0].uid)
			bad++;
	tap_ok(bad == 0, "round 2: that username and uid belong to no identity "
	    "of round 1");

	/* ---- both rounds ---- */
	for (i = 0; i < m; i++) {
		if (r1[i].serial[0] != '\0')
			serials[nserials++] = r1[i].serial;
		if (r2[i].serial[0] != '\0')
			serials[nserials++] = r2[i].serial;
	}
	qsort(serials, nserials, sizeof(serials[0]), cmp_str);
	for (i = 1, bad = 0; i < nserials; i++)
		if (strcmp(serials[i], serials[i - 1]) == 0)
			bad++;
	tap_ok(bad == 0 && nserials == 2 * m, "%zu serials over both rounds, "
	    "all distinct", nserials);
	for (i = 0, bad = 0, j = 0; i < 2 * m; i++) {
		struct req *q = i < m ? &r1[i] : &r2[i - m];

		if (q->status >= 500)
			bad++;
		if (q->body != NULL && strstr(q->body, "locked") != NULL)
			j++;
	}
	tap_ok(bad == 0, "no 5xx answer (%zu)", bad);
	tap_ok(j == 0, "no answer mentions \"database is locked\" (%zu)", j);

	for (i = 0; i < m; i++) {
		free(r1[i].body);
		free(r1[i].public_line);
		free(r2[i].body);
		free(r2[i].public_line);
	}
	curl_global_cleanup();
	return tap_done();
}
