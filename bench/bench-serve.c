/* bench-serve: certificates per second and latency of `pgl-signer
 * serve` (POST /v1/certs/user) over loopback, with HTTP keep-alive over
 * TLS, at several numbers of concurrent clients, printed beside the raw
 * Ed25519 signature rate measured in the same run.
 *
 * It sets up a signer of its own in a temporary directory (init, a
 * small policy, tokens, a config with a high rate limit and a free
 * port), starts `pgl-signer serve`, then for each level runs N
 * clients.  Each client has one keep-alive connection and posts sign
 * requests back to back (pre-generated, distinct subject keys) for a
 * warm-up and then a measured window.  Every request's start and end
 * are recorded (CLOCK_MONOTONIC); a request counts when it ends inside
 * the window, and its latency when it lies entirely inside it.
 *
 * Two clients, same requests and same statistics:
 *  - lean (the default): all connections driven by a thread per CPU
 *    (--client-threads) with epoll; HTTP/1.1 written and parsed
 *    here, TLS through OpenSSL directly.  About one write and one or
 *    two reads per request.
 *  - curl: one thread per client with one libcurl easy handle.  It
 *    costs ~75 us of CPU per request, on the CPUs the server needs.
 *
 * The clients run on the same machine as the server, and compete with
 * it for the CPUs: the CPU time of both is measured over each window
 * and printed, so the server's cost per certificate is known too.
 *
 * The benchmark reports; it exits non-zero only when something fails
 * (setup, a dead server, or errors during a measured window), never
 * because a goal is missed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "sshkey.h"

#ifndef PGL_SIGNER_PATH
#define PGL_SIGNER_PATH "pgl-signer"
#endif
#ifndef PGL_BUILDTYPE
#define PGL_BUILDTYPE "unknown"
#endif

#define GOAL_CLIENTS    64
#define GOAL_RATE       10000.0         /* certificates per second */
#define GOAL_P99_MS     10.0
#define MAX_LEVELS      16
#define MAX_CLIENTS     1024
#define MAX_TOKENS      64
#define NKEYS           1024            /* distinct subject keys */
#define RESOURCE        "vm-01"
#define CERT_PREFIX     "\"certificate\":\"ssh-ed25519-cert-v01@openssh.com "
#define MAX_CLIENT_THREADS 64
#define HDR_MAX         (16 * 1024)     /* lean: response header block */
#define BODY_MAX        (64 * 1024)     /* lean: response body */
#define RBUF_SIZE       (HDR_MAX + BODY_MAX + 1)        /* + a NUL */

extern char **environ;

/* One request: when it started and ended, and whether it succeeded. */
struct sample {
	int64_t start, end;             /* ns, CLOCK_MONOTONIC */
	int ok;
};

/* Lean client: where the parse of one response stands. */
struct resp {
	size_t scan;                    /* the blank line is not before this */
	size_t hdr_len;                 /* 0: header block not complete yet */
	size_t body_len;                /* Content-Length */
	int status;
	int close;                      /* Connection: close, or HTTP/1.0 */
};

enum lean_state {
	L_IDLE, L_CONNECT, L_HANDSHAKE, L_SEND, L_RECV, L_RESTART, L_DONE
};

/* Lean client: one connection and the request on it. */
struct lean_conn {
	enum lean_state state;
	int fd;                         /* -1: no connection */
	SSL *ssl;
	uint32_t events;                /* registered with epoll; 0: not */
	char *req;                      /* fixed prefix, then key's tail */
	size_t prefix_len, req_len;
	size_t req_off;                 /* plain TCP: bytes sent */
	char *rbuf;                     /* the response, NUL-terminated */
	size_t rlen;
	struct resp rp;
	size_t key;                     /* subject key of this request */
	int64_t start;                  /* of this request */
	size_t limit;                   /* requests to make; 0: no limit */
	int fatal;                      /* failed for good: no reconnect */
};

struct client {
	pthread_t th;
	unsigned idx;
	const char *token;
	CURL *h;
	struct curl_slist *hdrs;
	char *resp;
	size_t resp_len, resp_cap;
	struct lean_conn l;
	struct sample *s;
	size_t n, cap;
	long connects;                  /* new connections made */
	int checked;                    /* first certificate verified */
	char err[256];                  /* the first error */
};

/* Lean client: one thread and the connections it drives. */
struct lean {
	pthread_t th;
	int ep;
	struct client **c;
	size_t nc, active;              /* active: not L_DONE */
	struct client **restart;        /* to start again from the loop */
	size_t nrestart;
	int64_t deadline;               /* 0: until stop_flag */
};

/* What the run needs, from options and setup. */
static struct {
	const char *signer;
	const char *tmpdir;
	char dir[PATH_MAX];             /* ours, removed at exit */
	char conf[PATH_MAX + 64];
	char cacert[PATH_MAX + 64];     /* "" in clients-only without one */
	char serve_log[PATH_MAX + 64];
	char url[512];
	const char *tokens[MAX_TOKENS];
	char *own_tokens[MAX_TOKENS];   /* the ones we made, to free */
	size_t ntokens;
	char *bodies[NKEYS];
	size_t body_len[NKEYS];
	uint8_t *subject_pk[NKEYS];     /* the key field a certificate holds */
	size_t subject_pk_len[NKEYS];
	struct pgl_key *ca;             /* user CA, to verify certificates */
	pid_t server;                   /* 0: none of ours */
	int tls;
	int keep;
	FILE *dump;                     /* --dump: every measured request */
	int workers;                    /* 0: the config's default */
	const char *server_cpus, *client_cpus;
	size_t body_size;               /* of a certificate, for raw */
	int lean;                       /* the lean client, not libcurl */
	unsigned client_threads;        /* lean: epoll threads */
	char *tails[NKEYS];             /* lean: "LEN\r\n\r\nBODY" */
	size_t tail_len[NKEYS], tail_max;
	char host[256];                 /* lean: from the URL */
	char authority[300];            /* lean: HOST[:PORT], the Host header */
	char path[256];
	int host_is_ip;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	SSL_CTX *ssl_ctx;
	char tls_info[128];             /* lean: what the probe negotiated */
} g = { .signer = PGL_SIGNER_PATH, .tls = 1, .lean = 1, .client_threads = 1 };

static atomic_int stop_flag;            /* clients: stop now */
static volatile sig_atomic_t interrupted;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) == -1)
		fprintf(stderr, "bench-serve: %s: %s\n", path, strerror(errno));
	return 0;
}

static void
stop_server(void)
{
	int status, i;

	if (g.server <= 0)
		return;
	(void)kill(g.server, SIGTERM);
	for (i = 0; i < 500; i++) {             /* 5 s, then SIGKILL */
		if (waitpid(g.server, &status, WNOHANG) != 0)
			break;
		if (i == 499) {
			(void)kill(g.server, SIGKILL);
			(void)waitpid(g.server, &status, 0);
		}
		usleep(10000);
	}
	g.server = 0;
}

static void
cleanup(void)
{
	stop_server();
	if (g.dir[0] == '\0')
		return;
	if (g.keep)
		fprintf(stderr, "bench-serve: kept %s\n", g.dir);
	else
		(void)nftw(g.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	g.dir[0] = '\0';
}

static void
show_log(const char *path)
{
	char line[1024];
	FILE *f;

	if (path[0] == '\0' || (f = fopen(path, "r")) == NULL)
		return;
	fprintf(stderr, "bench-serve: --- %s ---\n", path);
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static void die(const char *, const char *) __attribute__((noreturn));
static void die_pgl(const char *, int) __attribute__((noreturn));

static void
die(const char *what, const char *msg)
{
	fprintf(stderr, "bench-serve: %s: %s\n", what, msg);
	cleanup();
	exit(1);
}

static void
die_pgl(const char *what, int r)
{
	die(what, pgl_strerror(r));
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	atomic_store(&stop_flag, 1);
}

/* Sleeps until t (ns, monotonic), or until interrupted. */
static void
sleep_until(int64_t t)
{
	struct timespec ts;
	int64_t d;

	while (!interrupted && (d = t - now_ns()) > 0) {
		if (d > 50000000)
			d = 50000000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)d;
		nanosleep(&ts, NULL);
	}
}

/* "0", "1", "0-1", "0,2-3" */
static int
parse_cpus(const char *s, cpu_set_t *set)
{
	unsigned long a, b;
	char *end;

	CPU_ZERO(set);
	for (;;) {
		errno = 0;
		a = strtoul(s, &end, 10);
		if (errno != 0 || end == s || a >= CPU_SETSIZE)
			return -1;
		b = a;
		if (*end == '-') {
			s = end + 1;
			b = strtoul(s, &end, 10);
			if (errno != 0 || end == s || b >= CPU_SETSIZE || b < a)
				return -1;
		}
		for (; a <= b; a++)
			CPU_SET(a, set);
		if (*end == '\0')
			return 0;
		if (*end != ',')
			return -1;
		s = end + 1;
	}
}

/* Runs argv to completion, stdout into out (NUL-terminated, may be
 * NULL), stderr into the file errlog; returns the exit status. */
static int
run(const char *const *argv, char *out, size_t outlen, const char *errlog)
{
	posix_spawn_file_actions_t fa;
	int p[2], status, err;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe", strerror(errno));
	if (posix_spawn_file_actions_init(&fa) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, p[1], 1) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, errlog,
	    O_WRONLY | O_CREAT | O_APPEND, 0600) != 0)
		die("posix_spawn", "out of memory");
	err = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv,
	    environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (err != 0) {
		close(p[0]);
		die(argv[0], strerror(err));
	}
	for (;;) {
		char junk[256];

		if (out != NULL && n + 1 < outlen)
			r = read(p[0], out + n, outlen - 1 - n);
		else
			r = read(p[0], junk, sizeof(junk));
		if (r > 0 && out != NULL && n + 1 < outlen)
			n += (size_t)r;
		if (r == 0 || (r < 0 && errno != EINTR))
			break;
	}
	if (out != NULL)
		out[n] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			die("waitpid", strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void
must_run(const char *const *argv, char *out, size_t outlen, const char *log)
{
	int st;

	if ((st = run(argv, out, outlen, log)) != 0) {
		fprintf(stderr, "bench-serve: %s %s exited %d\n", argv[0],
		    argv[1], st);
		show_log(log);
		die(argv[1], "failed");
	}
}

static char *
read_text(const char *path)
{
	struct stat sb;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		die(path, strerror(errno));
	if ((p = malloc((size_t)sb.st_size + 1)) == NULL)
		die(path, "out of memory");
	if (read(fd, p, (size_t)sb.st_size) != sb.st_size)
		die(path, "short read");
	p[sb.st_size] = '\0';
	close(fd);
	return p;
}

static void
write_text(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || write(fd, text, n) != (ssize_t)n || close(fd) == -1)
		die(path, strerror(errno));
}

