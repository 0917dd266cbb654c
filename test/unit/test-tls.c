/* Unit tests for signer/tls.c: the certificate as openssl reads it, the
 * key pin as curl computes it, and real handshakes (openssl s_server,
 * curl --cacert and --pinnedpubkey). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "buf.h"
#include "err.h"
#include "tls.h"
#include "util.h"

static char *dir;

static const char *const names[] = {
	"localhost", "127.0.0.1", "::1", "signer.example.com",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))

static void
test_check_name(void)
{
	static const char *const good[] = {
		"localhost", "a", "signer.example.com", "x-1.example",
		"127.0.0.1", "::1", "2001:db8::5", "::ffff:10.0.0.1", "123",
		"A23456789012345678901234567890123456789012345678901234567890123",
	};
	static const char *const bad[] = {
		"", ".", "a..b", ".a", "a.", "-a", "a-", "a-.b", "a.-b",
		"*.example.com", "a_b", "a b", "a\nb", "caf\xc3\xa9",
		"fe80::1%eth0", "1.2.3.4/32", "[::1]", "host:443",
		"A234567890123456789012345678901234567890123456789012345678901234",
	};
	char *long_name;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		tap_ok(pgl_tls_check_name(good[i]) == 0, "name \"%s\" accepted",
		    tu_esc(good[i]));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(pgl_tls_check_name(bad[i]) == PGL_E_INVALID_ARG,
		    "name \"%s\" refused", tu_esc(bad[i]));
	tap_ok(pgl_tls_check_name(NULL) == PGL_E_INVALID_ARG, "NULL refused");
	/* 4 x 63 + 3 dots = 255 > 253 */
	long_name = tu_fmt("%s.%s.%s.%s", good[9], good[9], good[9], good[9]);
	tap_ok(pgl_tls_check_name(long_name) == PGL_E_INVALID_ARG,
	    "a 255-character name refused");
	long_name[strlen(long_name) - 2] = '\0';
	tap_ok(pgl_tls_check_name(long_name) == 0,
	    "a 253-character name accepted");
	free(long_name);
}

static void
refused(const char *const *n, size_t nn, uint32_t days, int want,
    const char *label)
{
	struct pgl_buf *k = must_new(), *c = must_new();
	int r;

	pgl_buf_put_u8(k, 'k');
	pgl_buf_put_u8(c, 'c');
	r = pgl_tls_generate(n, nn, days, k, c);
	tap_ok(r == want && pgl_buf_len(k) == 1 && pgl_buf_len(c) == 1,
	    "generate refuses %s: %d, buffers untouched (got %d)", label,
	    want, r);
	pgl_buf_free(k);
	pgl_buf_free(c);
}

static void
test_generate_args(void)
{
	static const char *const bad_second[] = { "localhost", "a b" };
	const char *many[PGL_TLS_MAX_NAMES + 1];
	char *cn65;
	const char *one[1];
	size_t i;

	refused(names, 0, 30, PGL_E_INVALID_ARG, "no names");
	refused(NULL, 1, 30, PGL_E_INVALID_ARG, "NULL names");
	refused(names, 1, 0, PGL_E_BAD_VALIDITY, "0 days");
	refused(names, 1, PGL_TLS_MAX_DAYS + 1, PGL_E_BAD_VALIDITY,
	    "more than the maximum of days");
	refused(bad_second, 2, 30, PGL_E_INVALID_ARG, "a bad second name");
	for (i = 0; i < PGL_TLS_MAX_NAMES + 1; i++)
		many[i] = "localhost";
	refused(many, PGL_TLS_MAX_NAMES + 1, 30, PGL_E_TOO_LARGE,
	    "too many names");
	/* A valid DNS name, but too long for the CN. */
	cn65 = tu_fmt("%s.%s", "a234567890123456789012345678901",
	    "b23456789012345678901234567890123");
	one[0] = cn65;
	refused(one, 1, 30, PGL_E_INVALID_ARG, "a first name over 64 characters");
	free(cn65);
	tap_ok(pgl_tls_generate(names, 1, 1, NULL, NULL) == PGL_E_INVALID_ARG,
	    "generate refuses NULL buffers");
}

