/* Unit tests for signer/cert.c: request checks, the certificate wire
 * format field by field, and interoperability with ssh-keygen. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "sshkey.h"
#include "util.h"

static char *dir;

static const char *const principals[] = { "alice", "alice@vm-01" };

static void
base_req(struct pgl_cert_req *r)
{
	memset(r, 0, sizeof(*r));
	r->type = PGL_CERT_TYPE_USER;
	r->serial = 42;
	r->key_id = "alice@example.com/vm-01/42";
	r->principals = principals;
	r->nprincipals = 2;
	r->valid_after = 1893456000;            /* 2030-01-01 00:00:00 UTC */
	r->valid_before = 1893456000 + 3600;
	r->extensions = pgl_cert_default_extensions;
	r->nextensions = pgl_cert_ndefault_extensions;
}

static void
refused(const struct pgl_cert_req *req, int want, const char *want_what,
    const char *label)
{
	const char *what = "(unset)";
	int r = pgl_cert_check(req, &what);

	tap_ok(r == want && what != NULL && strcmp(what, want_what) == 0,
	    "check refuses %s: %d \"%s\" (got %d \"%s\")", label, want,
	    want_what, r, what ? what : "NULL");
}

static void
accepted(const struct pgl_cert_req *req, const char *label)
{
	const char *what = "(unset)";
	int r = pgl_cert_check(req, &what);

	tap_ok(r == 0 && what == NULL, "check accepts %s (%d %s)", label, r,
	    what ? what : "");
}

static void
one_option(struct pgl_cert_req *req, int critical, const char *name,
    const char *value, struct pgl_cert_option *store)
{
	base_req(req);
	store->name = name;
	store->value = value;
	if (critical) {
		req->critical = store;
		req->ncritical = 1;
	} else {
		req->extensions = store;
		req->nextensions = 1;
	}
}