/* Sets "key = value;" in a libconfig file: the line that starts with
 * the key is replaced, or the setting is appended. */
static void
conf_set(const char *path, const char *key, const char *value)
{
	char *text = read_text(path), *out, *line, *next;
	size_t klen = strlen(key), cap = strlen(text) + strlen(key) +
	    strlen(value) + 16, n = 0;
	int found = 0;

	if ((out = malloc(cap)) == NULL)
		die(path, "out of memory");
	for (line = text; *line != '\0'; line = next) {
		const char *p = line + klen;

		if ((next = strchr(line, '\n')) != NULL)
			next++;
		else
			next = line + strlen(line);
		while (*p == ' ' || *p == '\t')
			p++;
		if (!found && strncmp(line, key, klen) == 0 && *p == '=') {
			n += (size_t)sprintf(out + n, "%s = %s;\n", key, value);
			found = 1;
			continue;
		}
		memcpy(out + n, line, (size_t)(next - line));
		n += (size_t)(next - line);
	}
	if (!found)
		n += (size_t)sprintf(out + n, "%s = %s;\n", key, value);
	out[n] = '\0';
	write_text(path, out);
	free(out);
	free(text);
}

static int
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* A port on 127.0.0.1 that was free a moment ago. */
static unsigned
free_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	unsigned port;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		die("free port", strerror(errno));
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
port_open(unsigned port)
{
	struct sockaddr_in sin;
	int fd, ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

static void
server_alive(void)
{
	int status;

	if (g.server > 0 && waitpid(g.server, &status, WNOHANG) == g.server) {
		g.server = 0;
		show_log(g.serve_log);
		die("pgl-signer serve", "exited");
	}
}

/* Our own policy: one resource, one role, identities bench-NN. */
static void
write_policy(const char *path, size_t nid)
{
	char *p;
	size_t i, cap = 1024 + nid * 128, n;

	if ((p = malloc(cap)) == NULL)
		die("policy", "out of memory");
	n = (size_t)snprintf(p, cap,
	    "# written by bench-serve\n"
	    "ttl_default = 300;\nttl_max = 3600;\nprivileged_groups = [ ];\n"
	    "resources = ( { name = \"" RESOURCE "\"; address = \"127.0.0.1\"; "
	    "port = 22; } );\n"
	    "roles = ( { name = \"bench\"; grants = ( { resources = "
	    "[ \"" RESOURCE "\" ]; ttl_max = 3600; } ); } );\n"
	    "users = (\n");
	for (i = 0; i < nid; i++)
		n += (size_t)snprintf(p + n, cap - n, "  { identity = "
		    "\"bench-%02zu@example.com\"; roles = [ \"bench\" ]; }%s\n",
		    i, i + 1 < nid ? "," : "");
	snprintf(p + n, cap - n, ");\n");
	write_text(path, p);
	free(p);
}

static void
start_server(size_t nid)
{
	char sdir[PATH_MAX + 8], path[PATH_MAX + 32], log[PATH_MAX + 32];
	char listen[64], val[32], tok[256];
	const char *argv[8];
	cpu_set_t set;
	unsigned port;
	size_t i;
	int64_t deadline;
	pid_t pid;

	if (snprintf(g.dir, sizeof(g.dir), "%s/pgl-bench-serve-XXXXXX",
	    g.tmpdir) >= (int)sizeof(g.dir))
		die(g.tmpdir, "path too long");
	if (mkdtemp(g.dir) == NULL) {
		g.dir[0] = '\0';
		die(g.tmpdir, strerror(errno));
	}
	snprintf(sdir, sizeof(sdir), "%s/s", g.dir);
	snprintf(log, sizeof(log), "%s/setup.log", g.dir);
	argv[0] = g.signer;
	argv[1] = "init";
	argv[2] = "--dir";
	argv[3] = sdir;
	argv[4] = NULL;
	must_run(argv, NULL, 0, log);
	snprintf(g.conf, sizeof(g.conf), "%s/pgl-signer.conf", sdir);
	snprintf(g.cacert, sizeof(g.cacert), "%s/tls.crt", sdir);
	/* init writes the CA keys beside the config (ca_dir = "."). */
	snprintf(path, sizeof(path), "%s/user_ca.pub", sdir);
	if (!exists(path))
		die(sdir, "init made no user_ca.pub");
	{
		char *line = read_text(path);
		int r;

		if ((r = pgl_key_parse_public_line(line, strcspn(line, "\n"),
		    &g.ca, NULL)) != 0)
			die_pgl(path, r);
		free(line);
	}
	snprintf(path, sizeof(path), "%s/bench-policy.conf", sdir);
	write_policy(path, nid);
	conf_set(g.conf, "policy", "\"bench-policy.conf\"");
	port = free_port();
	snprintf(listen, sizeof(listen), "\"127.0.0.1:%u\"", port);
	conf_set(g.conf, "listen", listen);
	/* The highest the config allows; tokens are spread over identities
	 * so that no bucket runs dry. */
	conf_set(g.conf, "rate_limit", "100000");
	conf_set(g.conf, "rate_burst", "100000");
	conf_set(g.conf, "tls", g.tls ? "true" : "false");
	if (g.workers > 0) {
		snprintf(val, sizeof(val), "%d", g.workers);
		conf_set(g.conf, "workers", val);
	}
	argv[1] = "token";
	argv[2] = "add";
	argv[3] = "-c";
	argv[4] = g.conf;
	argv[6] = NULL;
	for (i = 0; i < nid; i++) {
		char id[64], *t = NULL;

		snprintf(id, sizeof(id), "bench-%02zu@example.com", i);
		argv[5] = id;
		must_run(argv, tok, sizeof(tok), log);
		tok[strcspn(tok, "\r\n")] = '\0';
		if (strncmp(tok, "pgl_", 4) != 0 || (t = strdup(tok)) == NULL)
			die("token add", "no token printed");
		g.own_tokens[g.ntokens] = t;
		g.tokens[g.ntokens++] = t;
	}

	snprintf(g.serve_log, sizeof(g.serve_log), "%s/serve.log", g.dir);
	if ((pid = fork()) == -1)
		die("fork", strerror(errno));
	if (pid == 0) {
		int fd = open(g.serve_log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (g.server_cpus != NULL) {
			if (parse_cpus(g.server_cpus, &set) != 0 ||
			    sched_setaffinity(0, sizeof(set), &set) != 0) {
				fprintf(stderr, "bad --server-cpus\n");
				_exit(126);
			}
		}
		execl(g.signer, g.signer, "serve", "-c", g.conf, (char *)NULL);
		fprintf(stderr, "%s: %s\n", g.signer, strerror(errno));
		_exit(127);
	}
	g.server = pid;
	deadline = now_ns() + 15 * (int64_t)1000000000;
	while (!port_open(port)) {
		server_alive();
		if (now_ns() > deadline || interrupted)
			die("pgl-signer serve", "not listening after 15 s");
		usleep(20000);
	}
	snprintf(g.url, sizeof(g.url), "%s://127.0.0.1:%u/v1/certs/user",
	    g.tls ? "https" : "http", port);
}

/* Request bodies with distinct subject keys, made once. */
static void
make_bodies(void)
{
	struct pgl_key *k;
	struct pgl_buf *b;
	const uint8_t *p;
	size_t i, n;
	char *line;
	int r;

	for (i = 0; i < NKEYS; i++) {
		if ((r = pgl_key_generate(PGL_KEY_ED25519, 0, &k)) != 0)
			die_pgl("subject key", r);
		if ((r = pgl_key_format_public_line(k, "bench", &line)) != 0)
			die_pgl("subject key", r);
		if (asprintf(&g.bodies[i], "{\"public_key\":\"%s\","
		    "\"resource\":\"" RESOURCE "\"}", line) < 0)
			die("body", "out of memory");
		g.body_len[i] = strlen(g.bodies[i]);
		/* What the lean client appends to its request's headers. */
		if (asprintf(&g.tails[i], "%zu\r\n\r\n%s", g.body_len[i],
		    g.bodies[i]) < 0)
			die("body", "out of memory");
		g.tail_len[i] = strlen(g.tails[i]);
		if (g.tail_len[i] > g.tail_max)
			g.tail_max = g.tail_len[i];
		/* The certificate's key field: string pk for Ed25519. */
		if ((b = pgl_buf_new()) == NULL ||
		    (r = pgl_key_put_public_fields(k, b)) != 0 ||
		    (r = pgl_buf_get_string_direct(b, &p, &n)) != 0)
			die("subject key", "cannot encode");
		if ((g.subject_pk[i] = malloc(n)) == NULL)
			die("subject key", "out of memory");
		memcpy(g.subject_pk[i], p, n);
		g.subject_pk_len[i] = n;
		pgl_buf_free(b);
		free(line);
		pgl_key_free(k);
	}
}

/* Checks a certificate line from a response completely: its type, that
 * it certifies the key sent (key), and the CA's signature.  Sets
 * *body_len to the signed part's length.  NULL when good, else why. */
static const char *
verify_cert(const char *resp, size_t key, size_t *body_len)
{
	struct pgl_buf *raw = NULL, *b = NULL;
	const char *s = strstr(resp, CERT_PREFIX), *e;
	const char *why = NULL;
	const uint8_t *p, *sig;
	size_t n, siglen;
	uint64_t u64;
	uint32_t u32;
	int i, r = 0;

	if (s == NULL)
		return "no certificate in the response";
	s += strlen(CERT_PREFIX);
	e = s + strcspn(s, " \"");
	if ((raw = pgl_buf_new()) == NULL)
		return "out of memory";
	if (pgl_b64_decode(s, (size_t)(e - s), raw) != 0) {
		why = "certificate is not base64";
		goto out;
	}
	if ((b = pgl_buf_from(pgl_buf_ptr(raw), pgl_buf_len(raw))) == NULL) {
		why = "out of memory";
		goto out;
	}
	r = pgl_buf_get_string_direct(b, &p, &n);               /* type */
	if (r == 0 && (n != strlen("ssh-ed25519-cert-v01@openssh.com") ||
	    memcmp(p, "ssh-ed25519-cert-v01@openssh.com", n) != 0)) {
		why = "wrong certificate type";
		goto out;
	}
	if (r == 0)
		r = pgl_buf_get_string_direct(b, &p, &n);       /* nonce */
	if (r == 0)
		r = pgl_buf_get_string_direct(b, &p, &n);       /* pk */
	if (r == 0 && (n != g.subject_pk_len[key] ||
	    memcmp(p, g.subject_pk[key], n) != 0)) {
		why = "certificate for another key";
		goto out;
	}
	if (r == 0)
		r = pgl_buf_get_u64(b, &u64);
	if (r == 0)
		r = pgl_buf_get_u32(b, &u32);
	for (i = 0; i < 2 && r == 0; i++)       /* key id, principals */
		r = pgl_buf_get_string_direct(b, &p, &n);
	for (i = 0; i < 2 && r == 0; i++)       /* validity */
		r = pgl_buf_get_u64(b, &u64);
	for (i = 0; i < 4 && r == 0; i++)       /* options, reserved, CA */
		r = pgl_buf_get_string_direct(b, &p, &n);
	if (r != 0) {
		why = "certificate does not parse";
		goto out;
	}
	*body_len = pgl_buf_len(raw) - pgl_buf_len(b);
	if (pgl_buf_get_string_direct(b, &sig, &siglen) != 0 ||
	    pgl_buf_len(b) != 0 || pgl_key_verify(g.ca, sig, siglen,
	    pgl_buf_ptr(raw), *body_len) != 0)
		why = "bad CA signature on the certificate";
 out:
	pgl_buf_free(b);
	pgl_buf_free(raw);
	return why;
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t n = size * nmemb;
	char *q;

	if (c->resp_len + n + 1 > c->resp_cap) {
		size_t cap = (c->resp_len + n + 1) * 2;

		if ((q = realloc(c->resp, cap)) == NULL)
			return 0;
		c->resp = q;
		c->resp_cap = cap;
	}
	memcpy(c->resp + c->resp_len, p, n);
	c->resp_len += n;
	c->resp[c->resp_len] = '\0';
	return n;
}

static void
client_init(struct client *c)
{
	char auth[300];

	if ((c->h = curl_easy_init()) == NULL)
		die("curl", "curl_easy_init failed");
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	if ((c->hdrs = curl_slist_append(NULL, auth)) == NULL ||
	    (c->hdrs = curl_slist_append(c->hdrs,
	    "Content-Type: application/json")) == NULL ||
	    (c->hdrs = curl_slist_append(c->hdrs, "Expect:")) == NULL)
		die("curl", "out of memory");
	curl_easy_setopt(c->h, CURLOPT_URL, g.url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c->h, CURLOPT_POST, 1L);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c->h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->h, CURLOPT_MAXCONNECTS, 1L);
	if (g.tls)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, g.cacert);
}

