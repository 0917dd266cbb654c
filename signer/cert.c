/* Certificate encoding: every field checked, options sorted by name and
 * unique, signed by the CA over the whole body. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <sodium.h>

#include "cert.h"
#include "err.h"
#include "text.h"

#define NONCE_LEN 32

const struct pgl_cert_option pgl_cert_default_extensions[] = {
	{ "permit-agent-forwarding", NULL },
	{ "permit-port-forwarding", NULL },
	{ "permit-pty", NULL },
	{ "permit-user-rc", NULL },
};
const size_t pgl_cert_ndefault_extensions =
    sizeof(pgl_cert_default_extensions) / sizeof(pgl_cert_default_extensions[0]);

static const char *const known_extensions[] = {
	"no-touch-required", "permit-X11-forwarding", "permit-agent-forwarding",
	"permit-port-forwarding", "permit-pty", "permit-user-rc",
};

static int
check_text(const char *s, size_t max)
{
	if (s == NULL || *s == '\0')
		return PGL_E_INVALID_ARG;
	if (strlen(s) > max)
		return PGL_E_TOO_LARGE;
	if (pgl_has_ctrl(s))
		return PGL_E_CTRL_CHAR;
	return 0;
}

/* One address or CIDR block, as sshd's source-address accepts. */
static int
check_cidr(const char *s, size_t len)
{
	char tmp[64], *slash, *end;
	unsigned char addr[16];
	long bits;
	int af, max, i;

	if (len == 0 || len >= sizeof(tmp))
		return PGL_E_BAD_OPTION_VALUE;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash++ = '\0';
	af = strchr(tmp, ':') != NULL ? AF_INET6 : AF_INET;
	max = af == AF_INET6 ? 128 : 32;
	if (inet_pton(af, tmp, addr) != 1)
		return PGL_E_BAD_OPTION_VALUE;
	if (slash == NULL)
		return 0;
	if (*slash < '0' || *slash > '9')
		return PGL_E_BAD_OPTION_VALUE;
	bits = strtol(slash, &end, 10);
	if (*end != '\0' || bits < 0 || bits > max)
		return PGL_E_BAD_OPTION_VALUE;
	/* No address bits past the prefix: sshd refuses "10.0.0.1/8". */
	for (i = (int)bits; i < max; i++)
		if (addr[i / 8] & (0x80 >> (i % 8)))
			return PGL_E_BAD_OPTION_VALUE;
	return 0;
}

static int
check_source_address(const char *v)
{
	const char *comma;
	int r;

	for (;;) {
		comma = strchr(v, ',');
		if ((r = check_cidr(v, comma == NULL ? strlen(v) :
		    (size_t)(comma - v))) != 0)
			return r;
		if (comma == NULL)
			return 0;
		v = comma + 1;
	}
}

static int
check_critical(const struct pgl_cert_option *o)
{
	int r;

	if (strcmp(o->name, "force-command") == 0) {
		if ((r = check_text(o->value, PGL_CERT_MAX_VALUE)) != 0)
			return r == PGL_E_CTRL_CHAR ? r : PGL_E_BAD_OPTION_VALUE;
		return 0;
	}
	if (strcmp(o->name, "source-address") == 0) {
		if ((r = check_text(o->value, PGL_CERT_MAX_VALUE)) != 0)
			return r == PGL_E_CTRL_CHAR ? r : PGL_E_BAD_OPTION_VALUE;
		return check_source_address(o->value);
	}
	if (strcmp(o->name, "verify-required") == 0)
		return o->value == NULL ? 0 : PGL_E_BAD_OPTION_VALUE;
	return PGL_E_UNKNOWN_OPTION;
}

static int
check_extension(const struct pgl_cert_option *o)
{
	size_t i;

	for (i = 0; i < sizeof(known_extensions) / sizeof(*known_extensions); i++)
		if (strcmp(o->name, known_extensions[i]) == 0)
			return o->value == NULL ? 0 : PGL_E_BAD_OPTION_VALUE;
	/* Vendor extensions are name@domain (PROTOCOL.certkeys). */
	if (strchr(o->name, '@') == NULL || o->name[0] == '@')
		return PGL_E_UNKNOWN_OPTION;
	if (o->value != NULL && (strlen(o->value) > PGL_CERT_MAX_VALUE ||
	    pgl_has_ctrl(o->value)))
		return PGL_E_BAD_OPTION_VALUE;
	return 0;
}

