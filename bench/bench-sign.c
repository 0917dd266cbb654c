/* bench-sign: how fast the certificate engine signs, against the raw
 * signature rate of the same CA key through OpenSSL in the same run,
 * and against a process per certificate (ssh-keygen -s, pgl-signer sign).
 *
 * In-process numbers are the best of several rounds with a fixed
 * wall-clock budget each, raw and engine alternating in short slices;
 * processes alternate too.  The benchmark reports; it exits non-zero
 * only when something fails, never because a goal is missed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sodium.h>

#include "buf.h"
#include "cert.h"
#include "err.h"
#include "sshkey.h"

#ifndef PGL_SIGNER_PATH
#define PGL_SIGNER_PATH "pgl-signer"
#endif
#ifndef PGL_BUILDTYPE
#define PGL_BUILDTYPE "unknown"
#endif
#ifndef PGL_SSH_KEYGEN_PATH
#define PGL_SSH_KEYGEN_PATH "ssh-keygen"
#endif

#define GOAL_PCT        80.0
#define SUBJECT_COMMENT "alice@bench"

extern char **environ;

static int failures;    /* a tool that ran and failed: exit 1 at the end */

struct ca_type {
	const char *label;
	enum pgl_key_type type;
	const char *md;         /* as the engine signs: NULL for Ed25519 */
	unsigned runs;          /* process-per-certificate runs */
};

static const struct ca_type ca_types[] = {
	{ "ed25519",    PGL_KEY_ED25519,    NULL,     50 },
	{ "ecdsa-p256", PGL_KEY_ECDSA_P256, "SHA256", 50 },
	{ "ecdsa-p384", PGL_KEY_ECDSA_P384, "SHA384", 30 },
	{ "rsa-3072",   PGL_KEY_RSA,        "SHA512", 20 },
};
#define NTYPES (sizeof(ca_types) / sizeof(ca_types[0]))

/* Everything one CA type needs, for every measurement. */
struct state {
	const struct ca_type *ct;
	struct pgl_key *ca;
	struct pgl_key *subject;
	struct pgl_buf *out;            /* engine output, reset per cert */
	uint8_t msg[1024];              /* raw: a certificate body's size */
	size_t msglen;
	size_t certlen;
	uint8_t sodium_sk[crypto_sign_ed25519_SECRETKEYBYTES]; /* Ed25519 */
	double raw_best, eng_best;      /* per second */
	double raw_rounds[16], eng_rounds[16];
	double pct_best;                /* eng_best / raw_best */
	double pct_median;              /* median of the per-round ratios */
	/* process per certificate */
	char ca_path[PATH_MAX];
	char pub_path[PATH_MAX];
	char pgl_out[PATH_MAX];
	double keygen_rate, signer_rate;        /* 0: not measured */
	const char *keygen_skip, *signer_skip;
};

static double
now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What die() must remove: the temp directory holds CA private keys. */
static struct state *cleanup_st;
static size_t cleanup_n;
static const char *cleanup_dir;

static void remove_files(struct state *, const char *);

static void
cleanup(void)
{
	size_t i;

	if (cleanup_dir == NULL)
		return;
	for (i = 0; i < cleanup_n; i++)
		remove_files(&cleanup_st[i], cleanup_dir);
	if (rmdir(cleanup_dir) == -1)
		fprintf(stderr, "bench-sign: %s: %s\n", cleanup_dir,
		    strerror(errno));
	cleanup_dir = NULL;
}

static void
die(const char *what, const char *msg)
{
	fprintf(stderr, "bench-sign: %s: %s\n", what, msg);
	cleanup();
	exit(1);
}

static void
die_pgl(const char *what, int r)
{
	die(what, pgl_strerror(r));
}

/* (a) One raw signature through the library the engine signs with:
 * libsodium with its key ready for Ed25519, otherwise OpenSSL 3 as any
 * caller would use it. */
