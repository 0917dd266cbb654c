#!/usr/bin/env bash
# The Debian packages (debian/, docs/packaging.md), built and used as an
# operator would.  TAP.  Runs as root in private mount and network
# namespaces; the real system's files are never changed:
#
#   1. dpkg-buildpackage -us -uc -b in a copy of the source tree (the tree
#      itself gets no debian/tmp, obj-*, ../*.deb), and lintian (errors
#      fail the test, warnings are listed as diagnostics);
#   2. /etc, /usr and /var become overlays with tmpfs upper layers, /run,
#      /root and /home tmpfs, and the five packages are installed there
#      with dpkg -i: every file where DESIGN.md puts it, in its package;
#      nsswitch.conf and the PAM stack configured by the packages;
#   3. the signer set up as README.Debian says and run as its unit runs
#      it; the host enrolled with pgl-host enroll --configure; one login
#      through the installed sshd configuration (sshd_config + pgl's
#      snippet) with a certificate from the signer's API, the user
#      resolved just in time by the installed NSS module and resolver;
#   4. dpkg --purge of all five: nsswitch.conf, /etc/pam.d/common-* and
#      sshd_config(.d) byte-identical to before, no pgl file left but the
#      documented ones (/etc/pgl-signer, /var/lib/pgl-signer, the
#      _pgl-signer user).
#
# Environment: PGL_SOURCE_ROOT (the source tree), PGL_SANITIZE.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../service/lib.sh
. "$HERE/../service/lib.sh"

PKGS=(pgl-signer libnss-pgl libpam-pgl pgl-host pgl)

# result STATUS DESC, returning STATUS, so that `result ... || diag ...`
# diagnoses (test/cli/lib.sh's result returns 0 after a not ok).
result() {
	if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; return 1; fi
}

