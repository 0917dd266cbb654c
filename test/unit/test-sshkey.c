/* Unit tests for common/sshkey*.c: generation, public lines, private
 * key files, fingerprints and signatures, checked against ssh-keygen
 * and openssl, plus hostile input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "buf.h"
#include "err.h"
#include "sshkey.h"
#include "util.h"

#define BEGIN_MARK "-----BEGIN OPENSSH PRIVATE KEY-----"
#define END_MARK "-----END OPENSSH PRIVATE KEY-----"

static char *dir;
static struct pgl_key *rsa_other;

static struct pgl_buf *
blob_of(const struct pgl_key *k)
{
	struct pgl_buf *b = must_new();

	if (pgl_key_put_public(k, b) != 0)
		tap_diag("pgl_key_put_public failed");
	return b;
}

static char *
b64_of(const uint8_t *p, size_t n)
{
	struct pgl_buf *b = must_new();
	char *s;

	if (pgl_b64_encode(p, n, b) != 0)
		exit(99);
	s = strndup((const char *)pgl_buf_ptr(b), pgl_buf_len(b));
	pgl_buf_free(b);
	return s;
}

/* An OpenSSH private key file around a binary blob. */
static char *
armour(const uint8_t *p, size_t n)
{
	char *b64 = b64_of(p, n), *out, *o;
	size_t len = strlen(b64), i;

	out = malloc(strlen(BEGIN_MARK) + strlen(END_MARK) + len + len / 70 + 8);
	o = out + sprintf(out, "%s\n", BEGIN_MARK);
	for (i = 0; i < len; i += 70) {
		size_t l = len - i < 70 ? len - i : 70;

		memcpy(o, b64 + i, l);
		o += l;
		*o++ = '\n';
	}
	sprintf(o, "%s\n", END_MARK);
	free(b64);
	return out;
}

/* The binary blob inside an OpenSSH private key file. */
static struct pgl_buf *
unarmour(const char *s)
{
	const char *b = strstr(s, BEGIN_MARK), *e = strstr(s, END_MARK);
	struct pgl_buf *txt = must_new(), *out = must_new();

	if (b == NULL || e == NULL)
		return out;
	for (b += strlen(BEGIN_MARK); b < e; b++)
		if (*b != '\n' && *b != '\r')
			pgl_buf_put_u8(txt, (uint8_t)*b);
	if (pgl_b64_decode((const char *)pgl_buf_ptr(txt), pgl_buf_len(txt), out) != 0)
		tap_diag("unarmour: bad base64");
	pgl_buf_free(txt);
	return out;
}

/* Offset of the private section's contents within an openssh-key-v1
 * blob (after its length). */
static size_t
private_offset(const uint8_t *p, size_t n)
{
	struct pgl_buf *b = pgl_buf_from(p, n);
	const uint8_t *s = NULL;
	size_t off = 0;

	if (pgl_buf_consume(b, 15) == 0 &&
	    pgl_buf_get_string_direct(b, NULL, NULL) == 0 &&
	    pgl_buf_get_string_direct(b, NULL, NULL) == 0 &&
	    pgl_buf_get_string_direct(b, NULL, NULL) == 0 &&
	    pgl_buf_get_u32(b, NULL) == 0 &&
	    pgl_buf_get_string_direct(b, NULL, NULL) == 0 &&
	    pgl_buf_get_string_direct(b, &s, NULL) == 0)
		off = (size_t)(s - p);
	pgl_buf_free(b);
	return off;
}

static char *
write_tmp(const char *name, const char *text, mode_t mode)
{
	char *p = tu_path(dir, name);

	if (tu_write_file(p, text, strlen(text), mode) != 0)
		tap_diag("cannot write %s", p);
	return p;
}

static int
parse_private_str(const char *s, struct pgl_key **k)
{
	return pgl_key_parse_private(s, strlen(s), k);
}

/* Every truncation of a public blob is refused, and a trailing byte
 * gives PGL_E_TRAILING. */
static void
hostile_blob(const char *label, const struct pgl_buf *blob)
{
	const uint8_t *p = pgl_buf_ptr(blob);
	size_t n = pgl_buf_len(blob), i, bad = 0;
	struct pgl_key *k = NULL;
	uint8_t *plus;
	int r;

	for (i = 0; i < n; i++) {
		uint8_t *copy = malloc(i + 1);  /* exact size for ASan */

		memcpy(copy, p, i);
		k = NULL;
		r = pgl_key_from_blob(copy, i, &k);
		if (r == 0 || k != NULL) {
			if (bad++ < 3)
				tap_diag("truncation to %zu bytes accepted", i);
			pgl_key_free(k);
		}
		free(copy);
	}
	tap_ok(bad == 0, "%s: all %zu truncations of the public blob refused",
	    label, n);
	plus = malloc(n + 1);
	memcpy(plus, p, n);
	plus[n] = 0;
	k = NULL;
	r = pgl_key_from_blob(plus, n + 1, &k);
	tap_ok(r == PGL_E_TRAILING && k == NULL,
	    "%s: blob + 1 byte -> PGL_E_TRAILING (%d)", label, r);
	pgl_key_free(k);
	free(plus);
}

/* Truncations of a private key file (text and blob), and checkints. */
static void
hostile_private(const char *label, const char *text, const struct pgl_key *want)
{
	size_t n = strlen(text), i, bad = 0, off;
	struct pgl_buf *blob;
	struct pgl_key *k = NULL;
	char *s;
	uint8_t *copy;
	int r;

	for (i = 0; i + 1 < n; i++) {
		char *t = malloc(i + 1);

		memcpy(t, text, i);
		k = NULL;
		if (pgl_key_parse_private(t, i, &k) == 0 || k != NULL) {
			if (bad++ < 3)
				tap_diag("text truncation to %zu accepted", i);
			pgl_key_free(k);
		}
		free(t);
	}
	tap_ok(bad == 0, "%s: all %zu truncations of the private key text refused",
	    label, n - 1);
	k = NULL;
	r = pgl_key_parse_private(text, n - 1, &k);
	tap_ok(r == 0 && k != NULL && pgl_key_equal_public(k, want),
	    "%s: without its final newline the file still parses (%d)", label, r);
	pgl_key_free(k);

	blob = unarmour(text);
	bad = 0;
	for (i = 0; i < pgl_buf_len(blob); i++) {
		s = armour(pgl_buf_ptr(blob), i);
		k = NULL;
		if (parse_private_str(s, &k) == 0 || k != NULL) {
			if (bad++ < 3)
				tap_diag("blob truncation to %zu accepted", i);
			pgl_key_free(k);
		}
		free(s);
	}
	tap_ok(bad == 0, "%s: all %zu truncations of the decoded blob refused",
	    label, pgl_buf_len(blob));

	s = armour(pgl_buf_ptr(blob), pgl_buf_len(blob));
	k = NULL;
	r = parse_private_str(s, &k);
	tap_ok(r == 0 && k != NULL && pgl_key_equal_public(k, want),
	    "%s: re-armoured blob parses (%d)", label, r);
	pgl_key_free(k);
	free(s);

	off = private_offset(pgl_buf_ptr(blob), pgl_buf_len(blob));
	copy = malloc(pgl_buf_len(blob));
	memcpy(copy, pgl_buf_ptr(blob), pgl_buf_len(blob));
	tap_ok(off > 0 && copy[off] == copy[off + 4] &&
	    copy[off + 3] == copy[off + 7], "%s: private section found", label);
	copy[off + 4] ^= 0x01;                  /* second checkint */
	s = armour(copy, pgl_buf_len(blob));
	k = NULL;
	r = parse_private_str(s, &k);
	tap_ok(r == PGL_E_FORMAT && k == NULL,
	    "%s: differing checkints -> PGL_E_FORMAT (%d)", label, r);
	pgl_key_free(k);
	free(s);
	free(copy);

	/* Garbage after the END line */
	s = tu_fmt("%sjunk\n", text);
	k = NULL;
	r = parse_private_str(s, &k);
	tap_ok(r != 0 && k == NULL, "%s: text after the END line refused (%d)",
	    label, r);
	pgl_key_free(k);
	free(s);
	pgl_buf_free(blob);
}

/* Flips a low bit in the last byte of the idx-th field after the key
 * type name in the private section (for RSA: n e d iqmp p q; ECDSA:
 * curve Q d) and re-armours the file. */
