#!/usr/bin/env bash
# shellcheck shell=bash
# principals(8): what sshd's AuthorizedPrincipalsCommand prints, and when
# it prints nothing.  TAP.
#
# Runs itself again in a private mount namespace: a tmpfs on /var/lib
# (the real /var/lib/pgl is hidden, never touched) and a bind-mounted
# copy of /etc/passwd the tests add local accounts to.  The binary reads
# its real compiled-in paths; there is no test-only option.
#
#   PGL_PRINCIPALS      the principals binary
#   PGL_MKCACHE         test/host/mkcache (writes a cache through the writer)
#   PGL_CACHE_FORMAT_H  common/cache-format.h (offsets for patched files)
#   PGL_SANITIZE        1 if built with -Dsanitize=true
set -u
export LC_ALL=C TZ=UTC

if [ "${PGL_PRINCIPALS_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root (a private mount namespace)"
		exit 0
	fi
	for v in PGL_PRINCIPALS PGL_MKCACHE PGL_CACHE_FORMAT_H; do
		if [ -z "${!v:-}" ] || [ ! -e "${!v}" ]; then
			echo "Bail out! $v is not set or does not exist"
			exit 1
		fi
	done
	PGL_PRINCIPALS_NS=1 exec unshare -m --propagation private \
	    bash "$0" "$@"
	echo "Bail out! unshare -m failed"
	exit 1
fi

P=$(realpath -- "$PGL_PRINCIPALS")
MK=$(realpath -- "$PGL_MKCACHE")
CACHE=/var/lib/pgl/cache
SHADOW=/var/lib/pgl/shadow
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgl-principals.XXXXXX") || {
	echo "Bail out! mktemp"; exit 1; }
trap 'rm -rf -- "$WORK"' EXIT
umask 022

# --- TAP ---
T_N=0
T_FAIL=0
T_BUF=$WORK/.tap
: >"$T_BUF"

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*" >>"$T_BUF"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N # SKIP $*" >>"$T_BUF"; }
not_ok() {
	T_N=$((T_N + 1)); T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $*" >>"$T_BUF"
}
diag() {
	local l
	while IFS= read -r l; do printf '#   %s\n' "$l" >>"$T_BUF"; done \
	    < <(printf '%s\n' "$*" | head -c 4000 | cat -v)
}
tap_done() {
	echo "1..$T_N"
	cat -- "$T_BUF"
	[ "$T_FAIL" -eq 0 ] || { echo "# $T_FAIL of $T_N failed"; exit 1; }
	exit 0
}
bail() { echo "1..$((T_N + 1))"; cat -- "$T_BUF"; echo "Bail out! $*"; exit 1; }

# --- the namespace's files ---
mount -t tmpfs -o mode=0755 pgl-test /var/lib || bail "tmpfs on /var/lib"
mkdir -p -m 0755 /var/lib/pgl || bail "mkdir /var/lib/pgl"
cp /etc/passwd "$WORK/passwd.orig" && cp "$WORK/passwd.orig" "$WORK/passwd" &&
    mount --bind "$WORK/passwd" /etc/passwd || bail "bind /etc/passwd"

# Appends a line to the namespace's /etc/passwd (the bound file itself:
# a rename would not show through the bind mount).
add_local() { printf '%s\n' "$1" >>/etc/passwd; }
reset_local() { cat "$WORK/passwd.orig" >/etc/passwd; }

# mk [MKCACHE OPTIONS] <<< spec: writes the cache through the real writer.
mk() {
	rm -f -- "$CACHE" "$SHADOW"
	"$MK" "$@" "$CACHE" "$SHADOW" >"$WORK/mk.err" 2>&1 ||
	    bail "mkcache: $(cat "$WORK/mk.err")"
}

# run ARGS...: principals with a time limit; RC, $WORK/out, $WORK/err.
run() {
	timeout -k 2 10 "$P" "$@" </dev/null >"$WORK/out" 2>"$WORK/err"
	RC=$?
}