/* One request with subject key `key`; 1 when it succeeded. */
static int
client_post(struct client *c, size_t key)
{
	CURLcode cr;
	long code = 0, conns = 0;

	c->resp_len = 0;
	if (c->resp != NULL)
		c->resp[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, g.bodies[key]);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)g.body_len[key]);
	cr = curl_easy_perform(c->h);
	curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &conns);
	c->connects += conns;
	if (cr != CURLE_OK) {
		if (c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "curl: %s",
			    curl_easy_strerror(cr));
		return 0;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200 || c->resp == NULL ||
	    strstr(c->resp, CERT_PREFIX) == NULL) {
		if (c->err[0] == '\0')
			snprintf(c->err, sizeof(c->err), "HTTP %ld: %.180s",
			    code, c->resp != NULL ? c->resp : "");
		return 0;
	}
	return 1;
}

static void *
client_main(void *arg)
{
	struct client *c = arg;
	struct sample *s;
	size_t key = (size_t)c->idx * 37;
	size_t blen;
	const char *why;

	while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		if (c->n == c->cap) {
			size_t cap = c->cap == 0 ? 4096 : c->cap * 2;

			if ((s = realloc(c->s, cap * sizeof(*s))) == NULL)
				break;
			c->s = s;
			c->cap = cap;
		}
		key = (key + 1) % NKEYS;
		s = &c->s[c->n];
		s->start = now_ns();
		s->ok = client_post(c, key);
		s->end = now_ns();
		c->n++;
		/* The first certificate of each client is checked in full
		 * (during the warm-up). */
		if (s->ok && !c->checked && g.ca != NULL) {
			c->checked = 1;
			if ((why = verify_cert(c->resp, key, &blen)) != NULL) {
				s->ok = 0;
				if (c->err[0] == '\0')
					snprintf(c->err, sizeof(c->err), "%s", why);
			}
		}
	}
	return NULL;
}

/*
 * The lean client.  One request is one SSL_write (or send) of a buffer
 * built beforehand, then reads until the response is complete; no
 * per-request allocation, no thread per connection.
 */

static int
hdr_is(const char *name, size_t len, const char *want)
{
	return len == strlen(want) && strncasecmp(name, want, len) == 0;
}

/* The status line and headers in p[0..len), the whole block up to and
 * including the blank line.  NULL when good, else why not. */
static const char *
resp_headers(struct resp *r, const char *p, size_t len)
{
	const char *end = p + len - 2, *line, *eol, *colon, *v, *ve, *tok;
	unsigned long cl = 0;
	int have_len = 0, i;
	size_t tlen;

	/* "HTTP/1.1 200 OK" */
	if (len < 16 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    (p[12] != ' ' && p[12] != '\r'))
		return "bad status line";
	for (i = 9, r->status = 0; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return "bad status line";
		r->status = r->status * 10 + (p[i] - '0');
	}
	if (r->status < 200)
		return "unexpected 1xx response";
	r->close = p[7] == '0';         /* HTTP/1.0: we never ask to keep it */
	eol = memmem(p, len, "\r\n", 2);
	/* The block ends in "\r\n\r\n" and holds no earlier one, so every
	 * line ends before `end`, the blank line. */
	for (line = eol + 2; line < end; line = eol + 2) {
		eol = memmem(line, (size_t)(p + len - line), "\r\n", 2);
		if ((colon = memchr(line, ':', (size_t)(eol - line))) == NULL ||
		    colon == line || *line == ' ' || *line == '\t')
			return "bad header line";
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		if (hdr_is(line, (size_t)(colon - line), "content-length")) {
			if (have_len || v == ve)
				return "bad Content-Length";
			for (; v < ve; v++) {
				if (*v < '0' || *v > '9')
					return "bad Content-Length";
				if ((cl = cl * 10 + (unsigned long)(*v - '0')) >
				    BODY_MAX)
					return "body too large";
			}
			r->body_len = cl;
			have_len = 1;
		} else if (hdr_is(line, (size_t)(colon - line),
		    "transfer-encoding"))
			return "Transfer-Encoding (not supported)";
		else if (hdr_is(line, (size_t)(colon - line), "connection")) {
			for (tok = v; tok < ve; tok += tlen + 1) {
				while (tok < ve && (*tok == ' ' ||
				    *tok == '\t'))
					tok++;
				tlen = strcspn(tok, ", \t\r");
				if (hdr_is(tok, tlen, "close"))
					r->close = 1;
				else if (hdr_is(tok, tlen, "keep-alive"))
					r->close = 0;
			}
		}
	}
	if (!have_len)
		return "no Content-Length";
	return NULL;
}