static char *
tamper_private(const char *text, int idx, uint8_t bit)
{
	struct pgl_buf *blob = unarmour(text), *priv;
	size_t off = private_offset(pgl_buf_ptr(blob), pgl_buf_len(blob));
	const uint8_t *p = NULL;
	size_t n = 0;
	int i, ok;
	char *s;

	priv = pgl_buf_from(pgl_buf_ptr(blob) + off, pgl_buf_len(blob) - off);
	ok = off > 0 && pgl_buf_consume(priv, 8) == 0 &&
	    pgl_buf_get_string_direct(priv, NULL, NULL) == 0;
	for (i = 0; ok && i <= idx; i++)
		ok = pgl_buf_get_string_direct(priv, &p, &n) == 0 && n > 1;
	if (ok)
		((uint8_t *)pgl_buf_ptr(blob))[(size_t)(p - pgl_buf_ptr(blob)) +
		    n - 1] ^= bit;
	else
		tap_diag("tamper_private: field %d not found", idx);
	s = armour(pgl_buf_ptr(blob), pgl_buf_len(blob));
	pgl_buf_free(priv);
	pgl_buf_free(blob);
	return s;
}

/* The private half must match the public half: a changed private
 * number is refused, never loaded as a key that signs wrongly. */
static void
hostile_private_numbers(const char *label, enum pgl_key_type t,
    const char *text)
{
	static const struct {
		int idx;
		uint8_t bit;
		const char *what;
	} rsa[] = {
		{ 0, 0x02, "n" }, { 1, 0x02, "e" }, { 2, 0x02, "d" },
		{ 3, 0x02, "iqmp" }, { 4, 0x02, "p" }, { 5, 0x02, "q" },
		{ 4, 0x01, "p made even" },
	}, ec[] = {
		{ 2, 0x01, "private scalar d" },
	};
	size_t i, n = t == PGL_KEY_RSA ? sizeof(rsa) / sizeof(rsa[0]) :
	    sizeof(ec) / sizeof(ec[0]);
	struct pgl_key *k;
	char *s;
	int r;

	for (i = 0; i < n; i++) {
		s = tamper_private(text, t == PGL_KEY_RSA ? rsa[i].idx : ec[i].idx,
		    t == PGL_KEY_RSA ? rsa[i].bit : ec[i].bit);
		k = NULL;
		r = parse_private_str(s, &k);
		tap_ok(r != 0 && k == NULL, "%s: private key with a changed %s "
		    "refused (%d)", label, t == PGL_KEY_RSA ? rsa[i].what :
		    ec[i].what, r);
		pgl_key_free(k);
		free(s);
	}
}

static void
check_sign(const char *label, const struct pgl_key *k, const struct pgl_key *other)
{
	static const uint8_t data[] = "pgl unit test: data to be signed";
	uint8_t d2[sizeof(data)], *sig, *copy;
	struct pgl_buf *sb = must_new();
	const uint8_t *alg = NULL;
	size_t siglen, alglen = 0, i, bad = 0;
	struct pgl_buf *rd;
	int r;

	r = pgl_key_sign(k, data, sizeof(data), sb);
	tap_ok(r == 0 && pgl_buf_len(sb) > 8, "%s: sign (%d)", label, r);
	siglen = pgl_buf_len(sb);
	sig = malloc(siglen + 1);
	memcpy(sig, pgl_buf_ptr(sb), siglen);
	rd = pgl_buf_from(sig, siglen);
	tap_ok(pgl_buf_get_string_direct(rd, &alg, &alglen) == 0 &&
	    alglen == strlen(pgl_key_sig_alg(k->type)) &&
	    memcmp(alg, pgl_key_sig_alg(k->type), alglen) == 0,
	    "%s: signature algorithm is %s", label, pgl_key_sig_alg(k->type));
	pgl_buf_free(rd);
	r = pgl_key_verify(k, sig, siglen, data, sizeof(data));
	tap_ok(r == 0, "%s: verify (%d)", label, r);
	memcpy(d2, data, sizeof(data));
	d2[3] ^= 0x10;
	tap_ok(pgl_key_verify(k, sig, siglen, d2, sizeof(d2)) != 0,
	    "%s: flipped bit in the data fails", label);
	tap_ok(pgl_key_verify(k, sig, siglen, data, sizeof(data) - 1) != 0,
	    "%s: shortened data fails", label);
	sig[siglen - 1] ^= 0x01;
	tap_ok(pgl_key_verify(k, sig, siglen, data, sizeof(data)) != 0,
	    "%s: flipped bit in the signature's last byte fails", label);
	sig[siglen - 1] ^= 0x01;
	sig[4 + alglen + 4 + 10] ^= 0x80;
	tap_ok(pgl_key_verify(k, sig, siglen, data, sizeof(data)) != 0,
	    "%s: flipped bit inside the signature fails", label);
	sig[4 + alglen + 4 + 10] ^= 0x80;
	sig[5] ^= 0x20;
	tap_ok(pgl_key_verify(k, sig, siglen, data, sizeof(data)) == PGL_E_FORMAT,
	    "%s: altered algorithm name -> PGL_E_FORMAT", label);
	sig[5] ^= 0x20;
	tap_ok(pgl_key_verify(k, sig, siglen, data, sizeof(data)) == 0,
	    "%s: restored signature verifies again", label);
	sig[siglen] = 0;
	tap_ok(pgl_key_verify(k, sig, siglen + 1, data, sizeof(data)) != 0,
	    "%s: signature + trailing byte fails", label);
	for (i = 0; i < siglen; i++) {
		copy = malloc(i + 1);
		memcpy(copy, sig, i);
		if (pgl_key_verify(k, copy, i, data, sizeof(data)) == 0)
			bad++;
		free(copy);
	}
	tap_ok(bad == 0, "%s: every truncation of the signature fails", label);
	if (other != NULL)
		tap_ok(pgl_key_verify(other, sig, siglen, data, sizeof(data)) != 0,
		    "%s: another key of the same type does not verify it", label);
	free(sig);
	pgl_buf_free(sb);
}

/* ssh-keygen's view of a public key line: "bits SHA256:... comment (T)" */
static char *
keygen_fingerprint(const char *pubpath)
{
	char *cmd = tu_fmt("ssh-keygen -l -E sha256 -f '%s' 2>&1", pubpath);
	char *out = NULL, *fp = NULL;

	if (tu_run(cmd, &out) == 0)
		fp = tu_field(out, 1);
	else
		tap_diag("%s: %s", cmd, out ? out : "");
	free(cmd);
	free(out);
	return fp;
}

/* "type base64" of ssh-keygen -y on a private key file. */
static char *
keygen_public(const char *privpath)
{
	char *cmd = tu_fmt("ssh-keygen -y -f '%s' 2>&1 </dev/null", privpath);
	char *out = NULL, *res = NULL, *a, *b;

	if (tu_run(cmd, &out) == 0) {
		a = tu_field(out, 0);
		b = tu_field(out, 1);
		res = tu_fmt("%s %s", a, b);
		free(a);
		free(b);
	} else
		tap_diag("%s: %s", cmd, out ? out : "");
	free(cmd);
	free(out);
	return res;
}

/* The line without its comment. */
static char *
line_key(const char *line)
{
	char *a = tu_field(line, 0), *b = tu_field(line, 1), *res;

	res = tu_fmt("%s %s", a, b);
	free(a);
	free(b);
	return res;
}