explain() {
	diag "args: $(printf '%q ' "$@")"
	diag "exit $RC; stdout: $(cat -v "$WORK/out")"
	[ -s "$WORK/err" ] && diag "stderr: $(cat "$WORK/err")"
}

# prints DESC EXPECTED ARGS...: exit 0, exactly EXPECTED (a string with
# its newlines) on stdout, nothing on stderr.
prints() {
	local desc=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" -eq 0 ] && [ ! -s "$WORK/err" ] &&
	    cmp -s "$WORK/out" <(printf '%s' "$want"); then
		ok "$desc"
	else
		not_ok "$desc"
		diag "expected stdout: $(printf '%s' "$want" | cat -v)"
		explain "$@"
	fi
}

# nothing DESC ARGS...: exit 0, stdout and stderr empty.
nothing() {
	local desc=$1
	shift
	prints "$desc" "" "$@"
}

# fails DESC STATUS ARGS...: that exit status, nothing on stdout, one line
# on stderr naming principals.
fails() {
	local desc=$1 want=$2
	shift 2
	run "$@"
	if [ "$RC" -eq "$want" ] && [ ! -s "$WORK/out" ] &&
	    [ "$(wc -l <"$WORK/err")" -eq 1 ] &&
	    grep -q '^principals: ' "$WORK/err"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "expected exit $want, no stdout, one line on stderr"
		explain "$@"
	fi
}

# patch_user NAME FIELD VALUE / patch_header FIELD VALUE: rewrites one u32
# of the cache in place, at the offsets common/cache-format.h defines.
patch() {
	python3 - "$PGL_CACHE_FORMAT_H" "$CACHE" "$@" <<'EOF' || bail "patch $*"
import re, struct, sys
fmt, path, what = sys.argv[1], sys.argv[2], sys.argv[3]
d = dict((m.group(1), int(m.group(2))) for m in
         re.finditer(r'#define\s+(CF_\w+)\s+(\d+)\b', open(fmt).read()))
b = bytearray(open(path, 'rb').read())
if what == 'header':
    field, value = sys.argv[4], int(sys.argv[5])
    struct.pack_into('<I', b, d[field], value)
else:
    name, field, value = sys.argv[4].encode(), sys.argv[5], int(sys.argv[6])
    off, n = struct.unpack_from('<II', b, d['CF_H_USERS'])
    for i in range(n):
        rec = off + i * d['CF_USER_SIZE']
        so, sl = struct.unpack_from('<II', b, rec + d['CF_U_NAME'])
        if b[so:so + sl] == name:
            struct.pack_into('<I', b, rec + d[field], value)
            break
    else:
        sys.exit('no user ' + sys.argv[4])
with open(path, 'r+b') as f:
    f.write(b)
EOF
}

user() {	# user NAME UID [PRINCIPALS] [EXPIRE]
	printf 'user:%s:%s:%s:/home/%s:/bin/bash:%s:%s:::\n' \
	    "$1" "$2" "$1" "$1" "${4:-0}" "${3-$1@vm-01}"
}
spec() {	# spec HOST LINES...
	local h=$1
	shift
	printf 'host:%s\nrange:100000:199999\n' "$h"
	printf '%s\n' "$@"
}

# --- a managed user on the right host ---
mk <<<"$(spec vm-01 "$(user alice 100001)")"
prints "a managed user: exactly its principal and a newline" \
    $'alice@vm-01\n' alice
if setpriv --reuid=nobody --regid=nogroup --clear-groups \
    test -x "$P" 2>/dev/null; then
	RC=0
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$P" alice \
	    </dev/null >"$WORK/out" 2>"$WORK/err" || RC=$?
	if [ "$RC" -eq 0 ] && [ "$(cat "$WORK/out")" = alice@vm-01 ]; then
		ok "as nobody (AuthorizedPrincipalsCommandUser): the same line"
	else
		not_ok "as nobody (AuthorizedPrincipalsCommandUser): the same line"
		explain alice
	fi
