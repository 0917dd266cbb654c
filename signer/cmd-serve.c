/* pgl-signer serve: run the signing service until SIGTERM/SIGINT;
 * SIGHUP reloads the policy (a bad one is refused and the old kept). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cli.h"
#include "err.h"
#include "http.h"
#include "service.h"

int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	struct pgl_service *svc = NULL;
	struct pgl_http *http = NULL;
	char err[1024];
	sigset_t set;
	int c, sig, ret = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc || config == NULL) {
		cli_error("serve", "usage: serve -c CONFIG");
		return 2;
	}
	/* Block the signals before any thread starts, so every thread
	 * inherits the mask and only sigwait below receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	openlog("pgl-signer", LOG_PID, LOG_AUTHPRIV);
	err[0] = '\0';
	if (pgl_service_open(config, &svc, err, sizeof(err)) != 0) {
		cli_error(NULL, "%s", err);
		goto out;
	}
	if (pgl_http_start(svc, &http, err, sizeof(err)) != 0) {
		cli_error(NULL, "%s", err);
		goto out;
	}
	fprintf(stderr, "%s: listening on %s (%s), %u workers\n",
	    PGL_SIGNER_PROG, svc->config->listen,
	    svc->config->tls ? "https" : "http", svc->config->workers);
	syslog(LOG_INFO, "listening on %s", svc->config->listen);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig != SIGHUP)
			break;
		err[0] = '\0';
		if (pgl_service_reload(svc, err, sizeof(err)) == 0) {
			fprintf(stderr, "%s: policy reloaded\n", PGL_SIGNER_PROG);
			syslog(LOG_INFO, "policy reloaded");
		} else {
			fprintf(stderr, "%s: policy reload failed, keeping the "
			    "current policy: %s\n", PGL_SIGNER_PROG, err);
			syslog(LOG_ERR, "policy reload failed, keeping the "
			    "current policy: %s", err);
		}
	}
	fprintf(stderr, "%s: stopping\n", PGL_SIGNER_PROG);
	ret = 0;
 out:
	pgl_http_stop(http);
	pgl_service_close(svc);
	closelog();
	return ret;
}