static void
test_generated(enum pgl_key_type t, unsigned bits, const char *label)
{
	struct pgl_key *k = NULL, *k2 = NULL, *other = NULL;
	struct pgl_buf *blob, *blob2, *priv = must_new();
	char *line = NULL, *comment = NULL, *fp = NULL, *kfp, *path, *kpub, *lk;
	char *pname;
	const char *s;
	size_t maxline = 0, cur = 0;
	int r;

	r = pgl_key_generate(t, bits, &k);
	if (!tap_ok(r == 0 && k != NULL, "%s: generate (%d)", label, r))
		return;
	tap_ok(k->type == t, "%s: type", label);
	if (t != PGL_KEY_ED25519)
		tap_ok(pgl_key_bits(k) == bits, "%s: %u bits (%u)", label, bits,
		    pgl_key_bits(k));
	/* Another key of the type; for RSA one 2048-bit key serves both
	 * sizes, to keep key generation quick. */
	if (t != PGL_KEY_RSA)
		pgl_key_generate(t, bits, &other);
	else if (rsa_other != NULL || pgl_key_generate(t, 2048, &rsa_other) == 0)
		other = rsa_other;

	r = pgl_key_format_public_line(k, "unit@test", &line);
	tap_ok(r == 0 && strncmp(line, pgl_key_type_name(t),
	    strlen(pgl_key_type_name(t))) == 0 &&
	    line[strlen(pgl_key_type_name(t))] == ' ',
	    "%s: public line starts with \"%s \"", label, pgl_key_type_name(t));
	r = pgl_key_parse_public_line(line, strlen(line), &k2, &comment);
	tap_ok(r == 0 && k2 != NULL && pgl_key_equal_public(k, k2),
	    "%s: public line parses back equal (%d)", label, r);
	tap_ok(comment != NULL && strcmp(comment, "unit@test") == 0,
	    "%s: comment kept", label);
	tap_ok(other != NULL && !pgl_key_equal_public(k, other),
	    "%s: two generated keys differ", label);
	pgl_key_free(k2);
	k2 = NULL;
	free(comment);
	comment = NULL;

	blob = blob_of(k);
	r = pgl_key_from_blob(pgl_buf_ptr(blob), pgl_buf_len(blob), &k2);
	blob2 = k2 != NULL ? blob_of(k2) : must_new();
	tap_ok(r == 0 && tu_bytes_eq(pgl_buf_ptr(blob), pgl_buf_len(blob),
	    pgl_buf_ptr(blob2), pgl_buf_len(blob2), "blob re-encodes identically"),
	    "%s: blob round trip (%d)", label, r);
	pgl_key_free(k2);
	k2 = NULL;
	pgl_buf_free(blob2);

	/* Fingerprint against ssh-keygen -l */
	pname = tu_fmt("%s.pub", label);
	kpub = tu_fmt("%s\n", line);
	path = write_tmp(pname, kpub, 0644);
	free(kpub);
	free(pname);
	r = pgl_key_fingerprint(k, &fp);
	kfp = keygen_fingerprint(path);
	tap_ok(r == 0 && fp != NULL && kfp != NULL && strcmp(fp, kfp) == 0,
	    "%s: fingerprint %s matches ssh-keygen -l (%s)", label,
	    fp ? fp : "-", kfp ? kfp : "-");
	free(kfp);
	free(path);

	/* Private key: ours back, then ssh-keygen -y reads it */
	r = pgl_key_format_private(k, "unit@test", priv);
	pgl_buf_put_u8(priv, 0);
	s = (const char *)pgl_buf_ptr(priv);
	tap_ok(r == 0 && strncmp(s, BEGIN_MARK "\n", strlen(BEGIN_MARK) + 1) == 0,
	    "%s: private key starts with the OpenSSH marker (%d)", label, r);
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			if (cur > maxline && strncmp(s - cur, "-----", 5) != 0)
				maxline = cur;
			cur = 0;
		} else
			cur++;
	}
	tap_ok(maxline > 0 && maxline <= 70, "%s: base64 lines are at most 70 "
	    "characters (%zu)", label, maxline);
	s = (const char *)pgl_buf_ptr(priv);
	r = parse_private_str(s, &k2);
	tap_ok(r == 0 && k2 != NULL && k2->type == t && pgl_key_equal_public(k, k2),
	    "%s: private key parses back equal (%d)", label, r);
	if (k2 != NULL)
		check_sign(label, k2, other);   /* the parsed key signs */
	pgl_key_free(k2);
	k2 = NULL;
	pname = tu_fmt("%s.key", label);
	path = write_tmp(pname, s, 0600);
	kpub = keygen_public(path);
	lk = line_key(line);
	tap_ok(kpub != NULL && strcmp(kpub, lk) == 0,
	    "%s: ssh-keygen -y on our private key prints our public key", label);
	if (kpub != NULL && strcmp(kpub, lk) != 0)
		tap_diag("ssh-keygen: %s\n# ours: %s", kpub, lk);
	free(kpub);
	free(lk);
	free(path);
	free(pname);

	check_sign(label, k, other);
	hostile_blob(label, blob);
	hostile_private(label, s, k);
	if (t != PGL_KEY_ED25519)
		hostile_private_numbers(label, t, s);

	pgl_buf_free(blob);
	pgl_buf_free(priv);
	free(fp);
	free(line);
	pgl_key_free(k);
	if (other != rsa_other)
		pgl_key_free(other);
}

/* Keys made by ssh-keygen: the private key file and the .pub line. */
static void
test_keygen_files(void)
{
	static const struct {
		const char *args;
		enum pgl_key_type t;
		unsigned bits;
	} kinds[] = {
		{ "-t ed25519", PGL_KEY_ED25519, 0 },
		{ "-t ecdsa", PGL_KEY_ECDSA_P256, 256 },
		{ "-t ecdsa -b 384", PGL_KEY_ECDSA_P384, 384 },
		{ "-t ecdsa -b 521", PGL_KEY_ECDSA_P521, 521 },
		{ "-t rsa -b 2048", PGL_KEY_RSA, 2048 },
		{ "-t ecdsa -m PEM", PGL_KEY_ECDSA_P256, 256 },
		{ "-t rsa -b 2048 -m PEM", PGL_KEY_RSA, 2048 },
	};
	size_t i, len = 0;
	struct pgl_key *k, *kp;
	char *path, *pub, *cmd, *text, *pubtext, *comment, *ours, *want;
	int r, r2;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		k = kp = NULL;
		comment = ours = NULL;
		path = tu_fmt("%s/kg%zu", dir, i);
		pub = tu_fmt("%s.pub", path);
		cmd = tu_fmt("ssh-keygen -q %s -N '' -C 'kg@test' -f '%s' "
		    "</dev/null 2>&1", kinds[i].args, path);
		r = tu_run(cmd, NULL);
		free(cmd);
		text = tu_read_file(path, &len);
		pubtext = tu_read_file(pub, NULL);
		if (!tap_ok(r == 0 && text != NULL && pubtext != NULL,
		    "ssh-keygen %s", kinds[i].args)) {
			free(text);
			free(pubtext);
			free(path);
			free(pub);
			continue;
		}
		r = pgl_key_parse_private(text, len, &k);
		tap_ok(r == 0 && k != NULL && k->type == kinds[i].t &&
		    (kinds[i].bits == 0 || pgl_key_bits(k) == kinds[i].bits),
		    "ssh-keygen %s: private key parses as %s (%d)",
		    kinds[i].args, pgl_key_type_name(kinds[i].t), r);
		r2 = pgl_key_parse_public_line(pubtext, strlen(pubtext), &kp,
		    &comment);
		tap_ok(r2 == 0 && kp != NULL && comment != NULL &&
		    strcmp(comment, "kg@test") == 0,
		    "ssh-keygen %s: .pub line parses with its comment (%d)",
		    kinds[i].args, r2);
		tap_ok(r == 0 && r2 == 0 && pgl_key_equal_public(k, kp),
		    "ssh-keygen %s: private and .pub match", kinds[i].args);
		if (r == 0)
			pgl_key_format_public_line(k, "kg@test", &ours);
		want = strndup(pubtext, strcspn(pubtext, "\n"));
		tap_ok(ours != NULL && strcmp(ours, want) == 0,
		    "ssh-keygen %s: our public line is byte-identical to the .pub",
		    kinds[i].args);
		if (r == 0) {
			char *label = tu_fmt("ssh-keygen %s", kinds[i].args);

			check_sign(label, k, NULL);
			free(label);
		}
		free(want);
		free(ours);
		free(comment);
		pgl_key_free(k);
		pgl_key_free(kp);
		free(text);
		free(pubtext);
		free(path);
		free(pub);
	}
}

/* tmpl with every "{}" replaced by path. */
static char *
subst(const char *tmpl, const char *path)
{
	char *out = malloc(strlen(tmpl) * (strlen(path) + 1) + 1), *o = out;

	while (*tmpl != '\0') {
		if (tmpl[0] == '{' && tmpl[1] == '}') {
			o = stpcpy(o, path);
			tmpl += 2;
		} else
			*o++ = *tmpl++;
	}
	*o = '\0';
	return out;
}