static int
check_options(const struct pgl_cert_option *o, size_t n,
    int (*check)(const struct pgl_cert_option *))
{
	size_t i, j;
	int r;

	if (n > PGL_CERT_MAX_OPTIONS)
		return PGL_E_TOO_LARGE;
	for (i = 0; i < n; i++) {
		if ((r = check_text(o[i].name, PGL_CERT_MAX_NAME)) != 0)
			return r;
		if ((r = check(&o[i])) != 0)
			return r;
		for (j = 0; j < i; j++)
			if (strcmp(o[i].name, o[j].name) == 0)
				return PGL_E_DUPLICATE_OPTION;
	}
	return 0;
}

int
pgl_cert_check(const struct pgl_cert_req *req, const char **what)
{
	size_t i;
	int r;

	*what = "certificate type";
	if (req->type != PGL_CERT_TYPE_USER && req->type != PGL_CERT_TYPE_HOST)
		return PGL_E_INVALID_ARG;
	*what = "serial";
	if (req->serial == 0)
		return PGL_E_BAD_SERIAL;
	*what = "key ID";
	if ((r = check_text(req->key_id, PGL_CERT_MAX_KEY_ID)) != 0)
		return r;
	*what = "principals";
	if (req->nprincipals == 0)
		return PGL_E_NO_PRINCIPALS;
	if (req->nprincipals > PGL_CERT_MAX_PRINCIPALS)
		return PGL_E_TOO_LARGE;
	for (i = 0; i < req->nprincipals; i++) {
		*what = "principal";
		if ((r = check_text(req->principals[i], PGL_CERT_MAX_NAME)) != 0)
			return r;
	}
	*what = "validity";
	if (req->valid_after >= req->valid_before)
		return PGL_E_BAD_VALIDITY;
	*what = "critical option";
	if (req->type == PGL_CERT_TYPE_HOST && req->ncritical > 0)
		return PGL_E_NOT_ALLOWED;
	if ((r = check_options(req->critical, req->ncritical, check_critical)) != 0)
		return r;
	*what = "extension";
	if (req->type == PGL_CERT_TYPE_HOST && req->nextensions > 0)
		return PGL_E_NOT_ALLOWED;
	if ((r = check_options(req->extensions, req->nextensions,
	    check_extension)) != 0)
		return r;
	*what = NULL;
	return 0;
}

