/* The client side of the resolver protocol (docs/resolver.md): one
 * request line, one reply line, one hard deadline for both.  No resolver
 * listening means no wait at all. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pgl-config.h"
#include "name.h"
#include "internal.h"

_Static_assert(sizeof(PGL_RESOLVE_SOCKET) <=
    sizeof(((struct sockaddr_un *)0)->sun_path),
    "resolve_socket does not fit in sun_path");

static int64_t
now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
connect_resolver(void)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, PGL_RESOLVE_SOCKET, sizeof(PGL_RESOLVE_SOCKET));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) < 0)
		return -1;
	/* A unix socket connects at once or not at all (ENOENT,
	 * ECONNREFUSED, EAGAIN on a full backlog): nothing to wait for. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads one '\n'-terminated line before end (CLOCK_MONOTONIC ns). */
static int
read_line(int fd, int64_t end, char *line, size_t size)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;
	int64_t left;
	ssize_t k;
	int r;

	for (;;) {
		if ((left = end - now_ns()) <= 0)
			return -1;
		/* Round up: a deadline never ends a millisecond early. */
		r = poll(&p, 1, (int)((left + 999999) / 1000000));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		k = read(fd, line + n, size - 1 - n);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0)
			return -1;
		n += (size_t)k;
		if (memchr(line, '\n', n) != NULL) {
			line[n] = '\0';
			return 0;
		}
		if (n == size - 1)
			return -1;
	}
}

int
nss_pgl_ask(const char *name)
{
	char req[PGL_USERNAME_MAX + 2], rep[16];
	int64_t end;
	size_t n;
	int fd, saved = errno, r = -1;

	/* The resolver sets PGL_NSS_NO_RESOLVE for itself: its own lookups
	 * must never come back to it. */
	if (getenv("PGL_NSS_NO_RESOLVE") != NULL || !pgl_username_valid(name))
		return -1;
	end = now_ns() + (int64_t)PGL_RESOLVE_TIMEOUT_MS * 1000000;
	if ((fd = connect_resolver()) < 0)
		goto out;
	n = strlen(name);
	memcpy(req, name, n);
	req[n++] = '\n';
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n)
		goto out;
	/* Asked: whatever the reply ("ok", "none", "error") or none in
	 * time, the caller reads the cache again. */
	r = 0;
	(void)read_line(fd, end, rep, sizeof(rep));
 out:
	if (fd >= 0)
		close(fd);
	errno = saved;
	return r;
}