/* Generates a PEM key with a shell command ("{}" is the file), then
 * parses it. */
static void
pem_case(const char *cmd_tmpl, const char *name, int want_r,
    enum pgl_key_type want_t, unsigned want_bits)
{
	char *path = tu_path(dir, name), *cmd, *text, *kpub, *line = NULL, *lk;
	struct pgl_key *k = NULL;
	size_t len = 0;
	int r;

	cmd = subst(cmd_tmpl, path);
	r = tu_run(cmd, NULL);
	text = tu_read_file(path, &len);
	if (!tap_ok(r == 0 && text != NULL, "%s: generated", name)) {
		tap_diag("%s", cmd);
		free(cmd);
		free(text);
		free(path);
		return;
	}
	free(cmd);
	r = pgl_key_parse_private(text, len, &k);
	if (want_r != 0) {
		tap_ok(r == want_r && k == NULL, "%s: refused with %d (%d)", name,
		    want_r, r);
	} else {
		tap_ok(r == 0 && k != NULL && k->type == want_t &&
		    (want_bits == 0 || pgl_key_bits(k) == want_bits),
		    "%s: loads as %s (%d)", name, pgl_key_type_name(want_t), r);
		if (r == 0 && want_t == PGL_KEY_ED25519) {
			/* OpenSSH 9.2 cannot read Ed25519 PEM: ask openssl for
			 * the raw public key instead. */
			uint8_t pk[32];
			size_t pklen = sizeof(pk), i;
			char hex[65];

			EVP_PKEY_get_raw_public_key(k->pkey, pk, &pklen);
			for (i = 0; i < 32; i++)
				sprintf(hex + 2 * i, "%02x", pk[i]);
			cmd = subst("openssl pkey -in '{}' -pubout -outform DER | "
			    "tail -c 32 | od -An -tx1 | tr -d ' \\n'", path);
			kpub = NULL;
			tu_run(cmd, &kpub);
			tap_ok(kpub != NULL && strcmp(kpub, hex) == 0,
			    "%s: public key matches openssl pkey -pubout", name);
			free(kpub);
			free(cmd);
			check_sign(name, k, NULL);
		} else if (r == 0) {
			chmod(path, 0600);
			kpub = keygen_public(path);
			pgl_key_format_public_line(k, NULL, &line);
			lk = line != NULL ? line_key(line) : NULL;
			tap_ok(kpub != NULL && lk != NULL && strcmp(kpub, lk) == 0,
			    "%s: public key matches ssh-keygen -y", name);
			free(lk);
			free(line);
			free(kpub);
			check_sign(name, k, NULL);
		}
	}
	pgl_key_free(k);
	free(text);
	free(path);
}

