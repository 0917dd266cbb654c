/* Unit tests for signer/krl.c: the KRL wire format byte by byte, and
 * ssh-keygen -Q against certificates we sign. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "krl.h"
#include "sshkey.h"
#include "util.h"

#define KRL_MAGIC 0x5353484b524c0a00ULL

static char *dir;

static void
put_range_sub(struct pgl_buf *b, uint64_t lo, uint64_t hi)
{
	struct pgl_buf *d = must_new();

	pgl_buf_put_u64(d, lo);
	pgl_buf_put_u64(d, hi);
	pgl_buf_put_u8(b, 0x21);
	pgl_buf_put_stringb(b, d);
	pgl_buf_free(d);
}

/* Checks the header; leaves b at the first section. */
static void
check_header(struct pgl_buf *b, uint64_t version, uint64_t date,
    const char *comment, const char *label)
{
	uint64_t u64 = 0;
	uint32_t u32 = 0;
	const uint8_t *p;
	size_t n = 99;
	char *s = NULL;

	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == KRL_MAGIC,
	    "%s: magic 0x5353484b524c0a00", label);
	tap_ok(pgl_buf_get_u32(b, &u32) == 0 && u32 == 1,
	    "%s: format version 1", label);
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == version,
	    "%s: KRL version %llu", label, (unsigned long long)version);
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == date,
	    "%s: generated date", label);
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == 0, "%s: flags 0", label);
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == 0 && n == 0,
	    "%s: reserved string empty", label);
	tap_ok(pgl_buf_get_cstring(b, &s) == 0 && strcmp(s, comment) == 0,
	    "%s: comment \"%s\"", label, comment);
	free(s);
}

/* Reads one certificate section and checks its CA and reserved field;
 * returns the subsections in *sub. */
static int
get_section(struct pgl_buf *b, const struct pgl_key *ca, struct pgl_buf **sub,
    const char *label)
{
	struct pgl_buf *want = must_new(), *sect;
	const uint8_t *p, *c;
	size_t n, cn;
	uint8_t type = 0;
	int ok;

	ok = pgl_buf_get_u8(b, &type) == 0 && type == 1 &&
	    pgl_buf_get_string_direct(b, &p, &n) == 0;
	tap_ok(ok, "%s: a certificates section (type 1)", label);
	if (!ok) {
		pgl_buf_free(want);
		return 0;
	}
	sect = pgl_buf_from(p, n);
	pgl_key_put_public(ca, want);
	tap_ok(pgl_buf_get_string_direct(sect, &c, &cn) == 0 &&
	    cn == pgl_buf_len(want) && memcmp(c, pgl_buf_ptr(want), cn) == 0,
	    "%s: section names the CA by its public blob", label);
	tap_ok(pgl_buf_get_string_direct(sect, &c, &cn) == 0 && cn == 0,
	    "%s: section reserved string empty", label);
	*sub = sect;
	pgl_buf_free(want);
	return 1;
}