/* Parses the response in buf[0..len), all the bytes read so far, the
 * earlier calls having seen a prefix of them: however the reads split
 * it, the headers are parsed once, when the blank line is in, and the
 * body is complete by its count.  1 when complete, 0 when more is
 * needed, -1 (and *why) when bad. */
static int
resp_parse(struct resp *r, const char *buf, size_t len, const char **why)
{
	const char *e;

	if (r->hdr_len == 0) {
		if ((e = memmem(buf + r->scan, len - r->scan, "\r\n\r\n",
		    4)) == NULL) {
			if (len >= HDR_MAX) {
				*why = "header block too large";
				return -1;
			}
			/* The blank line may be cut: look again from here. */
			r->scan = len < 3 ? 0 : len - 3;
			return 0;
		}
		r->hdr_len = (size_t)(e - buf) + 4;
		if (r->hdr_len > HDR_MAX) {
			*why = "header block too large";
			return -1;
		}
		if ((*why = resp_headers(r, buf, r->hdr_len)) != NULL)
			return -1;
	}
	if (len < r->hdr_len + r->body_len)
		return 0;
	if (len > r->hdr_len + r->body_len) {
		*why = "more bytes than Content-Length";
		return -1;
	}
	return 1;
}

/* Feeds s to the parser in the pieces that cuts[] says (increasing
 * lengths, the last one strlen(s)); the result of the last call. */
static int
resp_feed(const char *s, const size_t *cuts, size_t ncuts, struct resp *r)
{
	const char *why;
	size_t i;
	int x = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < ncuts; i++) {
		x = resp_parse(r, s, cuts[i], &why);
		if (x != 0 && i + 1 < ncuts)
			return -2;      /* complete or bad too early */
	}
	return x;
}

/* The parser against responses split in every way: byte by byte, in
 * two at every point, and at random points.  Dies if it is wrong. */
static void
resp_selftest(void)
{
	static const char *bad[] = {
		"HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\na",
		"HTTP/1.1 200 OK\r\n Content-Length: 1\r\n\r\na",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"HTTP/2 200\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	};
	char ok[512], *big;
	const char *body = "{\"certificate\":\"ssh-ed25519-cert-v01@openssh.com "
	    "AAAA bench\",\"serial\":\"1\"}\r\n\r\n";
	size_t cuts[600], len, i, j, n;
	unsigned seed = 1;
	struct resp r;

	len = (size_t)snprintf(ok, sizeof(ok), "HTTP/1.1 200 OK\r\n"
	    "Connection: Keep-Alive\r\ncontent-length:%zu \r\n"
	    "Content-Type: application/json\r\n\r\n%s", strlen(body), body);
	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	if (resp_feed(ok, cuts, len, &r) != 1 || r.status != 200 ||
	    r.close || r.body_len != strlen(body) || r.hdr_len + r.body_len !=
	    len)
		die("self-test", "response parser, byte by byte");
	for (i = 1; i < len; i++) {
		cuts[0] = i;
		cuts[1] = len;
		if (resp_feed(ok, cuts, 2, &r) != 1 ||
		    r.body_len != strlen(body))
			die("self-test", "response parser, in two");
	}
	for (j = 0; j < 2000; j++) {
		for (i = 0, n = 0; i + 1 < len; i++)
			if (rand_r(&seed) % 8 == 0)
				cuts[n++] = i + 1;
		cuts[n++] = len;
		if (resp_feed(ok, cuts, n, &r) != 1 ||
		    r.body_len != strlen(body))
			die("self-test", "response parser, random cuts");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cuts[0] = strlen(bad[i]);
		if (resp_feed(bad[i], cuts, 1, &r) != -1)
			die("self-test", "response parser takes bad input");
	}
	cuts[0] = strlen("HTTP/1.1 503 No\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n");
	if (resp_feed("HTTP/1.1 503 No\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n", cuts, 1, &r) != 1 || !r.close ||
	    r.status != 503)
		die("self-test", "response parser, Connection: close");
	/* Headers without end: refused at HDR_MAX, not read on. */
	if ((big = malloc(HDR_MAX + 64)) == NULL)
		die("self-test", "out of memory");
	memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
	memset(big + 17, 'a', HDR_MAX + 64 - 17);
	cuts[0] = HDR_MAX - 1;
	cuts[1] = HDR_MAX;
	if (resp_feed(big, cuts, 2, &r) != -1)
		die("self-test", "response parser, header size bound");
	free(big);
}

/* Splits g.url, "http[s]://HOST[:PORT]/PATH", and resolves HOST. */
static void
lean_url(void)
{
	const char *a, *p, *h, *he, *port = NULL;
	struct addrinfo hints, *ai;
	char portbuf[16];
	struct in6_addr in6;
	int r;

	if (strncmp(g.url, "https://", 8) == 0)
		a = g.url + 8;
	else if (strncmp(g.url, "http://", 7) == 0)
		a = g.url + 7;
	else
		die(g.url, "not an http or https URL");
	p = a + strcspn(a, "/");
	if (memchr(a, '@', (size_t)(p - a)) != NULL || p == a)
		die(g.url, "bad host");
	if (*a == '[') {
		h = a + 1;
		if ((he = memchr(a, ']', (size_t)(p - a))) == NULL ||
		    (he + 1 < p && he[1] != ':'))
			die(g.url, "bad host");
		if (he + 1 < p)
			port = he + 2;
	} else {
		h = a;
		if ((he = memchr(a, ':', (size_t)(p - a))) == NULL)
			he = p;
		else
			port = he + 1;
	}
	if ((size_t)(he - h) >= sizeof(g.host) || he == h ||
	    (port != NULL && (size_t)(p - port) >= sizeof(portbuf)) ||
	    (size_t)(p - a) >= sizeof(g.authority) ||
	    strlen(p) >= sizeof(g.path))
		die(g.url, "bad URL");
	memcpy(g.host, h, (size_t)(he - h));
	g.host[he - h] = '\0';
	memcpy(g.authority, a, (size_t)(p - a));
	g.authority[p - a] = '\0';
	snprintf(g.path, sizeof(g.path), "%s", p);
	if (port != NULL && port < p) {
		memcpy(portbuf, port, (size_t)(p - port));
		portbuf[p - port] = '\0';
	} else
		snprintf(portbuf, sizeof(portbuf), "%s", g.tls ? "443" : "80");
	g.host_is_ip = inet_pton(AF_INET, g.host, &in6) == 1 ||
	    inet_pton(AF_INET6, g.host, &in6) == 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(g.host, portbuf, &hints, &ai)) != 0)
		die(g.host, gai_strerror(r));
	memcpy(&g.addr, ai->ai_addr, ai->ai_addrlen);
	g.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static void die_ssl(const char *) __attribute__((noreturn));

static void
die_ssl(const char *what)
{
	char buf[256];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	die(what, buf);
}

/* The TLS context: the server's certificate checked against the CA
 * file (the one the curl client gets) and against the URL's host. */
static void
lean_tls_init(void)
{
	X509_VERIFY_PARAM *vp;

	if ((g.ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(g.ssl_ctx, TLS1_2_VERSION) != 1)
		die_ssl("SSL_CTX_new");
	SSL_CTX_set_verify(g.ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (g.cacert[0] != '\0') {
		if (SSL_CTX_load_verify_locations(g.ssl_ctx, g.cacert,
		    NULL) != 1)
			die_ssl(g.cacert);
	} else if (SSL_CTX_set_default_verify_paths(g.ssl_ctx) != 1)
		die_ssl("the system's CA certificates");
	vp = SSL_CTX_get0_param(g.ssl_ctx);
	if ((g.host_is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, g.host) :
	    X509_VERIFY_PARAM_set1_host(vp, g.host, 0)) != 1)
		die_ssl(g.host);
	/* Whole records, and both of a response's, in one recv. */
	SSL_CTX_set_read_ahead(g.ssl_ctx, 1);
	SSL_CTX_set_session_cache_mode(g.ssl_ctx, SSL_SESS_CACHE_OFF);
}

/* The fixed part of a client's request; the key's tail follows it. */
static void
lean_client_init(struct client *c)
{
	struct lean_conn *l = &c->l;
	int n;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->key = (size_t)c->idx * 37;   /* as the curl client */
	n = snprintf(NULL, 0, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Accept: */*\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: ", g.path,
	    g.authority, c->token);
	if (n < 0 || (l->req = malloc((size_t)n + 1 + g.tail_max)) == NULL ||
	    (l->rbuf = malloc(RBUF_SIZE)) == NULL)
		die("client", "out of memory");
	snprintf(l->req, (size_t)n + 1, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Accept: */*\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: ", g.path,
	    g.authority, c->token);
	l->prefix_len = (size_t)n;
}

/* Closes the connection; clean: it is healthy, say close_notify. */
static void
lean_close(struct client *c, int clean)
{
	struct lean_conn *l = &c->l;

	if (l->ssl != NULL) {
		if (clean && SSL_is_init_finished(l->ssl))
			(void)SSL_shutdown(l->ssl);
		SSL_free(l->ssl);
		l->ssl = NULL;
		ERR_clear_error();
	}
	if (l->fd != -1)
		close(l->fd);           /* and out of the epoll set */
	l->fd = -1;
	l->events = 0;
}

static int
lean_want(struct lean *t, struct client *c, uint32_t events)
{
	struct epoll_event ev;

	if (c->l.events == events)
		return 0;
	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.ptr = c;
	if (epoll_ctl(t->ep, c->l.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
	    c->l.fd, &ev) == -1)
		return -1;
	c->l.events = events;
	return 0;
}

static int
lean_sample(struct client *c, int ok)
{
	struct sample *s;

	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 4096 : c->cap * 2;

		if ((s = realloc(c->s, cap * sizeof(*s))) == NULL)
			return -1;
		c->s = s;
		c->cap = cap;
	}
	s = &c->s[c->n++];
	s->start = c->l.start;
	s->end = now_ns();
	s->ok = ok;
	return 0;
}