static void
test_check(void)
{
	static const char *const bad_principal[] = { "alice", "bob\nroot" };
	static const char *const empty_principal[] = { "" };
	static const char *const cidr_bad[] = {
		"10.0.0.0/33", "foo", "1.2.3.4/", "", "1.2.3.4/-1", "1.2.3.4/ 8",
		"1.2.3.4/8x", "::1/129", "10.0.0.0/8,", ",10.0.0.0/8",
		"10.0.0.0/8,,1.2.3.4", "1.2.3", "256.0.0.1", "10.0.0.0/8 ",
		"10.0.0.0/08x",
	};
	static const char *const cidr_good[] = {
		"10.0.0.0/8", "1.2.3.4", "1.2.3.4/32", "0.0.0.0/0", "::1",
		"2001:db8::/32", "::/0", "10.0.0.0/8,192.168.1.1,2001:db8::1/128",
	};
	struct pgl_cert_req req;
	struct pgl_cert_option o, two[2];
	const char **many;
	char *big;
	size_t i;

	base_req(&req);
	accepted(&req, "the base request");
	req.type = 0;
	refused(&req, PGL_E_INVALID_ARG, "certificate type", "type 0");
	req.type = 3;
	refused(&req, PGL_E_INVALID_ARG, "certificate type", "type 3");
	base_req(&req);
	req.serial = 0;
	refused(&req, PGL_E_BAD_SERIAL, "serial", "serial 0");
	req.serial = UINT64_MAX;
	accepted(&req, "serial 2^64-1");

	base_req(&req);
	req.key_id = "";
	refused(&req, PGL_E_INVALID_ARG, "key ID", "empty key ID");
	req.key_id = NULL;
	refused(&req, PGL_E_INVALID_ARG, "key ID", "NULL key ID");
	req.key_id = "alice\x01";
	refused(&req, PGL_E_CTRL_CHAR, "key ID", "key ID with \\x01");
	req.key_id = "alice\n";
	refused(&req, PGL_E_CTRL_CHAR, "key ID", "key ID with newline");
	req.key_id = "alice\x7f";
	refused(&req, PGL_E_CTRL_CHAR, "key ID", "key ID with DEL");
	big = malloc(PGL_CERT_MAX_KEY_ID + 2);
	memset(big, 'k', PGL_CERT_MAX_KEY_ID + 1);
	big[PGL_CERT_MAX_KEY_ID + 1] = '\0';
	req.key_id = big;
	refused(&req, PGL_E_TOO_LARGE, "key ID", "key ID over the maximum");
	big[PGL_CERT_MAX_KEY_ID] = '\0';
	accepted(&req, "key ID of exactly the maximum");
	req.key_id = "caf\xc3\xa9 \xe2\x9c\x93";
	accepted(&req, "UTF-8 key ID");

	base_req(&req);
	req.nprincipals = 0;
	refused(&req, PGL_E_NO_PRINCIPALS, "principals", "no principals");
	req.principals = bad_principal;
	req.nprincipals = 2;
	refused(&req, PGL_E_CTRL_CHAR, "principal", "principal with '\\n'");
	req.principals = empty_principal;
	req.nprincipals = 1;
	refused(&req, PGL_E_INVALID_ARG, "principal", "empty principal");
	many = calloc(PGL_CERT_MAX_PRINCIPALS + 1, sizeof(*many));
	for (i = 0; i <= PGL_CERT_MAX_PRINCIPALS; i++)
		many[i] = "p";
	req.principals = many;
	req.nprincipals = PGL_CERT_MAX_PRINCIPALS + 1;
	refused(&req, PGL_E_TOO_LARGE, "principals", "too many principals");
	req.nprincipals = PGL_CERT_MAX_PRINCIPALS;
	accepted(&req, "the maximum number of principals");
	free(many);
	big[PGL_CERT_MAX_NAME + 1] = '\0';
	req.principals = (const char *const *)&big;
	req.nprincipals = 1;
	refused(&req, PGL_E_TOO_LARGE, "principal", "principal over 256 bytes");
	big[PGL_CERT_MAX_NAME] = '\0';
	accepted(&req, "principal of exactly 256 bytes");

	base_req(&req);
	req.valid_before = req.valid_after;
	refused(&req, PGL_E_BAD_VALIDITY, "validity", "valid_after == valid_before");
	req.valid_before = req.valid_after - 1;
	refused(&req, PGL_E_BAD_VALIDITY, "validity", "valid_after > valid_before");
	req.valid_after = 0;
	req.valid_before = UINT64_MAX;
	accepted(&req, "validity 0 .. forever");

	one_option(&req, 1, "no-such-option", NULL, &o);
	refused(&req, PGL_E_UNKNOWN_OPTION, "critical option", "unknown critical option");
	one_option(&req, 1, "permit-pty", NULL, &o);
	refused(&req, PGL_E_UNKNOWN_OPTION, "critical option",
	    "an extension name as a critical option");
	one_option(&req, 1, "force-command", NULL, &o);
	refused(&req, PGL_E_BAD_OPTION_VALUE, "critical option",
	    "force-command without value");
	one_option(&req, 1, "force-command", "", &o);
	refused(&req, PGL_E_BAD_OPTION_VALUE, "critical option",
	    "force-command with empty value");
	one_option(&req, 1, "force-command", "/bin/true\nrm -rf /", &o);
	refused(&req, PGL_E_CTRL_CHAR, "critical option",
	    "force-command with a newline");
	one_option(&req, 1, "force-command", "/usr/bin/rsync --server -e.LsfxC . /srv", &o);
	accepted(&req, "force-command with a value");
	for (i = 0; i < sizeof(cidr_bad) / sizeof(cidr_bad[0]); i++) {
		char *label = tu_fmt("source-address \"%s\"", cidr_bad[i]);

		one_option(&req, 1, "source-address", cidr_bad[i], &o);
		refused(&req, PGL_E_BAD_OPTION_VALUE, "critical option", label);
		free(label);
	}
	one_option(&req, 1, "source-address", NULL, &o);
	refused(&req, PGL_E_BAD_OPTION_VALUE, "critical option",
	    "source-address without value");
	for (i = 0; i < sizeof(cidr_good) / sizeof(cidr_good[0]); i++) {
		char *label = tu_fmt("source-address \"%s\"", cidr_good[i]);

		one_option(&req, 1, "source-address", cidr_good[i], &o);
		accepted(&req, label);
		free(label);
	}
	/* sshd (addr_pton_cidr) refuses a block whose host bits are set:
	 * "Inconsistent mask length"; ssh-keygen -O refuses it too. */
	one_option(&req, 1, "source-address", "10.0.0.1/8", &o);
	{
		const char *what = NULL;
		int r = pgl_cert_check(&req, &what);

		tap_ok(r == PGL_E_BAD_OPTION_VALUE,
		    "source-address \"10.0.0.1/8\" refused like sshd does (%d)", r);
		one_option(&req, 1, "source-address", "::1/64", &o);
		r = pgl_cert_check(&req, &what);
		tap_ok(r == PGL_E_BAD_OPTION_VALUE,
		    "source-address \"::1/64\" refused like sshd does (%d)", r);
	}
	one_option(&req, 1, "verify-required", "yes", &o);
	refused(&req, PGL_E_BAD_OPTION_VALUE, "critical option",
	    "verify-required with a value");
	one_option(&req, 1, "verify-required", NULL, &o);
	accepted(&req, "verify-required as a flag");

	base_req(&req);
	two[0].name = "force-command";
	two[0].value = "/bin/a";
	two[1].name = "force-command";
	two[1].value = "/bin/b";
	req.critical = two;
	req.ncritical = 2;
	refused(&req, PGL_E_DUPLICATE_OPTION, "critical option",
	    "duplicate critical option");
	base_req(&req);
	two[0].name = "permit-pty";
	two[0].value = NULL;
	two[1].name = "permit-pty";
	two[1].value = NULL;
	req.extensions = two;
	req.nextensions = 2;
	refused(&req, PGL_E_DUPLICATE_OPTION, "extension", "duplicate extension");

	one_option(&req, 0, "permit-pty", "yes", &o);
	refused(&req, PGL_E_BAD_OPTION_VALUE, "extension",
	    "known extension with a value");
	one_option(&req, 0, "permit-everything", NULL, &o);
	refused(&req, PGL_E_UNKNOWN_OPTION, "extension",
	    "unknown extension without '@'");
	one_option(&req, 0, "@example.com", NULL, &o);
	refused(&req, PGL_E_UNKNOWN_OPTION, "extension",
	    "extension name starting with '@'");
	one_option(&req, 0, "foo@example.com", NULL, &o);
	accepted(&req, "vendor extension foo@example.com");
	one_option(&req, 0, "foo@example.com", "some data", &o);
	accepted(&req, "vendor extension with a value");
	one_option(&req, 0, "foo@example.com", "a\nb", &o);
	refused(&req, PGL_E_BAD_OPTION_VALUE, "extension",
	    "vendor extension value with a newline");
	one_option(&req, 0, "foo\n@example.com", NULL, &o);
	refused(&req, PGL_E_CTRL_CHAR, "extension",
	    "extension name with a newline");
	one_option(&req, 0, "", NULL, &o);
	refused(&req, PGL_E_INVALID_ARG, "extension", "empty extension name");
	one_option(&req, 0, "permit-X11-forwarding", NULL, &o);
	accepted(&req, "permit-X11-forwarding when asked for");

	/* Host certificates carry neither critical options nor extensions. */
	base_req(&req);
	req.type = PGL_CERT_TYPE_HOST;
	refused(&req, PGL_E_NOT_ALLOWED, "extension", "host cert with extensions");
	req.nextensions = 0;
	accepted(&req, "host cert without options");
	one_option(&req, 1, "force-command", "/bin/true", &o);
	req.type = PGL_CERT_TYPE_HOST;
	req.nextensions = 0;
	refused(&req, PGL_E_NOT_ALLOWED, "critical option",
	    "host cert with a critical option");

	/* Option count limit */
	{
		struct pgl_cert_option opts[PGL_CERT_MAX_OPTIONS + 1];
		char names[PGL_CERT_MAX_OPTIONS + 1][24];

		for (i = 0; i <= PGL_CERT_MAX_OPTIONS; i++) {
			snprintf(names[i], sizeof(names[i]), "x%zu@example.com", i);
			opts[i].name = names[i];
			opts[i].value = NULL;
		}
		base_req(&req);
		req.extensions = opts;
		req.nextensions = PGL_CERT_MAX_OPTIONS + 1;
		refused(&req, PGL_E_TOO_LARGE, "extension", "33 extensions");
		req.nextensions = PGL_CERT_MAX_OPTIONS;
		accepted(&req, "32 extensions");
	}
	free(big);
}