static void
test_pem(void)
{
	pem_case("openssl genpkey -algorithm ed25519 -out '{}' 2>&1",
	    "p8-ed25519.pem", 0, PGL_KEY_ED25519, 0);
	pem_case("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	    "-out '{}' 2>&1", "p8-p256.pem", 0, PGL_KEY_ECDSA_P256, 256);
	pem_case("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 "
	    "-out '{}' 2>&1", "p8-p384.pem", 0, PGL_KEY_ECDSA_P384, 384);
	pem_case("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 "
	    "-out '{}' 2>&1", "p8-rsa3072.pem", 0, PGL_KEY_RSA, 3072);
}

static void
test_pem_more(void)
{
	char *src = tu_path(dir, "p8-rsa3072.pem");
	char *fmt = tu_fmt("openssl pkey -traditional -in '%s' -out '{}' 2>&1", src);

	pem_case(fmt, "trad-rsa3072.pem", 0, PGL_KEY_RSA, 3072);
	free(fmt);
	free(src);
	pem_case("openssl genpkey -algorithm ed448 -out '{}' 2>&1",
	    "p8-ed448.pem", PGL_E_KEY_TYPE_UNSUPPORTED, 0, 0);
	pem_case("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 "
	    "-out '{}' 2>&1", "p8-k256.pem", PGL_E_KEY_TYPE_UNSUPPORTED, 0, 0);
	pem_case("openssl genpkey -algorithm ed25519 -aes256 -pass pass:x "
	    "-out '{}' 2>&1", "p8-enc.pem", PGL_E_KEY_ENCRYPTED, 0, 0);
	pem_case("ssh-keygen -q -t ed25519 -N password -f '{}' </dev/null 2>&1",
	    "enc-openssh", PGL_E_KEY_ENCRYPTED, 0, 0);
	pem_case("ssh-keygen -q -t ecdsa -m PEM -N password -f '{}' </dev/null 2>&1",
	    "enc-trad-pem", PGL_E_KEY_ENCRYPTED, 0, 0);
	pem_case("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
	    "-out '{}' 2>&1", "p8-rsa1024.pem", PGL_E_KEY_TOO_SMALL, 0, 0);
}

/* An openssh-key-v1 blob for an Ed25519 key, with one thing broken. */
enum ed_mut {
	M_NONE, M_CHECKINT, M_PADDING, M_PAD_LONG, M_PUB_OTHER, M_SK_COPY,
	M_NKEYS2, M_KDF, M_CIPHER, M_KDFOPTS, M_TRAILING, M_UNALIGNED,
	M_MAGIC, M_PRIV_TYPE,
};

static char *
ed25519_file(const struct pgl_key *k, const struct pgl_key *k2, enum ed_mut m)
{
	struct pgl_buf *b = must_new(), *priv = must_new(), *pub;
	uint8_t sk[64], pk2[32];
	size_t len = 32, i;
	char *s;

	EVP_PKEY_get_raw_private_key(k->pkey, sk, &len);
	len = 32;
	EVP_PKEY_get_raw_public_key(k->pkey, sk + 32, &len);
	len = 32;
	EVP_PKEY_get_raw_public_key(k2->pkey, pk2, &len);
	pub = blob_of(m == M_PUB_OTHER ? k2 : k);

	pgl_buf_put_u32(priv, 0x11223344);
	pgl_buf_put_u32(priv, m == M_CHECKINT ? 0x11223345 : 0x11223344);
	pgl_buf_put_cstring(priv, m == M_PRIV_TYPE ? "ecdsa-sha2-nistp256" :
	    "ssh-ed25519");
	pgl_buf_put_string(priv, sk + 32, 32);
	if (m == M_SK_COPY)
		memcpy(sk + 32, pk2, 32);
	pgl_buf_put_string(priv, sk, 64);
	pgl_buf_put_cstring(priv, "c");
	for (i = 1; pgl_buf_len(priv) % 8 != 0; i++)
		pgl_buf_put_u8(priv, (uint8_t)(m == M_PADDING && i == 2 ? 7 : i));
	if (m == M_PAD_LONG)
		for (; i <= 8; i++)
			pgl_buf_put_u8(priv, (uint8_t)i);
	if (m == M_UNALIGNED)
		pgl_buf_put_u8(priv, (uint8_t)i);

	pgl_buf_put(b, m == M_MAGIC ? "openssh-key-v2" : "openssh-key-v1", 15);
	pgl_buf_put_cstring(b, m == M_CIPHER ? "aes256-ctr" : "none");
	pgl_buf_put_cstring(b, m == M_KDF ? "bcrypt" : "none");
	pgl_buf_put_cstring(b, m == M_KDFOPTS ? "x" : "");
	pgl_buf_put_u32(b, m == M_NKEYS2 ? 2 : 1);
	pgl_buf_put_stringb(b, pub);
	pgl_buf_put_stringb(b, priv);
	if (m == M_TRAILING)
		pgl_buf_put_u8(b, 0);
	s = armour(pgl_buf_ptr(b), pgl_buf_len(b));
	explicit_bzero(sk, sizeof(sk));
	pgl_buf_free(b);
	pgl_buf_free(priv);
	pgl_buf_free(pub);
	return s;
}

static void
test_crafted_private(void)
{
	static const struct {
		enum ed_mut m;
		int want;               /* 1: any error */
		const char *what;
	} cases[] = {
		{ M_NONE, 0, "well-formed" },
		{ M_CHECKINT, PGL_E_FORMAT, "checkints differ" },
		{ M_PADDING, PGL_E_FORMAT, "padding bytes not 1, 2, 3, ..." },
		{ M_PAD_LONG, PGL_E_FORMAT, "a whole extra block of padding" },
		{ M_PUB_OTHER, PGL_E_KEY_INVALID, "public blob of another key" },
		{ M_SK_COPY, PGL_E_KEY_INVALID, "private half's copy of the public key differs" },
		{ M_NKEYS2, PGL_E_FORMAT, "two keys announced" },
		{ M_KDF, PGL_E_KEY_ENCRYPTED, "kdf bcrypt" },
		{ M_CIPHER, PGL_E_KEY_ENCRYPTED, "cipher aes256-ctr" },
		{ M_KDFOPTS, PGL_E_FORMAT, "kdf options with kdf none" },
		{ M_TRAILING, PGL_E_TRAILING, "a byte after the private section" },
		{ M_UNALIGNED, PGL_E_FORMAT, "private section not a multiple of 8" },
		{ M_MAGIC, PGL_E_FORMAT, "wrong magic" },
		{ M_PRIV_TYPE, 1, "private section of another key type" },
	};
	struct pgl_key *k = NULL, *k2 = NULL, *got;
	size_t i;
	char *s;
	int r;

	pgl_key_generate(PGL_KEY_ED25519, 0, &k);
	pgl_key_generate(PGL_KEY_ED25519, 0, &k2);
	if (k == NULL || k2 == NULL) {
		tap_ok(0, "generate ed25519 keys for crafted files");
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = ed25519_file(k, k2, cases[i].m);
		got = NULL;
		r = parse_private_str(s, &got);
		if (cases[i].want == 0)
			tap_ok(r == 0 && got != NULL && pgl_key_equal_public(got, k),
			    "crafted ed25519 file: %s parses (%d)", cases[i].what, r);
		else if (cases[i].want == 1)
			tap_ok(r != 0 && got == NULL,
			    "crafted ed25519 file: %s refused (%d)", cases[i].what, r);
		else
			tap_ok(r == cases[i].want && got == NULL,
			    "crafted ed25519 file: %s -> %d (%d)", cases[i].what,
			    cases[i].want, r);
		pgl_key_free(got);
		free(s);
	}

	/* Armour problems */
	s = ed25519_file(k, k2, M_NONE);
	{
		char *t = tu_fmt("\n%s", s), *u;
		size_t n;

		got = NULL;
		r = parse_private_str(t, &got);
		tap_ok(r != 0 && got == NULL, "text before BEGIN refused (%d)", r);
		pgl_key_free(got);
		free(t);
		/* an invalid base64 character inside the body */
		t = strdup(s);
		t[strlen(BEGIN_MARK) + 5] = '*';
		got = NULL;
		r = parse_private_str(t, &got);
		tap_ok(r == PGL_E_FORMAT && got == NULL,
		    "'*' in the base64 body -> PGL_E_FORMAT (%d)", r);
		pgl_key_free(got);
		free(t);
		/* an embedded NUL */
		t = strdup(s);
		n = strlen(t);
		t[strlen(BEGIN_MARK) + 5] = '\0';
		got = NULL;
		r = pgl_key_parse_private(t, n, &got);
		tap_ok(r == PGL_E_FORMAT && got == NULL,
		    "NUL inside the file -> PGL_E_FORMAT (%d)", r);
		pgl_key_free(got);
		free(t);
		/* CRLF line ends are fine */
		t = malloc(2 * strlen(s) + 1);
		for (u = t, n = 0; s[n] != '\0'; n++) {
			if (s[n] == '\n')
				*u++ = '\r';
			*u++ = s[n];
		}
		*u = '\0';
		got = NULL;
		r = parse_private_str(t, &got);
		tap_ok(r == 0 && got != NULL, "CRLF line ends accepted (%d)", r);
		pgl_key_free(got);
		free(t);
		/* oversized */
		n = 64 * 1024 + 1;
		t = malloc(n);
		memset(t, 'A', n);
		memcpy(t, s, strlen(s));
		got = NULL;
		r = pgl_key_parse_private(t, n, &got);
		tap_ok(r == PGL_E_TOO_LARGE && got == NULL,
		    "a file over 64 KiB -> PGL_E_TOO_LARGE (%d)", r);
		pgl_key_free(got);
		free(t);
		got = NULL;
		r = pgl_key_parse_private("", 0, &got);
		tap_ok(r == PGL_E_FORMAT && got == NULL, "empty input -> PGL_E_FORMAT");
		r = parse_private_str("ssh-ed25519 AAAA", &got);
		tap_ok(r == PGL_E_FORMAT && got == NULL,
		    "a public key line is not a private key (%d)", r);
	}
	free(s);
	pgl_key_free(k);
	pgl_key_free(k2);
}

/* Public blobs crafted field by field. */
static struct pgl_buf *
ec_blob(const char *name, const char *curve, const uint8_t *q, size_t qlen)
{
	struct pgl_buf *b = must_new();

	pgl_buf_put_cstring(b, name);
	pgl_buf_put_cstring(b, curve);
	pgl_buf_put_string(b, q, qlen);
	return b;
}

static int
from_buf(const struct pgl_buf *b, struct pgl_key **k)
{
	*k = NULL;
	return pgl_key_from_blob(pgl_buf_ptr(b), pgl_buf_len(b), k);
}

static void
expect_blob(struct pgl_buf *b, int want, const char *what)
{
	struct pgl_key *k = NULL;
	int r = from_buf(b, &k);

	tap_ok(r == want && k == NULL, "%s -> %d (%d)", what, want, r);
	pgl_key_free(k);
	pgl_buf_free(b);
}

static void
test_crafted_public(void)
{
	struct pgl_key *ec = NULL, *ed = NULL, *k = NULL;
	uint8_t q[133], pk[32];
	size_t qlen = 0, pklen = sizeof(pk);
	struct pgl_buf *b;
	char *b64, *line;
	int r;

	pgl_key_generate(PGL_KEY_ECDSA_P256, 0, &ec);
	pgl_key_generate(PGL_KEY_ED25519, 0, &ed);
	EVP_PKEY_get_octet_string_param(ec->pkey, OSSL_PKEY_PARAM_PUB_KEY, q,
	    sizeof(q), &qlen);
	EVP_PKEY_get_raw_public_key(ed->pkey, pk, &pklen);
	tap_ok(qlen == 65 && q[0] == 0x04, "P-256 point is 65 bytes, uncompressed");

	b = ec_blob("ecdsa-sha2-nistp256", "nistp256", q, qlen);
	r = from_buf(b, &k);
	tap_ok(r == 0 && k != NULL && pgl_key_equal_public(k, ec),
	    "crafted ecdsa blob parses (%d)", r);
	pgl_key_free(k);
	pgl_buf_free(b);
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp384", q, qlen),
	    PGL_E_KEY_TYPE_MISMATCH, "ecdsa-sha2-nistp256 blob with curve nistp384");
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp25", q, qlen),
	    PGL_E_KEY_TYPE_MISMATCH, "ecdsa blob with curve nistp25");
	expect_blob(ec_blob("ecdsa-sha2-nistp384", "nistp384", q, qlen),
	    PGL_E_KEY_INVALID, "nistp384 blob holding a P-256 point");
	q[64] ^= 0x01;
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp256", q, qlen),
	    PGL_E_KEY_INVALID, "ecdsa point not on the curve");
	q[64] ^= 0x01;
	q[0] = 0x02;
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 33),
	    PGL_E_KEY_INVALID, "compressed ecdsa point");
	q[0] = 0x04;
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 64),
	    PGL_E_KEY_INVALID, "ecdsa point one byte short");
	memset(q + 1, 0, 64);
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 65),
	    PGL_E_KEY_INVALID, "ecdsa point (0, 0)");
	expect_blob(ec_blob("ecdsa-sha2-nistp256", "nistp256", q, 1),
	    PGL_E_KEY_INVALID, "ecdsa point at infinity (00)");

	b = must_new();
	pgl_buf_put_cstring(b, "ssh-ed25519");
	pgl_buf_put_string(b, pk, 31);
	expect_blob(b, PGL_E_KEY_INVALID, "ed25519 key of 31 bytes");
	b = must_new();
	pgl_buf_put_cstring(b, "ssh-ed25519");
	pgl_buf_put_string(b, q, 33);
	expect_blob(b, PGL_E_KEY_INVALID, "ed25519 key of 33 bytes");
	b = must_new();
	pgl_buf_put_cstring(b, "ssh-dss");
	pgl_buf_put_string(b, pk, 32);
	expect_blob(b, PGL_E_KEY_TYPE_UNSUPPORTED, "ssh-dss blob");
	b = must_new();
	pgl_buf_put_cstring(b, "sk-ssh-ed25519@openssh.com");
	pgl_buf_put_string(b, pk, 32);
	expect_blob(b, PGL_E_KEY_TYPE_UNSUPPORTED, "sk-ssh-ed25519 blob");
	b = must_new();
	pgl_buf_put_cstring(b, "ssh-ed25519-cert-v01@openssh.com");
	pgl_buf_put_string(b, pk, 32);
	expect_blob(b, PGL_E_KEY_IS_CERT, "certificate blob");
	b = must_new();
	pgl_buf_put_cstring(b, "ssh-foo");
	pgl_buf_put_string(b, pk, 32);
	expect_blob(b, PGL_E_KEY_TYPE_UNKNOWN, "unknown type ssh-foo");
	b = must_new();
	pgl_buf_put_string(b, "ssh-ed25519\0", 12);
	pgl_buf_put_string(b, pk, 32);
	expect_blob(b, PGL_E_KEY_TYPE_UNKNOWN, "type name with a trailing NUL");

	/* Public lines */
	b = blob_of(ed);
	b64 = b64_of(pgl_buf_ptr(b), pgl_buf_len(b));
	pgl_buf_free(b);
	{
		static const struct {
			const char *pre, *post;
			int want;
			const char *what;
		} lines[] = {
			{ "ecdsa-sha2-nistp256 ", "", PGL_E_KEY_TYPE_MISMATCH,
			  "line says ecdsa, blob is ed25519" },
			{ "ssh-rsa ", " x", PGL_E_KEY_TYPE_MISMATCH,
			  "line says ssh-rsa, blob is ed25519" },
			{ "ssh-dss ", "", PGL_E_KEY_TYPE_UNSUPPORTED, "ssh-dss line" },
			{ "ssh-ed25519-cert-v01@openssh.com ", "", PGL_E_KEY_IS_CERT,
			  "certificate line" },
			{ "ecdsa-sha2-nistp256-cert-v01@openssh.com ", "",
			  PGL_E_KEY_IS_CERT, "ecdsa certificate line" },
			{ "ssh-foo ", "", PGL_E_KEY_TYPE_UNKNOWN, "unknown type name" },
			{ "ssh-ed25519 ", " c\x01omment", PGL_E_CTRL_CHAR,
			  "control character in the comment" },
			{ "ssh-ed25519 ", " c\x7fomment", PGL_E_CTRL_CHAR,
			  "DEL in the comment" },
			{ "ssh-ed25519 ", "\nssh-ed25519 x", PGL_E_FORMAT,
			  "embedded newline" },
			{ "ssh-ed25519 ", " a\rb", PGL_E_FORMAT, "embedded CR" },
			{ "ssh-ed25519\n", "", PGL_E_FORMAT,
			  "newline between type and key" },
			{ "ssh-ed25519 ", "\n\n", PGL_E_FORMAT, "two newlines" },
		};
		size_t i;
		char *c;

		for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			line = tu_fmt("%s%s%s", lines[i].pre, b64, lines[i].post);
			k = NULL;
			c = NULL;
			r = pgl_key_parse_public_line(line, strlen(line), &k, &c);
			tap_ok(r == lines[i].want && k == NULL && c == NULL,
			    "public line: %s -> %d (%d)", lines[i].what,
			    lines[i].want, r);
			pgl_key_free(k);
			free(c);
			free(line);
		}
		line = tu_fmt("ssh-ed25519 %.40s %s", b64, b64 + 40);
		r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
		tap_ok(r != 0, "public line: space inside the base64 refused (%d)", r);
		free(line);
		line = tu_fmt("ssh-ed25519 %.64s", b64);
		r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
		tap_ok(r != 0, "public line: base64 cut short refused (%d)", r);
		free(line);
		line = tu_fmt("ssh-ed25519 %sAAAA", b64);
		r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
		tap_ok(r != 0, "public line: blob with 3 extra bytes refused (%d)", r);
		free(line);

		/* Accepted variations */
		static const struct {
			const char *pre, *post;
			const char *comment;
		} good[] = {
			{ "ssh-ed25519 ", "", "" },
			{ "ssh-ed25519 ", "\n", "" },
			{ "ssh-ed25519 ", "\r\n", "" },
			{ "  \tssh-ed25519 \t ", "  two  words \t\n", "two  words" },
			{ "ssh-ed25519 ", " caf\xc3\xa9@h\xc3\xb4te",
			  "caf\xc3\xa9@h\xc3\xb4te" },
		};
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			line = tu_fmt("%s%s%s", good[i].pre, b64, good[i].post);
			k = NULL;
			c = NULL;
			r = pgl_key_parse_public_line(line, strlen(line), &k, &c);
			tap_ok(r == 0 && k != NULL && pgl_key_equal_public(k, ed) &&
			    c != NULL && strcmp(c, good[i].comment) == 0,
			    "public line variant %zu accepted, comment \"%s\" (%d)",
			    i, tu_esc(c), r);
			pgl_key_free(k);
			free(c);
			free(line);
		}
		line = tu_fmt("ssh-ed25519 %s c", b64);
		k = NULL;
		r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
		tap_ok(r == 0 && k != NULL, "comment pointer may be NULL (%d)", r);
		pgl_key_free(k);
		free(line);

		static const char *const empties[] = { "", "\n", "   ",
		    "ssh-ed25519", "ssh-ed25519 ", "ssh-ed25519 \n" };
		for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
			k = NULL;
			r = pgl_key_parse_public_line(empties[i], strlen(empties[i]),
			    &k, NULL);
			tap_ok(r == PGL_E_FORMAT && k == NULL,
			    "public line \"%s\" -> PGL_E_FORMAT (%d)",
			    tu_esc(empties[i]), r);
		}
		/* An embedded NUL */
		line = tu_fmt("ssh-ed25519 %s x", b64);
		line[strlen(line) - 2] = '\0';
		k = NULL;
		r = pgl_key_parse_public_line(line, strlen(b64) + 14, &k, NULL);
		tap_ok(r == PGL_E_FORMAT && k == NULL,
		    "public line with an embedded NUL -> PGL_E_FORMAT (%d)", r);
		free(line);
	}

	/* Size limit: exactly PGL_PUBKEY_LINE_MAX is fine, one more is not. */
	{
		size_t base = strlen("ssh-ed25519 ") + strlen(b64) + 1;
		char *big = malloc(PGL_PUBKEY_LINE_MAX + 2);

		sprintf(big, "ssh-ed25519 %s ", b64);
		memset(big + base, 'c', PGL_PUBKEY_LINE_MAX + 1 - base);
		big[PGL_PUBKEY_LINE_MAX + 1] = '\0';
		k = NULL;
		r = pgl_key_parse_public_line(big, PGL_PUBKEY_LINE_MAX, &k, NULL);
		tap_ok(r == 0 && k != NULL, "a line of exactly PGL_PUBKEY_LINE_MAX "
		    "bytes parses (%d)", r);
		pgl_key_free(k);
		k = NULL;
		r = pgl_key_parse_public_line(big, PGL_PUBKEY_LINE_MAX + 1, &k, NULL);
		tap_ok(r == PGL_E_TOO_LARGE && k == NULL,
		    "a line of PGL_PUBKEY_LINE_MAX + 1 bytes -> PGL_E_TOO_LARGE (%d)", r);
		free(big);
	}
	free(b64);

	/* Non-canonical base64: the P-256 blob is 104 bytes, so its base64
	 * ends in one '=' and the last symbol carries 2 unused bits. */
	b = blob_of(ec);
	b64 = b64_of(pgl_buf_ptr(b), pgl_buf_len(b));
	{
		static const char alpha[] =
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		size_t n = strlen(b64);
		const char *pos = strchr(alpha, b64[n - 2]);

		tap_ok(pgl_buf_len(b) == 104 && b64[n - 1] == '=' && b64[n - 2] != '=' &&
		    pos != NULL && ((pos - alpha) & 3) == 0,
		    "P-256 base64 ends in one '=' with zero unused bits");
		if (pos != NULL)
			b64[n - 2] = alpha[(pos - alpha) | 1];
		line = tu_fmt("ecdsa-sha2-nistp256 %s", b64);
		k = NULL;
		r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
		tap_ok(r == PGL_E_FORMAT && k == NULL,
		    "non-canonical base64 (unused bits set) refused (%d)", r);
		pgl_key_free(k);
		free(line);
	}
	free(b64);
	pgl_buf_free(b);
	pgl_key_free(ec);
	pgl_key_free(ed);
}

