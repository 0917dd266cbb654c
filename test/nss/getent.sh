#!/bin/bash
# glibc itself loading libnss_pgl.so.2: getent and id with a test
# nsswitch.conf ("passwd: files pgl" ...), in private mount and network
# namespaces.  The module is placed in the multiarch libdir through an
# overlay with a tmpfs upper layer; nsswitch.conf, /etc/passwd and
# /etc/group are test copies bind-mounted over the real ones, which stay
# untouched.
#   env: PGL_NSS_MODULE PGL_MKCACHE PGL_STATEDIR PGL_RESOLVE_SOCKET
#        PGL_RESOLVE_TIMEOUT_MS PGL_SANITIZE
set -u
. "$(dirname "$0")/lib.sh"
enter_namespace "$@"
here=$(cd "$(dirname "$0")" && pwd)

bail() {
	echo "Bail out! $*"
	exit 1
}

multiarch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
libdir=/usr/lib/$multiarch
[ -n "$multiarch" ] && [ -e "$libdir/libc.so.6" ] || bail "no multiarch libdir ($libdir)"
py=$(command -v python3) || bail "python3 is needed for the fake resolver"

# Uninstrumented getent and id load an ASan-built module only with the
# ASan runtime loaded first.
run() {
	if [ "${PGL_SANITIZE:-0}" = 1 ]; then
		LD_PRELOAD=$(gcc -print-file-name=libasan.so) \
		    ASAN_OPTIONS=detect_leaks=0 "$@"
	else
		"$@"
	fi
}

work=$(mktemp -d) || bail "mktemp"
mount -t tmpfs -o mode=0700 pgl-test "$work" || bail "tmpfs on $work"
resolver_pid=
cleanup() {
	[ -z "$resolver_pid" ] || kill "$resolver_pid" 2>/dev/null
	umount -l "$work" && rmdir "$work"
}
trap cleanup EXIT

ns_dir "$PGL_STATEDIR" || bail "tmpfs on $PGL_STATEDIR"
ns_dir "$(dirname "$PGL_RESOLVE_SOCKET")" || bail "tmpfs for the socket"
# An nscd would answer from its own cache: hide its socket.
[ ! -d /run/nscd ] || mount -t tmpfs pgl-test /run/nscd
cache=$PGL_STATEDIR/cache
shadow=$PGL_STATEDIR/shadow

# The cache, written against the real local accounts.
cat >"$work/spec" <<'SPEC'
host:vm-01
range:100000:199999
user:alice:100000:Alice Example:/home/alice:/bin/bash:0:alice@vm-01:deploy,ops:all:$6$salt$hash
user:bob:100003::/home/bob:/bin/sh:0:bob@vm-01:deploy:none:
user:lisa:100050:Cache Lisa:/home/lisa:/bin/sh:0:lisa@vm-01:deploy:none:
group:deploy:100001:
group:ops:100002:
SPEC
"$PGL_MKCACHE" "$cache" "$shadow" <"$work/spec" || bail "mkcache"

# A local lisa added since: local accounts always win.
cp /etc/passwd "$work/passwd" && cp /etc/group "$work/group" &&
    echo "lisa:x:1500:1500:Local Lisa:/home/lisa:/bin/sh" >>"$work/passwd" &&
    echo "lisa:x:1500:" >>"$work/group" || bail "passwd copies"
cat >"$work/nsswitch.conf" <<'NSS'
passwd: files pgl
group: files pgl
shadow: files pgl
hosts: files
NSS
mount --bind "$work/passwd" /etc/passwd &&
    mount --bind "$work/group" /etc/group &&
    mount --bind "$work/nsswitch.conf" /etc/nsswitch.conf || bail "bind mounts"

mkdir "$work/upper" "$work/ovl" &&
    mount -t overlay pgl-test -o "lowerdir=$libdir,upperdir=$work/upper,workdir=$work/ovl" "$libdir" &&
    cp "$PGL_NSS_MODULE" "$libdir/libnss_pgl.so.2" || bail "overlay on $libdir"

# expect DESCRIPTION WANT COMMAND...: stdout equals WANT, exit 0.
expect() {
	local what=$1 want=$2 got
	shift 2
	got=$(run "$@" 2>&1)
	if [ $? -eq 0 ] && [ "$got" = "$want" ]; then
		ok "$what"
	else
		not_ok "$what"
		diag "got:  $got"
		diag "want: $want"
	fi
}

expect "getent passwd alice" \
    'alice:x:100000:100000:Alice Example:/home/alice:/bin/bash' \
    getent passwd alice