/* Reads one string and checks it is a nested cstring equal to want. */
static int
nested_cstring_is(const uint8_t *p, size_t n, const char *want)
{
	struct pgl_buf *b = pgl_buf_from(p, n);
	char *s = NULL;
	int ok = pgl_buf_get_cstring(b, &s) == 0 && strcmp(s, want) == 0 &&
	    pgl_buf_len(b) == 0;

	free(s);
	pgl_buf_free(b);
	return ok;
}

/* Checks an options section: names in order, values (NULL = flag). */
static void
check_options(const uint8_t *p, size_t n, const char *const *names,
    const char *const *values, size_t count, const char *label)
{
	struct pgl_buf *b = pgl_buf_from(p, n);
	const uint8_t *d;
	size_t dlen, i;
	char *name;
	int ok = 1;

	for (i = 0; i < count; i++) {
		name = NULL;
		if (pgl_buf_get_cstring(b, &name) != 0 ||
		    pgl_buf_get_string_direct(b, &d, &dlen) != 0) {
			tap_diag("%s: option %zu missing", label, i);
			ok = 0;
			free(name);
			break;
		}
		if (strcmp(name, names[i]) != 0) {
			tap_diag("%s: option %zu is %s, want %s", label, i, name,
			    names[i]);
			ok = 0;
		}
		if (values[i] == NULL ? dlen != 0 :
		    !nested_cstring_is(d, dlen, values[i])) {
			tap_diag("%s: option %s has the wrong data", label, name);
			ok = 0;
		}
		free(name);
	}
	tap_ok(ok && pgl_buf_len(b) == 0, "%s: %zu options, sorted, with the "
	    "right data", label, count);
	pgl_buf_free(b);
}