static void lean_fail(struct lean *, struct client *, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* The request failed: an error, and the connection is dropped.  The
 * next request goes on a new connection, started from the loop and
 * not from here, so that a server refusing everything cannot make us
 * recurse.  fatal: no point in trying again. */
static void
lean_fail(struct lean *t, struct client *c, int fatal, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof(c->err), fmt, ap);
		va_end(ap);
	}
	if (lean_sample(c, 0) == -1)
		fatal = 1;
	lean_close(c, 0);
	if (fatal) {
		c->l.fatal = 1;
		c->l.state = L_DONE;
		t->active--;
		return;
	}
	c->l.state = L_RESTART;
	t->restart[t->nrestart++] = c;
}

/* After an SSL call returned r <= 0: wait for the socket, or fail. */
static void
lean_ssl_again(struct lean *t, struct client *c, int r, const char *what)
{
	int e, saved = errno;
	long v;
	char buf[200];

	e = SSL_get_error(c->l.ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (lean_want(t, c, e == SSL_ERROR_WANT_READ ? EPOLLIN :
		    EPOLLOUT) == -1)
			lean_fail(t, c, 1, "epoll_ctl: %s", strerror(errno));
		return;
	}
	if ((v = SSL_get_verify_result(c->l.ssl)) != X509_V_OK)
		lean_fail(t, c, 1, "%s: the certificate of %s does not verify "
		    "with %s: %s", what, g.host, g.cacert[0] != '\0' ?
		    g.cacert : "the system's CAs",
		    X509_verify_cert_error_string(v));
	else if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && saved == 0))
		lean_fail(t, c, 0, "%s: the server closed the connection",
		    what);
	else if (e == SSL_ERROR_SYSCALL)
		lean_fail(t, c, 0, "%s: %s", what, strerror(saved));
	else {
		ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
		lean_fail(t, c, 0, "%s: %s", what, buf);
	}
}

/* Writes the request: one SSL_write (one record) or one send. */
static void
lean_send(struct lean *t, struct client *c)
{
	struct lean_conn *l = &c->l;
	ssize_t n;
	int r;

	if (g.tls) {
		/* Without partial writes, a blocked SSL_write is retried
		 * with the same arguments and writes all or nothing. */
		if ((r = SSL_write(l->ssl, l->req, (int)l->req_len)) <= 0) {
			lean_ssl_again(t, c, r, "TLS write");
			return;
		}
	} else {
		n = send(l->fd, l->req + l->req_off, l->req_len - l->req_off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			lean_fail(t, c, 0, "send: %s", strerror(errno));
			return;
		}
		if (n > 0)
			l->req_off += (size_t)n;
		if (l->req_off < l->req_len) {
			if (lean_want(t, c, EPOLLOUT) == -1)
				lean_fail(t, c, 1, "epoll_ctl: %s",
				    strerror(errno));
			return;
		}
	}
	l->state = L_RECV;
	l->rlen = 0;
	memset(&l->rp, 0, sizeof(l->rp));
	if (lean_want(t, c, EPOLLIN) == -1)
		lean_fail(t, c, 1, "epoll_ctl: %s", strerror(errno));
}

static void lean_next(struct lean *, struct client *);

/* Reads what is there; when the response is complete, judges it and
 * sends the next request at once. */
static void
lean_recv(struct lean *t, struct client *c)
{
	struct lean_conn *l = &c->l;
	const char *why, *body;
	size_t space, blen;
	ssize_t n;
	int r, ok;

	for (;;) {
		/* The parser refuses a response before it could fill this. */
		if ((space = RBUF_SIZE - 1 - l->rlen) == 0) {
			lean_fail(t, c, 0, "response too large");
			return;
		}
		if (g.tls) {
			if ((r = SSL_read(l->ssl, l->rbuf + l->rlen,
			    space > INT_MAX ? INT_MAX : (int)space)) <= 0) {
				lean_ssl_again(t, c, r, "TLS read");
				return;
			}
			n = r;
		} else if ((n = recv(l->fd, l->rbuf + l->rlen, space,
		    0)) <= 0) {
			if (n == 0)
				lean_fail(t, c, 0, "the server closed the "
				    "connection");
			else if (errno != EAGAIN && errno != EINTR)
				lean_fail(t, c, 0, "recv: %s", strerror(errno));
			return;         /* level-triggered: EPOLLIN is set */
		}
		l->rlen += (size_t)n;
		if ((r = resp_parse(&l->rp, l->rbuf, l->rlen, &why)) == 1)
			break;
		if (r == -1) {
			lean_fail(t, c, 0, "bad response: %s", why);
			return;
		}
	}
	l->rbuf[l->rlen] = '\0';
	body = l->rbuf + l->rp.hdr_len;
	ok = l->rp.status == 200 && memmem(body, l->rp.body_len, CERT_PREFIX,
	    strlen(CERT_PREFIX)) != NULL;
	if (lean_sample(c, ok) == -1) {
		lean_fail(t, c, 1, "out of memory");
		return;
	}
	if (!ok && c->err[0] == '\0')
		snprintf(c->err, sizeof(c->err), "HTTP %d: %.180s",
		    l->rp.status, body);
	/* The first certificate of each client is checked in full
	 * (during the warm-up), as the curl client does. */
	if (ok && !c->checked && g.ca != NULL) {
		c->checked = 1;
		if ((why = verify_cert(body, l->key, &blen)) != NULL) {
			c->s[c->n - 1].ok = 0;
			if (c->err[0] == '\0')
				snprintf(c->err, sizeof(c->err), "%s", why);
		}
	}
	/* libcurl would reconnect too; `conns` shows it. */
	if (l->rp.close)
		lean_close(c, 1);
	lean_next(t, c);
}

static void
lean_handshake(struct lean *t, struct client *c)
{
	struct lean_conn *l = &c->l;
	int r;

	if ((r = SSL_connect(l->ssl)) != 1) {
		lean_ssl_again(t, c, r, "TLS handshake");
		return;
	}
	/* SSL_VERIFY_PEER already failed the handshake otherwise. */
	if (SSL_get_verify_result(l->ssl) != X509_V_OK ||
	    SSL_get0_peer_certificate(l->ssl) == NULL) {
		lean_fail(t, c, 1, "TLS handshake: server certificate not "
		    "verified");
		return;
	}
	l->state = L_SEND;
	lean_send(t, c);
}

static void
lean_connected(struct lean *t, struct client *c)
{
	struct lean_conn *l = &c->l;
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		lean_fail(t, c, 0, "connect: %s", strerror(err));
		return;
	}
	if (!g.tls) {
		l->state = L_SEND;
		lean_send(t, c);
		return;
	}
	/* SNI only for a name, never for an IP address (RFC 6066). */
	if ((l->ssl = SSL_new(g.ssl_ctx)) == NULL ||
	    SSL_set_fd(l->ssl, l->fd) != 1 ||
	    (!g.host_is_ip && SSL_set_tlsext_host_name(l->ssl, g.host) != 1)) {
		lean_fail(t, c, 1, "SSL_new failed");
		return;
	}
	l->state = L_HANDSHAKE;
	lean_handshake(t, c);
}