static int
raw_sign_once(struct state *s)
{
	EVP_MD_CTX *ctx;
	uint8_t sig[1024];
	size_t siglen = sizeof(sig);
	int ok;

	if (s->ct->type == PGL_KEY_ED25519)
		return crypto_sign_ed25519_detached(sig, NULL, s->msg,
		    s->msglen, s->sodium_sk);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit_ex(ctx, NULL, s->ct->md, NULL, NULL,
	    s->ca->pkey, NULL) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, s->msg, s->msglen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* (b) One certificate, as pgl-signer sign makes it minus file I/O:
 * fresh random serial, validity from the clock, default extensions,
 * signed blob into a reset buffer, then the base64 line. */
static int
engine_sign_once(struct state *s)
{
	static const char *const principals[] = { "alice" };
	struct pgl_cert_req req;
	const char *what = NULL;
	uint64_t serial = 0, now = (uint64_t)time(NULL);
	char *line = NULL;
	int r;

	while (serial == 0)
		if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
			return PGL_E_CRYPTO;
	memset(&req, 0, sizeof(req));
	req.type = PGL_CERT_TYPE_USER;
	req.serial = serial;
	req.key_id = "alice@example.org";
	req.principals = principals;
	req.nprincipals = 1;
	req.valid_after = now - 60;
	req.valid_before = now + 300;
	req.extensions = pgl_cert_default_extensions;
	req.nextensions = pgl_cert_ndefault_extensions;
	pgl_buf_reset(s->out);
	if ((r = pgl_cert_sign(s->subject, s->ca, &req, s->out, &what)) != 0)
		return r;
	if ((r = pgl_cert_format_line(s->subject->type, s->out,
	    SUBJECT_COMMENT, &line)) != 0)
		return r;
	free(line);
	return 0;
}

typedef int (*op_fn)(struct state *);

#define SLICE 0.05      /* seconds: raw and engine alternate this often */

/* Runs op until a slice of time has gone; adds to *ops and *secs. */
static void
run_slice(op_fn op, struct state *s, const char *what, unsigned long *ops,
    double *secs)
{
	double start, t;
	int r;

	start = now_sec();
	do {
		if ((r = op(s)) != 0)
			die(what, r < 0 ? pgl_strerror(r) : "OpenSSL failed");
		(*ops)++;
		t = now_sec();
	} while (t - start < SLICE);
	*secs += t - start;
}

/* One round for one CA type: raw signatures and engine certificates in
 * alternating slices until each has had budget seconds, so that noise
 * from elsewhere on the machine hits both alike.  Rates per second. */
static void
measure_round(struct state *s, double budget, double *raw, double *eng)
{
	unsigned long nraw = 0, neng = 0;
	double traw = 0, teng = 0;

	while (traw < budget || teng < budget) {
		if (traw < budget)
			run_slice(raw_sign_once, s, "raw signature", &nraw, &traw);
		if (teng < budget)
			run_slice(engine_sign_once, s, "engine", &neng, &teng);
	}
	*raw = (double)nraw / traw;
	*eng = (double)neng / teng;
}

/* The body length of a certificate with an Ed25519 subject: everything
 * before the signature string.  Also verifies that signature. */
static size_t
cert_body_len(struct state *s)
{
	struct pgl_buf *b;
	const uint8_t *p, *sig;
	size_t n, siglen, body;
	uint64_t u64;
	uint32_t u32;
	int i, r = 0;

	if ((b = pgl_buf_from(pgl_buf_ptr(s->out), pgl_buf_len(s->out))) == NULL)
		die("parse", "out of memory");
	/* type, nonce, pk */
	for (i = 0; i < 3 && r == 0; i++)
		r = pgl_buf_get_string_direct(b, &p, &n);
	if (r == 0)
		r = pgl_buf_get_u64(b, &u64);
	if (r == 0)
		r = pgl_buf_get_u32(b, &u32);
	/* key id, principals */
	for (i = 0; i < 2 && r == 0; i++)
		r = pgl_buf_get_string_direct(b, &p, &n);
	if (r == 0)
		r = pgl_buf_get_u64(b, &u64);
	if (r == 0)
		r = pgl_buf_get_u64(b, &u64);
	/* critical options, extensions, reserved, signature key */
	for (i = 0; i < 4 && r == 0; i++)
		r = pgl_buf_get_string_direct(b, &p, &n);
	if (r != 0)
		die_pgl("parsing our own certificate", r);
	body = pgl_buf_len(s->out) - pgl_buf_len(b);
	if ((r = pgl_buf_get_string_direct(b, &sig, &siglen)) != 0 ||
	    pgl_buf_len(b) != 0)
		die("parsing our own certificate", "bad signature field");
	if ((r = pgl_key_verify(s->ca, sig, siglen, pgl_buf_ptr(s->out),
	    body)) != 0)
		die_pgl("verifying our own certificate", r);
	pgl_buf_free(b);
	return body;
}

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	const uint8_t *q = p;
	ssize_t w;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1)
		die(path, strerror(errno));
	while (n > 0) {
		if ((w = write(fd, q, n)) < 0) {
			if (errno == EINTR)
				continue;
			die(path, strerror(errno));
		}
		q += w;
		n -= (size_t)w;
	}
	if (close(fd) == -1)
		die(path, strerror(errno));
}