/* RSA keys pgl must refuse, built from OpenSSL parts. */
static void
put_bn(struct pgl_buf *b, EVP_PKEY *pk, const char *name)
{
	BIGNUM *bn = NULL;
	uint8_t tmp[1024];
	int len;

	EVP_PKEY_get_bn_param(pk, name, &bn);
	len = BN_bn2bin(bn, tmp);
	pgl_buf_put_mpint_bytes(b, tmp, (size_t)len);
	BN_free(bn);
}

static void
test_rsa_limits(void)
{
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct pgl_key *k = NULL, *wrap = NULL;
	struct pgl_buf *b = must_new(), *priv = must_new();
	uint8_t big[2049], e3[1] = { 3 }, e2[1] = { 4 }, e1[1] = { 1 };
	uint8_t e9[9] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	char *b64, *line, *pem;
	BIO *bio;
	long pemlen;
	int r;

	if (!tap_ok(small != NULL, "OpenSSL makes an RSA 1024 key"))
		return;
	pgl_buf_put_cstring(b, "ssh-rsa");
	put_bn(b, small, OSSL_PKEY_PARAM_RSA_E);
	put_bn(b, small, OSSL_PKEY_PARAM_RSA_N);
	r = from_buf(b, &k);
	tap_ok(r == PGL_E_KEY_TOO_SMALL && k == NULL,
	    "RSA 1024 public blob -> PGL_E_KEY_TOO_SMALL (%d)", r);
	b64 = b64_of(pgl_buf_ptr(b), pgl_buf_len(b));
	line = tu_fmt("ssh-rsa %s small", b64);
	r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
	tap_ok(r == PGL_E_KEY_TOO_SMALL && k == NULL,
	    "RSA 1024 public line -> PGL_E_KEY_TOO_SMALL (%d)", r);
	free(line);
	free(b64);

	/* Same key as PEM and as an OpenSSH private key file. */
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, small, NULL, NULL, 0, NULL, NULL);
	pemlen = BIO_get_mem_data(bio, &pem);
	r = pgl_key_parse_private(pem, (size_t)pemlen, &k);
	tap_ok(r == PGL_E_KEY_TOO_SMALL && k == NULL,
	    "RSA 1024 PKCS#8 PEM -> PGL_E_KEY_TOO_SMALL (%d)", r);
	BIO_free(bio);
	EVP_PKEY_up_ref(small);
	r = pgl_key_new(PGL_KEY_RSA, small, &wrap);
	if (r == 0)
		r = pgl_key_format_private(wrap, "small", priv);
	pgl_key_free(wrap);
	pgl_buf_put_u8(priv, 0);
	tap_ok(r == 0, "an RSA 1024 key can still be written (%d)", r);
	r = parse_private_str((const char *)pgl_buf_ptr(priv), &k);
	tap_ok(r == PGL_E_KEY_TOO_SMALL && k == NULL,
	    "RSA 1024 OpenSSH private key -> PGL_E_KEY_TOO_SMALL (%d)", r);
	pgl_buf_free(priv);

	/* Exponent and modulus sanity */
	pgl_buf_reset(b);
	pgl_buf_put_cstring(b, "ssh-rsa");
	pgl_buf_put_mpint_bytes(b, e3, 1);
	memset(big, 0xff, sizeof(big));
	big[0] = 0x01;
	pgl_buf_put_mpint_bytes(b, big, sizeof(big));
	r = from_buf(b, &k);
	tap_ok(r == PGL_E_KEY_INVALID && k == NULL,
	    "RSA modulus of 16385 bits -> PGL_E_KEY_INVALID (%d)", r);
	{
		const struct {
			const uint8_t *e;
			size_t elen;
			int even_n;
			const char *what;
		} rs[] = {
			{ e2, 1, 0, "even exponent" },
			{ e1, 1, 0, "exponent 1" },
			{ e9, 9, 0, "exponent of 9 bytes" },
			{ e3, 1, 1, "even modulus" },
		};
		size_t i;

		for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
			pgl_buf_reset(b);
			pgl_buf_put_cstring(b, "ssh-rsa");
			pgl_buf_put_mpint_bytes(b, rs[i].e, rs[i].elen);
			memset(big, 0xcb, 256);
			if (rs[i].even_n)
				big[255] = 0xca;
			pgl_buf_put_mpint_bytes(b, big, 256);
			r = from_buf(b, &k);
			tap_ok(r == PGL_E_KEY_INVALID && k == NULL,
			    "RSA blob with %s -> PGL_E_KEY_INVALID (%d)", rs[i].what, r);
		}
		/* a well-formed 2048-bit public key with e = 3 is accepted */
		big[255] = 0xcb;
		pgl_buf_reset(b);
		pgl_buf_put_cstring(b, "ssh-rsa");
		pgl_buf_put_mpint_bytes(b, e3, 1);
		pgl_buf_put_mpint_bytes(b, big, 256);
		r = from_buf(b, &k);
		tap_ok(r == 0 && k != NULL && pgl_key_bits(k) == 2048,
		    "RSA blob with 2048-bit odd modulus and e = 3 accepted (%d)", r);
		pgl_key_free(k);
		k = NULL;
		/* a negative exponent */
		pgl_buf_reset(b);
		pgl_buf_put_cstring(b, "ssh-rsa");
		pgl_buf_put_string(b, "\x81", 1);
		pgl_buf_put_mpint_bytes(b, big, 256);
		r = from_buf(b, &k);
		tap_ok(r == PGL_E_FORMAT && k == NULL,
		    "RSA blob with a negative exponent -> PGL_E_FORMAT (%d)", r);
	}
	tap_ok(pgl_key_generate(PGL_KEY_RSA, 1024, &k) == PGL_E_INVALID_ARG &&
	    k == NULL, "pgl_key_generate refuses RSA 1024");
	tap_ok(pgl_key_generate(PGL_KEY_UNSPEC, 0, &k) == PGL_E_INVALID_ARG &&
	    k == NULL, "pgl_key_generate refuses PGL_KEY_UNSPEC");
	pgl_buf_free(b);
	EVP_PKEY_free(small);
}

