/* pgl-signer check: loads the configuration and the policy it names, as
 * the service would, and says what is wrong with them, line by line.
 * Meant to run before a reload (SIGHUP) and in CI. */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "policy.h"

#define ERRLEN 1024

static int
check_policy(const char *path)
{
	struct pgl_policy *p = NULL;
	char err[ERRLEN];

	/* err is "PATH:LINE: message", the form editors jump to. */
	if (pgl_policy_load(path, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: ok (%zu user%s, %zu role%s, %zu resource%s)\n", path,
	    p->nusers, p->nusers == 1 ? "" : "s", p->nroles,
	    p->nroles == 1 ? "" : "s", p->nresources,
	    p->nresources == 1 ? "" : "s");
	pgl_policy_free(p);
	return 0;
}

int
cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct pgl_signer_config *c = NULL;
	const char *config = NULL, *policy = NULL;
	char err[ERRLEN];
	int ch, ret;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:p:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': config = optarg; break;
		case 'p': policy = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc || (config == NULL) == (policy == NULL)) {
		cli_error("check", "give one of -c CONFIG or -p POLICY "
		    "(see pgl-signer --help)");
		return 2;
	}
	if (policy != NULL)
		return check_policy(policy);
	if (pgl_config_load(config, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("%s: ok\n", config);
	fflush(stdout);
	ret = check_policy(c->policy);
	pgl_config_free(c);
	return ret;
}