/* Writes a fresh key and certificate as dir/<stem>.key and .crt. */
static int
generate_files(const char *stem, uint32_t days, char **keypath,
    char **certpath, char **pin)
{
	struct pgl_buf *k = must_new(), *c = must_new();
	int r;

	*keypath = tu_fmt("%s/%s.key", dir, stem);
	*certpath = tu_fmt("%s/%s.crt", dir, stem);
	*pin = NULL;
	if ((r = pgl_tls_generate(names, NNAMES, days, k, c)) == 0 &&
	    (r = pgl_tls_pin((const char *)pgl_buf_ptr(c), pgl_buf_len(c),
	    pin)) == 0) {
		if (tu_write_file(*keypath, pgl_buf_ptr(k), pgl_buf_len(k),
		    0600) != 0 || tu_write_file(*certpath, pgl_buf_ptr(c),
		    pgl_buf_len(c), 0644) != 0)
			r = PGL_E_SYSTEM;
	}
	pgl_buf_free(k);
	pgl_buf_free(c);
	return r;
}

static int
has(const char *text, const char *what)
{
	return text != NULL && strstr(text, what) != NULL;
}

/* Runs cmd (and frees it); its stdout. */
static char *
run_out(char *cmd, int *status)
{
	char *out = NULL;

	*status = tu_run(cmd, &out);
	free(cmd);
	return out;
}

