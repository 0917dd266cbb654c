#!/usr/bin/env bash
# shellcheck shell=bash
# pam_pgl.so through the real libpam: account decisions, home directory
# creation, the sudoers drop-in, the session log line.  TAP.
#
# Runs itself again in a private mount namespace and there mounts test
# copies over the real paths the module uses (it has no test-only
# argument): tmpfs on /home, /var/lib (the cache), /etc/sudoers.d and
# /dev (for a /dev/log this test listens on); bind-mounted copies of
# /etc/passwd, /etc/nsswitch.conf, /etc/sudoers and /etc/skel.  The real
# system's files are never touched.
#
#   PGL_PAM_MODULE      pam_pgl.so
#   PGL_PAM_DRIVER      test/pam/pam-driver (libpam, pam_start_confdir)
#   PGL_AUTHINFO_CHECK  test/pam/authinfo-check
#   PGL_RENDER_SUDOERS  test/pam/render-sudoers
#   PGL_MKCACHE         test/host/mkcache
#   PGL_NSS_DIR         the directory holding libnss_pgl.so.2
#   PGL_NSS_TEST_DIR    the directory holding libnss_pgltest.so.2
#   PGL_SANITIZE        1 if built with -Dsanitize=true
set -u
export LC_ALL=C TZ=UTC

if [ "${PGL_PAM_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "1..0 # SKIP needs root (a private mount namespace)"
		exit 0
	fi
	if [ -z "${PGL_NSS_DIR:-}" ] ||
	    [ ! -e "$PGL_NSS_DIR/libnss_pgl.so.2" ]; then
		echo "1..0 # SKIP libnss_pgl.so.2 is not built in this tree"
		exit 0
	fi
	for v in PGL_PAM_MODULE PGL_PAM_DRIVER PGL_AUTHINFO_CHECK \
	    PGL_RENDER_SUDOERS PGL_MKCACHE PGL_NSS_TEST_DIR; do
		if [ -z "${!v:-}" ] || [ ! -e "${!v}" ]; then
			echo "Bail out! $v is not set or does not exist"
			exit 1
		fi
	done
	for p in visudo sudo ssh-keygen python3; do
		if ! command -v "$p" >/dev/null 2>&1 &&
		    [ ! -x "/usr/sbin/$p" ]; then
			echo "1..0 # SKIP $p is not installed"
			exit 0
		fi
	done
	PGL_PAM_NS=1 exec unshare -m --propagation private bash "$0" "$@"
	echo "Bail out! unshare -m failed"
	exit 1
fi

MOD=$(realpath -- "$PGL_PAM_MODULE")
DRV=$(realpath -- "$PGL_PAM_DRIVER")
AIC=$(realpath -- "$PGL_AUTHINFO_CHECK")
RENDER=$(realpath -- "$PGL_RENDER_SUDOERS")
MK=$(realpath -- "$PGL_MKCACHE")
NSSLIB="$(realpath -- "$PGL_NSS_DIR"):$(realpath -- "$PGL_NSS_TEST_DIR")"
SAN=${PGL_SANITIZE:-0}
# meson's LD_LIBRARY_PATH holds this build's NSS module; sudo must not load
# a sanitizer build of it.  The driver gets NSSLIB explicitly.
unset LD_LIBRARY_PATH
CACHE=/var/lib/pgl/cache
SHADOW=/var/lib/pgl/shadow
SD=/etc/sudoers.d
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgl-pam.XXXXXX") || {
	echo "Bail out! mktemp"; exit 1; }
chmod 0755 "$WORK"
LOG_PID=
cleanup() {
	[ -n "$LOG_PID" ] && kill "$LOG_PID" 2>/dev/null
	# Only our namespace's mounts; --one-file-system never crosses one.
	umount -q "$WORK"/dev-* 2>/dev/null
	rm -rf --one-file-system -- "$WORK"
}
trap cleanup EXIT
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
	    < <(printf '%s\n' "$*" | head -c 6000 | cat -v)
}
tap_done() {
	echo "1..$T_N"
	cat -- "$T_BUF"
	[ "$T_FAIL" -eq 0 ] || { echo "# $T_FAIL of $T_N failed"; exit 1; }
	exit 0
}
bail() { echo "1..$((T_N + 1))"; cat -- "$T_BUF"; echo "Bail out! $*"; exit 1; }
# check DESC COMMAND...: ok if the command succeeds.
check() {
	local desc=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "$(cat "$WORK/check.out")"
	fi
}