/* PEM keys carry their own CRT values: a wrong one must be refused
 * (it would make signatures that leak a factor). */
static void
test_rsa_pem_crt(void)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	static const struct {
		int idx;                /* into names; -1: unchanged */
		int want;
		const char *what;
	} cases[] = {
		{ -1, 0, "consistent RSA PEM key" },
		{ 5, PGL_E_KEY_INVALID, "wrong d mod (p-1)" },
		{ 6, PGL_E_KEY_INVALID, "wrong d mod (q-1)" },
		{ 7, PGL_E_KEY_INVALID, "wrong q^-1 mod p" },
		{ 2, PGL_E_KEY_INVALID, "wrong d" },
	};
	BIGNUM *v[8] = { 0 };
	size_t i, j;
	int r;

	if (rsa_other == NULL) {
		tap_ok(0, "an RSA key for the CRT tests");
		return;
	}
	for (j = 0; j < 8; j++)
		EVP_PKEY_get_bn_param(rsa_other->pkey, names[j], &v[j]);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *params = NULL;
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		EVP_PKEY *pk = NULL;
		BIGNUM *changed = NULL;
		struct pgl_key *k = NULL;
		BIO *bio = NULL;
		char *pem;
		long pemlen;

		for (j = 0; j < 8; j++) {
			if ((int)j == cases[i].idx) {
				changed = BN_dup(v[j]);
				BN_add_word(changed, 2);
				OSSL_PARAM_BLD_push_BN(bld, names[j], changed);
			} else
				OSSL_PARAM_BLD_push_BN(bld, names[j], v[j]);
		}
		params = OSSL_PARAM_BLD_to_param(bld);
		if (EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) != 1 ||
		    (bio = BIO_new(BIO_s_mem())) == NULL ||
		    PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL) != 1) {
			tap_ok(0, "build a PEM key with %s", cases[i].what);
		} else {
			pemlen = BIO_get_mem_data(bio, &pem);
			r = pgl_key_parse_private(pem, (size_t)pemlen, &k);
			if (cases[i].want == 0)
				tap_ok(r == 0 && k != NULL &&
				    pgl_key_equal_public(k, rsa_other),
				    "%s loads (%d)", cases[i].what, r);
			else
				tap_ok(r == cases[i].want && k == NULL,
				    "PEM RSA key with %s -> PGL_E_KEY_INVALID (%d)",
				    cases[i].what, r);
		}
		pgl_key_free(k);
		BIO_free(bio);
		EVP_PKEY_free(pk);
		BN_free(changed);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
		EVP_PKEY_CTX_free(ctx);
	}
	for (j = 0; j < 8; j++)
		BN_clear_free(v[j]);
}