static void
test_certificate(void)
{
	char *key, *crt, *pin, *text, *a, *b, *cmd, *serial, *serial2;
	char *key2, *crt2, *pin2;
	long nb, now;
	int r, st;

	r = generate_files("t", 30, &key, &crt, &pin);
	tap_ok(r == 0, "generate a key and certificate (%d)", r);
	text = tu_read_file(key, NULL);
	tap_ok(has(text, "-----BEGIN PRIVATE KEY-----\n") &&
	    !has(text, "ENCRYPTED"), "the key is unencrypted PKCS#8 PEM");
	free(text);
	text = run_out(tu_fmt("openssl pkey -in '%s' -noout -text 2>&1", key), &st);
	tap_ok(st == 0 && has(text, "prime256v1"),
	    "openssl pkey reads it: a P-256 key (%d)", st);
	free(text);

	text = run_out(tu_fmt("openssl x509 -in '%s' -noout -text 2>&1", crt), &st);
	tap_ok(st == 0, "openssl x509 -text parses the certificate (%d)", st);
	tap_ok(has(text, "Version: 3 (0x2)"), "X.509 v3");
	tap_ok(has(text, "Subject: CN = localhost\n") &&
	    has(text, "Issuer: CN = localhost\n"),
	    "subject and issuer CN = localhost");
	tap_ok(has(text, "Signature Algorithm: ecdsa-with-SHA256") &&
	    has(text, "ASN1 OID: prime256v1"), "ECDSA P-256 with SHA-256");
	tap_ok(has(text, "X509v3 Subject Alternative Name: \n"
	    "                DNS:localhost, IP Address:127.0.0.1, "
	    "IP Address:0:0:0:0:0:0:0:1, DNS:signer.example.com\n"),
	    "subjectAltName: every name, DNS or IP, in order");
	tap_ok(has(text, "X509v3 Basic Constraints: critical\n"
	    "                CA:FALSE\n"), "basicConstraints CA:FALSE, critical");
	tap_ok(has(text, "X509v3 Key Usage: critical\n"
	    "                Digital Signature\n"),
	    "keyUsage digitalSignature only, critical");
	tap_ok(has(text, "X509v3 Extended Key Usage: \n"
	    "                TLS Web Server Authentication\n"),
	    "extendedKeyUsage serverAuth only");
	tap_ok(has(text, "X509v3 Subject Key Identifier"),
	    "a subjectKeyIdentifier");
	if (!tap_ok(!has(text, "CA:TRUE"), "not a CA"))
		tap_diag("%s", text);
	free(text);

	/* Validity: from a minute ago, for 30 days. */
	text = run_out(tu_fmt("date -u -d \"$(openssl x509 -in '%s' -noout "
	    "-startdate | cut -d= -f2)\" +%%s", crt), &st);
	nb = text != NULL ? atol(text) : 0;
	now = (long)time(NULL);
	tap_ok(st == 0 && nb >= now - 65 && nb <= now - 55,
	    "notBefore is a minute ago (%ld, now %ld)", nb, now);
	free(text);
	cmd = tu_fmt("openssl x509 -in '%s' -noout -checkend %d >/dev/null",
	    crt, 30 * 86400 - 120);
	tap_ok(tu_run(cmd, NULL) == 0, "still valid in 30 days less 2 minutes");
	free(cmd);
	cmd = tu_fmt("openssl x509 -in '%s' -noout -checkend %d >/dev/null",
	    crt, 30 * 86400 + 120);
	tap_ok(tu_run(cmd, NULL) == 1, "expired in 30 days plus 2 minutes");
	free(cmd);

	/* Serial: 128 bits with the top bit set, so 32 hex digits. */
	serial = run_out(tu_fmt("openssl x509 -in '%s' -noout -serial", crt),
	    &st);
	tap_ok(st == 0 && serial != NULL && strlen(serial) == 7 + 32 + 1 &&
	    strncmp(serial, "serial=", 7) == 0 &&
	    strchr("89ABCDEF", serial[7]) != NULL,
	    "a positive 128-bit serial (%s)", tu_esc(serial));

	/* The key belongs to the certificate. */
	a = run_out(tu_fmt("openssl x509 -in '%s' -noout -pubkey", crt), &st);
	b = run_out(tu_fmt("openssl pkey -in '%s' -pubout", key), &r);
	tap_ok(st == 0 && r == 0 && a != NULL && b != NULL && *a != '\0' &&
	    strcmp(a, b) == 0, "the key matches the certificate");
	free(a);
	free(b);

	/* The pin, computed as curl's documentation shows. */
	a = run_out(tu_fmt("openssl x509 -in '%s' -pubkey -noout | "
	    "openssl pkey -pubin -outform der | "
	    "openssl dgst -sha256 -binary | base64", crt), &st);
	b = a != NULL ? tu_fmt("sha256//%.*s", (int)strcspn(a, "\n"), a) : NULL;
	tap_ok(st == 0 && pin != NULL && b != NULL && strcmp(pin, b) == 0,
	    "pin %s equals the openssl pipeline's %s", tu_esc(pin), tu_esc(b));
	free(a);
	free(b);

	/* The certificate verifies against itself, for a TLS server. */
	text = run_out(tu_fmt("openssl verify -purpose sslserver -CAfile '%s' "
	    "'%s' 2>&1", crt, crt), &st);
	tap_ok(st == 0 && has(text, ": OK"),
	    "openssl verify -purpose sslserver: OK (%d)", st);
	if (st != 0)
		tap_diag("%s", text);
	free(text);

	/* Each run makes a new key and serial. */
	r = generate_files("t2", 1, &key2, &crt2, &pin2);
	serial2 = run_out(tu_fmt("openssl x509 -in '%s' -noout -serial",
	    crt2), &st);
	tap_ok(r == 0 && pin2 != NULL && pin != NULL && strcmp(pin, pin2) != 0 &&
	    serial != NULL && serial2 != NULL && strcmp(serial, serial2) != 0,
	    "a second run: another key and serial");
	free(serial);
	free(serial2);
	free(key2);
	free(crt2);
	free(pin2);
	free(key);
	free(crt);
	free(pin);
}

static void
test_pin(void)
{
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n";
	struct pgl_buf *k = must_new(), *c = must_new();
	char *pin = NULL, *pin2 = NULL, *two;
	const char *p;
	size_t n;
	int r;

	r = pgl_tls_pin(junk, strlen(junk), &pin);
	tap_ok(r == PGL_E_FORMAT && pin == NULL, "pin of junk: PGL_E_FORMAT (%d)",
	    r);
	r = pgl_tls_pin("", 0, &pin);
	tap_ok(r == PGL_E_FORMAT && pin == NULL, "pin of nothing: PGL_E_FORMAT");
	tap_ok(pgl_tls_pin(NULL, 0, &pin) == PGL_E_INVALID_ARG && pin == NULL,
	    "pin of NULL: PGL_E_INVALID_ARG");
	if (pgl_tls_generate(names, 1, 1, k, c) != 0) {
		tap_ok(0, "generate for the pin tests");
		goto out;
	}
	p = (const char *)pgl_buf_ptr(c);
	n = pgl_buf_len(c);
	r = pgl_tls_pin(p, n / 2, &pin);
	tap_ok(r == PGL_E_FORMAT && pin == NULL,
	    "pin of half a certificate: PGL_E_FORMAT (%d)", r);
	r = pgl_tls_pin(p, n, &pin);
	tap_ok(r == 0 && pin != NULL && strncmp(pin, "sha256//", 8) == 0 &&
	    strlen(pin) == 8 + 44, "pin is sha256// and 44 base64 characters");
	two = tu_fmt("%.*s%s", (int)n, p, junk);
	r = pgl_tls_pin(two, strlen(two), &pin2);
	tap_ok(r == 0 && pin != NULL && pin2 != NULL && strcmp(pin, pin2) == 0,
	    "the first certificate of several counts");
	free(two);
	tap_ok(pgl_tls_pin(p, 64 * 1024 + 1, &pin2) == PGL_E_TOO_LARGE,
	    "pin refuses more than 64 KiB");
 out:
	free(pin);
	free(pin2);
	pgl_buf_free(k);
	pgl_buf_free(c);
}