static void
test_encode(void)
{
	struct pgl_key *ca1 = NULL, *ca2 = NULL, *ca3 = NULL;
	const struct pgl_serial_range s1[] = {
		{ 5, 7 }, { 8, 8 }, { 1, 1 }, { 3, 4 }, { 10, 12 }, { 11, 11 },
	};
	const struct pgl_serial_range s2[] = {
		{ 42, 42 }, { 42, 42 }, { UINT64_MAX, UINT64_MAX },
		{ UINT64_MAX - 1, UINT64_MAX - 1 }, { 100, 100 }, { 99, 99 },
	};
	const char *const ids1[] = { "carol", "alice", "bob", "alice", "carol" };
	const struct pgl_serial_range s3[] = { { 1, UINT64_MAX }, { 7, 9 } };
	struct pgl_krl_ca cas[3];
	struct pgl_buf *out = must_new(), *b, *sub = NULL, *want = must_new(), *l;
	int r;

	pgl_key_generate(PGL_KEY_ED25519, 0, &ca1);
	pgl_key_generate(PGL_KEY_ECDSA_P256, 0, &ca2);
	pgl_key_generate(PGL_KEY_ECDSA_P384, 0, &ca3);
	memset(cas, 0, sizeof(cas));
	cas[0].ca = ca1;
	cas[0].serials = s1;
	cas[0].nserials = 6;
	cas[0].key_ids = ids1;
	cas[0].nkey_ids = 5;
	cas[1].ca = ca2;
	cas[1].serials = s2;
	cas[1].nserials = 6;
	cas[2].ca = ca3;
	cas[2].serials = s3;
	cas[2].nserials = 2;

	r = pgl_krl_encode(cas, 3, 7, 1893456000, "unit krl", out);
	tap_ok(r == 0, "encode a KRL with three CAs (%d)", r);
	b = pgl_buf_from(pgl_buf_ptr(out), pgl_buf_len(out));
	check_header(b, 7, 1893456000, "unit krl", "krl");

	/* CA 1: {5-7, 8, 1, 3-4, 10-12, 11} -> ranges 3-8, 10-12; list 1;
	 * key IDs sorted and unique. */
	if (get_section(b, ca1, &sub, "ca1")) {
		put_range_sub(want, 3, 8);
		put_range_sub(want, 10, 12);
		pgl_buf_put_u8(want, 0x20);
		l = must_new();
		pgl_buf_put_u64(l, 1);
		pgl_buf_put_stringb(want, l);
		pgl_buf_reset(l);
		pgl_buf_put_cstring(l, "alice");
		pgl_buf_put_cstring(l, "bob");
		pgl_buf_put_cstring(l, "carol");
		pgl_buf_put_u8(want, 0x23);
		pgl_buf_put_stringb(want, l);
		pgl_buf_free(l);
		tu_bytes_eq(pgl_buf_ptr(sub), pgl_buf_len(sub), pgl_buf_ptr(want),
		    pgl_buf_len(want), "ca1: subsections are exactly range 3-8, "
		    "range 10-12, list {1}, key IDs alice bob carol");
		pgl_buf_free(sub);
	}
	/* CA 2: duplicates collapse, neighbours merge, the top of the
	 * serial space does not wrap. */
	if (get_section(b, ca2, &sub, "ca2")) {
		pgl_buf_reset(want);
		put_range_sub(want, 99, 100);
		put_range_sub(want, UINT64_MAX - 1, UINT64_MAX);
		pgl_buf_put_u8(want, 0x20);
		l = must_new();
		pgl_buf_put_u64(l, 42);
		pgl_buf_put_stringb(want, l);
		pgl_buf_free(l);
		tu_bytes_eq(pgl_buf_ptr(sub), pgl_buf_len(sub), pgl_buf_ptr(want),
		    pgl_buf_len(want), "ca2: ranges 99-100 and 2^64-2..2^64-1, "
		    "list {42}, no key ID subsection");
		pgl_buf_free(sub);
	}
	/* CA 3: everything, and a range inside it */
	if (get_section(b, ca3, &sub, "ca3")) {
		pgl_buf_reset(want);
		put_range_sub(want, 1, UINT64_MAX);
		tu_bytes_eq(pgl_buf_ptr(sub), pgl_buf_len(sub), pgl_buf_ptr(want),
		    pgl_buf_len(want), "ca3: one range 1..2^64-1 absorbs 7-9");
		pgl_buf_free(sub);
	}
	tap_ok(pgl_buf_len(b) == 0, "nothing after the last section");
	pgl_buf_free(b);

	/* ssh-keygen reads it back the same way */
	{
		char *path = tu_path(dir, "three.krl"), *out_text = NULL, *cmd;
		char *fp1 = NULL, *fp2 = NULL, *w;
		int ok;

		tu_write_file(path, pgl_buf_ptr(out), pgl_buf_len(out), 0644);
		cmd = tu_fmt("ssh-keygen -Q -l -f '%s' 2>&1", path);
		r = tu_run(cmd, &out_text);
		tap_ok(r == 0, "ssh-keygen -Q -l parses the KRL (%d)", r);
		pgl_key_fingerprint(ca1, &fp1);
		pgl_key_fingerprint(ca2, &fp2);
		w = tu_fmt("# CA key ssh-ed25519 %s\nserial: 1\nserial: 3-8\n"
		    "serial: 10-12\nid: alice\nid: bob\nid: carol\n", fp1);
		ok = out_text != NULL && strstr(out_text, w) != NULL;
		free(w);
		w = tu_fmt("# CA key ecdsa-sha2-nistp256 %s\nserial: 42\n"
		    "serial: 99-100\nserial: 18446744073709551614-"
		    "18446744073709551615\n", fp2);
		ok = ok && strstr(out_text, w) != NULL;
		free(w);
		ok = ok && strstr(out_text, "# KRL version 7\n") != NULL &&
		    strstr(out_text, "# Comment: unit krl\n") != NULL &&
		    strstr(out_text, "serial: 1-18446744073709551615\n") != NULL;
		tap_ok(ok, "ssh-keygen -Q -l lists the same serials and key IDs");
		if (!ok)
			tap_diag("%s", out_text ? out_text : "");
		free(fp1);
		free(fp2);
		free(out_text);
		free(cmd);
		free(path);
	}

	/* No CAs: just the header; a CA with nothing revoked. */
	pgl_buf_reset(out);
	r = pgl_krl_encode(NULL, 0, 1, 2, "", out);
	b = pgl_buf_from(pgl_buf_ptr(out), pgl_buf_len(out));
	tap_ok(r == 0, "encode an empty KRL (%d)", r);
	check_header(b, 1, 2, "", "empty krl");
	tap_ok(pgl_buf_len(b) == 0, "empty krl: no sections");
	pgl_buf_free(b);
	pgl_buf_reset(out);
	memset(cas, 0, sizeof(cas));
	cas[0].ca = ca1;
	r = pgl_krl_encode(cas, 1, 1, 2, NULL, out);
	b = pgl_buf_from(pgl_buf_ptr(out), pgl_buf_len(out));
	tap_ok(r == 0, "encode a CA with nothing revoked (%d)", r);
	check_header(b, 1, 2, "", "bare CA");
	if (get_section(b, ca1, &sub, "bare CA")) {
		tap_ok(pgl_buf_len(sub) == 0, "bare CA: no subsections");
		pgl_buf_free(sub);
	}
	pgl_buf_free(b);

	/* Refusals: nothing appended */
	{
		const struct pgl_serial_range zero[] = { { 3, 4 }, { 0, 2 } };
		const struct pgl_serial_range inv[] = { { 9, 8 } };
		const struct pgl_serial_range zz[] = { { 0, 0 } };
		const char *const empty_id[] = { "ok", "" };
		const char *const null_id[] = { NULL };
		struct pgl_key *dup = NULL;
		struct pgl_buf *blob = must_new();

		memset(cas, 0, sizeof(cas));
		cas[0].ca = ca1;
		pgl_buf_reset(out);
		pgl_buf_put_u8(out, 0xee);
		cas[0].serials = zero;
		cas[0].nserials = 2;
		r = pgl_krl_encode(cas, 1, 1, 2, "x", out);
		tap_ok(r == PGL_E_BAD_SERIAL && pgl_buf_len(out) == 1,
		    "range 0-2 -> PGL_E_BAD_SERIAL, nothing appended (%d)", r);
		cas[0].serials = zz;
		cas[0].nserials = 1;
		r = pgl_krl_encode(cas, 1, 1, 2, "x", out);
		tap_ok(r == PGL_E_BAD_SERIAL && pgl_buf_len(out) == 1,
		    "serial 0 -> PGL_E_BAD_SERIAL (%d)", r);
		cas[0].serials = inv;
		r = pgl_krl_encode(cas, 1, 1, 2, "x", out);
		tap_ok(r == PGL_E_BAD_SERIAL && pgl_buf_len(out) == 1,
		    "lo > hi -> PGL_E_BAD_SERIAL (%d)", r);
		cas[0].nserials = 0;
		cas[0].key_ids = empty_id;
		cas[0].nkey_ids = 2;
		r = pgl_krl_encode(cas, 1, 1, 2, "x", out);
		tap_ok(r == PGL_E_INVALID_ARG && pgl_buf_len(out) == 1,
		    "empty key ID -> PGL_E_INVALID_ARG (%d)", r);
		cas[0].key_ids = null_id;
		cas[0].nkey_ids = 1;
		r = pgl_krl_encode(cas, 1, 1, 2, "x", out);
		tap_ok(r == PGL_E_INVALID_ARG && pgl_buf_len(out) == 1,
		    "NULL key ID -> PGL_E_INVALID_ARG (%d)", r);
		cas[0].nkey_ids = 0;

		/* the same CA twice, as a separate key object */
		pgl_key_put_public(ca2, blob);
		pgl_key_from_blob(pgl_buf_ptr(blob), pgl_buf_len(blob), &dup);
		cas[0].ca = ca2;
		cas[1].ca = ca1;
		cas[2].ca = dup;
		r = pgl_krl_encode(cas, 3, 1, 2, "x", out);
		tap_ok(r != 0 && pgl_buf_len(out) == 1,
		    "the same CA twice -> refused, nothing appended (%d)", r);
		pgl_key_free(dup);
		pgl_buf_free(blob);
	}
	pgl_buf_free(want);
	pgl_buf_free(out);
	pgl_key_free(ca1);
	pgl_key_free(ca2);
	pgl_key_free(ca3);
}

