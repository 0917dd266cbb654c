/* bench-principals: wall time of one run of /usr/lib/pgl/principals, as
 * sshd starts it for every certificate login, against /bin/true (the
 * least a dynamically linked program can cost).
 *
 *   bench-principals PRINCIPALS [--runs N] [--true PATH]
 *
 * Each run is posix_spawn() to waitpid(), stdout to /dev/null.  The three
 * commands alternate run by run so they see the same machine: /bin/true,
 * "principals alice" (a managed user: reads the cache and /etc/passwd,
 * prints one line), "principals mallory" (not in the cache).  The cache
 * is written with the real writer to /var/lib/pgl/cache, on a tmpfs in a
 * private mount namespace this program makes for itself (needs root), so
 * the real /var/lib is never touched.  Goal: principals within 1.2x of
 * /bin/true. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"

extern char **environ;

#define NCMD 3

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench-principals: %s%s%s\n", what,
	    errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
	exit(1);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A private mount namespace with a tmpfs on /var/lib holding a cache of
 * 1,000 users for host "bench", alice among them. */
static void
sandbox(void)
{
	struct pgl_cache_builder *b;
	char name[32], pr[64], home[64];
	const char *prs[1] = { pr };
	uint32_t i;

	if (unshare(CLONE_NEWNS) != 0)
		die("unshare(CLONE_NEWNS) (run as root)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		die("making / private");
	if (mount("pgl-bench", "/var/lib", "tmpfs", 0, "mode=0755") != 0)
		die("tmpfs on /var/lib");
	if (mkdir("/var/lib/pgl", 0755) != 0)
		die("mkdir /var/lib/pgl");
	if ((b = pgl_cache_builder_new("bench", 100000, 199999)) == NULL)
		die("cache builder");
	for (i = 0; i < 1000; i++) {
		struct pgl_cache_user_in u = {
			.name = name, .uid = 100000 + i, .gecos = "",
			.home = home, .shell = "/bin/bash",
			.principals = prs, .nprincipals = 1,
		};

		if (i == 0)
			snprintf(name, sizeof(name), "alice");
		else
			snprintf(name, sizeof(name), "u%05" PRIu32, i);
		snprintf(pr, sizeof(pr), "%s@bench", name);
		snprintf(home, sizeof(home), "/home/%s", name);
		if (pgl_cache_builder_add_user(b, &u) != 0)
			die(pgl_cache_builder_error(b));
	}
	errno = 0;
	if (pgl_cache_builder_write(b, "/var/lib/pgl/cache",
	    "/var/lib/pgl/shadow") != 0)
		die(pgl_cache_builder_error(b));
	pgl_cache_builder_free(b);
}

/* One run: spawn, wait; the wall time in ns.  *out gets its stdout when
 * out is not NULL (to check the answer). */
static uint64_t
run(char *const argv[], char *out, size_t outlen)
{
	posix_spawn_file_actions_t fa;
	int pfd[2] = { -1, -1 }, status;
	uint64_t t0, t1;
	pid_t pid;
	ssize_t n;

	if (posix_spawn_file_actions_init(&fa) != 0)
		die("posix_spawn_file_actions_init");
	if (out != NULL) {
		if (pipe(pfd) != 0)
			die("pipe");
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
		posix_spawn_file_actions_addclose(&fa, pfd[0]);
		posix_spawn_file_actions_addclose(&fa, pfd[1]);
	} else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY,
		    0);
	t0 = now_ns();
	if ((errno = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) != 0)
		die(argv[0]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	t1 = now_ns();
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = 0;
		fprintf(stderr, "bench-principals: %s %s: exit status %d\n",
		    argv[0], argv[1] != NULL ? argv[1] : "", status);
		exit(1);
	}
	if (out != NULL) {
		close(pfd[1]);
		n = read(pfd[0], out, outlen - 1);
		out[n > 0 ? n : 0] = '\0';
		close(pfd[0]);
	}
	return t1 - t0;
}

int
main(int argc, char **argv)
{
	const char *labels[NCMD] = {
		"/bin/true", "principals alice (hit)",
		"principals mallory (miss)",
	};
	char *cmds[NCMD][3], out[256];
	const char *truebin = "/bin/true", *principals = NULL;
	uint64_t *t[NCMD], med[NCMD], sum;
	size_t runs = 3000, i, k;
	int c;

	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < (size_t)argc)
			runs = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--true") == 0 && i + 1 < (size_t)argc)
			truebin = argv[++i];
		else if (principals == NULL && argv[i][0] != '-')
			principals = argv[i];
		else {
			fprintf(stderr, "usage: bench-principals PRINCIPALS "
			    "[--runs N] [--true PATH]\n");
			return 2;
		}
	}
	if (principals == NULL || runs < 100) {
		fprintf(stderr, "usage: bench-principals PRINCIPALS "
		    "[--runs N >= 100] [--true PATH]\n");
		return 2;
	}
	sandbox();
	cmds[0][0] = (char *)truebin;
	cmds[0][1] = NULL;
	cmds[1][0] = (char *)principals;
	cmds[1][1] = (char *)"alice";
	cmds[1][2] = NULL;
	cmds[2][0] = (char *)principals;
	cmds[2][1] = (char *)"mallory";
	cmds[2][2] = NULL;

	/* The answers first: a benchmark of a broken run is worthless. */
	run(cmds[1], out, sizeof(out));
	if (strcmp(out, "alice@bench\n") != 0) {
		errno = 0;
		die("principals alice did not print alice@bench");
	}
	run(cmds[2], out, sizeof(out));
	if (out[0] != '\0') {
		errno = 0;
		die("principals mallory printed something");
	}
	for (c = 0; c < NCMD; c++)
		if ((t[c] = calloc(runs, sizeof(uint64_t))) == NULL)
			die("calloc");
	/* Warm up (page cache, the loader's cache), then alternate. */
	for (i = 0; i < 50; i++)
		for (c = 0; c < NCMD; c++)
			(void)run(cmds[c], NULL, 0);
	for (i = 0; i < runs; i++)
		for (c = 0; c < NCMD; c++)
			t[c][i] = run(cmds[c], NULL, 0);

	printf("bench-principals: posix_spawn() to waitpid(), %zu runs each, "
	    "alternating; us\n", runs);
	printf("%-28s %8s %8s %8s %8s %14s\n", "command", "median", "p90",
	    "p99", "mean", "median/true");
	for (c = 0; c < NCMD; c++) {
		qsort(t[c], runs, sizeof(uint64_t), cmp_u64);
		for (sum = 0, k = 0; k < runs; k++)
			sum += t[c][k];
		med[c] = t[c][runs / 2];
		printf("%-28s %8.1f %8.1f %8.1f %8.1f %14.3f\n", labels[c],
		    (double)med[c] / 1e3, (double)t[c][runs * 90 / 100] / 1e3,
		    (double)t[c][runs * 99 / 100] / 1e3,
		    (double)sum / (double)runs / 1e3,
		    (double)med[c] / (double)med[0]);
	}
	printf("goal (principals within 1.2x of /bin/true, median): %s\n",
	    (double)med[1] <= 1.2 * (double)med[0] &&
	    (double)med[2] <= 1.2 * (double)med[0] ? "met" : "NOT met");
	for (c = 0; c < NCMD; c++)
		free(t[c]);
	return 0;
}