struct expect {
	const char *const *crit_names, *const *crit_values;
	size_t ncrit;
	const char *const *ext_names, *const *ext_values;
	size_t next;
};

/* Parses a certificate back field by field. */
static void
check_cert(const char *label, const struct pgl_buf *cert,
    const struct pgl_key *subject, const struct pgl_key *ca,
    const struct pgl_cert_req *req, const struct expect *ex)
{
	struct pgl_buf *b = pgl_buf_from(pgl_buf_ptr(cert), pgl_buf_len(cert));
	struct pgl_buf *fields = must_new(), *cablob = must_new();
	const uint8_t *p, *sig;
	size_t n, i, signed_len, siglen;
	char *s = NULL;
	uint64_t u64;
	uint32_t u32;
	int ok, r;

	tap_ok(pgl_buf_get_cstring(b, &s) == 0 &&
	    strcmp(s, pgl_key_cert_type_name(subject->type)) == 0,
	    "%s: type name %s", label, s ? s : "-");
	free(s);
	s = NULL;
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == 0 && n == 32,
	    "%s: nonce of 32 bytes", label);
	pgl_key_put_public_fields(subject, fields);
	ok = pgl_buf_len(b) >= pgl_buf_len(fields) &&
	    memcmp(pgl_buf_ptr(b), pgl_buf_ptr(fields), pgl_buf_len(fields)) == 0;
	tap_ok(ok, "%s: public fields equal the subject's", label);
	pgl_buf_consume(b, pgl_buf_len(fields));
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == req->serial,
	    "%s: serial %llu", label, (unsigned long long)u64);
	tap_ok(pgl_buf_get_u32(b, &u32) == 0 && u32 == req->type,
	    "%s: type %u", label, u32);
	tap_ok(pgl_buf_get_cstring(b, &s) == 0 && strcmp(s, req->key_id) == 0,
	    "%s: key ID", label);
	free(s);
	s = NULL;
	r = pgl_buf_get_string_direct(b, &p, &n);
	{
		struct pgl_buf *pb = pgl_buf_from(p, r == 0 ? n : 0);

		ok = r == 0;
		for (i = 0; ok && i < req->nprincipals; i++) {
			ok = pgl_buf_get_cstring(pb, &s) == 0 &&
			    strcmp(s, req->principals[i]) == 0;
			free(s);
			s = NULL;
		}
		tap_ok(ok && pgl_buf_len(pb) == 0, "%s: %zu principals in order",
		    label, req->nprincipals);
		pgl_buf_free(pb);
	}
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == req->valid_after,
	    "%s: valid_after", label);
	tap_ok(pgl_buf_get_u64(b, &u64) == 0 && u64 == req->valid_before,
	    "%s: valid_before", label);
	s = tu_fmt("%s critical options", label);
	if (pgl_buf_get_string_direct(b, &p, &n) == 0)
		check_options(p, n, ex->crit_names, ex->crit_values, ex->ncrit, s);
	else
		tap_ok(0, "%s: section missing", s);
	free(s);
	s = tu_fmt("%s extensions", label);
	if (pgl_buf_get_string_direct(b, &p, &n) == 0)
		check_options(p, n, ex->ext_names, ex->ext_values, ex->next, s);
	else
		tap_ok(0, "%s: section missing", s);
	free(s);
	s = NULL;
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == 0 && n == 0,
	    "%s: reserved is empty", label);
	pgl_key_put_public(ca, cablob);
	tap_ok(pgl_buf_get_string_direct(b, &p, &n) == 0 &&
	    n == pgl_buf_len(cablob) && memcmp(p, pgl_buf_ptr(cablob), n) == 0,
	    "%s: signature key is the CA's public blob", label);
	signed_len = pgl_buf_len(cert) - pgl_buf_len(b);
	r = pgl_buf_get_string_direct(b, &sig, &siglen);
	tap_ok(r == 0 && pgl_buf_len(b) == 0, "%s: signature is the last field",
	    label);
	if (r == 0) {
		struct pgl_buf *sb = pgl_buf_from(sig, siglen);
		const uint8_t *alg;
		size_t alglen;
		uint8_t *copy;

		tap_ok(pgl_buf_get_string_direct(sb, &alg, &alglen) == 0 &&
		    alglen == strlen(pgl_key_sig_alg(ca->type)) &&
		    memcmp(alg, pgl_key_sig_alg(ca->type), alglen) == 0,
		    "%s: signature algorithm %s", label, pgl_key_sig_alg(ca->type));
		pgl_buf_free(sb);
		r = pgl_key_verify(ca, sig, siglen, pgl_buf_ptr(cert), signed_len);
		tap_ok(r == 0, "%s: signature verifies over everything before it (%d)",
		    label, r);
		copy = malloc(signed_len);
		memcpy(copy, pgl_buf_ptr(cert), signed_len);
		copy[signed_len / 2] ^= 0x04;
		tap_ok(pgl_key_verify(ca, sig, siglen, copy, signed_len) != 0,
		    "%s: a changed body does not verify", label);
		free(copy);
		/* Ed25519 CAs sign through libsodium, everything else through
		 * OpenSSL: deterministic, so both give the same bytes. */
		if (ca->type == PGL_KEY_ED25519) {
			struct pgl_buf *ref = pgl_buf_new();

			tap_ok(ref != NULL && pgl_key_sign(ca, pgl_buf_ptr(cert),
			    signed_len, ref) == 0 &&
			    pgl_buf_len(ref) == siglen &&
			    memcmp(pgl_buf_ptr(ref), sig, siglen) == 0,
			    "%s: the signature is byte for byte OpenSSL's",
			    label);
			pgl_buf_free(ref);
		}
	}
	pgl_buf_free(fields);
	pgl_buf_free(cablob);
	pgl_buf_free(b);
}