/* Signs a user certificate into dir/name-cert.pub. */
static char *
write_cert(const struct pgl_key *ca, uint64_t serial, const char *key_id,
    const char *name)
{
	static const char *const pr[] = { "alice" };
	struct pgl_key *subj = NULL;
	struct pgl_cert_req req;
	struct pgl_buf *cert = must_new();
	const char *what;
	char *line = NULL, *path;

	memset(&req, 0, sizeof(req));
	req.type = PGL_CERT_TYPE_USER;
	req.serial = serial;
	req.key_id = key_id;
	req.principals = pr;
	req.nprincipals = 1;
	req.valid_after = 0;
	req.valid_before = UINT64_MAX;
	pgl_key_generate(PGL_KEY_ED25519, 0, &subj);
	if (pgl_cert_sign(subj, ca, &req, cert, &what) != 0)
		tap_diag("cannot sign %s", name);
	pgl_cert_format_line(subj->type, cert, name, &line);
	path = tu_fmt("%s/%s-cert.pub", dir, name);
	tu_write_file(path, line, strlen(line), 0644);
	free(line);
	pgl_buf_free(cert);
	pgl_key_free(subj);
	return path;
}

static int
krl_query(const char *krl, const char *cert, char **out)
{
	char *cmd = tu_fmt("ssh-keygen -Q -f '%s' '%s' 2>&1", krl, cert);
	int r = tu_run(cmd, out);

	free(cmd);
	return r;
}