# --- the namespace's files ---
mount -t tmpfs -o mode=0755 pgl-test /var/lib || bail "tmpfs on /var/lib"
mkdir -m 0755 /var/lib/pgl /var/lib/pgl-test || bail "mkdir /var/lib/pgl"
mount -t tmpfs -o mode=0755 pgl-home /home || bail "tmpfs on /home"
cp /etc/passwd "$WORK/passwd.orig" &&
    echo 'localbob:x:1500:1500:a local account:/home/localbob:/bin/sh' \
    >>"$WORK/passwd.orig" && cp "$WORK/passwd.orig" "$WORK/passwd" &&
    mount --bind "$WORK/passwd" /etc/passwd || bail "bind /etc/passwd"
printf 'passwd: files pgl pgltest\ngroup: files pgl\nshadow: files\n' \
    >"$WORK/nsswitch.conf" &&
    mount --bind "$WORK/nsswitch.conf" /etc/nsswitch.conf ||
    bail "bind /etc/nsswitch.conf"
printf 'root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n' \
    >"$WORK/sudoers" && chmod 0440 "$WORK/sudoers" &&
    mount --bind "$WORK/sudoers" /etc/sudoers || bail "bind /etc/sudoers"
mkdir -p "$SD" 2>/dev/null
mount -t tmpfs -o mode=0755 pgl-sudoers "$SD" || bail "tmpfs on $SD"

# The skeleton: files, a nested directory, links that must stay links
# (one to /etc/shadow, one to a directory), a FIFO and a set-uid file.
SKEL=$WORK/skel
mkdir -p "$SKEL/.config/app" "$SKEL/empty" && chmod 0700 "$SKEL/.config/app" &&
    printf '# test bashrc\n' >"$SKEL/.bashrc" &&
    printf 'umask 077\n' >"$SKEL/.profile" && chmod 0600 "$SKEL/.profile" &&
    printf 'x=1\n' >"$SKEL/.config/app/conf" &&
    ln -s /etc/shadow "$SKEL/shadow-link" &&
    ln -s .bashrc "$SKEL/rel-link" &&
    ln -s /etc "$SKEL/dir-link" &&
    mkfifo "$SKEL/fifo" &&
    printf '#!/bin/sh\n' >"$SKEL/suid" && chmod 4755 "$SKEL/suid" ||
    bail "skeleton"
mkdir -p /etc/skel 2>/dev/null
mount --bind "$SKEL" /etc/skel || bail "bind /etc/skel"

# /dev/log: a tmpfs on /dev with the few device nodes the programs here
# open (bound from the real ones), and a socket this test reads.
for n in null zero full random urandom tty; do
	: >"$WORK/dev-$n" && mount --bind "/dev/$n" "$WORK/dev-$n" ||
	    bail "bind /dev/$n"
done
mount -t tmpfs -o mode=0755 pgl-dev /dev || bail "tmpfs on /dev"
for n in null zero full random urandom tty; do
	: >"/dev/$n" && mount --bind "$WORK/dev-$n" "/dev/$n" ||
	    bail "/dev/$n"
done
ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin &&
    ln -s fd/1 /dev/stdout && ln -s fd/2 /dev/stderr && mkdir /dev/shm ||
    bail "/dev links"
SYSLOG=$WORK/syslog
: >"$SYSLOG"
python3 -u - /dev/log "$SYSLOG" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], 'ab', buffering=0) as f:
    while True:
        d = s.recv(65536)
        f.write(d.rstrip(b'\n').replace(b'\n', b'\\n') + b'\n')
EOF
LOG_PID=$!
for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
[ -S /dev/log ] || bail "syslog listener"

# --- PAM services (pam_start_confdir) ---
# Most checks call the module's pam_sm_* functions directly (pam-driver
# -m) on a real libpam handle, to see its own return value: a stack in
# which every module ignores the user fails as a whole.  pgl-stack is the
# module in a stack as sshd would run it, pam_permit standing in for the
# modules after it.
PAMD=$WORK/pam.d
mkdir "$PAMD"
: >"$PAMD/pgl-direct"
printf '%s required pam_deny.so\n' auth account password session \
    >"$PAMD/other"
printf '%s\n' "account required $MOD" 'account required pam_permit.so' \
    "session required $MOD" 'session required pam_permit.so' \
    >"$PAMD/pgl-stack"