expect "getent passwd 100000" \
    'alice:x:100000:100000:Alice Example:/home/alice:/bin/bash' \
    getent passwd 100000
expect "getent group deploy" 'deploy:x:100001:alice,bob,lisa' \
    getent group deploy
expect "getent group 100001" 'deploy:x:100001:alice,bob,lisa' \
    getent group 100001
expect "getent group alice: the self-group" 'alice:x:100000:' \
    getent group alice
expect "getent shadow alice" 'alice:$6$salt$hash:::::::' \
    getent shadow alice
got=$(run getent initgroups alice)
check "getent initgroups alice: deploy and ops ($(echo $got))" \
    [ "$(echo $got)" = "alice 100001 100002" ]
expect "id alice: the self-group and the grant's groups" \
    'uid=100000(alice) gid=100000(alice) groups=100000(alice),100001(deploy),100002(ops)' \
    id alice
expect "id bob" \
    'uid=100003(bob) gid=100003(bob) groups=100003(bob),100001(deploy)' \
    id bob

all=$(run getent passwd)
check "getent passwd enumerates local and cache users" \
    test "$(grep -cE '^(root|alice|bob):' <<<"$all")" -eq 3
all=$(run getent group)
check "getent group enumerates cache groups" \
    grep -qx 'ops:x:100002:alice' <<<"$all"
run getent passwd nosuch >/dev/null
check "a miss: getent exits 2" [ $? -eq 2 ]
run getent group 199999 >/dev/null
check "a gid miss: getent exits 2" [ $? -eq 2 ]

# Local accounts always win, and get none of pgl's groups.
expect "getent passwd lisa: the local account" \
    'lisa:x:1500:1500:Local Lisa:/home/lisa:/bin/sh' getent passwd lisa
expect "id lisa: the local account, without the cache's deploy" \
    'uid=1500(lisa) gid=1500(lisa) groups=1500(lisa)' id lisa
expect "getent passwd root: the local root" \
    "$(grep '^root:' "$work/passwd")" getent passwd root

# The resolver: a miss asks, the answer is in the cache read again.
log=$work/resolver.log
: >"$log"
start_resolver() {
	"$py" "$here/fake-resolver.py" "$PGL_RESOLVE_SOCKET" "$1" "$log" \
	    "$PGL_MKCACHE" "$cache" "$shadow" "$work/spec" &
	resolver_pid=$!
	for _ in $(seq 100); do
		[ -S "$PGL_RESOLVE_SOCKET" ] && return 0
		sleep 0.05
	done
	bail "fake resolver did not start"
}
stop_resolver() {
	kill "$resolver_pid" 2>/dev/null
	wait "$resolver_pid" 2>/dev/null
	resolver_pid=
	rm -f "$PGL_RESOLVE_SOCKET"
}
ms() {
	echo $(($(date +%s%N) / 1000000))
}

start_resolver ok
expect "a miss with a resolver: getent passwd newuser finds it" \
    'newuser:x:100777:100777:Fetched:/home/newuser:/bin/sh' \
    getent passwd newuser
check "the resolver got one request line, 'newuser'" \
    [ "$(cat "$log")" = newuser ]
PGL_NSS_NO_RESOLVE=1 run getent passwd another >/dev/null
rc=$?
check "PGL_NSS_NO_RESOLVE=1: a miss (exit $rc), and no request" \
    test $rc -eq 2 -a "$(grep -c another "$log")" -eq 0
run getent passwd 123456 >/dev/null
run getent group nogroup-here >/dev/null
run getent passwd 'Not-Valid' >/dev/null
check "uid, group and invalid-name misses never ask" [ "$(wc -l <"$log")" -eq 1 ]
stop_resolver

start_resolver silent
t0=$(ms)
run getent passwd ghost >/dev/null
rc=$?
elapsed=$(($(ms) - t0))
diag "a silent resolver: getent returned after $elapsed ms (deadline $PGL_RESOLVE_TIMEOUT_MS ms)"
check "a silent resolver: exit $rc after the deadline, within 3 s ($elapsed ms)" \
    test $rc -eq 2 -a "$elapsed" -lt 3000 \
    -a "$elapsed" -ge $((PGL_RESOLVE_TIMEOUT_MS - 10))
check "the silent resolver was asked" grep -qx ghost "$log"
stop_resolver

t0=$(ms)
run getent passwd ghost2 >/dev/null
rc=$?
elapsed=$(($(ms) - t0))
check "no resolver socket: a miss answers at once (exit $rc, $elapsed ms)" \
    test $rc -eq 2 -a "$elapsed" -lt 500

done_testing
