/* Home directory creation (see home.h).  As pam_mkhomedir does, but with
 * descriptors instead of path names, so that no component can be swapped
 * for a symbolic link between a check and a use, and with the new tree
 * unreachable (root, mode 0) until it is complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Deeper skeletons are refused rather than recursed into. */
#define SKEL_DEPTH_MAX 16
#define PARENT_MODE 0755

static int
fail(const char **what, const char *step)
{
	int e = errno != 0 ? errno : EIO;

	*what = step;
	return -e;
}

/* Removes name in dirfd and everything below it, not following links. */
static void
remove_tree(int dirfd, const char *name, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if (depth > SKEL_DEPTH_MAX + 1)
		return;
	if ((fd = openat(dirfd, name, DIR_FLAGS)) >= 0) {
		if ((d = fdopendir(fd)) == NULL)
			close(fd);
		else {
			while ((de = readdir(d)) != NULL) {
				if (strcmp(de->d_name, ".") == 0 ||
				    strcmp(de->d_name, "..") == 0)
					continue;
				if (fstatat(fd, de->d_name, &st,
				    AT_SYMLINK_NOFOLLOW) == 0 &&
				    S_ISDIR(st.st_mode))
					remove_tree(fd, de->d_name, depth + 1);
				else
					(void)unlinkat(fd, de->d_name, 0);
			}
			closedir(d);
		}
	}
	(void)unlinkat(dirfd, name, AT_REMOVEDIR);
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

static int
copy_file(int sfd, int dfd, const char *name, const struct stat *st,
    uid_t uid, gid_t gid, const char **what)
{
	char buf[16384];
	struct stat in_st;
	ssize_t n;
	int in = -1, out = -1, r;

	/* O_NONBLOCK: were it swapped for a FIFO, open must not hang. */
	if ((in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | O_NOCTTY)) < 0) {
		r = fail(what, "open a skeleton file");
		goto out;
	}
	if (fstat(in, &in_st) != 0) {
		r = fail(what, "stat a skeleton file");
		goto out;
	}
	/* Replaced since the directory was read: skip it. */
	if (!S_ISREG(in_st.st_mode) || in_st.st_ino != st->st_ino) {
		r = 0;
		goto out;
	}
	if ((out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0)) < 0) {
		r = fail(what, "create a file");
		goto out;
	}
	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			r = fail(what, "read a skeleton file");
			goto out;
		}
		if (n == 0)
			break;
		if (write_all(out, buf, (size_t)n) != 0) {
			r = fail(what, "write a file");
			goto out;
		}
	}
	/* Owner, then mode: chown clears set-id bits, and none are kept. */
	if (fchown(out, uid, gid) != 0 || fchmod(out, in_st.st_mode & 0777)) {
		r = fail(what, "set a file's owner and mode");
		goto out;
	}
	r = 0;
 out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}

static int
copy_link(int sfd, int dfd, const char *name, uid_t uid, gid_t gid,
    const char **what)
{
	char target[PATH_MAX];
	ssize_t n;

	if ((n = readlinkat(sfd, name, target, sizeof(target))) < 0)
		return fail(what, "read a skeleton link");
	if ((size_t)n >= sizeof(target)) {
		errno = ENAMETOOLONG;
		return fail(what, "read a skeleton link");
	}
	target[n] = '\0';
	if (symlinkat(target, dfd, name) != 0)
		return fail(what, "create a link");
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
		return fail(what, "set a link's owner");
	return 0;
}

/* Copies the entries of directory sfd into dfd: regular files and
 * directories, symbolic links as links; devices, FIFOs and sockets are
 * skipped. */