static void
lean_connect(struct lean *t, struct client *c)
{
	struct lean_conn *l = &c->l;
	int one = 1;

	c->connects++;
	if ((l->fd = socket(g.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		lean_fail(t, c, 1, "socket: %s", strerror(errno));
		return;
	}
	if (setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1) {
		lean_fail(t, c, 1, "TCP_NODELAY: %s", strerror(errno));
		return;
	}
	if (connect(l->fd, (struct sockaddr *)&g.addr, g.addrlen) == -1 &&
	    errno != EINPROGRESS) {
		lean_fail(t, c, 0, "connect: %s", strerror(errno));
		return;
	}
	/* Done or not, writable once it is: one path for both. */
	l->state = L_CONNECT;
	if (lean_want(t, c, EPOLLOUT) == -1)
		lean_fail(t, c, 1, "epoll_ctl: %s", strerror(errno));
}

/* The next request, with the next subject key: on the connection, or
 * on a new one.  A request on a new connection starts with its
 * connect, as with libcurl. */
static void
lean_next(struct lean *t, struct client *c)
{
	struct lean_conn *l = &c->l;

	if (l->limit != 0 && c->n >= l->limit) {
		l->state = L_DONE;
		t->active--;
		return;
	}
	l->key = (l->key + 1) % NKEYS;
	memcpy(l->req + l->prefix_len, g.tails[l->key], g.tail_len[l->key]);
	l->req_len = l->prefix_len + g.tail_len[l->key];
	l->req_off = 0;
	l->start = now_ns();
	if (l->fd == -1)
		lean_connect(t, c);
	else {
		l->state = L_SEND;
		lean_send(t, c);
	}
}

/* One thread's loop: its connections until stop_flag, the deadline,
 * or all done. */
static void *
lean_main(void *arg)
{
	struct lean *t = arg;
	struct epoll_event ev[128];
	struct client *c;
	size_t i, n0;
	int n, k;

	for (i = 0; i < t->nc; i++)
		lean_next(t, t->c[i]);
	while (t->active > 0 &&
	    !atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
		if (t->deadline != 0 && now_ns() > t->deadline)
			break;
		n = epoll_wait(t->ep, ev, 128, t->nrestart > 0 ? 0 : 50);
		if (n == -1 && errno != EINTR)
			die("epoll_wait", strerror(errno));
		for (k = 0; k < n; k++) {
			c = ev[k].data.ptr;
			switch (c->l.state) {
			case L_CONNECT: lean_connected(t, c); break;
			case L_HANDSHAKE: lean_handshake(t, c); break;
			case L_SEND: lean_send(t, c); break;
			case L_RECV: lean_recv(t, c); break;
			default: break;
			}
		}
		/* Those that failed, on new connections; they may fail and
		 * queue again behind these. */
		if ((n0 = t->nrestart) > 0) {
			for (i = 0; i < n0; i++)
				lean_next(t, t->restart[i]);
			t->nrestart -= n0;
			memmove(t->restart, t->restart + n0,
			    t->nrestart * sizeof(*t->restart));
		}
	}
	return NULL;
}

/* Threads for the clients cl[0..n), spread round-robin, started. */
static struct lean *
lean_start(struct client *cl, unsigned n, unsigned *ntp)
{
	struct lean *lt;
	unsigned nt = g.client_threads < n ? g.client_threads : n, i;

	if ((lt = calloc(nt, sizeof(*lt))) == NULL)
		die("clients", "out of memory");
	for (i = 0; i < nt; i++) {
		/* A client is queued at most once, plus once more while
		 * the queue is being worked through. */
		if ((lt[i].ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
			die("epoll_create1", strerror(errno));
		if ((lt[i].c = calloc(n / nt + 1, sizeof(*lt[i].c))) == NULL ||
		    (lt[i].restart = calloc(2 * (n / nt + 1),
		    sizeof(*lt[i].restart))) == NULL)
			die("clients", "out of memory");
	}
	for (i = 0; i < n; i++) {
		lean_client_init(&cl[i]);
		lt[i % nt].c[lt[i % nt].nc++] = &cl[i];
		lt[i % nt].active++;
	}
	for (i = 0; i < nt; i++)
		if (pthread_create(&lt[i].th, NULL, lean_main, &lt[i]) != 0)
			die("pthread_create", "failed");
	*ntp = nt;
	return lt;
}

static void
lean_join(struct lean *lt, unsigned nt)
{
	unsigned i;

	for (i = 0; i < nt; i++) {
		pthread_join(lt[i].th, NULL);
		close(lt[i].ep);
		free(lt[i].c);
		free(lt[i].restart);
	}
	free(lt);
}

/* The probe's request through the lean client; retried while the
 * server is not up, but a certificate that does not verify ends the
 * run at once. */
static void
lean_probe(void)
{
	struct client c, *cp = &c, *rs[2];
	struct lean t;
	const char *why;
	char last[sizeof(c.err)] = "no answer within 10 s";
	int64_t deadline = now_ns() + 10 * (int64_t)1000000000;

	for (;;) {
		memset(&c, 0, sizeof(c));
		c.token = g.tokens[0];
		lean_client_init(&c);
		c.l.limit = 1;
		c.l.key = NKEYS - 1;            /* the first is key 0 */
		c.checked = 1;                  /* checked here, below */
		memset(&t, 0, sizeof(t));
		if ((t.ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
			die("epoll_create1", strerror(errno));
		t.c = &cp;
		t.nc = t.active = 1;
		t.restart = rs;
		t.deadline = deadline;
		lean_main(&t);
		close(t.ep);
		if (c.n == 1 && c.s[0].ok)
			break;
		if (c.err[0] != '\0')
			memcpy(last, c.err, sizeof(last));
		if (c.l.fatal || now_ns() > deadline || interrupted) {
			show_log(g.serve_log);
			die("first request", last);
		}
		server_alive();
		lean_close(&c, 0);
		free(c.l.req);
		free(c.l.rbuf);
		free(c.s);
		usleep(50000);
	}
	if (g.ca != NULL && (why = verify_cert(c.l.rbuf + c.l.rp.hdr_len, 0,
	    &g.body_size)) != NULL)
		die("first certificate", why);
	if (c.l.ssl != NULL)
		snprintf(g.tls_info, sizeof(g.tls_info), "%s %s",
		    SSL_get_version(c.l.ssl), SSL_get_cipher_name(c.l.ssl));
	lean_close(&c, 1);
	free(c.l.req);
	free(c.l.rbuf);
	free(c.s);
}

/* CPU seconds (user + system) of a process from /proc; -1 if unknown. */
static double
proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (p == NULL || (p = strrchr(buf, ')')) == NULL)
		return -1;
	/* After "pid (comm)": field 3 is the state; utime is 14. */
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Idle and total jiffies of the whole machine. */
static void
machine_cpu(unsigned long long *idle, unsigned long long *total)
{
	unsigned long long v[10] = { 0 };
	FILE *f;
	int i;

	*idle = *total = 0;
	if ((f = fopen("/proc/stat", "r")) == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (i = 0; i < 8; i++)
			*total += v[i];
		*idle = v[3] + v[4];
	}
	fclose(f);
}

struct level {
	unsigned clients;
	double secs;
	unsigned long ok, errors, lat_n;
	double rate, p50, p99, max, mean;
	long connects;
	double srv_cpu, cli_cpu, idle;  /* fractions of one CPU / of all */
	char err[256];
};

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(q * (double)n + 0.999999);
	return v[i == 0 ? 0 : i - 1];
}

static void
run_level(struct level *lv, double warmup, double seconds,
    pid_t server_pid)
{
	struct client *cl;
	struct lean *lt = NULL;
	unsigned i, nlt = 0;
	int64_t t0, t1;
	double s0 = -1, s1 = -1, c0, c1, *lat, sum = 0;
	unsigned long long i0, tot0, i1, tot1;
	size_t j, nlat = 0, cap = 0;

	if ((cl = calloc(lv->clients, sizeof(*cl))) == NULL)
		die("clients", "out of memory");
	atomic_store(&stop_flag, 0);
	for (i = 0; i < lv->clients; i++) {
		cl[i].idx = i;
		cl[i].token = g.tokens[i % g.ntokens];
	}
	if (g.lean)
		lt = lean_start(cl, lv->clients, &nlt);
	else {
		for (i = 0; i < lv->clients; i++) {
			client_init(&cl[i]);
			if (pthread_create(&cl[i].th, NULL, client_main,
			    &cl[i]) != 0)
				die("pthread_create", "failed");
		}
	}
	sleep_until(now_ns() + (int64_t)(warmup * 1e9));
	t0 = now_ns();
	if (server_pid > 0)
		s0 = proc_cpu(server_pid);
	c0 = self_cpu();
	machine_cpu(&i0, &tot0);
	sleep_until(t0 + (int64_t)(seconds * 1e9));
	t1 = now_ns();
	if (server_pid > 0)
		s1 = proc_cpu(server_pid);
	c1 = self_cpu();
	machine_cpu(&i1, &tot1);
	atomic_store(&stop_flag, 1);
	if (g.lean)
		lean_join(lt, nlt);
	else
		for (i = 0; i < lv->clients; i++)
			pthread_join(cl[i].th, NULL);

	lv->secs = (double)(t1 - t0) / 1e9;
	for (i = 0; i < lv->clients; i++)
		cap += cl[i].n;
	if ((lat = malloc((cap + 1) * sizeof(*lat))) == NULL)
		die("latencies", "out of memory");
	for (i = 0; i < lv->clients; i++) {
		for (j = 0; j < cl[i].n; j++) {
			const struct sample *s = &cl[i].s[j];

			if (s->end < t0 || s->end > t1)
				continue;
			if (!s->ok) {
				lv->errors++;
				continue;
			}
			lv->ok++;
			if (s->start >= t0 && g.dump != NULL)
				fprintf(g.dump, "%u %u %.3f %.3f\n",
				    lv->clients, (unsigned)i,
				    (double)(s->start - t0) / 1e6,
				    (double)(s->end - t0) / 1e6);
			if (s->start >= t0) {
				lat[nlat] = (double)(s->end - s->start) / 1e6;
				sum += lat[nlat++];
			}
		}
		/* Errors outside the window count too: they are errors. */
		for (j = 0; j < cl[i].n; j++)
			if (!cl[i].s[j].ok && (cl[i].s[j].end < t0 ||
			    cl[i].s[j].end > t1))
				lv->errors++;
		lv->connects += cl[i].connects;
		if (lv->err[0] == '\0' && cl[i].err[0] != '\0')
			snprintf(lv->err, sizeof(lv->err), "%s", cl[i].err);
		if (g.lean) {
			lean_close(&cl[i], cl[i].l.state != L_DONE);
			free(cl[i].l.req);
			free(cl[i].l.rbuf);
		} else {
			curl_slist_free_all(cl[i].hdrs);
			curl_easy_cleanup(cl[i].h);
			free(cl[i].resp);
		}
		free(cl[i].s);
	}
	free(cl);
	qsort(lat, nlat, sizeof(*lat), cmp_double);
	lv->rate = (double)lv->ok / lv->secs;
	lv->lat_n = nlat;
	lv->p50 = pct(lat, nlat, 0.50);
	lv->p99 = pct(lat, nlat, 0.99);
	lv->max = nlat > 0 ? lat[nlat - 1] : 0;
	lv->mean = nlat > 0 ? sum / (double)nlat : 0;
	free(lat);
	lv->srv_cpu = s0 >= 0 && s1 >= 0 ? (s1 - s0) / lv->secs : -1;
	lv->cli_cpu = (c1 - c0) / lv->secs;
	lv->idle = tot1 > tot0 ? (double)(i1 - i0) / (double)(tot1 - tot0) : -1;
}

/* Raw Ed25519 signatures, one thread, as bench-sign makes them: through
 * libsodium, the library the signer signs with, its key ready. */
static double
raw_rate(size_t msglen, double seconds)
{
	uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
	uint8_t msg[2048], sig[crypto_sign_ed25519_BYTES];
	unsigned long n = 0;
	int64_t t0, t;

	if (msglen > sizeof(msg))
		msglen = sizeof(msg);
	if (sodium_init() < 0 || crypto_sign_ed25519_keypair(pk, sk) != 0)
		die("raw", "libsodium failed");
	randombytes_buf(msg, msglen);
	t0 = now_ns();
	do {
		if (crypto_sign_ed25519_detached(sig, NULL, msg, msglen,
		    sk) != 0)
			die("raw", "crypto_sign_ed25519_detached failed");
		n++;
		t = now_ns();
	} while (t - t0 < (int64_t)(seconds * 1e9) && !interrupted);
	sodium_memzero(sk, sizeof(sk));
	return (double)n / ((double)(t - t0) / 1e9);
}

/* One request before anything is timed: the whole path works, and the
 * size of a real certificate body (for the raw signature rate). */
static void
probe(void)
{
	struct client c;
	const char *why;
	int64_t deadline = now_ns() + 10 * (int64_t)1000000000;

	if (g.lean) {
		lean_probe();
		return;
	}
	memset(&c, 0, sizeof(c));
	c.token = g.tokens[0];
	client_init(&c);
	while (!client_post(&c, 0)) {
		server_alive();
		if (now_ns() > deadline || interrupted) {
			show_log(g.serve_log);
			die("first request", c.err);
		}
		c.err[0] = '\0';
		usleep(50000);
	}
	if (g.ca != NULL && (why = verify_cert(c.resp, 0, &g.body_size)) != NULL)
		die("first certificate", why);
	curl_slist_free_all(c.hdrs);
	curl_easy_cleanup(c.h);
	free(c.resp);
}

static void
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: bench-serve [--seconds N] [--warmup N] [--clients LIST] "
	    "[--workers N]\n"
	    "                   [--identities N] [--raw-seconds N] [--no-tls] "
	    "[--signer PATH]\n"
	    "                   [--tmpdir DIR] [--keep] [--dump FILE] "
	    "[--server-cpus LIST]\n"
	    "                   [--client-cpus LIST]\n"
	    "                   [--client lean|curl] [--client-threads K]\n"
	    "       bench-serve --url URL --token T [--token T2 ...] "
	    "[--cacert FILE] [--server-pid PID] ...\n"
	    "  --seconds N        measured window per level (default 5)\n"
	    "  --warmup N         warm-up per level, not measured (default 1)\n"
	    "  --clients LIST     concurrent clients per level (default 1,16,64)\n"
	    "  --workers N        the server's worker threads (default: the "
	    "config's default)\n"
	    "  --identities N     identities (tokens) the clients share "
	    "(default: 4, more\n"
	    "                     for long runs so no rate-limit bucket "
	    "runs dry)\n"
	    "  --raw-seconds N    raw Ed25519 signing time (default 2)\n"
	    "  --no-tls           plain HTTP on loopback (to see what TLS costs)\n"
	    "  --client lean      all connections from a few epoll threads, "
	    "OpenSSL\n"
	    "                     directly (the default)\n"
	    "  --client curl      one thread and one libcurl handle per "
	    "client\n"
	    "  --client-threads K lean: threads driving the connections "
	    "(default: one per CPU)\n"
	    "  --signer PATH      pgl-signer binary (default %s)\n"
	    "  --tmpdir DIR       where the signer's directory goes "
	    "(default $TMPDIR or /tmp)\n"
	    "  --keep             keep that directory (audit log, database)\n"
	    "  --dump FILE        one line per measured request: clients, "
	    "client,\n"
	    "                     start and end in ms from the window's "
	    "start\n"
	    "  --server-cpus L    pin the server to these CPUs (e.g. 1)\n"
	    "  --client-cpus L    pin the clients to these CPUs (e.g. 0)\n"
	    "  --url URL          clients only: a running server's "
	    "https://HOST:PORT\n"
	    "  --token T          clients only: a user token (repeat for more)\n"
	    "  --cacert FILE      clients only: its TLS certificate\n"
	    "  --server-pid PID   clients only: measure that process's CPU\n",
	    PGL_SIGNER_PATH);
	exit(status);
}

static double
parse_secs(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !(v >= 0) || v > 3600)
		usage(2);
	return v;
}

static unsigned long
parse_ulong(const char *s, unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		usage(2);
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "clients", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'W' },
		{ "identities", required_argument, NULL, 'i' },
		{ "raw-seconds", required_argument, NULL, 'r' },
		{ "no-tls", no_argument, NULL, 'T' },
		{ "signer", required_argument, NULL, 'S' },
		{ "tmpdir", required_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'k' },
		{ "dump", required_argument, NULL, 'D' },
		{ "server-cpus", required_argument, NULL, 'P' },
		{ "client-cpus", required_argument, NULL, 'C' },
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "cacert", required_argument, NULL, 'a' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "client", required_argument, NULL, 'L' },
		{ "client-threads", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct level lv[MAX_LEVELS];
	unsigned levels[MAX_LEVELS] = { 1, 16, 64 };
	size_t nlevels = 3, i, nid = 0;
	double seconds = 5, warmup = 1, raw_secs = 2, raw;
	const char *url = NULL, *cacert = NULL, *workers_label;
	pid_t server_pid = 0;
	curl_version_info_data *cv;
	struct sigaction sa;
	cpu_set_t set;
	char *p, *end, wbuf[64];
	int c, failed = 0, goal_seen = 0, threads_set = 0;
	double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN), load[3];

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((seconds = parse_secs(optarg)) <= 0)
				usage(2);
			break;
		case 'w': warmup = parse_secs(optarg); break;
		case 'r':
			if ((raw_secs = parse_secs(optarg)) <= 0)
				usage(2);
			break;
		case 'c':
			nlevels = 0;
			for (p = optarg; ; p = end + 1) {
				errno = 0;
				levels[nlevels] = (unsigned)strtoul(p, &end, 10);
				if (errno != 0 || end == p || levels[nlevels] == 0 ||
				    levels[nlevels] > MAX_CLIENTS ||
				    (*end != ',' && *end != '\0') ||
				    ++nlevels > MAX_LEVELS - 1)
					usage(2);
				if (*end == '\0')
					break;
			}
			break;
		case 'W': g.workers = (int)parse_ulong(optarg, 1, 64); break;
		case 'i': nid = parse_ulong(optarg, 1, MAX_TOKENS); break;
		case 'T': g.tls = 0; break;
		case 'S': g.signer = optarg; break;
		case 'd': g.tmpdir = optarg; break;
		case 'k': g.keep = 1; break;
		case 'D':
			if ((g.dump = fopen(optarg, "w")) == NULL)
				die(optarg, strerror(errno));
			break;
		case 'P': g.server_cpus = optarg; break;
		case 'C': g.client_cpus = optarg; break;
		case 'u': url = optarg; break;
		case 't':
			if (g.ntokens == MAX_TOKENS)
				usage(2);
			g.tokens[g.ntokens++] = optarg;
			break;
		case 'a': cacert = optarg; break;
		case 'p':
			server_pid = (pid_t)parse_ulong(optarg, 1, INT_MAX);
			break;
		case 'L':
			if (strcmp(optarg, "lean") == 0)
				g.lean = 1;
			else if (strcmp(optarg, "curl") == 0)
				g.lean = 0;
			else
				usage(2);
			break;
		case 'K':
			g.client_threads = (unsigned)parse_ulong(optarg, 1,
			    MAX_CLIENT_THREADS);
			threads_set = 1;
			break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc || (url == NULL) != (g.ntokens == 0) ||
	    (threads_set && !g.lean))
		usage(2);
	/* One thread per CPU, as a load generator would: with a single one,
	 * every client stalls whenever that thread waits for a CPU. */
	if (!threads_set)
		g.client_threads = ncpu < 1 ? 1 : ncpu > MAX_CLIENT_THREADS ?
		    MAX_CLIENT_THREADS : (unsigned)ncpu;
	resp_selftest();
	if (g.client_cpus != NULL && (parse_cpus(g.client_cpus, &set) != 0 ||
	    sched_setaffinity(0, sizeof(set), &set) != 0))
		die("--client-cpus", "bad CPU list");
	if (g.server_cpus != NULL && url != NULL)
		usage(2);
	if (g.tmpdir == NULL &&
	    ((g.tmpdir = getenv("TMPDIR")) == NULL || *g.tmpdir == '\0'))
		g.tmpdir = "/tmp";

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Real clients are separate processes, each with its own heap.
	 * Here 64 threads would share glibc's 8-per-core arenas and queue
	 * on their locks inside libcurl and OpenSSL (a futex wait, so a
	 * context switch, per request), and trimming the arenas would
	 * madvise() memory back and forth: give each thread its own. */
	mallopt(M_ARENA_MAX, 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("curl", "curl_global_init failed");
	cv = curl_version_info(CURLVERSION_NOW);

	/* Enough identities that no rate-limit bucket runs dry: each has
	 * a burst of 100000 (the most the config allows), and the server
	 * is assumed to reach at most 25000 certificates per second. */
	if (nid == 0) {
		double need = 25000 * (warmup + seconds) * (double)nlevels / 90000;

		nid = need < 4 ? 4 : need > MAX_TOKENS ? MAX_TOKENS :
		    (size_t)need + 1;
	}
	make_bodies();
	if (url != NULL) {
		/* Clients only, against a server someone else started. */
		if (snprintf(g.url, sizeof(g.url), "%s/v1/certs/user", url) >=
		    (int)sizeof(g.url))
			usage(2);
		g.tls = strncmp(url, "https:", 6) == 0;
		if (cacert != NULL)
			snprintf(g.cacert, sizeof(g.cacert), "%s", cacert);
		else
			g.cacert[0] = '\0';
		workers_label = "unknown";
	} else {
		start_server(nid);
		server_pid = g.server;
		if (g.workers > 0)
			snprintf(wbuf, sizeof(wbuf), "%d", g.workers);
		else {
			/* The config's own value, as init wrote it. */
			char *text = read_text(g.conf), *w;
			int n = 0;

			snprintf(wbuf, sizeof(wbuf), "the config's default");
			for (w = text; (w = strstr(w, "workers")) != NULL; w++)
				if ((w == text || w[-1] == '\n') &&
				    sscanf(w, "workers = %d", &n) == 1) {
					snprintf(wbuf, sizeof(wbuf), "%d (the "
					    "config's default)", n);
					break;
				}
			free(text);
		}
		workers_label = wbuf;
	}
	if (g.lean) {
		lean_url();
		if (g.tls)
			lean_tls_init();
	}
	probe();
	if (g.body_size == 0)
		g.body_size = 340;

	printf("bench-serve: %s build, %ld CPUs online, %s, libcurl %s (%s)\n",
	    PGL_BUILDTYPE, sysconf(_SC_NPROCESSORS_ONLN),
	    OpenSSL_version(OPENSSL_VERSION), cv->version,
	    cv->ssl_version != NULL ? cv->ssl_version : "no TLS");
	printf("server: %s (pid %d), workers %s, %s, identities %zu, %s\n",
	    url != NULL ? url : g.signer, (int)server_pid, workers_label,
	    g.tls ? "TLS" : "plain HTTP", g.ntokens, g.ca != NULL ?
	    "Ed25519 CA (each client's first certificate verified)" :
	    "CA unknown (certificates not verified)");
	if (g.lean)
		printf("clients: lean (epoll, %u thread%s, %s%s%s), one "
		    "keep-alive connection each,\n", g.client_threads,
		    g.client_threads == 1 ? "" : "s", g.tls ?
		    OpenSSL_version(OPENSSL_VERSION) : "plain TCP",
		    g.tls ? ", " : "", g.tls_info);
	else
		printf("clients: threads with one libcurl handle each (one "
		    "keep-alive connection),\n");
	printf("  POST /v1/certs/user back to back, %d distinct "
	    "subject keys; %.1f s warm-up + %.1f s measured per level\n",
	    NKEYS, warmup, seconds);
	if (getloadavg(load, 3) == 3)
		printf("load average before the run: %.2f %.2f %.2f\n", load[0],
		    load[1], load[2]);
	if (g.server_cpus != NULL || g.client_cpus != NULL)
		printf("pinned: server on CPUs %s, clients on CPUs %s\n",
		    g.server_cpus != NULL ? g.server_cpus : "any",
		    g.client_cpus != NULL ? g.client_cpus : "any");
	fflush(stdout);

	raw = raw_rate(g.body_size, raw_secs);
	printf("raw Ed25519 signatures (libsodium %s, what the signer uses; "
	    "%zu-byte message, 1 thread, %.1f s): %.0f sigs/s\n\n",
	    sodium_version_string(), g.body_size, raw_secs, raw);
	printf("%7s %9s %6s %7s %7s %7s %7s %6s %5s %7s %7s %7s %9s\n",
	    "clients", "certs/s", "/raw", "p50 ms", "p99 ms", "max ms",
	    "mean ms", "errors", "conns", "srv CPU", "cli CPU", "others",
	    "srv us/c");
	fflush(stdout);

	for (i = 0; i < nlevels && !interrupted; i++) {
		memset(&lv[i], 0, sizeof(lv[i]));
		lv[i].clients = levels[i];
		run_level(&lv[i], warmup, seconds, server_pid);
		if (interrupted)
			break;
		server_alive();
		printf("%7u %9.0f %5.0f%% %7.2f %7.2f %7.2f %7.2f %6lu %5ld",
		    lv[i].clients, lv[i].rate, 100 * lv[i].rate / raw,
		    lv[i].p50, lv[i].p99, lv[i].max, lv[i].mean, lv[i].errors,
		    lv[i].connects);
		if (lv[i].srv_cpu >= 0)
			printf(" %6.0f%%", 100 * lv[i].srv_cpu);
		else
			printf(" %7s", "-");
		printf(" %6.0f%%", 100 * lv[i].cli_cpu);
		/* Busy CPU time that is neither ours nor the server's. */
		if (lv[i].idle >= 0 && lv[i].srv_cpu >= 0)
			printf(" %6.0f%%", 100 * ((1 - lv[i].idle) * ncpu -
			    lv[i].srv_cpu - lv[i].cli_cpu));
		else
			printf(" %7s", "-");
		if (lv[i].srv_cpu >= 0 && lv[i].rate > 0)
			printf(" %9.0f", 1e6 * lv[i].srv_cpu / lv[i].rate);
		printf("\n");
		if (lv[i].errors > 0) {
			printf("        first error: %s\n", lv[i].err);
			failed = 1;
		}
		fflush(stdout);
	}
	if (interrupted) {
		cleanup();
		fprintf(stderr, "bench-serve: interrupted\n");
		return 130;
	}
	printf("  certs/s: successful responses that ended in the window; "
	    "latency: requests wholly in it;\n  /raw: certs/s over the raw "
	    "signature rate; conns: TCP connections opened (keep-alive: "
	    "one per client);\n  CPU: of one core (100%% = one core busy), "
	    "server process, these clients, and\n  every other process "
	    "(others: the machine's busy time minus both);\n"
	    "  srv us/c: server CPU time per certificate\n\n");
	for (i = 0; i < nlevels; i++) {
		if (lv[i].clients != GOAL_CLIENTS)
			continue;
		goal_seen = 1;
		printf("%u clients: %.0f certs/s (goal >= %.0f): %s; p99 %.2f ms "
		    "(goal < %.0f): %s\n", lv[i].clients, lv[i].rate, GOAL_RATE,
		    lv[i].rate >= GOAL_RATE && lv[i].errors == 0 ? "PASS" : "FAIL",
		    lv[i].p99, GOAL_P99_MS, lv[i].p99 < GOAL_P99_MS &&
		    lv[i].lat_n > 0 ? "PASS" : "FAIL");
	}
	if (!goal_seen)
		printf("(no level with %d clients: goal not judged)\n",
		    GOAL_CLIENTS);
	fflush(stdout);
	if (g.dump != NULL && fclose(g.dump) != 0)
		die("--dump", strerror(errno));
	cleanup();
	pgl_key_free(g.ca);
	for (i = 0; i < NKEYS; i++) {
		free(g.bodies[i]);
		free(g.tails[i]);
		free(g.subject_pk[i]);
	}
	SSL_CTX_free(g.ssl_ctx);
	for (i = 0; i < MAX_TOKENS; i++)
		free(g.own_tokens[i]);
	curl_global_cleanup();
	return failed;
}