# --- helpers ---
# drive [DRIVER OPTIONS] USER ACTIONS...: OUT is the module's results
# (argument "debug", more with -a), one word per action; DRV_ERR the
# driver's stderr.  With -s pgl-stack -m '', the stack's results.
drive() {
	OUT=$(timeout -k 2 60 env LD_LIBRARY_PATH="$NSSLIB" "$DRV" -d "$PAMD" \
	    -s pgl-direct -m "$MOD" -a debug "$@" 2>"$WORK/drv.err" | tr '\n' ' ')
	OUT=${OUT% }
	DRV_ERR=$(cat "$WORK/drv.err")
}
# expect DESC WANT [DRIVER OPTIONS] USER ACTIONS...
expect() {
	local desc=$1 want=$2
	shift 2
	drive "$@"
	if [ "$OUT" = "$want" ] && ! grep -q 'Sanitizer' "$WORK/drv.err"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "expected: $want"
		diag "got: $OUT"
		[ -n "$DRV_ERR" ] && diag "stderr: $DRV_ERR"
		diag "log: $(tail -n 3 "$SYSLOG")"
		diag "cache: $(ls -ln "$CACHE" 2>&1)"
	fi
}
# log_has DESC FIXED-STRING: a line logged since the last log_mark.
LOG_MARK=0
log_mark() { LOG_MARK=$(wc -l <"$SYSLOG"); }
log_since() { tail -n +"$((LOG_MARK + 1))" "$SYSLOG"; }
log_has() {
	local desc=$1 want=$2 i
	for i in $(seq 30); do
		log_since | grep -qF -- "$want" && break
		sleep 0.1
	done
	if log_since | grep -qF -- "$want"; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "wanted in the log: $want"
		diag "log since mark: $(log_since)"
	fi
}

user() {	# user NAME UID HOME SUDO [EXPIRE]
	printf 'user:%s:%s:%s:%s:/bin/bash:%s:%s@vm-01::%s:\n' \
	    "$1" "$2" "$1" "$3" "${5:-0}" "$1" "$4"
}
# mk LINES...: writes the cache through the real writer.
mk() {
	rm -f -- "$CACHE" "$SHADOW"
	{ printf 'host:vm-01\nrange:100000:199999\n'; printf '%s\n' "$@"; } |
	    "$MK" "$CACHE" "$SHADOW" >"$WORK/mk.err" 2>&1 ||
	    bail "mkcache: $(cat "$WORK/mk.err")"
}
add_local() { printf '%s\n' "$1" >>/etc/passwd; }
reset_local() { cat "$WORK/passwd.orig" >/etc/passwd; }
# mode_of PATH: "uid:gid mode" (of a link itself, not its target).
mode_of() { stat -c '%u:%g %a' -- "$1" 2>&1; }
is() {	# is DESC GOT WANT
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected: $3"
		diag "got: $2"
	fi
}
# check_fails DESC COMMAND...: ok if the command fails.
check_fails() {
	local desc=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		not_ok "$desc"
		diag "$(cat "$WORK/check.out")"
	else
		ok "$desc"
	fi
}
no_temp_left() {	# no_temp_left DIR PATTERN
	local left
	left=$(find "$1" -maxdepth 1 -name "$2" 2>/dev/null)
	is "no temporary file left in $1" "$left" ""
}

BOB_CMDS='/usr/bin/id,/usr/bin/echo a=b #c !d *e ?f [g] \h ^i$ (j)'
now=$(date +%s)
USERS=(
	"$(user alice 100001 /home/alice all)"
	"$(user bob 100002 /home/bob "$BOB_CMDS")"
	"$(user carol 100003 /home/carol none)"
	"$(user dave 100004 /home/link/dave none)"
	"$(user erin 100005 /home/deep/er/erin none)"
	"$(user frank 100006 /home/frank all "$((now - 10))")"
	"$(user grace 100007 /home/grace none)"
	"$(user heidi 100008 /home/heidi none)"
	"$(user judy 100010 /home/judy none)"
	"$(user kim 100011 /home/kim all)"
	"$(user lena 100012 /home/lena none)"
	"$(user mia 100013 /home/sym none)"
	"$(user gone 100014 /home/gone all)"
	"$(user olga 100015 /home/open/olga none)"
)
mk "${USERS[@]}"
# The directory service stand-in: a user in pgl's range the cache does
# not hold, and one outside it.
printf '%s\n' 'ldapin:x:100500:100500::/home/ldapin:/bin/sh' \
    'ldapout:x:50000:50000::/home/ldapout:/bin/sh' >/var/lib/pgl-test/passwd

# ============================ account ===============================
log_mark
expect "account: a managed, allowed user: PAM_SUCCESS" PAM_SUCCESS \
    alice account
expect "account: an expired entry: PAM_PERM_DENIED" PAM_PERM_DENIED \
    frank account
log_has "account: the refusal is logged with its reason" \
    "account of frank refused: its entry has expired"
expect "account: root: PAM_IGNORE" PAM_IGNORE root account
expect "account: a local account: PAM_IGNORE" PAM_IGNORE localbob account
expect "account: a system account (daemon): PAM_IGNORE" PAM_IGNORE \
    daemon account
expect "account: a directory user in pgl's uid range, not in the cache: PAM_PERM_DENIED" \
    PAM_PERM_DENIED ldapin account
expect "account: a directory user outside the range: PAM_IGNORE" \
    PAM_IGNORE ldapout account