static int
copy_tree(int sfd, int dfd, uid_t uid, gid_t gid, int depth,
    const char **what)
{
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int fd, csrc = -1, cdst = -1, r;

	if (depth > SKEL_DEPTH_MAX) {
		errno = ELOOP;
		return fail(what, "copy the skeleton (too deep)");
	}
	if ((fd = dup(sfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		r = fail(what, "read the skeleton");
		if (fd >= 0)
			close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			r = fail(what, "stat a skeleton entry");
			goto out;
		}
		if (S_ISREG(st.st_mode))
			r = copy_file(sfd, dfd, de->d_name, &st, uid, gid, what);
		else if (S_ISLNK(st.st_mode))
			r = copy_link(sfd, dfd, de->d_name, uid, gid, what);
		else if (S_ISDIR(st.st_mode)) {
			if ((csrc = openat(sfd, de->d_name, DIR_FLAGS)) < 0) {
				r = fail(what, "open a skeleton directory");
				goto out;
			}
			if (mkdirat(dfd, de->d_name, 0) != 0 ||
			    (cdst = openat(dfd, de->d_name, DIR_FLAGS)) < 0) {
				r = fail(what, "create a directory");
				goto out;
			}
			if ((r = copy_tree(csrc, cdst, uid, gid, depth + 1,
			    what)) != 0)
				goto out;
			if (fchown(cdst, uid, gid) != 0 ||
			    fchmod(cdst, st.st_mode & 0777) != 0) {
				r = fail(what, "set a directory's owner and "
				    "mode");
				goto out;
			}
			close(csrc);
			close(cdst);
			csrc = cdst = -1;
			r = 0;
		} else
			r = 0;
		if (r != 0)
			goto out;
	}
	if (errno != 0) {
		r = fail(what, "read the skeleton");
		goto out;
	}
	r = 0;
 out:
	if (csrc >= 0)
		close(csrc);
	if (cdst >= 0)
		close(cdst);
	closedir(d);
	return r;
}

/* Opens the parent of home, component by component, creating missing
 * ones; *last points at home's last component (inside buf). */
static int
open_parent(char *buf, char **last, const char **what)
{
	char *p, *slash;
	struct stat st;
	int fd, nfd, made;

	if ((fd = open("/", DIR_FLAGS)) < 0)
		return fail(what, "open /");
	p = buf + 1;
	while ((slash = strchr(p, '/')) != NULL) {
		*slash = '\0';
		made = 0;
		if ((nfd = openat(fd, p, DIR_FLAGS)) < 0 && errno == ENOENT) {
			if (mkdirat(fd, p, 0700) == 0)
				made = 1;
			else if (errno != EEXIST) {
				close(fd);
				return fail(what, "create a parent directory");
			}
			nfd = openat(fd, p, DIR_FLAGS);
		}
		close(fd);
		if (nfd < 0)
			return fail(what, errno == ELOOP || errno == ENOTDIR ?
			    "open a parent directory (a symbolic link or not a "
			    "directory)" : "open a parent directory");
		/* Ours if it is still root's and 0700: make it 0755. */
		if (made && fstat(nfd, &st) == 0 && st.st_uid == 0 &&
		    (st.st_mode & 07777) == 0700 &&
		    fchmod(nfd, PARENT_MODE) != 0) {
			close(nfd);
			return fail(what, "set a parent directory's mode");
		}
		fd = nfd;
		*slash = '/';
		p = slash + 1;
	}
	*last = p;
	return fd;
}

/* An absolute path of non-empty components, none "." or "..". */
static int
home_ok(const char *home)
{
	const char *p, *c;
	size_t n;

	if (home[0] != '/' || strlen(home) >= PATH_MAX)
		return 0;
	for (p = home + 1;; p = c + 1) {
		c = strchr(p, '/');
		n = c != NULL ? (size_t)(c - p) : strlen(p);
		if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (c == NULL)
			return 1;
	}
}

int
pam_pgl_home_create(const char *home, uid_t uid, gid_t gid, mode_t mode,
    const char *skel, int *created, const char **what)
{
	char path[PATH_MAX], tmp[32], *last = NULL;
	unsigned char rnd[8];
	struct stat st;
	int pfd = -1, hfd = -1, sfd = -1, r, i, have_tmp = 0;

	*created = 0;
	*what = NULL;
	if (!home_ok(home)) {
		*what = "check the home path (absolute, no . or .. or //)";
		return -EINVAL;
	}
	memcpy(path, home, strlen(home) + 1);
	if ((pfd = open_parent(path, &last, what)) < 0)
		return pfd;
	/* Anything there already, even a link, is left alone. */
	if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		r = 0;
		goto out;
	}
	if (errno != ENOENT) {
		r = fail(what, "stat the home directory");
		goto out;
	}
	/* Whoever else can write the parent could move the new tree or put
	 * a link in its place: only a parent that root alone writes. */
	if (fstat(pfd, &st) != 0) {
		r = fail(what, "stat the parent directory");
		goto out;
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		errno = EPERM;
		r = fail(what, "check the parent directory (not root's, or "
		    "writable by group or others)");
		goto out;
	}
	/* A random name in the parent, so concurrent first logins of the
	 * same user each build their own tree; the first rename wins. */
	for (i = 0;; i++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			r = fail(what, "getrandom");
			goto out;
		}
		snprintf(tmp, sizeof(tmp), ".pgl-home-%02x%02x%02x%02x%02x%02x"
		    "%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		    rnd[6], rnd[7]);
		if (mkdirat(pfd, tmp, 0) == 0)
			break;
		if (errno != EEXIST || i == 8) {
			r = fail(what, "create the home directory");
			goto out;
		}
	}
	have_tmp = 1;
	if ((hfd = openat(pfd, tmp, DIR_FLAGS)) < 0) {
		r = fail(what, "open the new home directory");
		goto out;
	}
	/* Still the directory made above: root's, mode 0. */
	if (fstat(hfd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & 07777) != 0) {
		errno = EPERM;
		r = fail(what, "check the new home directory");
		goto out;
	}
	if ((sfd = open(skel, DIR_FLAGS)) >= 0) {
		if ((r = copy_tree(sfd, hfd, uid, gid, 0, what)) != 0)
			goto out;
	} else if (errno != ENOENT) {
		r = fail(what, "open the skeleton directory");
		goto out;
	}
	if (fchown(hfd, uid, gid) != 0 || fchmod(hfd, mode) != 0) {
		r = fail(what, "set the home directory's owner and mode");
		goto out;
	}
	if (renameat2(pfd, tmp, pfd, last, RENAME_NOREPLACE) != 0) {
		/* EEXIST: another session made it meanwhile. */
		if (errno == EEXIST) {
			r = 0;
			goto out;
		}
		if (errno != EINVAL) {
			r = fail(what, "rename the home directory into place");
			goto out;
		}
		/* A filesystem without RENAME_NOREPLACE: check again, then a
		 * plain rename (which could only replace an empty directory
		 * made by root within this instant). */
		if (fstatat(pfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			r = 0;
			goto out;
		}
		if (renameat(pfd, tmp, pfd, last) != 0) {
			r = errno == EEXIST || errno == ENOTEMPTY ? 0 :
			    fail(what, "rename the home directory into place");
			goto out;
		}
	}
	have_tmp = 0;
	(void)fsync(pfd);
	*created = 1;
	r = 0;
 out:
	if (have_tmp)
		remove_tree(pfd, tmp, 0);
	if (sfd >= 0)
		close(sfd);
	if (hfd >= 0)
		close(hfd);
	if (pfd >= 0)
		close(pfd);
	return r;
}