/* dst = dir/<prefix><label><suffix>; dst holds PATH_MAX bytes. */
static void
file_path(char *dst, const char *dir, const char *prefix, const char *label,
    const char *suffix)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s%s%s", dir, prefix, label, suffix);

	if (n < 0 || n >= PATH_MAX)
		die(dir, "path too long");
}

static void
setup(struct state *s, const struct ca_type *ct, const char *dir)
{
	struct pgl_buf *priv;
	char *line = NULL, *pubtxt = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	s->ct = ct;
	if ((r = pgl_key_generate(ct->type, 0, &s->ca)) != 0)
		die_pgl("generating CA key", r);
	if ((r = pgl_key_generate(PGL_KEY_ED25519, 0, &s->subject)) != 0)
		die_pgl("generating subject key", r);
	if ((s->out = pgl_buf_new()) == NULL)
		die("setup", "out of memory");
	if (ct->type == PGL_KEY_ED25519) {
		uint8_t seed[crypto_sign_ed25519_SEEDBYTES];
		uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
		size_t seedlen = sizeof(seed);

		if (sodium_init() < 0 ||
		    EVP_PKEY_get_raw_private_key(s->ca->pkey, seed,
		    &seedlen) != 1 || seedlen != sizeof(seed) ||
		    crypto_sign_ed25519_seed_keypair(pk, s->sodium_sk, seed) != 0)
			die("setup", "libsodium key");
		sodium_memzero(seed, sizeof(seed));
	}
	/* One certificate to size the raw message after. */
	if ((r = engine_sign_once(s)) != 0)
		die_pgl("signing", r);
	s->certlen = pgl_buf_len(s->out);
	s->msglen = cert_body_len(s);
	if (s->msglen > sizeof(s->msg))
		die("setup", "certificate body larger than expected");
	if (RAND_bytes(s->msg, (int)s->msglen) != 1)
		die("setup", "RAND_bytes failed");
	/* Sanity: the engine's base64 line is produced. */
	if ((r = pgl_cert_format_line(s->subject->type, s->out, NULL,
	    &line)) != 0)
		die_pgl("formatting", r);
	free(line);

	if (dir == NULL)
		return;
	/* Files for the process-per-certificate runs. */
	file_path(s->ca_path, dir, "ca-", ct->label, "");
	file_path(s->pub_path, dir, "subject-", ct->label, ".pub");
	file_path(s->pgl_out, dir, "pgl-", ct->label, "-cert.pub");
	if ((priv = pgl_buf_new()) == NULL)
		die("setup", "out of memory");
	if ((r = pgl_key_format_private(s->ca, "bench-ca", priv)) != 0)
		die_pgl("formatting CA private key", r);
	write_file(s->ca_path, pgl_buf_ptr(priv), pgl_buf_len(priv), 0600);
	pgl_buf_free(priv);
	if ((r = pgl_key_format_public_line(s->subject, SUBJECT_COMMENT,
	    &line)) != 0)
		die_pgl("formatting subject key", r);
	if (asprintf(&pubtxt, "%s\n", line) < 0)
		die("setup", "out of memory");
	write_file(s->pub_path, pubtxt, strlen(pubtxt), 0644);
	free(line);
	free(pubtxt);
}

