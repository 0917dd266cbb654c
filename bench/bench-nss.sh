#!/usr/bin/env bash
# bench-nss.sh BENCH_NSS [LIBNSS_PGL] [-- BENCH_NSS OPTIONS]
#
# Runs bench-nss in a private mount namespace: a tmpfs on /var/lib and an
# overlay (upper layer on that tmpfs) on /etc, so the modules' fixed paths
# (/etc/passwd, /etc/passwd.cache, /etc/oslogin_passwd.cache,
# /var/lib/extrausers/passwd, /var/lib/pgl/cache) can be written without
# touching the real system.  Everything vanishes when the namespace ends.
#
# The other modules come from Debian packages that are downloaded with
# apt-get download and unpacked with dpkg -x into PGL_BENCH_MODULES
# (default: nss-modules/ beside BENCH_NSS), never installed: their
# maintainer scripts edit nsswitch.conf.  Needs root.
set -eu

if [ $# -lt 1 ]; then
	echo "usage: bench-nss.sh BENCH_NSS [LIBNSS_PGL] [-- OPTIONS]" >&2
	exit 2
fi
bin=$(realpath -- "$1")
shift
pgl=
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	pgl=$(realpath -- "$1")
	shift
fi
[ "${1:-}" = -- ] && shift
if [ "$(id -u)" != 0 ]; then
	echo "bench-nss.sh: needs root (a private mount namespace)" >&2
	exit 1
fi
if [ -n "$pgl" ] && [ ! -e "$pgl" ]; then
	echo "bench-nss.sh: $pgl does not exist; measuring without pgl" >&2
	pgl=
fi

mods=${PGL_BENCH_MODULES:-$(dirname -- "$bin")/nss-modules}
pkgs="libnss-extrausers libnss-cache google-compute-engine-oslogin"
if [ ! -f "$mods/.unpacked" ]; then
	mkdir -p -- "$mods/debs"
	(cd -- "$mods/debs" && apt-get download $pkgs) >&2
	for deb in "$mods"/debs/*.deb; do
		dpkg -x "$deb" "$mods"
	done
	touch -- "$mods/.unpacked"
fi
echo "modules: $(cd -- "$mods/debs" && ls -- *.deb | tr '\n' ' ')"

export PGL_NSS_NO_RESOLVE=1
exec unshare -m --propagation private bash -c '
	set -e
	mount -t tmpfs -o mode=0755 pgl-bench /var/lib
	mkdir -p /var/lib/.overlay/upper /var/lib/.overlay/work
	mount -t overlay pgl-bench-etc -o lowerdir=/etc,upperdir=/var/lib/.overlay/upper,workdir=/var/lib/.overlay/work /etc
	exec "$@"' bench-nss "$bin" --modules "$mods" ${pgl:+--pgl "$pgl"} "$@"