expect "account: a name nobody knows: PAM_USER_UNKNOWN" PAM_USER_UNKNOWN \
    nosuchuser account
add_local 'heidi-svc:x:100008:100008::/:/usr/sbin/nologin'
log_mark
expect "account: an entry whose uid a local account took since: PAM_PERM_DENIED" \
    PAM_PERM_DENIED heidi account
log_has "account: ... logged as a uid collision" \
    "its uid belongs to a local account"
reset_local
add_local 'alice:x:1600:1600:local alice:/home/alice-local:/bin/sh'
expect "account: a local account with a cache entry's name: PAM_IGNORE" \
    PAM_IGNORE alice account
reset_local

# removed from the cache: NSS no longer knows the name either
mk "${USERS[@]:0:12}" "${USERS[@]:13}"
expect "account: a user removed from the cache: refused (PAM_USER_UNKNOWN)" \
    PAM_USER_UNKNOWN gone account
expect "session: a user removed from the cache: PAM_IGNORE, nothing made" \
    PAM_IGNORE gone open
check "... no home for the removed user" test ! -e /home/gone

# the cache itself
cp "$CACHE" "$WORK/cache.good"
rm -f "$CACHE"
expect "account without a cache: no managed users, PAM_IGNORE" PAM_IGNORE \
    alice account
head -c 4096 /dev/urandom >"$CACHE"
chmod 0644 "$CACHE"
log_mark
expect "account with a corrupt cache: a non-local name gets PAM_AUTHINFO_UNAVAIL" \
    PAM_AUTHINFO_UNAVAIL alice account
log_has "... and the reason is logged" "the cache cannot be read"
expect "account with a corrupt cache: root still PAM_IGNORE" PAM_IGNORE \
    root account
expect "account with a corrupt cache: a local account still PAM_IGNORE" \
    PAM_IGNORE localbob account
cp "$WORK/cache.good" "$CACHE"
chmod 0666 "$CACHE"
expect "account with a world-writable cache: PAM_AUTHINFO_UNAVAIL" \
    PAM_AUTHINFO_UNAVAIL alice account
chmod 0644 "$CACHE"
chown 1000 "$CACHE"
expect "account with a cache not owned by root: PAM_AUTHINFO_UNAVAIL" \
    PAM_AUTHINFO_UNAVAIL alice account
chown 0 "$CACHE"
mv "$CACHE" "$WORK/cache.moved"
ln -s "$WORK/cache.moved" "$CACHE"
expect "account with a symlink in the cache's place: PAM_AUTHINFO_UNAVAIL" \
    PAM_AUTHINFO_UNAVAIL alice account
rm -f "$CACHE"
mk "${USERS[@]}"

# arguments not understood
log_mark
expect "account with unknown arguments: still decides (PAM_SUCCESS)" \
    PAM_SUCCESS -a frobnicate -a mode=0999 alice account
log_has "... and logs what it ignored" \
    'ignoring 2 arguments not understood, the first: "frobnicate"'

# hostile names: never managed, nothing written
long=$(printf 'a%.0s' $(seq 300))
for name in '../etc' 'alice/../root' "$long" $'alice\nroot' 'a%s%n' 'Alice' \
    ' alice' '-alice' 'alice@vm-01'; do
	expect "hostile name $(printf '%q' "$name" | head -c 40): account and session PAM_IGNORE" \
	    "PAM_IGNORE PAM_IGNORE" -- "$name" account open
done
is "hostile names: nothing in /home" "$(ls -A /home)" ""
is "hostile names: nothing in $SD" "$(ls -A "$SD")" ""

# ============================ session: home =========================
log_mark
expect "session: alice: PAM_SUCCESS" PAM_SUCCESS alice open
is "home: owner, group and mode 0700 (the default)" \
    "$(mode_of /home/alice)" "100001:100001 700"
is "home: .bashrc copied, owned by the user, mode kept" \
    "$(mode_of /home/alice/.bashrc) $(cat /home/alice/.bashrc)" \
    "100001:100001 644 # test bashrc"
is "home: .profile keeps mode 0600" "$(mode_of /home/alice/.profile)" \
    "100001:100001 600"
is "home: nested directories copied with owner and mode" \
    "$(mode_of /home/alice/.config) $(mode_of /home/alice/.config/app) $(cat /home/alice/.config/app/conf)" \
    "100001:100001 755 100001:100001 700 x=1"
if [ -L /home/alice/shadow-link ] &&
    [ "$(readlink /home/alice/shadow-link)" = /etc/shadow ] &&
    [ "$(stat -c %u /home/alice/shadow-link)" = 100001 ]; then
	ok "home: a link to /etc/shadow stays a link (owned by the user), never its content"