/* Runs argv once with stdout and stderr on /dev/null (or inherited when
 * loud); returns the exit status, 127 when it cannot be started. */
static int
run(const char *const *argv, int loud)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err, status;

	if (posix_spawn_file_actions_init(&fa) != 0)
		die("posix_spawn", "out of memory");
	if (!loud &&
	    (posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0))
		die("posix_spawn", "out of memory");
	if (loud && posix_spawn_file_actions_addopen(&fa, 1, "/dev/null",
	    O_WRONLY, 0) != 0)
		die("posix_spawn", "out of memory");
	err = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0)
		return 127;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid", strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* One untimed run to check that a command works (and to warm the
 * caches); 0 when it does, else *skip says why. */
static int
check_runs(const char *const *argv, const char **skip)
{
	int st;

	if ((st = run(argv, 0)) == 0)
		return 0;
	if (st == 127) {
		*skip = "not found";
		return -1;
	}
	fprintf(stderr, "bench-sign: %s exited %d; once more with its errors "
	    "shown:\n", argv[0], st);
	(void)run(argv, 1);
	*skip = "FAILED";
	failures++;
	return -1;
}

/* Adds the wall-clock time of one run to *secs. */
static void
timed_run(const char *const *argv, double *secs)
{
	double start = now_sec();

	if (run(argv, 0) != 0)
		die(argv[0], "failed during the timed runs");
	*secs += now_sec() - start;
}

/* ssh-keygen -s and pgl-signer sign, one run of each in turn. */
static void
process_runs(struct state *s, const char *keygen, const char *signer,
    unsigned runs_override)
{
	unsigned i, runs = runs_override != 0 ? runs_override : s->ct->runs;
	const char *const keygen_argv[] = {
		keygen, "-q", "-s", s->ca_path, "-I", "id", "-n", "alice",
		"-V", "+5m", "-z", "1", s->pub_path, NULL,
	};
	const char *const signer_argv[] = {
		signer, "sign", "--ca", s->ca_path, "--key", s->pub_path,
		"--key-id", "id", "--principal", "alice", "--ttl", "5m",
		"--out", s->pgl_out, NULL,
	};
	int do_keygen, do_signer;
	double tk = 0, ts = 0;

	do_keygen = check_runs(keygen_argv, &s->keygen_skip) == 0;
	do_signer = check_runs(signer_argv, &s->signer_skip) == 0;
	for (i = 0; i < runs; i++) {
		if (do_keygen)
			timed_run(keygen_argv, &tk);
		if (do_signer)
			timed_run(signer_argv, &ts);
	}
	s->keygen_rate = do_keygen ? (double)runs / tk : 0;
	s->signer_rate = do_signer ? (double)runs / ts : 0;
}

static void
remove_files(struct state *s, const char *dir)
{
	char path[PATH_MAX];

	if (dir == NULL || s->ca_path[0] == '\0')
		return;
	(void)unlink(s->ca_path);
	(void)unlink(s->pub_path);
	(void)unlink(s->pgl_out);
	/* ssh-keygen's output: subject-<label>-cert.pub */
	file_path(path, dir, "subject-", s->ct->label, "-cert.pub");
	(void)unlink(path);
}

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: bench-sign [--seconds N] [--rounds N] [--runs N] "
	    "[--type NAME]\n"
	    "                  [--signer PATH] [--ssh-keygen PATH] "
	    "[--tmpdir DIR] [--no-process]\n"
	    "  --seconds N     wall-clock budget per measurement (default 2)\n"
	    "  --rounds N      interleaved rounds, best kept (default 3, max 16)\n"
	    "  --runs N        processes per tool and CA type (default 50/50/30/20)\n"
	    "  --type NAME     only ed25519, ecdsa-p256, ecdsa-p384 or rsa-3072\n"
	    "  --signer PATH   pgl-signer binary (default %s)\n"
	    "  --ssh-keygen P  ssh-keygen binary (default %s)\n"
	    "  --tmpdir DIR    where key and certificate files go (default $TMPDIR or /tmp)\n"
	    "  --no-process    in-process measurements only\n",
	    PGL_SIGNER_PATH, PGL_SSH_KEYGEN_PATH);
	exit(status);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The engine/raw ratio two ways: best engine over best raw, as the
 * table shows, and the median of each round's ratio, which pairs the
 * two rates measured under the same conditions. */