static char *
fingerprint(const struct pgl_key *k)
{
	char *fp = NULL;

	pgl_key_fingerprint(k, &fp);
	return fp;
}

/* ssh-keygen -L on a certificate we made: it parses and checks the
 * signature, so this is an interoperability test of the whole thing. */
static void
keygen_list(const char *label, const struct pgl_buf *cert,
    const struct pgl_key *subject, const struct pgl_key *ca, int host)
{
	static const char *const user_want[] = {
		"Key ID: \"alice@example.com/vm-01/42\"",
		"Serial: 42",
		"Valid: from 2030-01-01T00:00:00 to 2030-01-01T01:00:00",
		"                alice\n                alice@vm-01\n",
		"force-command /bin/true",
		"source-address 10.0.0.0/8,::1",
		"permit-pty",
		"permit-agent-forwarding",
		"foo@example.com",
	};
	char *line = NULL, *path, *cmd, *out = NULL, *want, *fp, *cafp;
	size_t i;
	int r, ok;

	r = pgl_cert_format_line(subject->type, cert, "unit cert", &line);
	tap_ok(r == 0 && line != NULL && strncmp(line,
	    pgl_key_cert_type_name(subject->type),
	    strlen(pgl_key_cert_type_name(subject->type))) == 0,
	    "%s: certificate line (%d)", label, r);
	if (line == NULL)
		return;
	{
		struct pgl_key *k = NULL;

		r = pgl_key_parse_public_line(line, strlen(line), &k, NULL);
		tap_ok(r == PGL_E_KEY_IS_CERT && k == NULL,
		    "%s: the line is refused as a plain key (PGL_E_KEY_IS_CERT)",
		    label);
		pgl_key_free(k);
	}
	path = tu_fmt("%s/%s-cert.pub", dir, label);
	tu_write_file(path, line, strlen(line), 0644);
	cmd = tu_fmt("TZ=UTC ssh-keygen -L -f '%s' 2>&1", path);
	r = tu_run(cmd, &out);
	tap_ok(r == 0, "%s: ssh-keygen -L accepts the certificate (%d)", label, r);
	if (r != 0)
		tap_diag("%s", out ? out : "");
	fp = fingerprint(subject);
	cafp = fingerprint(ca);
	want = tu_fmt("Type: %s %s certificate", pgl_key_cert_type_name(subject->type),
	    host ? "host" : "user");
	tap_ok(out != NULL && strstr(out, want) != NULL, "%s: ssh-keygen sees %s",
	    label, want);
	free(want);
	want = tu_fmt("-CERT %s", fp);
	tap_ok(out != NULL && strstr(out, want) != NULL,
	    "%s: ssh-keygen sees the subject key %s", label, fp);
	free(want);
	want = tu_fmt(" %s (using %s)", cafp, pgl_key_sig_alg(ca->type));
	tap_ok(out != NULL && strstr(out, "Signing CA: ") != NULL &&
	    strstr(out, want) != NULL, "%s: ssh-keygen sees CA%s", label, want);
	free(want);
	if (!host) {
		ok = out != NULL;
		for (i = 0; ok && i < sizeof(user_want) / sizeof(user_want[0]); i++) {
			if (strstr(out, user_want[i]) == NULL) {
				tap_diag("missing \"%s\"", user_want[i]);
				ok = 0;
			}
		}
		tap_ok(ok, "%s: ssh-keygen lists key ID, serial, validity, "
		    "principals, options", label);
		if (!ok)
			tap_diag("%s", out ? out : "");
	}
	free(fp);
	free(cafp);
	free(out);
	free(cmd);
	free(line);
	line = NULL;
	/* The same with one byte of the serial changed: ssh-keygen checks
	 * the CA signature, so it must now refuse the certificate. */
	{
		struct pgl_buf *bad = must_new();
		size_t off = 4 + strlen(pgl_key_cert_type_name(subject->type)) +
		    36 + 36 + 7;                /* ed25519: type, nonce, key */

		pgl_buf_put(bad, pgl_buf_ptr(cert), pgl_buf_len(cert));
		if (subject->type == PGL_KEY_ED25519) {
			((uint8_t *)pgl_buf_ptr(bad))[off] ^= 0x01;
			pgl_cert_format_line(subject->type, bad, NULL, &line);
			tu_write_file(path, line, strlen(line), 0644);
			cmd = tu_fmt("ssh-keygen -L -f '%s' >/dev/null 2>&1", path);
			r = tu_run(cmd, NULL);
			tap_ok(r != 0, "%s: ssh-keygen -L refuses it with the serial "
			    "changed (%d)", label, r);
			free(cmd);
			free(line);
		}
		pgl_buf_free(bad);
	}
	free(path);
}