else
	not_ok "home: a link to /etc/shadow stays a link (owned by the user), never its content"
	diag "$(ls -la /home/alice)"
fi
check "home: a relative link stays a link" \
    test "$(readlink /home/alice/rel-link)" = .bashrc
if [ -L /home/alice/dir-link ] && [ "$(readlink /home/alice/dir-link)" = /etc ]; then
	ok "home: a link to a directory stays a link, not copied through"
else
	not_ok "home: a link to a directory stays a link, not copied through"
fi
check "home: a FIFO in the skeleton is skipped" test ! -e /home/alice/fifo
is "home: set-uid bit dropped from a copied file" \
    "$(mode_of /home/alice/suid)" "100001:100001 755"
check "home: an empty skeleton directory is copied" test -d /home/alice/empty
no_temp_left /home '.pgl-home-*'
log_has "session log: user, uid, client and home creation" \
    "session opened for alice (uid 100001) from - with no SSH_AUTH_INFO_0; home created"

echo marker >/home/alice/.bashrc
ino=$(stat -c %i /home/alice)
expect "session again: PAM_SUCCESS" PAM_SUCCESS alice open
is "home: an existing home is left as it is" \
    "$(stat -c %i /home/alice) $(cat /home/alice/.bashrc)" "$ino marker"

mkdir -m 0755 /home/carol && echo mine >/home/carol/marker
expect "session: carol with a pre-existing root-owned home: PAM_SUCCESS" \
    PAM_SUCCESS carol open
is "home: an existing directory is never chowned or filled" \
    "$(mode_of /home/carol) $(ls -A /home/carol | tr '\n' ' ')" \
    "0:0 755 marker "

expect "session with mode=0750: PAM_SUCCESS" PAM_SUCCESS -a mode=0750 grace open
is "home: mode=0750 applies" "$(mode_of /home/grace)" "100007:100007 750"
expect "session with a malformed mode= argument: PAM_SUCCESS" PAM_SUCCESS \
    -a mode=0999 lena open
is "home: a malformed mode= keeps the default 0700" "$(mode_of /home/lena)" \
    "100012:100012 700"

mkdir -m 0755 "$WORK/elsewhere"
ln -s "$WORK/elsewhere" /home/link
log_mark
expect "session: a home whose parent is a symlink: PAM_SESSION_ERR" \
    PAM_SESSION_ERR dave open
is "... nothing created through the link" "$(ls -A "$WORK/elsewhere")" ""
log_has "... logged with the failing step" \
    "home /home/link/dave: open a parent directory (a symbolic link or not a directory)"

mkdir -m 0755 "$WORK/elsewhere2"
ln -s "$WORK/elsewhere2" /home/sym
expect "session: a home that is itself a symlink is left alone (PAM_SUCCESS)" \
    PAM_SUCCESS mia open
is "... its target untouched" "$(mode_of "$WORK/elsewhere2") $(ls -A "$WORK/elsewhere2")" \
    "0:0 755 "

mkdir -m 0777 /home/open
expect "session: a home whose parent others can write: PAM_SESSION_ERR" \
    PAM_SESSION_ERR olga open
is "... nothing created there" "$(ls -A /home/open)" ""

expect "session: a home with missing parents: PAM_SUCCESS" PAM_SUCCESS erin open
is "home: missing parents made root-owned 0755, the home the user's" \
    "$(mode_of /home/deep) $(mode_of /home/deep/er) $(mode_of /home/deep/er/erin)" \
    "0:0 755 0:0 755 100005:100005 700"

# 10 concurrent first sessions of one user: one complete home.
pids=()
for i in $(seq 10); do
	(timeout -k 2 60 env LD_LIBRARY_PATH="$NSSLIB" "$DRV" -d "$PAMD" \
	    -s pgl-stack judy open \
	    >"$WORK/conc.$i" 2>&1) &
	pids+=($!)
done
wait "${pids[@]}"
is "10 concurrent first sessions: all PAM_SUCCESS" \
    "$(cat "$WORK"/conc.* | sort | uniq -c | sed 's/^ *//')" "10 PAM_SUCCESS"
is "... one complete home, the user's" \
    "$(mode_of /home/judy) $(cd /home/judy && find . | sort | tr '\n' ' ')" \
    "100010:100010 700 $(cd "$SKEL" && find . ! -name fifo | sort | tr '\n' ' ')"
no_temp_left /home '.pgl-home-*'

log_mark
expect "session: an expired user: PAM_PERM_DENIED" PAM_PERM_DENIED frank open
check "... no home made" test ! -e /home/frank

# ============================ session: sudo =========================
is "sudo all: the drop-in" "$(cat "$SD/pgl-alice")" \
    "# pgl: the sudo grant of alice, written by pam_pgl.so at session open.