static int
port_open(int port)
{
	struct sockaddr_in sin;
	int fd, ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* openssl s_server on 127.0.0.1 at a random high port; its pid, or -1. */
static pid_t
start_server(const char *key, const char *crt, int *port)
{
	char accept[32], *log;
	int tries, i, st, fd;
	pid_t pid;

	srand((unsigned)(time(NULL) ^ getpid()));
	log = tu_fmt("%s/s_server.log", dir);
	for (tries = 0; tries < 8; tries++) {
		*port = 20000 + rand() % 40000;
		if (port_open(*port))
			continue;
		snprintf(accept, sizeof(accept), "127.0.0.1:%d", *port);
		fflush(stdout);
		if ((pid = fork()) == -1)
			break;
		if (pid == 0) {
			if ((fd = open("/dev/null", O_RDONLY)) != -1)
				dup2(fd, 0);
			if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC,
			    0644)) != -1) {
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("openssl", "openssl", "s_server", "-key", key,
			    "-cert", crt, "-accept", accept, "-www", "-quiet",
			    (char *)NULL);
			_exit(127);
		}
		/* Up to 10 s for it to listen; a quick exit: port taken. */
		for (i = 0; i < 200; i++) {
			if (port_open(*port)) {
				free(log);
				return pid;
			}
			if (waitpid(pid, &st, WNOHANG) == pid)
				break;
			usleep(50000);
		}
		if (i == 200) {
			kill(pid, SIGTERM);
			waitpid(pid, &st, 0);
		}
	}
	free(log);
	return -1;
}

static int
curl(const char *args, int port, const char *path)
{
	char *cmd = tu_fmt("curl -sS --max-time 10 -o /dev/null %s "
	    "'https://%s:%d/' 2>>'%s/curl.log'", args, path, port, dir);
	int st = tu_run(cmd, NULL);

	free(cmd);
	return st;
}