else
	skip "nobody cannot reach $P"
fi
if command -v strace >/dev/null 2>&1 && [ "${PGL_SANITIZE:-0}" != 1 ]; then
	strace -f -qq -e trace=write -o "$WORK/strace" "$P" alice \
	    >/dev/null 2>&1
	n=$(grep -c '^[0-9]* *write(1,' "$WORK/strace")
	if [ "$n" -eq 1 ]; then
		ok "one write(2) to stdout"
	else
		not_ok "one write(2) to stdout"
		diag "$(cat "$WORK/strace")"
	fi
else
	skip "one write(2): strace not installed, or a sanitizer build"
fi

# --- names that are never printed ---
nothing "root" root
nothing "an unknown name" mallory
nothing "an empty name" ""
nothing "a name with a trailing newline" $'alice\n'
nothing "a name with an embedded newline" $'alice\nroot'
nothing "a name with uppercase letters" Alice
nothing "a principal given as the name" alice@vm-01
nothing "a path as the name" ../alice
nothing "a name with a leading space" " alice"
long32=abcdefghijklmnopqrstuvwxyz012345
mk <<<"$(spec vm-01 "$(user "$long32" 100002)")"
prints "a 32-character managed name" "$long32@vm-01"$'\n' "$long32"
nothing "a 33-character name" "${long32}6"

# --- usage ---
fails "no argument: usage, exit 2" 2
fails "two arguments: usage, exit 2" 2 alice bob

# --- local accounts always win ---
mk --no-local <<<"$(spec vm-01 "$(user bob 100010)" "$(user carol 100011)" \
    "$(user dave 100012)" "$(user erin 100013)")"
prints "control: bob, before a local bob exists" $'bob@vm-01\n' bob
add_local 'bob:x:1500:1500:local bob:/home/bob:/bin/sh'
nothing "a local account with the name of a cache entry" bob
reset_local
prints "control: carol, before uid 100011 is local" $'carol@vm-01\n' carol
add_local 'svc:x:100011:100011::/nonexistent:/usr/sbin/nologin'
nothing "a cache entry whose uid a local account has" carol
reset_local
add_local '+dave::::::'
nothing "a compat entry (+name) in /etc/passwd" dave
reset_local
add_local "long:x:1501:1501:$(head -c 20000 /dev/zero | tr '\0' g):/:/bin/sh"
add_local 'dave:x:1502:1502::/home/dave:/bin/sh'
nothing "a local account after a 20,000-byte line" dave
reset_local
printf 'erin:x:1503:1503::/home/erin:/bin/sh' >>/etc/passwd
nothing "a local account on a last line without a newline" erin
reset_local

# --- expiry ---
now=$(date +%s)
mk <<<"$(spec vm-01 "$(user frank 100020 frank@vm-01 1)" \
    "$(user grace 100021 grace@vm-01 "$((now - 1))")" \
    "$(user heidi 100022 heidi@vm-01 "$((now + 3600))")")"
nothing "an entry that expired in 1970" frank
nothing "an entry that expired a second ago" grace
prints "an entry that expires in an hour" $'heidi@vm-01\n' heidi

# --- principals bound to this host and this user only ---
mk <<<"$(spec vm-01 "$(user ivan 100030 ivan@vm-02)" \
    "$(user judy 100031 'judy@vm-02,judy@vm-01,judy@vm-011,judy@VM-01,judy@vm-01')" \
    "$(user mallet 100032 alice@vm-01,root@vm-01)" \
    "$(user nina 100033 '')" \
    "$(user oscar 100034 'oscar,oscar@,@vm-01,oscar@vm-0,xoscar@vm-01')")"
nothing "a principal for another host only" ivan
prints "several principals: the one for this host, once" \
    $'judy@vm-01\n' judy