static void
test_sign(void)
{
	static const struct {
		enum pgl_key_type t;
		unsigned bits;
		const char *label;
	} cas[] = {
		{ PGL_KEY_ED25519, 0, "ca-ed25519" },
		{ PGL_KEY_ECDSA_P256, 0, "ca-p256" },
		{ PGL_KEY_ECDSA_P384, 0, "ca-p384" },
		{ PGL_KEY_ECDSA_P521, 0, "ca-p521" },
		{ PGL_KEY_RSA, 3072, "ca-rsa3072" },
	};
	/* given out of order: the certificate must sort them */
	static const struct pgl_cert_option crit[] = {
		{ "source-address", "10.0.0.0/8,::1" },
		{ "force-command", "/bin/true" },
	};
	static const struct pgl_cert_option ext[] = {
		{ "permit-pty", NULL },
		{ "foo@example.com", "vendor data" },
		{ "permit-agent-forwarding", NULL },
		{ "permit-X11-forwarding", NULL },
	};
	static const char *const crit_names[] = { "force-command", "source-address" };
	static const char *const crit_values[] = { "/bin/true", "10.0.0.0/8,::1" };
	static const char *const ext_names[] = { "foo@example.com",
	    "permit-X11-forwarding", "permit-agent-forwarding", "permit-pty" };
	static const char *const ext_values[] = { "vendor data", NULL, NULL, NULL };
	static const char *const def_names[] = { "permit-agent-forwarding",
	    "permit-port-forwarding", "permit-pty", "permit-user-rc" };
	static const char *const def_values[] = { NULL, NULL, NULL, NULL };
	struct expect ex = { crit_names, crit_values, 2, ext_names, ext_values, 4 };
	struct expect exdef = { NULL, NULL, 0, def_names, def_values, 4 };
	struct expect exnone = { NULL, NULL, 0, NULL, NULL, 0 };
	struct pgl_key *ca[5] = { 0 }, *subj[3] = { 0 }, *weak = NULL;
	struct pgl_cert_req req;
	struct pgl_buf *out = must_new(), *out2 = must_new();
	const char *what;
	char *label;
	size_t i, j;
	int r;

	for (i = 0; i < 5; i++) {
		r = pgl_key_generate(cas[i].t, cas[i].bits, &ca[i]);
		tap_ok(r == 0, "generate %s (%d)", cas[i].label, r);
	}
	pgl_key_generate(PGL_KEY_ED25519, 0, &subj[0]);
	pgl_key_generate(PGL_KEY_ECDSA_P256, 0, &subj[1]);
	r = pgl_key_generate(PGL_KEY_RSA, 2048, &weak);
	tap_ok(r == 0, "generate rsa-2048 (%d)", r);
	subj[2] = weak;

	for (i = 0; i < 5; i++) {
		if (ca[i] == NULL)
			continue;
		for (j = 0; j < 3; j++) {
			if (subj[j] == NULL)
				continue;
			label = tu_fmt("%s/%s", cas[i].label,
			    pgl_key_type_name(subj[j]->type));
			base_req(&req);
			req.critical = crit;
			req.ncritical = 2;
			req.extensions = ext;
			req.nextensions = 4;
			pgl_buf_reset(out);
			what = "(unset)";
			r = pgl_cert_sign(subj[j], ca[i], &req, out, &what);
			tap_ok(r == 0 && what == NULL, "%s: sign (%d)", label, r);
			check_cert(label, out, subj[j], ca[i], &req, &ex);
			if (j == 0) {
				free(label);
				label = tu_fmt("%s-user", cas[i].label);
				keygen_list(label, out, subj[j], ca[i], 0);
			}
			free(label);
		}
	}

	/* Default extensions, and a host certificate */
	base_req(&req);
	pgl_buf_reset(out);
	r = pgl_cert_sign(subj[0], ca[0], &req, out, &what);
	tap_ok(r == 0, "sign with the default extensions (%d)", r);
	check_cert("default extensions", out, subj[0], ca[0], &req, &exdef);
	base_req(&req);
	req.type = PGL_CERT_TYPE_HOST;
	req.nextensions = 0;
	req.principals = principals + 1;
	req.nprincipals = 1;
	pgl_buf_reset(out);
	r = pgl_cert_sign(subj[1], ca[0], &req, out, &what);
	tap_ok(r == 0, "sign a host certificate (%d)", r);
	check_cert("host cert", out, subj[1], ca[0], &req, &exnone);
	keygen_list("host", out, subj[1], ca[0], 1);

	/* Two signatures of the same request differ (fresh nonce). */
	base_req(&req);
	pgl_buf_reset(out);
	pgl_cert_sign(subj[0], ca[0], &req, out, &what);
	pgl_cert_sign(subj[0], ca[0], &req, out2, &what);
	tap_ok(pgl_buf_len(out) == pgl_buf_len(out2) &&
	    memcmp(pgl_buf_ptr(out) + 40, pgl_buf_ptr(out2) + 40, 32) != 0,
	    "two certificates of one request have different nonces");

	/* A weak RSA CA, and refusals leave out untouched. */
	base_req(&req);
	pgl_buf_reset(out);
	pgl_buf_put_u8(out, 0xaa);
	what = NULL;
	r = pgl_cert_sign(subj[0], weak, &req, out, &what);
	tap_ok(r == PGL_E_CA_TOO_WEAK && what != NULL &&
	    strcmp(what, "CA key") == 0,
	    "RSA 2048 CA -> PGL_E_CA_TOO_WEAK, what \"CA key\" (%d)", r);
	tap_ok(pgl_buf_len(out) == 1, "nothing appended on PGL_E_CA_TOO_WEAK");
	req.serial = 0;
	r = pgl_cert_sign(subj[0], ca[0], &req, out, &what);
	tap_ok(r == PGL_E_BAD_SERIAL && strcmp(what, "serial") == 0 &&
	    pgl_buf_len(out) == 1, "sign runs the request check (%d)", r);
	/* An RSA CA of exactly 3072 bits is fine (covered above); the
	 * subject may be a 2048-bit key (covered above). */

	for (i = 0; i < 5; i++)
		pgl_key_free(ca[i]);
	pgl_key_free(subj[0]);
	pgl_key_free(subj[1]);
	pgl_key_free(weak);
	pgl_buf_free(out);
	pgl_buf_free(out2);
}

