/* /etc/sudoers.d/pgl-NAME: rendering a grant, and replacing the file so
 * that sudo only ever sees a complete, visudo-checked file or none. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "name.h"
#include "sudoers.h"

#define VISUDO_TIMEOUT_MS 10000
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

static const char *const visudo_paths[] = {
	"/usr/sbin/visudo", "/usr/bin/visudo", "/sbin/visudo",
};

/* --- rendering --- */

struct out {
	char *p;
	size_t len, cap;
	int err;
};

static void
put(struct out *o, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (o->err != 0)
		return;
	if (o->len + n + 1 > PAM_PGL_SUDOERS_MAX) {
		o->err = PGL_E_TOO_LARGE;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		cap = o->cap == 0 ? 512 : o->cap;
		while (cap < o->len + n + 1)
			cap *= 2;
		if ((np = realloc(o->p, cap)) == NULL) {
			o->err = PGL_E_NOMEM;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Characters sudoers reads as syntax in a command path.  There they
 * cannot be escaped (visudo wants a plain fully-qualified path), so a
 * path holding one is refused. */
static int
path_char_ok(char c)
{
	return strchr("\\,:=#!()\"*?[]^", c) == NULL;
}

/* One command: the path as is, the arguments escaped.  In arguments
 * sudoers gives ',' ':' '=' '#' '!' and '\' a meaning to its parser and
 * '*' '?' '[' ']' to fnmatch(3); a leading '^' would start a regular
 * expression.  A literal backslash needs escaping for both levels. */
static int
put_command(struct out *o, const char *cmd)
{
	const char *p, *args, *end;
	char esc[2] = { '\\', 0 };
	size_t pathlen;

	for (p = cmd; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return PGL_E_CTRL_CHAR;
		else if (*p == '"')
			return PGL_E_BAD_OPTION_VALUE;
	pathlen = strcspn(cmd, " ");
	if (cmd[0] != '/' || pathlen < 2 || cmd[pathlen - 1] == '/')
		return PGL_E_BAD_OPTION_VALUE;
	for (p = cmd; p < cmd + pathlen; p++)
		if (!path_char_ok(*p))
			return PGL_E_BAD_OPTION_VALUE;
	put(o, cmd, pathlen);
	args = cmd + pathlen;
	while (*args == ' ')
		args++;
	/* Trailing spaces would leave "PATH" alone, which allows any
	 * arguments: drop them before deciding. */
	end = args + strlen(args);
	while (end > args && end[-1] == ' ')
		end--;
	if (end == args)
		return 0;
	put(o, " ", 1);
	if (*args == '^')
		put(o, "\\", 1);
	for (p = args; p < end; p++) {
		if (*p == '\\')
			puts_(o, "\\\\\\\\");
		else if (strchr(",:=#!*?[]", *p) != NULL) {
			esc[1] = *p;
			put(o, esc, 2);
		} else
			put(o, p, 1);
	}
	return 0;
}

int
pam_pgl_sudoers_render(const char *name, enum pgl_cache_sudo sudo,
    const char *const *cmds, size_t ncmds, char **out)
{
	struct out o = { NULL, 0, 0, 0 };
	size_t i;
	int r;

	if (name == NULL || !pgl_username_valid(name) || out == NULL)
		return PGL_E_INVALID_ARG;
	puts_(&o, "# pgl: the sudo grant of ");
	puts_(&o, name);
	puts_(&o, ", written by pam_pgl.so at session open.\n"
	    "# Rewritten at each login and removed with the grant: do not "
	    "edit.\n");
	puts_(&o, name);
	if (sudo == PGL_CACHE_SUDO_ALL)
		puts_(&o, " ALL=(ALL:ALL) NOPASSWD: ALL\n");
	else if (sudo == PGL_CACHE_SUDO_COMMANDS && ncmds > 0 &&
	    ncmds <= PAM_PGL_SUDO_COMMANDS_MAX) {
		puts_(&o, " ALL=(root) NOPASSWD: ");
		for (i = 0; i < ncmds; i++) {
			if (i > 0)
				puts_(&o, ", ");
			if (cmds[i] == NULL) {
				r = PGL_E_INVALID_ARG;
				goto fail;
			}
			if ((r = put_command(&o, cmds[i])) != 0)
				goto fail;
		}
		puts_(&o, "\n");
	} else {
		r = ncmds > PAM_PGL_SUDO_COMMANDS_MAX ? PGL_E_TOO_LARGE :
		    PGL_E_INVALID_ARG;
		goto fail;
	}
	if ((r = o.err) != 0)
		goto fail;
	*out = o.p;
	return 0;
 fail:
	free(o.p);
	return r;
}

/* --- writing --- */

__attribute__((format(printf, 4, 5)))
static int
say(char *why, size_t whylen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return r;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The drop-in already says exactly text: root's, 0440, same bytes. */
static int
same_file(int dfd, const char *file, const char *text, size_t len)
{
	char buf[4096];
	struct stat st;
	size_t off = 0;
	ssize_t n;
	int fd, same = 0;

	if ((fd = openat(dfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY)) < 0)
		return 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    st.st_gid != 0 || (st.st_mode & 07777) != 0440 ||
	    (size_t)st.st_size != len)
		goto out;
	while (off < len) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (size_t)n > len - off ||
		    memcmp(buf, text + off, (size_t)n) != 0)
			goto out;
		off += (size_t)n;
	}
	same = read(fd, buf, 1) == 0;
 out:
	close(fd);
	return same;
}

/* Runs "visudo -cf path" with a fixed environment; 0 if it exits 0.
 * Its first line of output goes to why. */
static int
visudo_check(const char *path, char *why, size_t whylen)
{
	static const char *const envp[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL,
	};
	struct sigaction sa, old_chld;
	const char *visudo = NULL;
	const char *argv[] = { "visudo", "-c", "-f", path, NULL };
	char out[512], drain[256];
	size_t outlen = 0, i;
	struct pollfd pfd;
	struct timespec t0, t1;
	long left;
	ssize_t n;
	pid_t pid = -1;
	int p[2] = { -1, -1 }, status = 0, r, devnull;

	for (i = 0; i < sizeof(visudo_paths) / sizeof(visudo_paths[0]); i++)
		if (access(visudo_paths[i], X_OK) == 0) {
			visudo = visudo_paths[i];
			break;
		}
	if (visudo == NULL)
		return say(why, whylen, -ENOENT, "visudo not found: a "
		    "sudoers file is never written unchecked");
	/* The caller may ignore SIGCHLD; then no status could be read. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, &old_chld);
	if (pipe2(p, O_CLOEXEC) != 0) {
		r = say(why, whylen, -errno, "pipe: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) < 0) {
		r = say(why, whylen, -errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		if ((devnull = open("/dev/null", O_RDONLY)) < 0 ||
		    dup2(devnull, 0) < 0 || dup2(p[1], 1) < 0 ||
		    dup2(p[1], 2) < 0)
			_exit(126);
		closefrom(3);
		execve(visudo, (char *const *)(uintptr_t)argv,
		    (char *const *)(uintptr_t)envp);
		_exit(127);
	}
	close(p[1]);
	p[1] = -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = VISUDO_TIMEOUT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, NULL, 0);
			pid = -1;
			r = say(why, whylen, -ETIMEDOUT, "visudo did not "
			    "finish in %d ms", VISUDO_TIMEOUT_MS);
			goto out;
		}
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		if (outlen < sizeof(out) - 1)
			n = read(p[0], out + outlen, sizeof(out) - 1 - outlen);
		else
			n = read(p[0], drain, sizeof(drain));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (outlen < sizeof(out) - 1)
			outlen += (size_t)n;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pid = -1;
			r = say(why, whylen, -errno, "waitpid: %s",
			    strerror(errno));
			goto out;
		}
	}
	pid = -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		r = 0;
		goto out;
	}
	out[outlen] = '\0';
	out[strcspn(out, "\n")] = '\0';
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = '?';
	if (WIFEXITED(status))
		r = say(why, whylen, -EINVAL, "visudo -cf refused it (exit "
		    "%d): %s", WEXITSTATUS(status), out);
	else
		r = say(why, whylen, -EINVAL, "visudo -cf died (signal %d)",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
 out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
	}
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	sigaction(SIGCHLD, &old_chld, NULL);
	return r;
}

int
pam_pgl_sudoers_sync(const char *name, enum pgl_cache_sudo sudo,
    const char *const *cmds, size_t ncmds, int *changed, char *why,
    size_t whylen)
{
	char file[64], tmp[80], tmppath[sizeof(PAM_PGL_SUDOERS_DIR) + 80];
	char *text = NULL;
	unsigned char rnd[6];
	size_t len;
	int dfd = -1, fd = -1, r, i, have_tmp = 0;

	*changed = 0;
	why[0] = '\0';
	if (name == NULL || !pgl_username_valid(name))
		return say(why, whylen, PGL_E_INVALID_ARG, "not a pgl name");
	/* pgl names never hold '.' or end in '~': sudo reads "pgl-NAME". */
	snprintf(file, sizeof(file), "pgl-%s", name);
	if ((dfd = open(PAM_PGL_SUDOERS_DIR, DIR_FLAGS)) < 0) {
		/* No sudo here: nothing to remove, nowhere to write. */
		if (errno == ENOENT && sudo == PGL_CACHE_SUDO_NONE)
			return 0;
		return say(why, whylen, -errno, "open %s: %s",
		    PAM_PGL_SUDOERS_DIR, strerror(errno));
	}
	if (sudo == PGL_CACHE_SUDO_NONE) {
		if (unlinkat(dfd, file, 0) == 0) {
			*changed = 1;
			(void)fsync(dfd);
			r = 0;
		} else if (errno == ENOENT)
			r = 0;
		else
			r = say(why, whylen, -errno, "remove %s/%s: %s",
			    PAM_PGL_SUDOERS_DIR, file, strerror(errno));
		goto out;
	}
	if ((r = pam_pgl_sudoers_render(name, sudo, cmds, ncmds, &text)) != 0) {
		say(why, whylen, r, "the grant cannot be written as sudoers: "
		    "%s", pgl_strerror(r));
		goto out;
	}
	len = strlen(text);
	if (same_file(dfd, file, text, len)) {
		r = 0;
		goto out;
	}
	for (i = 0;; i++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			r = say(why, whylen, -errno, "getrandom: %s",
			    strerror(errno));
			goto out;
		}
		snprintf(tmp, sizeof(tmp), ".%s.%02x%02x%02x%02x%02x%02x",
		    file, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0400)) >= 0)
			break;
		if (errno != EEXIST || i == 8) {
			r = say(why, whylen, -errno, "create a file in %s: %s",
			    PAM_PGL_SUDOERS_DIR, strerror(errno));
			goto out;
		}
	}
	have_tmp = 1;
	snprintf(tmppath, sizeof(tmppath), "%s/%s", PAM_PGL_SUDOERS_DIR, tmp);
	if (fchown(fd, 0, 0) != 0 || fchmod(fd, 0440) != 0) {
		r = say(why, whylen, -errno, "set owner and mode of %s: %s",
		    tmppath, strerror(errno));
		goto out;
	}
	if (write_all(fd, text, len) != 0 || fsync(fd) != 0) {
		r = say(why, whylen, -errno, "write %s: %s", tmppath,
		    strerror(errno));
		goto out;
	}
	if ((r = visudo_check(tmppath, why, whylen)) != 0)
		goto out;
	if (renameat(dfd, tmp, dfd, file) != 0) {
		r = say(why, whylen, -errno, "rename %s: %s", tmppath,
		    strerror(errno));
		goto out;
	}
	have_tmp = 0;
	if (fsync(dfd) != 0) {
		/* Renamed: in place for sudo now, if not yet on disk. */
		r = say(why, whylen, -errno, "fsync %s: %s",
		    PAM_PGL_SUDOERS_DIR, strerror(errno));
		*changed = 1;
		goto out;
	}
	*changed = 1;
	r = 0;
 out:
	if (fd >= 0)
		close(fd);
	if (have_tmp)
		(void)unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	free(text);
	return r;
}