nothing "principals naming other users" mallet
nothing "an entry without principals" nina
nothing "near misses of name@host" oscar
mk <<<"$(spec vm-02 "$(user alice 100001 alice@vm-01)")"
nothing "a cache written for another host (vm-02, principal alice@vm-01)" alice

# --- uid range, by patching a valid file ---
mk <<<"$(spec vm-01 "$(user alice 100001)" "$(user peggy 100040)")"
patch user peggy CF_U_UID 150000
prints "control: a patched uid inside the range" $'peggy@vm-01\n' peggy
patch user peggy CF_U_UID 200000
nothing "a uid above the cache's uid_max" peggy
patch user peggy CF_U_UID 99999
nothing "a uid below the cache's uid_min" peggy
patch user peggy CF_U_UID 150000
patch user peggy CF_U_GID 200000
nothing "a gid above the cache's uid_max" peggy
patch user peggy CF_U_GID 150000
prints "control: the gid back inside the range" $'peggy@vm-01\n' peggy
patch header CF_H_UID_MIN 0
patch user peggy CF_U_UID 0
nothing "uid 0, even where uid_min says 0" peggy
patch user peggy CF_U_UID 150000
patch user peggy CF_U_GID 0
nothing "gid 0, even where uid_min says 0" peggy
prints "control: alice in the same file" $'alice@vm-01\n' alice

# --- the cache file itself ---
rm -f -- "$CACHE" "$SHADOW"
nothing "no cache: nothing, exit 0" alice
rmdir /var/lib/pgl
nothing "no /var/lib/pgl: nothing, exit 0" alice
mkdir -m 0755 /var/lib/pgl
mk <<<"$(spec vm-01 "$(user alice 100001)")"
cp "$CACHE" "$WORK/good"
head -c 4096 /dev/urandom >"$CACHE"
fails "random bytes: exit 1" 1 alice
head -c 200 "$WORK/good" >"$CACHE"
fails "a truncated cache: exit 1" 1 alice
: >"$CACHE"
fails "an empty cache: exit 1" 1 alice
cp "$SHADOW" "$CACHE"
fails "the shadow file in the cache's place: exit 1" 1 alice
cp "$WORK/good" "$CACHE"
patch user alice CF_U_PRINCIPALS 4000000
fails "an entry whose principals point past the end: exit 1" 1 alice
cp "$WORK/good" "$CACHE"
chmod 0664 "$CACHE"
fails "a group-writable cache: exit 1" 1 alice
chmod 0646 "$CACHE"
fails "a world-writable cache: exit 1" 1 alice
chmod 0644 "$CACHE"
chown 1000 "$CACHE"
fails "a cache not owned by root: exit 1" 1 alice
chown 0 "$CACHE"
mv "$CACHE" "$WORK/elsewhere"
ln -s "$WORK/elsewhere" "$CACHE"
fails "a symlink in the cache's place: exit 1" 1 alice
rm -f -- "$CACHE"
mkdir "$CACHE"
fails "a directory in the cache's place: exit 1" 1 alice
rmdir "$CACHE"
cp "$WORK/good" "$CACHE"
prints "the good file again" $'alice@vm-01\n' alice

# --- links libc only ---
if ldd "$P" >"$WORK/ldd" 2>&1; then
	allow='linux-vdso|ld-linux|libc\.so\.6'
	[ "${PGL_SANITIZE:-0}" = 1 ] &&
	    allow="$allow|libasan|libubsan|libstdc\\+\\+|libm\\.so|libgcc_s|libpthread|libdl|librt"
	if grep -Evq "^[[:space:]]*(/[^ ]*/)?($allow)" "$WORK/ldd"; then
		not_ok "ldd: libc only"
		diag "$(cat "$WORK/ldd")"
	else
		ok "ldd: libc only$([ "${PGL_SANITIZE:-0}" = 1 ] && echo ' (and the sanitizer runtime)')"
	fi
else
	not_ok "ldd: libc only"
	diag "$(cat "$WORK/ldd")"
fi

tap_done
