/* pgl agent-add [--ttl T] RESOURCE...
 *
 * A fresh Ed25519 key and one certificate for the resources, handed to
 * the running ssh-agent over its socket (SSH2_AGENTC_ADD_ID_CONSTRAINED)
 * with a lifetime equal to what is left of the certificate: the agent
 * forgets both when the certificate expires.  The private key never
 * touches the disk. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"
#include "pgl.h"

#define SSH2_AGENTC_ADD_ID_CONSTRAINED  25
#define SSH_AGENT_CONSTRAIN_LIFETIME    1
#define SSH_AGENT_SUCCESS               6
#define MAX_RESOURCES                   8
#define AGENT_REPLY_MAX                 (256 * 1024)

static int
io_all(int fd, void *p, size_t n, int wr)
{
	uint8_t *b = p;
	ssize_t r;

	while (n > 0) {
		r = wr ? write(fd, b, n) : read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return PGL_E_SYSTEM;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The add message: the certificate with the Ed25519 private key. */
static int
add_message(const struct pgl_key *k, const struct pgl_signed *sg,
    uint32_t lifetime, struct pgl_buf *msg)
{
	struct pgl_buf *cert = NULL;
	uint8_t seed[32], pub[32], sk[64];
	size_t slen = sizeof(seed), plen = sizeof(pub);
	const char *b64, *end;
	int r;

	if ((cert = pgl_buf_new()) == NULL)
		return PGL_E_NOMEM;
	b64 = strchr(sg->certificate, ' ') + 1;
	end = strchr(b64, ' ');
	if ((r = pgl_b64_decode(b64, end != NULL ? (size_t)(end - b64) :
	    strlen(b64), cert)) != 0)
		goto out;
	if (EVP_PKEY_get_raw_private_key(k->pkey, seed, &slen) != 1 ||
	    EVP_PKEY_get_raw_public_key(k->pkey, pub, &plen) != 1 ||
	    slen != 32 || plen != 32) {
		r = PGL_E_CRYPTO;
		goto out;
	}
	/* OpenSSH's Ed25519 private key is seed || public key. */
	memcpy(sk, seed, 32);
	memcpy(sk + 32, pub, 32);
	if ((r = pgl_buf_put_u32(msg, 0)) != 0 ||        /* length, below */
	    (r = pgl_buf_put_u8(msg, SSH2_AGENTC_ADD_ID_CONSTRAINED)) != 0 ||
	    (r = pgl_buf_put_cstring(msg, pgl_key_cert_type_name(k->type))) != 0 ||
	    (r = pgl_buf_put_stringb(msg, cert)) != 0 ||
	    (r = pgl_buf_put_string(msg, pub, sizeof(pub))) != 0 ||
	    (r = pgl_buf_put_string(msg, sk, sizeof(sk))) != 0 ||
	    (r = pgl_buf_put_cstring(msg, sg->key_id)) != 0 ||
	    (r = pgl_buf_put_u8(msg, SSH_AGENT_CONSTRAIN_LIFETIME)) != 0 ||
	    (r = pgl_buf_put_u32(msg, lifetime)) != 0)
		goto out;
	/* Patch in the length prefix. */
	{
		uint32_t n = (uint32_t)(pgl_buf_len(msg) - 4);

		msg->d[0] = (uint8_t)(n >> 24);
		msg->d[1] = (uint8_t)(n >> 16);
		msg->d[2] = (uint8_t)(n >> 8);
		msg->d[3] = (uint8_t)n;
	}
 out:
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(sk, sizeof(sk));
	pgl_buf_free(cert);
	return r;
}