if [ "${PGL_SVC_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || svc_skip "needs root (mount namespaces, dpkg in an overlay)"
	[ "${PGL_SANITIZE:-0}" = 1 ] && svc_skip "packages are built from the \
source with their own flags; the plain build runs this test"
	for c in dpkg-buildpackage dh dh_installnss lintian dpkg dpkg-architecture \
		/usr/sbin/sshd ssh ssh-keygen setpriv runuser pam-auth-update adduser \
		sudo visudo; do
		command -v "$c" >/dev/null 2>&1 || svc_skip "$c not installed (.ci/packages)"
	done
	[ -d "${PGL_SOURCE_ROOT:-}/debian" ] ||
		{ echo "Bail out! PGL_SOURCE_ROOT is not the source tree"; exit 1; }
	for p in "${PKGS[@]}"; do
		if dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^i'; then
			svc_skip "$p is installed on this system; the test installs into an overlay of a system without pgl"
		fi
	done
	export PGL_SOURCE_ROOT
	export PGL_SIGNER=/usr/sbin/pgl-signer
fi
svc_enter_namespace "$0" "$@"
svc_ns_setup

# tap_init without its check of PGL_SIGNER, which exists only once the
# package is installed.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgl-packages.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
T_BUF=$WORK/.tap
: >"$T_BUF"
SIGNER_TMP=$WORK/.signer-tmp
mkdir -p "$SIGNER_TMP"
umask 022
PY=$(python3 -c 'import sys; print(sys.executable)') && [ -x "$PY" ] || PY=python3
SSHD_PID=
RESOLVER_PID=
SVC_LOG=$WORK/signer.log
: >"$SVC_LOG"

stop_all() {
	local p
	for p in "$SSHD_PID" "$RESOLVER_PID"; do
		[ -n "$p" ] || continue
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SSHD_PID= RESOLVER_PID=
	svc_kill
}
trap 'stop_all; tap_cleanup' EXIT
trap 'stop_all; tap_abort' INT TERM HUP

# ---- 1. build and lintian ----

SRC=$WORK/build/src
mkdir -p "$SRC"
# What dpkg-buildpackage would leave in a tree it ran in.
build_litter() {
	local d=$PGL_SOURCE_ROOT
	ls -d "$d"/debian/tmp "$d"/debian/files "$d"/debian/.debhelper \
		"$d"/debian/debhelper-build-stamp "$d"/debian/*.substvars \
		"$d"/obj-* "$d"/../pgl_*.changes "$d"/../pgl_*.buildinfo \
		"$d"/../pgl*_*.deb 2>/dev/null
	for p in "${PKGS[@]}"; do
		[ -e "$d/debian/$p" ] && echo "$d/debian/$p"
	done
}
LITTER_BEFORE=$(build_litter)
if git -C "$PGL_SOURCE_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$PGL_SOURCE_ROOT" && git ls-files -co --exclude-standard -z |
		xargs -0 cp -P --parents -t "$SRC" 2>/dev/null)
else
	rsync -a --exclude='/build*' --exclude='/obj-*' --exclude='/.git' \
		"$PGL_SOURCE_ROOT/" "$SRC/"
fi
[ -f "$SRC/debian/control" ]
result $? "a copy of the source tree to build in" || { tap_done; }

(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
	timeout 1200 dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1
BUILD_RC=$?
for p in "${PKGS[@]}"; do
	ls "$WORK/build/${p}_"*.deb >/dev/null 2>&1 || BUILD_RC=1
done
result $BUILD_RC "dpkg-buildpackage -us -uc -b builds ${PKGS[*]}" ||
	{ diag "$(tail -n 40 "$WORK/build.log")"; tap_done; }
grep -q 'meson test --suite unit' "$WORK/build.log" || grep -q nocheck <<<"${DEB_BUILD_OPTIONS:-}"
result $? "the package build runs the unit tests only (or none with nocheck)"

[ "$(build_litter)" = "$LITTER_BEFORE" ]
result $? "the build ran in a copy: no debian/tmp, obj-*, ../*.deb in the source tree" ||
	diag "$(build_litter)"

CHANGES=$(ls "$WORK/build/"pgl_*.changes 2>/dev/null | head -n 1)
lintian --info "$CHANGES" >"$WORK/lintian.txt" 2>"$WORK/lintian.err"
grep -E '^[EWIP]: ' "$WORK/lintian.txt" | sort -u >"$WORK/lintian.tags"
n_err=$(grep -c '^E: ' "$WORK/lintian.tags")
n_warn=$(grep -c '^W: ' "$WORK/lintian.tags")
[ -n "$CHANGES" ] && [ "$n_err" -eq 0 ] && ! grep -q '^internal error' "$WORK/lintian.err"
result $? "lintian: no errors ($n_warn warnings)" ||
	{ diag "$(grep '^E: ' "$WORK/lintian.tags")"; diag_file "$WORK/lintian.err"; }
[ "$n_warn" -eq 0 ] || diag "$(grep '^W: ' "$WORK/lintian.tags")"

# ---- 2. a throwaway root, and the packages installed into it ----

MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
OV=/run/pgl-pkg-ov
setup_root() {
	local l
	# The upper layers live in this namespace's own /run, which also
	# hides systemd and nscd: nothing of this is left on the real disk.
	mount -t tmpfs -o mode=0755,size=1g pgl-pkg-run /run || return 1
	for l in etc usr var; do
		mkdir -p "$OV/$l/up" "$OV/$l/work" &&
			mount -t overlay "pgl-pkg-$l" \
				-o "lowerdir=/$l,upperdir=$OV/$l/up,workdir=$OV/$l/work" "/$l" ||
			return 1
	done
	mount -t tmpfs -o mode=0755,size=64m pgl-pkg-home /home || return 1
	mkdir -m 0755 /run/sshd /run/lock
	# root's home moves to a test directory (in the overlay's passwd) so
	# that ssh never touches the real ~/.ssh.
	mkdir -m 0700 "$WORK/root" &&
		awk -F: -v OFS=: -v h="$WORK/root" '$1 == "root" { $6 = h } 1' \
			/etc/passwd >"$WORK/passwd" && cat "$WORK/passwd" >/etc/passwd || return 1
	export HOME=$WORK/root
	# Maintainer scripts start no service here (deb-systemd-invoke also
	# finds no /run/systemd/system), and man-db's trigger is skipped.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d &&
		chmod 0755 /usr/sbin/policy-rc.d || return 1
	rm -f /var/lib/man-db/auto-update
}
setup_root
result $? "overlays over /etc, /usr and /var; tmpfs /run and /home" ||
	{ echo "Bail out! mounts"; tap_done; }

# What the packages must leave as they found it.
CONF_FILES=(/etc/nsswitch.conf /etc/pam.d/common-account /etc/pam.d/common-auth
	/etc/pam.d/common-password /etc/pam.d/common-session
	/etc/pam.d/common-session-noninteractive /etc/ssh/sshd_config)
snapshot() {
	local f d
	for f in "${CONF_FILES[@]}"; do
		printf '== %s\n' "$f"
		cat "$f" 2>&1
	done
	for d in /etc/ssh/sshd_config.d /etc/sudoers.d; do
		printf '== %s\n' "$d"
		ls -A "$d" 2>&1
		for f in "$d"/*; do
			[ -f "$f" ] || continue
			printf -- '-- %s %s\n' "$f" "$(stat -c '%a %U %G' "$f")"
			cat "$f"
		done
	done
}
# pgl_files: every path under /etc, /usr, /var named like pgl (some are
# not ours, such as a MIME type for HP-GL): compared before and after.
# Not man-db's cache of formatted pages (systemd-analyze verify runs man
# for Documentation=; man-db's own cron job expires them).
pgl_files() {
	find /etc /usr /var /lib/systemd -xdev \( -iname '*pgl*' -o -lname '*pgl*' \) \
		-not -path '/var/cache/man/*' \
		-not -path /etc/pgl-signer -not -path '/etc/pgl-signer/*' \
		-not -path /var/lib/pgl-signer -not -path '/var/lib/pgl-signer/*' \
		2>/dev/null | sort
}
snapshot >"$WORK/before"
pgl_files >"$WORK/pgl-files-before"

DEBS=()
for p in "${PKGS[@]}"; do
	DEBS+=("$(ls "$WORK/build/${p}_"*.deb | head -n 1)")
done
DEBIAN_FRONTEND=noninteractive dpkg -i "${DEBS[@]}" >"$WORK/dpkg-i.log" 2>&1
result $? "dpkg -i ${PKGS[*]}" || { diag_file "$WORK/dpkg-i.log" 6000; tap_done; }

# every file where DESIGN.md says, in its package
declare -A OWNER=(
	[/usr/sbin/pgl-signer]=pgl-signer
	[/lib/systemd/system/pgl-signer.service]=pgl-signer
	[/usr/share/man/man8/pgl-signer.8.gz]=pgl-signer
	[/usr/share/man/man5/pgl-signer.conf.5.gz]=pgl-signer
	[/usr/lib/$MA/libnss_pgl.so.2]=libnss-pgl
	[/usr/share/man/man8/nss_pgl.8.gz]=libnss-pgl
	[/usr/lib/$MA/security/pam_pgl.so]=libpam-pgl
	[/usr/share/pam-configs/pgl]=libpam-pgl
	[/usr/share/man/man8/pam_pgl.8.gz]=libpam-pgl
	[/usr/sbin/pgl-host]=pgl-host
	[/usr/lib/pgl/principals]=pgl-host
	[/lib/systemd/system/pgl-host-sync.service]=pgl-host
	[/lib/systemd/system/pgl-host-sync.timer]=pgl-host
	[/lib/systemd/system/pgl-resolve.socket]=pgl-host
	[/lib/systemd/system/pgl-resolve@.service]=pgl-host
	[/usr/share/man/man8/pgl-host.8.gz]=pgl-host
	[/usr/share/man/man8/pgl-principals.8.gz]=pgl-host
	[/usr/bin/pgl]=pgl
	[/usr/share/man/man1/pgl.1.gz]=pgl
)
bad=
for f in "${!OWNER[@]}"; do
	owner=$(dpkg -S "$f" 2>/dev/null | sed 's/:.*//')
	if [ ! -f "$f" ] || [ "$owner" != "${OWNER[$f]}" ]; then
		bad+=" $f(${owner:-none})"
	fi
done
[ -z "$bad" ]
result $? "${#OWNER[@]} files in place, each in its package (binaries, modules, units, man pages, PAM profile)" ||
	diag "missing or in the wrong package:$bad"
bad=
for f in /usr/sbin/pgl-signer /usr/sbin/pgl-host /usr/bin/pgl /usr/lib/pgl/principals; do
	[ "$(stat -c '%a %U' "$f")" = "755 root" ] || bad+=" $f"
done
for f in "/usr/lib/$MA/libnss_pgl.so.2" "/usr/lib/$MA/security/pam_pgl.so"; do
	[ "$(stat -c '%a %U' "$f")" = "644 root" ] || bad+=" $f"
done
[ -z "$bad" ]
result $? "binaries 0755, modules 0644, owned by root" || diag "wrong:$bad"
"$PY" - "/usr/lib/$MA/libnss_pgl.so.2" <<'EOF'
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib._nss_pgl_getpwnam_r
EOF
result $? "libnss_pgl.so.2 loads and exports _nss_pgl_getpwnam_r"

grep -Eq '^passwd:[[:space:]]+files pgl([[:space:]]|$)' /etc/nsswitch.conf &&
	grep -Eq '^group:[[:space:]]+files pgl([[:space:]]|$)' /etc/nsswitch.conf &&
	grep -Eq '^shadow:[[:space:]]+files pgl([[:space:]]|$)' /etc/nsswitch.conf
result $? "libnss-pgl put pgl right after files on passwd, group, shadow" ||
	diag "$(grep -E '^(passwd|group|shadow):' /etc/nsswitch.conf)"
grep -Eq '^account[[:space:]].*pam_pgl\.so' /etc/pam.d/common-account &&
	grep -Eq '^session[[:space:]].*pam_pgl\.so' /etc/pam.d/common-session &&
	! grep -q pam_pgl /etc/pam.d/common-auth /etc/pam.d/common-password
result $? "libpam-pgl's profile: pam_pgl in common-account and common-session only" ||
	diag "$(grep -H pam_pgl /etc/pam.d/common-* 2>&1)"
[ -L /etc/systemd/system/timers.target.wants/pgl-host-sync.timer ] &&
	[ -L /etc/systemd/system/sockets.target.wants/pgl-resolve.socket ] &&
	[ -L /etc/systemd/system/multi-user.target.wants/pgl-signer.service ]
result $? "units enabled: pgl-host-sync.timer, pgl-resolve.socket, pgl-signer.service" ||
	diag "$(ls -l /etc/systemd/system/*.wants 2>&1 | grep pgl)"
[ "$(sed -n 's/^ListenStream=//p' /lib/systemd/system/pgl-resolve.socket)" = /run/pgl/resolve.sock ]
result $? "the resolver socket unit listens where the NSS module asks"
if command -v systemd-analyze >/dev/null 2>&1; then
	# With man installed, Documentation= must name installed pages.
	man_opt=--man=yes
	command -v man >/dev/null 2>&1 || man_opt=--man=no
	(cd "$WORK" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$man_opt" \
		/lib/systemd/system/pgl-signer.service /lib/systemd/system/pgl-host-sync.service \
		/lib/systemd/system/pgl-host-sync.timer /lib/systemd/system/pgl-resolve.socket \
		/lib/systemd/system/pgl-resolve@.service) >"$WORK/verify.log" 2>&1
	result $? "systemd-analyze verify $man_opt: the installed units" || diag_file "$WORK/verify.log"
fi

unit_val() { sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -n 1; }
getent passwd _pgl-signer >/dev/null && [ "$(unit_val pgl-signer.service User)" = _pgl-signer ] &&
	[ "$(stat -c '%U %a' /var/lib/pgl-signer)" = "_pgl-signer 700" ] &&
	[ "$(stat -c '%U %G %a' /etc/pgl-signer)" = "root _pgl-signer 2750" ] &&
	[ "$(stat -c '%U %a' /var/log/pgl-signer)" = "_pgl-signer 750" ]
result $? "the system user _pgl-signer, /etc/pgl-signer, /var/lib/pgl-signer, /var/log/pgl-signer" ||
	diag "$(getent passwd _pgl-signer; stat -c '%n %U %G %a' /etc/pgl-signer /var/lib/pgl-signer /var/log/pgl-signer 2>&1)"

# ---- 3. the signer as README.Debian sets it up, the host, a login ----

CONF=/etc/pgl-signer/pgl-signer.conf
as_signer() { runuser -u _pgl-signer -- "$@"; }
setup_signer() {
	pgl-signer init --dir /etc/pgl-signer --tls-name vm-01.example.com \
		>"$WORK/init.out" 2>&1 || return 1
	(cd /etc/pgl-signer &&
		rmdir state &&
		sed -i -e 's|^state_dir = .*|state_dir = "/var/lib/pgl-signer";|' \
			-e 's|^audit_log = .*|audit_log = "/var/log/pgl-signer/audit.log";|' \
			pgl-signer.conf &&
		chown _pgl-signer: user_ca host_ca tls.key) || return 1
	# This test's own settings: its port, and a policy.
	sed -i "s|^listen = .*|listen = \"127.0.0.1:$SVC_PORT\";|" "$CONF" || return 1
	pol_new
	pol_resource vm-01 127.0.0.1 2201
	pol_role ops "vm-01" 'sudo = "all"; groups = [ "deploy" ];'
	pol_user alice@example.com ops 'name = "Alice Example";'
	pol_write /etc/pgl-signer/policy.conf
	as_signer pgl-signer check -c "$CONF" >"$WORK/check.out" 2>&1
}
setup_signer
result $? "pgl-signer init and README.Debian's steps; check as _pgl-signer passes" ||
	{ diag_file "$WORK/init.out"; diag_file "$WORK/check.out"; }
SVC_DIR=/etc/pgl-signer
SVC_CONF=$CONF
SVC_CACERT=/etc/pgl-signer/tls.crt
SVC_PIN=$(sed -n 's/^tls: .* pin \(sha256\/\/[A-Za-z0-9+\/=]*\)$/\1/p' "$WORK/init.out")
[ "$(stat -c '%G %a' "$CONF")" = "_pgl-signer 640" ] &&
	[ "$(stat -c '%U %a' /etc/pgl-signer/user_ca)" = "_pgl-signer 600" ] &&
	[ -n "$SVC_PIN" ]
result $? "configuration group-readable by the service, keys its own and 0600" ||
	diag "$(ls -la /etc/pgl-signer)"

# The service as its unit runs it: ExecStart, User, Group, UMask, no
# new privileges, no capabilities.
start_signer() {
	local exec i code
	exec=$(unit_val pgl-signer.service ExecStart)
	[ -n "$exec" ] || return 1
	# shellcheck disable=SC2086 # ExecStart is a command line
	(cd / && umask "$(unit_val pgl-signer.service UMask)" &&
		exec setpriv --reuid="$(unit_val pgl-signer.service User)" \
			--regid="$(unit_val pgl-signer.service Group)" --init-groups \
			--no-new-privs --inh-caps=-all --bounding-set=-all -- $exec) \
		</dev/null >>"$SVC_LOG" 2>&1 &
	SVC_PID=$!
	for ((i = 0; i < 300; i++)); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
			--cacert "$SVC_CACERT" "$SVC_URL/healthz" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
start_signer
result $? "pgl-signer serve runs as _pgl-signer without capabilities, as the unit says" ||
	{ diag_file "$SVC_LOG"; tap_done; }
TOKEN=$(as_signer pgl-signer token add -c "$CONF" alice@example.com 2>"$WORK/tok.err")
ETOKEN=$(as_signer pgl-signer host add -c "$CONF" vm-01 2>>"$WORK/tok.err")
[ -n "$TOKEN" ] && [ -n "$ETOKEN" ] &&
	[ "$(stat -c %U /var/lib/pgl-signer/signer.db)" = _pgl-signer ]
result $? "token add, host add as _pgl-signer; the state database in /var/lib/pgl-signer" ||
	{ diag_file "$WORK/tok.err"; diag "$(ls -la /var/lib/pgl-signer /var/log/pgl-signer 2>&1)"; }

# The host: a fresh host key of its own (the real ones are hidden), then
# enrollment exactly as README.Debian says.
rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C vm-01 -f /etc/ssh/ssh_host_ed25519_key </dev/null
pgl-host enroll --signer "$SVC_URL" --pin "$SVC_PIN" --token - --configure \
	<<<"$ETOKEN" >"$WORK/enroll.log" 2>&1
result $? "pgl-host enroll --configure" || diag_file "$WORK/enroll.log"
[ -f /etc/ssh/sshd_config.d/pgl.conf ] &&
	grep -qx 'AuthorizedPrincipalsCommand /usr/lib/pgl/principals %u' /etc/ssh/sshd_config.d/pgl.conf &&
	[ "$(grep -c '^passwd:.* pgl' /etc/nsswitch.conf)" = 1 ] &&
	[ "$(grep -o ' pgl\b' /etc/nsswitch.conf | wc -l)" = 3 ]
result $? "enroll wrote the sshd snippet; nsswitch.conf names pgl once per database" ||
	diag "$(cat /etc/ssh/sshd_config.d/pgl.conf 2>&1; grep -E '^(passwd|group|shadow):' /etc/nsswitch.conf)"

SSHD_OPTS=(-p 2201 -o ListenAddress=127.0.0.1 -o PidFile=none -o LogLevel=VERBOSE
	-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no)
/usr/sbin/sshd -t "${SSHD_OPTS[@]}" >"$WORK/sshd-t.log" 2>&1
result $? "sshd -t accepts sshd_config with the snippet" || diag_file "$WORK/sshd-t.log"
: >"$WORK/sshd.log"
/usr/sbin/sshd -D -E "$WORK/sshd.log" "${SSHD_OPTS[@]}" </dev/null &
SSHD_PID=$!
mkdir -p -m 0755 /run/pgl
# What pgl-resolve.socket and pgl-resolve@.service do, without systemd.
pgl-host resolve --listen /run/pgl/resolve.sock </dev/null >"$WORK/resolve.log" 2>&1 &
RESOLVER_PID=$!
for ((i = 0; i < 200; i++)); do
	grep -q 'Server listening on' "$WORK/sshd.log" && [ -S /run/pgl/resolve.sock ] && break
	sleep 0.05
done
grep -q 'Server listening on' "$WORK/sshd.log" && [ -S /run/pgl/resolve.sock ]
result $? "sshd and the resolver up" || { diag_file "$WORK/sshd.log"; diag_file "$WORK/resolve.log"; }

K=$WORK/alice
ssh-keygen -q -t ed25519 -N '' -C alice -f "$K" </dev/null
sign "$TOKEN" "$K.pub" vm-01
[ "$HTTP_CODE" = 200 ] && jget "$WORK/body" certificate >"$K-cert.pub"
result $? "a certificate from the signer's API" || diag_http
A=$(jget "$WORK/body" username)
SERIAL=$(jget "$WORK/body" serial)
echo "@cert-authority * $(cat /etc/pgl-signer/host_ca.pub)" >"$WORK/known_hosts"
[ ! -e /var/lib/pgl/cache ]
result $? "no user cache before the first login (nothing synced)"
OUT=$(timeout 30 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	-o IdentityAgent=none -o PreferredAuthentications=publickey \
	-i "$K" -o CertificateFile="$K-cert.pub" \
	-o UserKnownHostsFile="$WORK/known_hosts" -o GlobalKnownHostsFile=/dev/null \
	-o StrictHostKeyChecking=yes -o CheckHostIP=no -o ConnectTimeout=10 \
	-p 2201 "$A@127.0.0.1" 'id -un; id -u; echo "$HOME"; sudo -n true && echo sudo-ok' \
	</dev/null 2>"$WORK/ssh.err")
SSH_RC=$?
[ "$SSH_RC" -eq 0 ] && [ "$(sed -n 1p <<<"$OUT")" = "$A" ] &&
	[ "$(sed -n 2p <<<"$OUT")" -ge 100000 ] && [ "$(sed -n 4p <<<"$OUT")" = sudo-ok ]
result $? "ssh login of $A (JIT user, org uid, sudo grant) through the installed configuration" ||
	{ diag "ssh exit $SSH_RC: $OUT"; diag_file "$WORK/ssh.err"; diag "$(tail -n 20 "$WORK/sshd.log")"; }
getent passwd "$A" | grep -q ":/home/$A:" &&
	[ "$(stat -c '%U %a' "/home/$A" 2>/dev/null)" = "$A 700" ] &&
	[ "$(stat -c '%a' "/etc/sudoers.d/pgl-$A" 2>/dev/null)" = 440 ] &&
	grep -q "ID pgl:alice@example.com:vm-01:$SERIAL" "$WORK/sshd.log"
result $? "the installed NSS module resolves $A; home, sudoers drop-in, key ID logged" ||
	diag "$(getent passwd "$A"; ls -la /home /etc/sudoers.d 2>&1)"
[ "$(stat -c '%U' /var/log/pgl-signer/audit.log 2>/dev/null)" = _pgl-signer ] &&
	grep -q "$SERIAL" /var/log/pgl-signer/audit.log
result $? "the signer audited the signing in /var/log/pgl-signer/audit.log" ||
	diag "$(ls -la /var/log/pgl-signer 2>&1)"

# The sync as its unit runs it, then status checks the whole set-up.
sync_exec=$(unit_val pgl-host-sync.service ExecStart)
# shellcheck disable=SC2086
$sync_exec >"$WORK/sync.log" 2>&1
result $? "pgl-host sync (the unit's ExecStart)" || diag_file "$WORK/sync.log"
pgl-host status >"$WORK/status.log" 2>&1
result $? "pgl-host status: every check passes on the packaged host" || diag_file "$WORK/status.log"

# Installing the same packages again runs the maintainer scripts as an
# upgrade does: nothing configured may change or be added twice.
snapshot >"$WORK/mid"
md5sum /etc/pgl/host.conf /var/lib/pgl/credential >"$WORK/host-md5" 2>&1
DEBIAN_FRONTEND=noninteractive dpkg -i "${DEBS[@]}" >"$WORK/dpkg-i2.log" 2>&1 &&
	snapshot | cmp -s "$WORK/mid" - &&
	md5sum -c --quiet "$WORK/host-md5" >/dev/null 2>&1 &&
	[ "$(grep -o ' pgl\b' /etc/nsswitch.conf | wc -l)" = 3 ]
result $? "dpkg -i again (as an upgrade): nsswitch.conf, PAM, sshd, host state unchanged" ||
	{ diag_file "$WORK/dpkg-i2.log"; diag "$(snapshot | diff -u "$WORK/mid" - | head -n 30)"; }

# ---- 4. purge ----

stop_all
DEBIAN_FRONTEND=noninteractive dpkg --purge "${PKGS[@]}" >"$WORK/purge.log" 2>&1
result $? "dpkg --purge ${PKGS[*]}" || diag_file "$WORK/purge.log"
snapshot >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after"
result $? "nsswitch.conf, /etc/pam.d/common-*, sshd_config, sshd_config.d and sudoers.d as before" ||
	diag "$(diff -u "$WORK/before" "$WORK/after" | head -n 40)"
# Left on purpose (README.Debian, docs/packaging.md): the signer's keys
# and configuration, its state database, its system user.
pgl_files | comm -13 "$WORK/pgl-files-before" - >"$WORK/left"
[ ! -s "$WORK/left" ] && [ ! -e /etc/ssh/ssh_host_ed25519_key-cert.pub ]
result $? "no pgl file left but /etc/pgl-signer and /var/lib/pgl-signer" ||
	{ diag_file "$WORK/left"; diag "$(ls -la /etc/ssh 2>&1)"; }
[ -f /etc/pgl-signer/user_ca ] && [ -f /var/lib/pgl-signer/signer.db ] &&
	getent passwd _pgl-signer >/dev/null
result $? "kept: the CA keys, the signer's state, the _pgl-signer user"
! getent passwd "$A" >/dev/null
result $? "$A no longer resolves"

tap_done