/* The other direction: ssh-keygen signs with our CA key file, and
 * pgl_key_verify checks its signature over the certificate body. */
static void
test_keygen_signed(void)
{
	static const struct {
		enum pgl_key_type t;
		unsigned bits;
	} cas[] = {
		{ PGL_KEY_ED25519, 0 }, { PGL_KEY_ECDSA_P256, 0 },
		{ PGL_KEY_ECDSA_P384, 0 }, { PGL_KEY_ECDSA_P521, 0 },
		{ PGL_KEY_RSA, 3072 },
	};
	struct pgl_key *subj = NULL, *ca;
	struct pgl_buf *priv = must_new(), *blob = must_new();
	char *line = NULL, *subjpath, *capath, *cmd, *certtext, *b64, *certpath;
	size_t i;
	int r;

	pgl_key_generate(PGL_KEY_ED25519, 0, &subj);
	pgl_key_format_public_line(subj, "subject", &line);
	subjpath = tu_fmt("%s/subject.pub", dir);
	tu_write_file(subjpath, line, strlen(line), 0644);
	free(line);
	certpath = tu_fmt("%s/subject-cert.pub", dir);
	for (i = 0; i < sizeof(cas) / sizeof(cas[0]); i++) {
		const char *name = pgl_key_type_name(cas[i].t);

		ca = NULL;
		if (pgl_key_generate(cas[i].t, cas[i].bits, &ca) != 0) {
			tap_ok(0, "generate CA %s", name);
			continue;
		}
		pgl_buf_reset(priv);
		pgl_key_format_private(ca, "ca", priv);
		capath = tu_fmt("%s/ca-%zu", dir, i);
		tu_write_file(capath, pgl_buf_ptr(priv), pgl_buf_len(priv), 0600);
		unlink(certpath);
		cmd = tu_fmt("ssh-keygen -q -s '%s' -I kg-id -n bob -z 77 -V "
		    "+1h '%s' </dev/null 2>&1", capath, subjpath);
		r = tu_run(cmd, NULL);
		certtext = tu_read_file(certpath, NULL);
		tap_ok(r == 0 && certtext != NULL,
		    "ssh-keygen -s signs with our %s CA key file (%d)", name, r);
		if (certtext != NULL) {
			struct pgl_buf *cb;
			const uint8_t *p, *sig;
			size_t siglen, signed_len;
			uint64_t serial = 0;

			b64 = tu_field(certtext, 1);
			pgl_buf_reset(blob);
			pgl_b64_decode(b64, strlen(b64), blob);
			cb = pgl_buf_from(pgl_buf_ptr(blob), pgl_buf_len(blob));
			/* ed25519 cert: type, nonce, pk, serial, type, id,
			 * principals, va, vb, crit, ext, reserved, ca key */
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_u64(cb, &serial);
			pgl_buf_get_u32(cb, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_u64(cb, NULL);
			pgl_buf_get_u64(cb, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_string_direct(cb, NULL, NULL);
			pgl_buf_get_string_direct(cb, &p, NULL);
			signed_len = pgl_buf_len(blob) - pgl_buf_len(cb);
			r = pgl_buf_get_string_direct(cb, &sig, &siglen);
			tap_ok(r == 0 && serial == 77 && pgl_buf_len(cb) == 0,
			    "%s: ssh-keygen's certificate walks to its signature", name);
			if (r == 0) {
				r = pgl_key_verify(ca, sig, siglen, pgl_buf_ptr(blob),
				    signed_len);
				tap_ok(r == 0, "%s: pgl_key_verify accepts ssh-keygen's "
				    "signature (%d)", name, r);
				r = pgl_key_verify(ca, sig, siglen, pgl_buf_ptr(blob),
				    signed_len - 1);
				tap_ok(r != 0, "%s: ... and not over a shorter body", name);
			}
			pgl_buf_free(cb);
			free(b64);
		}
		free(certtext);
		free(cmd);
		free(capath);
		pgl_key_free(ca);
	}
	free(certpath);
	free(subjpath);
	pgl_key_free(subj);
	pgl_buf_free(priv);
	pgl_buf_free(blob);
}

int
main(void)
{
	dir = tu_mkdtemp();
	test_check();
	test_sign();
	test_keygen_signed();
	tu_rmtree(dir);
	return tap_done();
}