static int
agent_add(const char *sock, struct pgl_buf *msg, struct cli_err *e)
{
	struct sockaddr_un sun;
	uint8_t len[4], reply[16];
	uint32_t n;
	int fd, r = PGL_E_SYSTEM;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock) >= sizeof(sun.sun_path)) {
		cli_seterr(e, PGL_EXIT_ERROR, "SSH_AUTH_SOCK is too long");
		return PGL_E_TOO_LARGE;
	}
	memcpy(sun.sun_path, sock, strlen(sock));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		cli_seterr(e, PGL_EXIT_ERROR, "cannot reach the ssh-agent at "
		    "%s: %s", sock, strerror(errno));
		goto out;
	}
	if (io_all(fd, (void *)pgl_buf_ptr(msg), pgl_buf_len(msg), 1) != 0 ||
	    io_all(fd, len, 4, 0) != 0) {
		cli_seterr(e, PGL_EXIT_ERROR, "the ssh-agent at %s hung up",
		    sock);
		goto out;
	}
	n = (uint32_t)len[0] << 24 | (uint32_t)len[1] << 16 |
	    (uint32_t)len[2] << 8 | len[3];
	if (n == 0 || n > sizeof(reply) || io_all(fd, reply, n, 0) != 0 ||
	    reply[0] != SSH_AGENT_SUCCESS) {
		cli_seterr(e, PGL_EXIT_ERROR, "the ssh-agent at %s refused the "
		    "key (does it support lifetime constraints?)", sock);
		r = PGL_E_NOT_ALLOWED;
		goto out;
	}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	return r;
}

int
cmd_agent_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pgl_config *cfg = NULL;
	struct pgl_key *key = NULL;
	struct pgl_signed *sg = NULL;
	struct pgl_buf *msg = NULL;
	struct cli_err e = { 0, "" };
	const char *sock, *res[MAX_RESOURCES];
	char *pub = NULL;
	size_t i, nres = 0;
	long ttl = 0, left;
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 't' && parse_ttl(optarg, &ttl) == 0)
			continue;
		fprintf(stderr, "usage: pgl agent-add [--ttl SECONDS] "
		    "RESOURCE...\n");
		return c == 'h' ? PGL_EXIT_OK : PGL_EXIT_USAGE;
	}
	if (optind == argc || argc - optind > MAX_RESOURCES) {
		fprintf(stderr, "usage: pgl agent-add [--ttl SECONDS] "
		    "RESOURCE... (at most %d)\n", MAX_RESOURCES);
		return PGL_EXIT_USAGE;
	}
	for (; optind < argc; optind++)
		res[nres++] = argv[optind];
	if ((sock = getenv("SSH_AUTH_SOCK")) == NULL || *sock == '\0') {
		cli_seterr(&e, PGL_EXIT_ERROR, "no ssh-agent: SSH_AUTH_SOCK is "
		    "not set (start one with eval $(ssh-agent))");
		goto fail;
	}
	if (cfg_load(&cfg, &e) != 0 || new_key(&key, &pub, &e) != 0 ||
	    signer_sign(cfg, pub, res, nres, ttl, &sg, &e) != 0)
		goto fail;
	/* What is left of the certificate by the signer's clock. */
	left = (long)sg->valid_before - (long)signed_server_now(sg);
	if (left < 1)
		left = 1;
	if ((msg = pgl_buf_new()) == NULL ||
	    add_message(key, sg, (uint32_t)left, msg) != 0) {
		cli_seterr(&e, PGL_EXIT_ERROR, "cannot encode the key for the "
		    "agent");
		goto fail;
	}
	if (agent_add(sock, msg, &e) != 0)
		goto fail;
	fprintf(stderr, "%s: added a certificate for", PGL_PROG);
	for (i = 0; i < sg->nres; i++)
		fprintf(stderr, "%s %s", i > 0 ? "," : "", sg->res[i].principal);
	fprintf(stderr, " to the agent for %ld s (serial %s)\n", left,
	    sg->serial);
	ret = PGL_EXIT_OK;
	goto out;
 fail:
	ret = cli_report(&e);
 out:
	pgl_buf_free(msg);      /* wiped: it held the private key */
	pgl_key_free(key);
	pgl_signed_free(sg);
	cfg_free(cfg);
	free(pub);
	return ret;
}
