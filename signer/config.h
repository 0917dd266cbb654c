/* pgl-signer's service configuration (pgl-signer.conf, libconfig). */
#ifndef PGL_SIGNER_CONFIG_H
#define PGL_SIGNER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Keys (all optional but noted; paths relative to the config file's
 * directory):
 *   listen = "127.0.0.1:8443";   host:port, or "unix:/path"
 *   tls = true;                  false allowed only on loopback/unix
 *   tls_cert = "tls.crt"; tls_key = "tls.key";
 *   ca_dir = ".";                user_ca, host_ca (from init)
 *   state_dir = "state";         signer.db (SQLite, WAL)
 *   policy = "policy.conf";
 *   audit_log = "audit.log";     also sent to syslog
 *   uid_min = 100000; uid_max = 199999;
 *   home_base = "/home"; default_shell = "/bin/bash";
 *   workers = 4;                 HTTP worker threads
 *   max_body = 65536;            bytes
 *   request_timeout = 10;        seconds
 *   rate_limit = 60;             requests per token per minute
 *   rate_burst = 30;
 *   metrics_public = true;       false: /metrics only on loopback
 *   enroll_token_ttl = 3600;     seconds
 *   host_cert_ttl = 2592000;     seconds (30 days)
 */
struct pgl_signer_config {
	char *path;                     /* the file itself */
	char *listen;
	int tls;
	char *tls_cert;
	char *tls_key;
	char *ca_dir;
	char *state_dir;
	char *policy;
	char *audit_log;
	uint32_t uid_min;
	uint32_t uid_max;
	char *home_base;
	char *default_shell;
	unsigned workers;
	size_t max_body;
	unsigned request_timeout;
	unsigned rate_limit;
	unsigned rate_burst;
	int metrics_public;
	uint32_t enroll_token_ttl;
	uint32_t host_cert_ttl;
};

/* Loads and checks the configuration; relative paths are resolved
 * against the file's directory.  Errors as pgl_policy_load. */
int pgl_config_load(const char *path, struct pgl_signer_config **out,
    char *err, size_t errlen);
void pgl_config_free(struct pgl_signer_config *c);

#endif