static void
ratios(struct state *s, unsigned rounds)
{
	double pr[16];
	unsigned r;

	s->pct_best = 100.0 * s->eng_best / s->raw_best;
	for (r = 0; r < rounds; r++)
		pr[r] = 100.0 * s->eng_rounds[r] / s->raw_rounds[r];
	qsort(pr, rounds, sizeof(pr[0]), cmp_double);
	s->pct_median = rounds % 2 ? pr[rounds / 2] :
	    (pr[rounds / 2 - 1] + pr[rounds / 2]) / 2;
}

static void
print_rate(double rate, const char *skip)
{
	if (rate > 0)
		printf("  %8.1f %9.2f", rate, 1000.0 / rate);
	else
		printf("  %18s", skip != NULL ? skip : "-");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'n' },
		{ "type", required_argument, NULL, 't' },
		{ "signer", required_argument, NULL, 'S' },
		{ "ssh-keygen", required_argument, NULL, 'K' },
		{ "tmpdir", required_argument, NULL, 'd' },
		{ "no-process", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct state st[NTYPES];
	const struct ca_type *sel[NTYPES];
	const char *signer = PGL_SIGNER_PATH, *keygen = PGL_SSH_KEYGEN_PATH;
	const char *only = NULL, *tmpdir = NULL;
	char dirbuf[PATH_MAX], *dir = NULL, *end;
	double budget = 2.0, pct;
	unsigned long v;
	unsigned rounds = 3, runs = 0, r;
	size_t i, nsel = 0;
	int c, process = 1;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			budget = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || !(budget > 0) ||
			    budget > 3600)
				usage(2);
			break;
		case 'r':
		case 'n':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v == 0 ||
			    v > (c == 'r' ? 16 : 100000))
				usage(2);
			if (c == 'r')
				rounds = (unsigned)v;
			else
				runs = (unsigned)v;
			break;
		case 't': only = optarg; break;
		case 'S': signer = optarg; break;
		case 'K': keygen = optarg; break;
		case 'd': tmpdir = optarg; break;
		case 'P': process = 0; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	for (i = 0; i < NTYPES; i++)
		if (only == NULL || strcmp(only, ca_types[i].label) == 0)
			sel[nsel++] = &ca_types[i];
	if (nsel == 0)
		usage(2);
	if (process) {
		if (tmpdir == NULL &&
		    ((tmpdir = getenv("TMPDIR")) == NULL || *tmpdir == '\0'))
			tmpdir = "/tmp";
		if (snprintf(dirbuf, sizeof(dirbuf), "%s/pgl-bench-XXXXXX",
		    tmpdir) >= (int)sizeof(dirbuf))
			die(tmpdir, "path too long");
		dir = dirbuf;
		if (mkdtemp(dir) == NULL)
			die(dir, strerror(errno));
	}

	printf("bench-sign: %s, %ld CPUs online, %s build\n",
	    OpenSSL_version(OPENSSL_VERSION), sysconf(_SC_NPROCESSORS_ONLN),
	    PGL_BUILDTYPE);
	printf("engine = pgl_cert_sign (1 principal, key ID, default "
	    "extensions, random serial) + pgl_cert_format_line\n");
	printf("raw    = ed25519: libsodium %s crypto_sign_ed25519_detached "
	    "(what the engine uses);\n         others: EVP_MD_CTX_new + "
	    "EVP_DigestSignInit_ex + EVP_DigestSign;\n         over a message "
	    "of the body's size\n", sodium_version_string());
	printf("subject key: ed25519 for every CA type\n\n");
	fflush(stdout);

	cleanup_st = st;
	cleanup_dir = dir;
	for (i = 0; i < nsel; i++) {
		cleanup_n = i;          /* setup() starts by clearing st[i] */
		setup(&st[i], sel[i], dir);
		cleanup_n = i + 1;
	}
	/* Rounds go over every type in turn; within a measurement raw and
	 * engine alternate every SLICE seconds. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < nsel; i++) {
			measure_round(&st[i], budget, &st[i].raw_rounds[r],
			    &st[i].eng_rounds[r]);
			if (st[i].raw_rounds[r] > st[i].raw_best)
				st[i].raw_best = st[i].raw_rounds[r];
			if (st[i].eng_rounds[r] > st[i].eng_best)
				st[i].eng_best = st[i].eng_rounds[r];
		}
		fprintf(stderr, "bench-sign: round %u/%u done\n", r + 1, rounds);
	}

	printf("In one process: best of %u rounds; per round %.1f s of raw "
	    "and %.1f s of engine,\nalternating every %.0f ms:\n", rounds,
	    budget, budget, SLICE * 1000);
	printf("%-11s %6s %6s %13s %15s %11s %11s\n", "CA type", "body",
	    "cert", "raw sigs/s", "engine certs/s", "engine/raw",
	    "per-round");
	for (i = 0; i < nsel; i++) {
		ratios(&st[i], rounds);
		printf("%-11s %5zuB %5zuB %13.1f %15.1f %10.1f%% %10.1f%%\n",
		    st[i].ct->label, st[i].msglen, st[i].certlen, st[i].raw_best,
		    st[i].eng_best, st[i].pct_best, st[i].pct_median);
	}
	printf("  engine/raw: best engine rate over best raw rate; per-round: "
	    "median of each\n  round's engine/raw (both measured under the "
	    "same conditions)\n");
	printf("  per round, raw/engine:");
	for (i = 0; i < nsel; i++) {
		printf("%s %s", i == 0 ? "" : ";", st[i].ct->label);
		for (r = 0; r < rounds; r++)
			printf(" %.0f/%.0f", st[i].raw_rounds[r], st[i].eng_rounds[r]);
	}
	printf("\n\n");
	fflush(stdout);

	if (process) {
		for (i = 0; i < nsel; i++)
			process_runs(&st[i], keygen, signer, runs);
		printf("A process per certificate (posix_spawn + waitpid, the "
		    "two tools alternating,\nfiles in %s):\n", dir);
		printf("  ssh-keygen: %s\n  pgl-signer: %s\n", keygen, signer);
		printf("%-11s %5s  %18s  %18s\n", "", "", "ssh-keygen -s",
		    "pgl-signer sign");
		printf("%-11s %5s  %8s %9s  %8s %9s\n", "CA type", "runs",
		    "certs/s", "ms/cert", "certs/s", "ms/cert");
		for (i = 0; i < nsel; i++) {
			printf("%-11s %5u", st[i].ct->label,
			    runs != 0 ? runs : st[i].ct->runs);
			print_rate(st[i].keygen_rate, st[i].keygen_skip);
			print_rate(st[i].signer_rate, st[i].signer_skip);
			printf("\n");
		}
		printf("\n");
		cleanup();
	}

	for (i = 0; i < nsel; i++) {
		if (st[i].ct->type != PGL_KEY_ED25519)
			continue;
		/* Judged on the lower of the two estimates. */
		pct = st[i].pct_best < st[i].pct_median ? st[i].pct_best :
		    st[i].pct_median;
		printf("%s: engine %.1f%% of raw signature rate (per-round "
		    "median %.1f%%; goal >= %.0f%%): %s\n", st[i].ct->label,
		    st[i].pct_best, st[i].pct_median, GOAL_PCT,
		    pct >= GOAL_PCT ? "PASS" : "FAIL");
	}
	for (i = 0; i < nsel; i++) {
		sodium_memzero(st[i].sodium_sk, sizeof(st[i].sodium_sk));
		pgl_key_free(st[i].ca);
		pgl_key_free(st[i].subject);
		pgl_buf_free(st[i].out);
	}
	return failures != 0;
}