# Rewritten at each login and removed with the grant: do not edit.
alice ALL=(ALL:ALL) NOPASSWD: ALL"
is "sudo all: root-owned, mode 0440" "$(mode_of "$SD/pgl-alice")" "0:0 440"
check "sudo all: visudo -cf accepts it" visudo -cf "$SD/pgl-alice"
check "sudo all: the whole sudoers accepts it (visudo -c)" visudo -c

# sudo resolves the JIT user through NSS; a sanitizer build's NSS module
# cannot load into sudo, so there it gets a passwd line for the check.
sudo_l() {	# sudo_l USER [COMMAND...]
	local u=$1 rc
	shift
	if [ "$SAN" = 1 ]; then
		add_local "$u:x:$(awk -F: -v u="$u" '$1 == "user" && $2 == u { print $3 }' \
		    <<<"$(printf '%s\n' "${USERS[@]}")"):100000::/home/$u:/bin/sh"
		sudo -n -l -U "$u" "$@" 2>&1
		rc=$?
		reset_local
		return $rc
	fi
	LD_LIBRARY_PATH="$NSSLIB" sudo -n -l -U "$u" "$@" 2>&1
}
sudo_l alice >"$WORK/sudo.out"
if grep -q '(ALL : ALL) NOPASSWD: ALL' "$WORK/sudo.out"; then
	ok "sudo all: sudo -l -U alice lists (ALL : ALL) NOPASSWD: ALL"
else
	not_ok "sudo all: sudo -l -U alice lists (ALL : ALL) NOPASSWD: ALL"
	diag "$(cat "$WORK/sudo.out")"
fi

ino=$(stat -c %i "$SD/pgl-alice")
expect "sudo: a second session, grant unchanged: PAM_SUCCESS" PAM_SUCCESS \
    alice open
is "sudo: an unchanged drop-in is not rewritten (same inode)" \
    "$(stat -c %i "$SD/pgl-alice")" "$ino"

log_mark
expect "session: bob (sudo commands with sudoers' special characters): PAM_SUCCESS" \
    PAM_SUCCESS bob open
log_has "session log: the grant written" "; home created; sudo grant written"
is "sudo commands: the drop-in's rule, arguments escaped" \
    "$(tail -n 1 "$SD/pgl-bob")" \
    'bob ALL=(root) NOPASSWD: /usr/bin/id, /usr/bin/echo a\=b \#c \!d \*e \?f \[g\] \\\\h ^i$ (j)'
check "sudo commands: visudo -cf accepts it" visudo -cf "$SD/pgl-bob"
check "sudo commands: sudo allows /usr/bin/id" sudo_l bob /usr/bin/id
check "sudo commands: sudo allows the command with exactly those arguments" \
    sudo_l bob /usr/bin/echo a=b '#c' '!d' '*e' '?f' '[g]' '\h' '^i$' '(j)'
check_fails "sudo commands: '*' is literal, not a wildcard" \
    sudo_l bob /usr/bin/echo a=b '#c' '!d' 'XXe' '?f' '[g]' '\h' '^i$' '(j)'
check_fails "sudo commands: '#' did not start a comment (fewer arguments refused)" \
    sudo_l bob /usr/bin/echo a=b
check_fails "sudo commands: another command is refused" \
    sudo_l bob /usr/bin/cat /etc/shadow

# Grants the cache spec cannot express (',' and ':' separate its
# fields), rendered by the same code and checked by visudo and sudo.
add_local 'zoe:x:1700:1700::/nonexistent:/bin/sh'
"$RENDER" zoe '/usr/bin/echo a,b:c=d\e' '/usr/bin/printf %s\n' >"$SD/pgl-zoe" &&
    chmod 0440 "$SD/pgl-zoe"
check "render: ',' ':' '=' in arguments pass visudo -cf" visudo -cf "$SD/pgl-zoe"
check "render: ... and sudo allows exactly that command" \
    sudo -n -l -U zoe /usr/bin/echo 'a,b:c=d\e'
check_fails "render: ... and not a split at the comma" \
    sudo -n -l -U zoe /usr/bin/echo a
rm -f "$SD/pgl-zoe"
reset_local
refused() {	# refused DESC CMD...
	local desc=$1
	shift
	if out=$("$RENDER" zoe "$@"); then
		not_ok "render refuses $desc"
		diag "$out"
	else
		ok "render refuses $desc"
	fi
}
refused "a wildcard in the path" '/usr/bin/*'
refused "a comma in the path" '/usr/bin/a,b'
refused "a backslash in the path" '/usr/bin/a\b'
refused "a double quote" '/usr/bin/echo "x"'
refused "a newline" $'/usr/bin/id\nroot ALL=(ALL) ALL'
refused "a tab" $'/usr/bin/echo\ta'
refused "a non-ASCII byte" $'/usr/bin/echo \xc3\xa9'
refused "a relative path" 'usr/bin/id'
refused "a directory (trailing /)" '/usr/bin/'
refused "a bare /" '/'
is "render: a leading '^' of the arguments escaped (no regular expression)" \
    "$("$RENDER" zoe '/usr/bin/echo ^a.*$' | tail -n 1)" \
    'zoe ALL=(root) NOPASSWD: /usr/bin/echo \^a.\*$'