static void
test_names(void)
{
	static const struct {
		enum pgl_key_type t;
		const char *name, *cert, *sig;
	} n[] = {
		{ PGL_KEY_ED25519, "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com",
		  "ssh-ed25519" },
		{ PGL_KEY_ECDSA_P256, "ecdsa-sha2-nistp256",
		  "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256" },
		{ PGL_KEY_ECDSA_P384, "ecdsa-sha2-nistp384",
		  "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384" },
		{ PGL_KEY_ECDSA_P521, "ecdsa-sha2-nistp521",
		  "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521" },
		{ PGL_KEY_RSA, "ssh-rsa", "ssh-rsa-cert-v01@openssh.com",
		  "rsa-sha2-512" },
	};
	static const struct {
		const char *name;
		int want;
	} bad[] = {
		{ "ssh-dss", PGL_E_KEY_TYPE_UNSUPPORTED },
		{ "sk-ssh-ed25519@openssh.com", PGL_E_KEY_TYPE_UNSUPPORTED },
		{ "sk-ecdsa-sha2-nistp256@openssh.com", PGL_E_KEY_TYPE_UNSUPPORTED },
		{ "ssh-rsa-cert-v01@openssh.com", PGL_E_KEY_IS_CERT },
		{ "ssh-dss-cert-v01@openssh.com", PGL_E_KEY_IS_CERT },
		{ "-cert-v01@openssh.com", PGL_E_KEY_TYPE_UNKNOWN },
		{ "ssh-ed2551", PGL_E_KEY_TYPE_UNKNOWN },
		{ "ssh-ed255199", PGL_E_KEY_TYPE_UNKNOWN },
		{ "SSH-ED25519", PGL_E_KEY_TYPE_UNKNOWN },
		{ "rsa-sha2-512", PGL_E_KEY_TYPE_UNKNOWN },
		{ "", PGL_E_KEY_TYPE_UNKNOWN },
	};
	enum pgl_key_type t;
	size_t i;
	int r;

	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		t = PGL_KEY_UNSPEC;
		r = pgl_key_type_from_name(n[i].name, strlen(n[i].name), &t);
		tap_ok(r == 0 && t == n[i].t &&
		    strcmp(pgl_key_type_name(n[i].t), n[i].name) == 0 &&
		    strcmp(pgl_key_cert_type_name(n[i].t), n[i].cert) == 0 &&
		    strcmp(pgl_key_sig_alg(n[i].t), n[i].sig) == 0,
		    "names of %s", n[i].name);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = PGL_KEY_UNSPEC;
		r = pgl_key_type_from_name(bad[i].name, strlen(bad[i].name), &t);
		tap_ok(r == bad[i].want && t == PGL_KEY_UNSPEC,
		    "type name \"%s\" -> %d (%d)", bad[i].name, bad[i].want, r);
	}
	r = pgl_key_type_from_name("ssh-ed25519XYZ", 11, &t);
	tap_ok(r == 0 && t == PGL_KEY_ED25519, "name length is honoured");
	tap_ok(strcmp(pgl_key_type_name(PGL_KEY_UNSPEC), "unknown") == 0,
	    "PGL_KEY_UNSPEC is \"unknown\"");
}

static void
b64_dec(const char *in, const char *want, size_t wantlen)
{
	struct pgl_buf *b = must_new();
	int r = pgl_b64_decode(in, strlen(in), b);

	tap_ok(r == 0 && pgl_buf_len(b) == wantlen &&
	    memcmp(pgl_buf_ptr(b), want, wantlen) == 0,
	    "b64 decode \"%s\" (%d)", in, r);
	pgl_buf_free(b);
}

static void
test_b64(void)
{
	static const char *const bad[] = {
		"", "Z", "Zg", "Zg=", "Zm9", "Z===", "====", "Zg==Zg==",
		"Zm9v\n", "Zm 9", "Zm9v ", " Zm9v", "Zm9-", "Zm9_", "Zm=v",
		"Zg=\n", "Zm9vYmFy====",
	};
	struct pgl_buf *b = must_new();
	size_t i;
	int r;

	b64_dec("Zm9v", "foo", 3);
	b64_dec("Zm8=", "fo", 2);
	b64_dec("Zg==", "f", 1);
	b64_dec("Zm9vYmFy", "foobar", 6);
	b64_dec("AAAA", "\0\0\0", 3);
	b64_dec("+/+/", "\xfb\xff\xbf", 3);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pgl_buf_reset(b);
		r = pgl_b64_decode(bad[i], strlen(bad[i]), b);
		tap_ok(r == PGL_E_FORMAT && pgl_buf_len(b) == 0,
		    "b64 decode \"%s\" -> PGL_E_FORMAT, nothing appended (%d)",
		    tu_esc(bad[i]), r);
	}
	pgl_buf_reset(b);
	r = pgl_b64_decode("Zh==", 4, b);
	tap_ok(r == PGL_E_FORMAT,
	    "b64 decode \"Zh==\" (non-canonical, unused bits set) -> "
	    "PGL_E_FORMAT (%d)", r);
	pgl_buf_reset(b);
	r = pgl_b64_decode("Zm9=", 4, b);
	tap_ok(r == PGL_E_FORMAT,
	    "b64 decode \"Zm9=\" (non-canonical) -> PGL_E_FORMAT (%d)", r);

	pgl_buf_reset(b);
	pgl_buf_put_u8(b, 'x');
	tap_ok(pgl_b64_decode("Zm9v", 4, b) == 0 && pgl_buf_len(b) == 4 &&
	    memcmp(pgl_buf_ptr(b), "xfoo", 4) == 0, "b64 decode appends");
	pgl_buf_reset(b);
	tap_ok(pgl_b64_encode((const uint8_t *)"foobar", 6, b) == 0 &&
	    pgl_buf_len(b) == 8 && memcmp(pgl_buf_ptr(b), "Zm9vYmFy", 9) == 0,
	    "b64 encode foobar, NUL-terminated");
	pgl_buf_reset(b);
	tap_ok(pgl_b64_encode((const uint8_t *)"fooba", 5, b) == 0 &&
	    pgl_buf_len(b) == 8 && memcmp(pgl_buf_ptr(b), "Zm9vYmE=", 9) == 0,
	    "b64 encode fooba");
	pgl_buf_reset(b);
	tap_ok(pgl_b64_encode((const uint8_t *)"f", 1, b) == 0 &&
	    pgl_buf_len(b) == 4 && memcmp(pgl_buf_ptr(b), "Zg==", 5) == 0,
	    "b64 encode f");
	pgl_buf_free(b);
}

int
main(void)
{
	dir = tu_mkdtemp();
	test_names();
	test_b64();
	test_generated(PGL_KEY_ED25519, 0, "ed25519");
	test_generated(PGL_KEY_ECDSA_P256, 256, "ecdsa-p256");
	test_generated(PGL_KEY_ECDSA_P384, 384, "ecdsa-p384");
	test_generated(PGL_KEY_ECDSA_P521, 521, "ecdsa-p521");
	test_generated(PGL_KEY_RSA, 2048, "rsa-2048");
	test_generated(PGL_KEY_RSA, 3072, "rsa-3072");
	test_keygen_files();
	test_pem();
	test_pem_more();
	test_crafted_private();
	test_crafted_public();
	test_rsa_limits();
	test_rsa_pem_crt();
	pgl_key_free(rsa_other);
	tu_rmtree(dir);
	return tap_done();
}