static int
cmp_option(const void *a, const void *b)
{
	const struct pgl_cert_option *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Options section: (string name, string data) pairs sorted by name;
 * data is empty for a flag, else a string holding the value. */
static int
put_options(struct pgl_buf *b, const struct pgl_cert_option *o, size_t n)
{
	const struct pgl_cert_option *sorted[PGL_CERT_MAX_OPTIONS];
	struct pgl_buf *sect = NULL, *val = NULL;
	size_t i;
	int r = 0;

	for (i = 0; i < n; i++)
		sorted[i] = &o[i];
	if (n > 0)
		qsort(sorted, n, sizeof(*sorted), cmp_option);
	if ((sect = pgl_buf_new()) == NULL || (val = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		pgl_buf_reset(val);
		if (sorted[i]->value != NULL &&
		    (r = pgl_buf_put_cstring(val, sorted[i]->value)) != 0)
			goto out;
		if ((r = pgl_buf_put_cstring(sect, sorted[i]->name)) != 0 ||
		    (r = pgl_buf_put_stringb(sect, val)) != 0)
			goto out;
	}
	r = pgl_buf_put_stringb(b, sect);
 out:
	pgl_buf_free(sect);
	pgl_buf_free(val);
	return r;
}

static int
check_ca(const struct pgl_key *ca)
{
	switch (ca->type) {
	case PGL_KEY_ED25519:
	case PGL_KEY_ECDSA_P256:
	case PGL_KEY_ECDSA_P384:
	case PGL_KEY_ECDSA_P521:
		return 0;
	case PGL_KEY_RSA:
		return pgl_key_bits(ca) >= PGL_RSA_CA_MIN_BITS ? 0 :
		    PGL_E_CA_TOO_WEAK;
	default:
		return PGL_E_KEY_TYPE_UNSUPPORTED;
	}
}

/* Random bytes for nonces and serials, drawn from a pool per thread
 * refilled RANDOM_POOL bytes at a time: each RAND_bytes call has a
 * fixed cost (locks, a getpid, the DRBG's reseed checks) about as
 * large as the bytes a certificate needs.  Those bytes are public in
 * the certificate anyway.  A forked child starts with an empty pool so
 * it never repeats its parent's bytes. */
#define RANDOM_POOL 512

static _Thread_local struct {
	uint8_t b[RANDOM_POOL];
	size_t left;
} rpool;
static pthread_once_t rpool_once = PTHREAD_ONCE_INIT;

static void
rpool_forget(void)
{
	explicit_bzero(&rpool, sizeof(rpool));
}

static void
rpool_init(void)
{
	(void)pthread_atfork(NULL, NULL, rpool_forget);
}

int
pgl_cert_random(void *p, size_t n)
{
	if (pthread_once(&rpool_once, rpool_init) != 0)
		return PGL_E_CRYPTO;
	if (n > RANDOM_POOL / 4)
		return RAND_bytes(p, (int)n) == 1 ? 0 : PGL_E_CRYPTO;
	if (rpool.left < n) {
		if (RAND_bytes(rpool.b, sizeof(rpool.b)) != 1)
			return PGL_E_CRYPTO;
		rpool.left = sizeof(rpool.b);
	}
	rpool.left -= n;
	memcpy(p, rpool.b + rpool.left, n);
	return 0;
}

/* Ed25519 CA signatures through libsodium, about twice as fast as
 * OpenSSL 3.0's here (and the same bytes: Ed25519 is deterministic).
 * Each thread keeps libsodium's form of the CA key (seed and public
 * key), made once per CA key from OpenSSL's and wiped when the thread
 * or the key goes.  The context holds a reference to its key, so a new
 * key is never mistaken for an old one at the same address. */
struct sign_ctx {
	EVP_PKEY *pkey;
	uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
};

static pthread_key_t sign_ctx_key;
static pthread_once_t sign_ctx_once = PTHREAD_ONCE_INIT;
static int sign_ctx_ok;
static _Thread_local struct sign_ctx *sign_ctx_self;  /* reachable for LSan */

static void
sign_ctx_clear(struct sign_ctx *sc)
{
	EVP_PKEY_free(sc->pkey);
	sc->pkey = NULL;
	sodium_memzero(sc->sk, sizeof(sc->sk));
}

static void
sign_ctx_free(void *p)
{
	struct sign_ctx *sc = p;

	if (sc == NULL)
		return;
	sign_ctx_clear(sc);
	free(sc);
}

static void
sign_ctx_init(void)
{
	sign_ctx_ok = sodium_init() >= 0 &&
	    pthread_key_create(&sign_ctx_key, sign_ctx_free) == 0;
}

/* This thread's libsodium secret key for pkey; NULL on failure. */
static const uint8_t *
sign_ctx_get(EVP_PKEY *pkey)
{
	struct sign_ctx *sc;
	uint8_t seed[crypto_sign_ed25519_SEEDBYTES];
	uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	uint8_t want[crypto_sign_ed25519_PUBLICKEYBYTES];
	size_t seedlen = sizeof(seed), wantlen = sizeof(want);
	int ok;

	if (pthread_once(&sign_ctx_once, sign_ctx_init) != 0 || !sign_ctx_ok)
		return NULL;
	if ((sc = pthread_getspecific(sign_ctx_key)) == NULL) {
		if ((sc = calloc(1, sizeof(*sc))) == NULL)
			return NULL;
		if (pthread_setspecific(sign_ctx_key, sc) != 0) {
			free(sc);
			return NULL;
		}
		sign_ctx_self = sc;
	}
	if (sc->pkey == pkey)
		return sc->sk;
	sign_ctx_clear(sc);
	/* The public key libsodium derives must be the CA's own. */
	ok = EVP_PKEY_get_raw_private_key(pkey, seed, &seedlen) == 1 &&
	    seedlen == sizeof(seed) &&
	    EVP_PKEY_get_raw_public_key(pkey, want, &wantlen) == 1 &&
	    wantlen == sizeof(want) &&
	    crypto_sign_ed25519_seed_keypair(pk, sc->sk, seed) == 0 &&
	    sodium_memcmp(pk, want, sizeof(pk)) == 0 &&
	    EVP_PKEY_up_ref(pkey) == 1;
	sodium_memzero(seed, sizeof(seed));
	if (!ok) {
		sodium_memzero(sc->sk, sizeof(sc->sk));
		return NULL;
	}
	sc->pkey = pkey;
	return sc->sk;
}

/* Appends the SSH signature blob over data, as pgl_key_sign does. */
static int
ca_sign(const struct pgl_key *ca, const uint8_t *data, size_t n,
    struct pgl_buf *sig)
{
	const uint8_t *sk;
	uint8_t raw[crypto_sign_ed25519_BYTES];
	int r;

	if (ca->type != PGL_KEY_ED25519 || (sk = sign_ctx_get(ca->pkey)) == NULL)
		return pgl_key_sign(ca, data, n, sig);
	if (crypto_sign_ed25519_detached(raw, NULL, data, n, sk) != 0)
		return PGL_E_CRYPTO;
	if ((r = pgl_buf_put_cstring(sig, pgl_key_sig_alg(ca->type))) != 0 ||
	    (r = pgl_buf_put_string(sig, raw, sizeof(raw))) != 0)
		return r;
	return 0;
}

int
pgl_cert_sign(const struct pgl_key *subject, const struct pgl_key *ca,
    const struct pgl_cert_req *req, struct pgl_buf *out, const char **what)
{
	struct pgl_buf *body = NULL, *names = NULL, *cakey = NULL;
	uint8_t nonce[NONCE_LEN];
	size_t i;
	int r;

	if ((r = pgl_cert_check(req, what)) != 0)
		return r;
	*what = "CA key";
	if ((r = check_ca(ca)) != 0)
		return r;
	*what = NULL;
	if ((body = pgl_buf_new()) == NULL || (names = pgl_buf_new()) == NULL ||
	    (cakey = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_cert_random(nonce, sizeof(nonce))) != 0)
		goto out;
	for (i = 0; i < req->nprincipals; i++)
		if ((r = pgl_buf_put_cstring(names, req->principals[i])) != 0)
			goto out;
	if ((r = pgl_key_put_public(ca, cakey)) != 0)
		goto out;
	if ((r = pgl_buf_put_cstring(body, pgl_key_cert_type_name(subject->type))) != 0 ||
	    (r = pgl_buf_put_string(body, nonce, sizeof(nonce))) != 0 ||
	    (r = pgl_key_put_public_fields(subject, body)) != 0 ||
	    (r = pgl_buf_put_u64(body, req->serial)) != 0 ||
	    (r = pgl_buf_put_u32(body, req->type)) != 0 ||
	    (r = pgl_buf_put_cstring(body, req->key_id)) != 0 ||
	    (r = pgl_buf_put_stringb(body, names)) != 0 ||
	    (r = pgl_buf_put_u64(body, req->valid_after)) != 0 ||
	    (r = pgl_buf_put_u64(body, req->valid_before)) != 0 ||
	    (r = put_options(body, req->critical, req->ncritical)) != 0 ||
	    (r = put_options(body, req->extensions, req->nextensions)) != 0 ||
	    (r = pgl_buf_put_string(body, NULL, 0)) != 0 ||   /* reserved */
	    (r = pgl_buf_put_stringb(body, cakey)) != 0)
		goto out;
	/* The signature covers everything before it; sign into a scratch
	 * buffer so out only ever receives a complete certificate. */
	pgl_buf_reset(names);
	if ((r = ca_sign(ca, pgl_buf_ptr(body), pgl_buf_len(body), names)) != 0 ||
	    (r = pgl_buf_put_stringb(body, names)) != 0)
		goto out;
	r = pgl_buf_put(out, pgl_buf_ptr(body), pgl_buf_len(body));
 out:
	pgl_buf_free(body);
	pgl_buf_free(names);
	pgl_buf_free(cakey);
	return r;
}

int
pgl_cert_format_line(enum pgl_key_type t, const struct pgl_buf *blob,
    const char *comment, char **out)
{
	struct pgl_buf *txt;
	char *s = NULL;
	int r;

	if ((txt = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	if ((r = pgl_b64_encode(pgl_buf_ptr(blob), pgl_buf_len(blob), txt)) != 0)
		goto out;
	if (asprintf(&s, "%s %s%s%s", pgl_key_cert_type_name(t),
	    (const char *)pgl_buf_ptr(txt), comment != NULL && *comment ? " " : "",
	    comment != NULL ? comment : "") < 0) {
		r = PGL_E_NOMEM;
		goto out;
	}
	*out = s;
 out:
	pgl_buf_free(txt);
	return r;
}