is "render: trailing spaces dropped" "$("$RENDER" zoe '/usr/bin/id   ' | tail -n 1)" \
    "zoe ALL=(root) NOPASSWD: /usr/bin/id"

# the grant changes
cp "$SD/pgl-alice" "$WORK/pgl-alice.all"
mk "$(user alice 100001 /home/alice none)" "${USERS[@]:1}"
log_mark
expect "sudo: grant removed, next session: PAM_SUCCESS" PAM_SUCCESS alice open
check "sudo: the drop-in is gone" test ! -e "$SD/pgl-alice"
log_has "session log: the grant removed" "; sudo grant removed"
mk "$(user alice 100001 /home/alice /usr/bin/id)" "${USERS[@]:1}"
expect "sudo: grant is a command now: PAM_SUCCESS" PAM_SUCCESS alice open
is "sudo: the drop-in holds the command" "$(tail -n 1 "$SD/pgl-alice")" \
    "alice ALL=(root) NOPASSWD: /usr/bin/id"

cp "$WORK/pgl-alice.all" "$SD/pgl-frank"
expect "sudo: an expired user's session: PAM_PERM_DENIED" PAM_PERM_DENIED \
    frank open
check "sudo: ... and its stale drop-in removed" test ! -e "$SD/pgl-frank"

# visudo refuses: the old file stays
cp "$SD/pgl-alice" "$WORK/pgl-alice.before"
mk "$(user alice 100001 /home/alice '/usr/bin/sudoedit /etc/motd')" "${USERS[@]:1}"
log_mark
expect "sudo: a grant visudo refuses: PAM_SESSION_ERR" PAM_SESSION_ERR alice open
check "... the old drop-in is kept" cmp "$SD/pgl-alice" "$WORK/pgl-alice.before"
no_temp_left "$SD" '.pgl-*'
log_has "... visudo's message is logged" "visudo -cf refused it"

# a full disk: the old file stays, no temporary file is left
mount -t tmpfs -o size=64k,mode=0755 pgl-full "$SD" || bail "small tmpfs"
mk "${USERS[@]}"
expect "ENOSPC: first, kim's grant written (all)" PAM_SUCCESS kim open
expect "ENOSPC: and alice's" PAM_SUCCESS alice open
cp "$SD/pgl-kim" "$WORK/pgl-kim.before"
dd if=/dev/zero of="$SD/.fill" bs=4k 2>/dev/null
mk "${USERS[@]:0:9}" "$(user kim 100011 /home/kim /usr/bin/id)" "${USERS[@]:10}"
log_mark
expect "ENOSPC: the grant changes on a full disk: PAM_SESSION_ERR" \
    PAM_SESSION_ERR kim open
check "ENOSPC: the old drop-in is kept, whole" cmp "$SD/pgl-kim" "$WORK/pgl-kim.before"
no_temp_left "$SD" '.pgl-*'
log_has "ENOSPC: logged" "No space left on device"
expect "ENOSPC: an unchanged grant needs no space: alice PAM_SUCCESS" \
    PAM_SUCCESS alice open
rm -f "$SD/.fill"
expect "ENOSPC: space again, the grant is written: PAM_SUCCESS" PAM_SUCCESS \
    kim open
is "ENOSPC: the new drop-in" "$(tail -n 1 "$SD/pgl-kim")" \
    "kim ALL=(root) NOPASSWD: /usr/bin/id"
umount "$SD"
mk "${USERS[@]}"

# ============================ session: log ==========================
KEYS=$WORK/keys
mkdir "$KEYS"
ssh-keygen -q -t ed25519 -N '' -f "$KEYS/ca" -C test-ca &&
    ssh-keygen -q -t ed25519 -N '' -f "$KEYS/u" &&
    ssh-keygen -q -s "$KEYS/ca" -I 'alice@example.com vm-01 serial 9876543210' \
    -n alice@vm-01 -z 9876543210 -V -1m:+5m "$KEYS/u.pub" ||
    bail "ssh-keygen"
info="publickey $(cut -d' ' -f1,2 "$KEYS/u-cert.pub")"
kid=$(ssh-keygen -L -f "$KEYS/u-cert.pub" | sed -n 's/^ *Key ID: "\(.*\)"$/\1/p')
serial=$(ssh-keygen -L -f "$KEYS/u-cert.pub" | sed -n 's/^ *Serial: //p')
is "ssh-keygen -L: the certificate's key ID and serial" "$kid $serial" \
    "alice@example.com vm-01 serial 9876543210 9876543210"