static void
test_keygen_query(void)
{
	static const struct {
		uint64_t serial;
		const char *id;
		int revoked;
		const char *why;
	} certs[] = {
		{ 7, "id-7", 1, "serial in the list" },
		{ 9, "id-9", 0, "serial not revoked" },
		{ 150, "id-150", 1, "serial inside range 100-200" },
		{ 201, "id-201", 0, "serial just past the range" },
		{ 300, "mallory", 1, "key ID revoked" },
		{ 6, "id-6", 0, "serial just below a listed one" },
	};
	const struct pgl_serial_range rev[] = { { 7, 7 }, { 100, 200 } };
	const char *const ids[] = { "mallory" };
	struct pgl_key *ca = NULL, *other = NULL;
	struct pgl_krl_ca kc;
	struct pgl_buf *krl = must_new();
	char *krlpath = tu_path(dir, "q.krl"), *path, *out = NULL, *name;
	size_t i;
	int r;

	pgl_key_generate(PGL_KEY_ED25519, 0, &ca);
	pgl_key_generate(PGL_KEY_ED25519, 0, &other);
	memset(&kc, 0, sizeof(kc));
	kc.ca = ca;
	kc.serials = rev;
	kc.nserials = 2;
	kc.key_ids = ids;
	kc.nkey_ids = 1;
	r = pgl_krl_encode(&kc, 1, 1, 1700000000, "q", krl);
	tu_write_file(krlpath, pgl_buf_ptr(krl), pgl_buf_len(krl), 0644);
	tap_ok(r == 0, "encode the query KRL (%d)", r);
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++) {
		name = tu_fmt("c%zu", i);
		path = write_cert(ca, certs[i].serial, certs[i].id, name);
		out = NULL;
		r = krl_query(krlpath, path, &out);
		if (certs[i].revoked)
			tap_ok(r != 0 && out != NULL && strstr(out, "REVOKED") != NULL,
			    "ssh-keygen -Q: serial %llu (%s) is REVOKED (%d)",
			    (unsigned long long)certs[i].serial, certs[i].why, r);
		else
			tap_ok(r == 0 && out != NULL && strstr(out, ": ok") != NULL,
			    "ssh-keygen -Q: serial %llu (%s) is ok (%d)",
			    (unsigned long long)certs[i].serial, certs[i].why, r);
		if (out != NULL && strstr(out, "REVOKED") == NULL &&
		    strstr(out, ": ok") == NULL)
			tap_diag("%s", out);
		free(out);
		free(path);
		free(name);
	}
	/* Serial 7 from a different CA is not revoked by this KRL. */
	path = write_cert(other, 7, "id-7", "other");
	out = NULL;
	r = krl_query(krlpath, path, &out);
	tap_ok(r == 0 && out != NULL && strstr(out, ": ok") != NULL,
	    "ssh-keygen -Q: serial 7 from another CA is ok (%d)", r);
	free(out);
	free(path);
	free(krlpath);
	pgl_buf_free(krl);
	pgl_key_free(ca);
	pgl_key_free(other);
}

int
main(void)
{
	dir = tu_mkdtemp();
	test_encode();
	test_keygen_query();
	tu_rmtree(dir);
	return tap_done();
}