static void
test_handshake(void)
{
	char *key, *crt, *pin, *key2, *crt2, *pin2, *args, *log, *text;
	int port = 0, st, r;
	pid_t pid;

	r = generate_files("hs", 7, &key, &crt, &pin);
	r |= generate_files("other", 7, &key2, &crt2, &pin2);
	if (r != 0 || (pid = start_server(key, crt, &port)) == -1) {
		tap_ok(0, "start openssl s_server with our key and certificate");
		log = tu_fmt("%s/s_server.log", dir);
		text = tu_read_file(log, NULL);
		tap_diag("s_server: %s", text != NULL ? text : "(no log)");
		free(text);
		free(log);
		goto out;
	}
	tap_ok(1, "openssl s_server serves our key and certificate on port %d",
	    port);

	args = tu_fmt("--cacert '%s'", crt);
	st = curl(args, port, "127.0.0.1");
	tap_ok(st == 0, "curl --cacert tls.crt https://127.0.0.1 (%d)", st);
	free(args);
	args = tu_fmt("--cacert '%s' --resolve localhost:%d:127.0.0.1", crt,
	    port);
	st = curl(args, port, "localhost");
	tap_ok(st == 0, "curl --cacert tls.crt https://localhost (%d)", st);
	free(args);
	args = tu_fmt("--cacert '%s' --resolve signer.example.com:%d:127.0.0.1",
	    crt, port);
	st = curl(args, port, "signer.example.com");
	tap_ok(st == 0, "curl --cacert: an extra name (%d)", st);
	free(args);
	args = tu_fmt("--cacert '%s' --resolve other.example.com:%d:127.0.0.1",
	    crt, port);
	st = curl(args, port, "other.example.com");
	tap_ok(st != 0, "curl --cacert refuses a name not in the certificate "
	    "(%d)", st);
	free(args);
	args = tu_fmt("--cacert '%s'", crt2);
	st = curl(args, port, "127.0.0.1");
	tap_ok(st != 0, "curl --cacert with another certificate fails (%d)", st);
	free(args);

	args = tu_fmt("-k --pinnedpubkey '%s'", pin);
	st = curl(args, port, "127.0.0.1");
	tap_ok(st == 0, "curl -k --pinnedpubkey %s (%d)", pin, st);
	free(args);
	args = tu_fmt("--cacert '%s' --pinnedpubkey '%s'", crt, pin);
	st = curl(args, port, "127.0.0.1");
	tap_ok(st == 0, "curl --cacert and --pinnedpubkey together (%d)", st);
	free(args);
	args = tu_fmt("-k --pinnedpubkey '%s'", pin2);
	st = curl(args, port, "127.0.0.1");
	tap_ok(st == 90, "curl -k with a wrong pin: exit 90 (%d)", st);
	free(args);

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
 out:
	free(key);
	free(crt);
	free(pin);
	free(key2);
	free(crt2);
	free(pin2);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **state)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(3, (void *)"ok\n",
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* What the service will do: libmicrohttpd (GnuTLS) serves the pair. */
static void
test_mhd(void)
{
	struct pgl_buf *k = must_new(), *c = must_new();
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d = NULL;
	struct sockaddr_in sin;
	char *crt = NULL, *pin = NULL, *args;
	int r, st;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		tap_ok(1, "# SKIP libmicrohttpd without TLS");
		goto out;
	}
	/* MHD takes NUL-terminated PEM. */
	if ((r = pgl_tls_generate(names, NNAMES, 7, k, c)) != 0 ||
	    (r = pgl_tls_pin((const char *)pgl_buf_ptr(c), pgl_buf_len(c),
	    &pin)) != 0 || (r = pgl_buf_put_u8(k, 0)) != 0 ||
	    (r = pgl_buf_put_u8(c, 0)) != 0) {
		tap_ok(0, "generate for libmicrohttpd (%d)", r);
		goto out;
	}
	crt = tu_fmt("%s/mhd.crt", dir);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);        /* any port */
	tu_write_file(crt, pgl_buf_ptr(c), pgl_buf_len(c) - 1, 0644);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS, 0,
	    NULL, NULL, answer, NULL,
	    MHD_OPTION_HTTPS_MEM_KEY, (const char *)pgl_buf_ptr(k),
	    MHD_OPTION_HTTPS_MEM_CERT, (const char *)pgl_buf_ptr(c),
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_END);
	info = d != NULL ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) :
	    NULL;
	if (!tap_ok(info != NULL && info->port != 0,
	    "libmicrohttpd starts with our key and certificate"))
		goto out;
	args = tu_fmt("--cacert '%s'", crt);
	st = curl(args, info->port, "127.0.0.1");
	tap_ok(st == 0, "libmicrohttpd: curl --cacert (%d)", st);
	free(args);
	args = tu_fmt("-k --pinnedpubkey '%s'", pin);
	st = curl(args, info->port, "127.0.0.1");
	tap_ok(st == 0, "libmicrohttpd: curl -k --pinnedpubkey (%d)", st);
	free(args);
 out:
	if (d != NULL)
		MHD_stop_daemon(d);
	free(crt);
	free(pin);
	pgl_buf_free(k);
	pgl_buf_free(c);
}

int
main(void)
{
	if (tu_run("command -v openssl && command -v curl && "
	    "command -v base64", NULL) != 0) {
		printf("1..0 # SKIP openssl, curl or base64 not installed\n");
		return 0;
	}
	dir = tu_mkdtemp();
	test_check_name();
	test_generate_args();
	test_certificate();
	test_pin();
	test_handshake();
	test_mhd();
	tu_rmtree(dir);
	return tap_done();
}