is "authinfo-check reads the same" "$(printf '%s\n' "$info" | "$AIC")" \
    "type=ssh-ed25519-cert-v01@openssh.com serial=$serial cert_type=1 key_id=$kid"
log_mark
expect "session with SSH_AUTH_INFO_0 and a client address: PAM_SUCCESS" \
    PAM_SUCCESS -r 192.0.2.7 -e "SSH_AUTH_INFO_0=$info" alice open
log_has "session log: key ID and serial as ssh-keygen -L shows them, and the client" \
    "session opened for alice (uid 100001) from 192.0.2.7 with certificate ID \"$kid\" serial $serial (ssh-ed25519-cert-v01@openssh.com)"

ssh-keygen -q -t ecdsa -b 256 -N '' -f "$KEYS/e" &&
    ssh-keygen -q -s "$KEYS/ca" -I $'id "with" quotes\\and\x01ctrl' \
    -n bob@vm-01 -z 18446744073709551615 "$KEYS/e.pub" 2>/dev/null ||
    ssh-keygen -q -s "$KEYS/ca" -I 'id "with" quotes\and' \
    -n bob@vm-01 -z 18446744073709551615 "$KEYS/e.pub" || bail "ssh-keygen ecdsa"
info2="$(printf 'publickey %s\npublickey %s\n' "$(cut -d' ' -f1,2 "$KEYS/e.pub")" \
    "$(cut -d' ' -f1,2 "$KEYS/e-cert.pub")")"
log_mark
expect "session: two methods, a plain key then an ECDSA certificate: PAM_SUCCESS" \
    PAM_SUCCESS -e "SSH_AUTH_INFO_0=$info2" bob open
log_has "session log: the certificate's serial (2^64-1) and escaped key ID" \
    'certificate ID "id \x22with\x22 quotes\x5cand'
log_has "... serial" "serial 18446744073709551615 (ecdsa-sha2-nistp256-cert-v01@openssh.com)"
log_mark
expect "session: a plain key only: PAM_SUCCESS" PAM_SUCCESS \
    -e "SSH_AUTH_INFO_0=publickey $(cut -d' ' -f1,2 "$KEYS/u.pub")" alice open
log_has "session log: no certificate" "from - with no certificate"
log_mark
expect "session: a garbled certificate: still PAM_SUCCESS (it is only logged)" \
    PAM_SUCCESS -e "SSH_AUTH_INFO_0=publickey ssh-ed25519-cert-v01@openssh.com AAAAC3NzaC1lZDI1NTE5AAAAIH" \
    alice open
log_has "session log: an unreadable certificate" "with an unreadable certificate"
check "authinfo: every truncation and one-character change of a real line is handled" \
    bash -c 'printf "%s\n" "$1" | "$2" --mutate | grep -q "ok$"' _ "$info" "$AIC"
expect "session close: PAM_SUCCESS" "PAM_SUCCESS PAM_SUCCESS" alice open close

# ============================ in a stack ============================
mk "${USERS[@]}"
expect "stack: alice's account: PAM_SUCCESS" PAM_SUCCESS -s pgl-stack -m '' \
    alice account
expect "stack: an expired user's account: PAM_PERM_DENIED" PAM_PERM_DENIED \
    -s pgl-stack -m '' frank account
expect "stack: root, ignored by pgl, decided by the rest: PAM_SUCCESS" \
    PAM_SUCCESS -s pgl-stack -m '' root account
expect "stack: a removed user: PAM_USER_UNKNOWN" PAM_USER_UNKNOWN \
    -s pgl-stack -m '' nosuchuser account
expect "stack: alice's session: PAM_SUCCESS" "PAM_SUCCESS PAM_SUCCESS" \
    -s pgl-stack -m '' alice open close
expect "stack: a session whose home cannot be made: PAM_SESSION_ERR" \
    PAM_SESSION_ERR -s pgl-stack -m '' dave open

# ============================ the module file =======================
syms=$(nm -D --defined-only "$MOD" | awk '{ print $3 }' | sort | tr '\n' ' ')
is "exports only pam_sm_*" "$syms" \
    "pam_sm_acct_mgmt pam_sm_close_session pam_sm_open_session "
needed=$(readelf -d "$MOD" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
    grep -Ev '^lib(asan|ubsan|stdc\+\+|m|gcc_s|pthread|dl|rt)\.so' |
    sort | tr '\n' ' ')
is "links libpam and libc only" "$needed" "libc.so.6 libpam.so.0 "

tap_done
