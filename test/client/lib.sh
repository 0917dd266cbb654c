# shellcheck shell=bash
# Shared helpers for the pgl client tests (sourced, not executed).
#
# Builds on test/service/lib.sh (a real pgl-signer over HTTPS in private
# network and mount namespaces; buffered TAP: ok / result / diag /
# tap_done).  Adds, all inside the namespaces:
#   cl_begin                a fresh /run and /var/log (tmpfs), a root-owned
#                           0755 work dir CW under /run (sshd's StrictModes),
#                           test copies of /etc/passwd, group, shadow bind-
#                           mounted over the real ones, and a HOME for the
#                           user running pgl (root's home moves there: ssh
#                           reads ~ from the password database)
#   cl_signer [POLICY_FN]   init, config, policy (POLICY_FN or the default),
#                           tokens TOK[identity], serve
#   pgl ARGS...             runs the client: PGL_RC, $CW/out, $CW/err
#   host_account USER UID   a local account named like the JIT user
#   host_sshd_start NAME PORT [ADDR [plain|other-ca]]
#                           an sshd for resource NAME with a host
#                           certificate from the signer (enrolled) and the
#                           signer's user CA; principals USER@NAME through
#                           AuthorizedPrincipalsFile
#   host_sshd_stop NAME
#
# host_sshd_start is the one place that decides how the host accepts the
# JIT user.  Until the host side (nss_pgl, principals, pam_pgl, pgl-host)
# is wired into these tests, it is a local account and a principals file;
# switching it to `pgl-host enroll` and the real modules changes only it.

CL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../service/lib.sh
. "$CL_LIB_DIR/../service/lib.sh"

SSHD=/usr/sbin/sshd
CW=
PGL_RC=
declare -A TOK HOST_PID HOST_LOG
JIT_USER=
JIT_UID=

cl_skip() { echo "1..0 # SKIP $*"; exit 0; }

# cl_enter_namespace "$0" "$@": as root only (bind mounts over /etc).
cl_enter_namespace() {
	if [ "${PGL_SVC_IN_NS:-}" != 1 ]; then
		[ "$(id -u)" -eq 0 ] || cl_skip "needs root (mount namespace, sshd)"
		[ -x "$SSHD" ] || cl_skip "$SSHD not installed"
		for c in ssh ssh-keygen; do
			command -v "$c" >/dev/null 2>&1 || cl_skip "$c not installed"
		done
		if [ -z "${PGL_CLIENT:-}" ] || [ ! -x "$PGL_CLIENT" ]; then
			echo "Bail out! PGL_CLIENT is not set to the pgl binary"
			exit 1
		fi
		PGL_CLIENT=$(readlink -f "$PGL_CLIENT")
		PGL_SIGNER=$(readlink -f "$PGL_SIGNER")
		export PGL_CLIENT PGL_SIGNER
	fi
	svc_enter_namespace "$@"
}

cl_cleanup() {
	local n
	for n in "${!HOST_PID[@]}"; do
		host_sshd_stop "$n"
	done
	[ -n "${CL_AGENT_PID:-}" ] && kill "$CL_AGENT_PID" 2>/dev/null
	[ -n "${CL_TMUX:-}" ] && tmux -S "$CL_TMUX" kill-server 2>/dev/null
	if [ -n "${PGL_CLIENT_KEEP:-}" ] && [ -n "$CW" ]; then
		mkdir -p "$PGL_CLIENT_KEEP" && cp -a "$CW/." "$PGL_CLIENT_KEEP/"
	fi
}

cl_begin() {
	local f
	svc_begin
	trap 'cl_cleanup; svc_kill; tap_cleanup' EXIT
	trap 'cl_cleanup; svc_kill; tap_abort' INT TERM HUP
	mount -t tmpfs -o mode=0755,size=64m pgl-client-run /run ||
		{ echo "Bail out! tmpfs /run"; exit 1; }
	mount -t tmpfs -o mode=0755,size=16m pgl-client-log /var/log ||
		{ echo "Bail out! tmpfs /var/log"; exit 1; }
	mkdir -m 0755 /run/sshd
	CW=$(mktemp -d -p /run pgl-client.XXXXXX) && chmod 0755 "$CW" ||
		{ echo "Bail out! mktemp"; exit 1; }
	mkdir -p "$CW/etc" "$CW/home"
	cp -p /etc/passwd /etc/group /etc/shadow "$CW/etc/"
	# The user running pgl: root, with a home of its own here.
	U=$CW/user
	mkdir -m 0700 "$U"
	awk -F: -v OFS=: -v h="$U" '$1 == "root" { $6 = h } 1' /etc/passwd >"$CW/etc/passwd"
	printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files' \
		>"$CW/etc/nsswitch.conf"
	for f in passwd group shadow nsswitch.conf; do
		mount --bind "$CW/etc/$f" "/etc/$f" || { echo "Bail out! bind /etc/$f"; exit 1; }
	done
	export HOME=$U
	unset XDG_CONFIG_HOME XDG_CACHE_HOME SSH_AUTH_SOCK DISPLAY
	export XDG_RUNTIME_DIR=$CW/xdg TMPDIR=$CW/tmp
	mkdir -m 0700 "$XDG_RUNTIME_DIR" "$TMPDIR"
	CL_TMUX=
}

# The default policy: alice may reach vm-01 (alias web) and jump, and
# inner behind jump; vm-02 exists but is granted to nobody.
cl_policy() {
	pol_new
	pol_resource vm-01 127.0.0.1 2222 "web"
	pol_resource vm-02 127.0.0.1 2223
	pol_resource jump 127.0.0.1 2224
	pol_resource inner 127.0.0.3 2225
	POL_RES[${#POL_RES[@]} - 1]='{ name = "inner"; address = "127.0.0.3"; port = 2225; via = "jump"; }'
	pol_role ops "vm-01 jump inner" 'ttl_max = 3600;'
	pol_user alice@example.com "ops"
	pol_user bob@example.com ""
	pol_write "$SVC_DIR/policy.conf"
}

# cl_signer [POLICY_FN]
cl_signer() {
	local id
	svc_init "$WORK/signer" || { echo "Bail out! pgl-signer init"; exit 1; }
	svc_config "$SVC_CONF"
	"${1:-cl_policy}"
	for id in alice@example.com bob@example.com; do
		run_signer token add -c "$SVC_CONF" -- "$id"
		TOK[$id]=$(cat "$WORK/.out")
	done
	svc_start || { echo "Bail out! the signer did not start"; diag_file "$SVC_LOG"; exit 1; }
}

# pgl ARGS...: the client, stdin from /dev/null unless PGL_STDIN names a
# file.  PGL_RC; stdout in $CW/out, stderr in $CW/err.
pgl() {
	timeout -k 5 "${PGL_TIMEOUT:-60}" "$PGL_CLIENT" "$@" \
		<"${PGL_STDIN:-/dev/null}" >"$CW/out" 2>"$CW/err"
	PGL_RC=$?
}

# pgl_desc: the last run, for diagnostics
pgl_desc() {
	echo "exit status: $PGL_RC"
	echo "stdout: $(head -c 2000 "$CW/out" | cat -v)"
	echo "stderr: $(head -c 2000 "$CW/err" | cat -v)"
}

# pgl_login: log alice in with the pin; sets JIT_USER and JIT_UID.
pgl_login() {
	pgl login --signer "$SVC_URL" --pin "$SVC_PIN" --token "${TOK[${1:-alice@example.com}]}"
	[ "$PGL_RC" -eq 0 ] || return 1
	api_auth GET /v1/me "${TOK[${1:-alice@example.com}]}"
	JIT_USER=$(jget "$WORK/body" username)
	JIT_UID=$(jget "$WORK/body" uid)
	[ -n "$JIT_USER" ] && [ -n "$JIT_UID" ]
}

# tmp_empty: nothing left in the client's temp dirs
tmp_empty() {
	[ -z "$(ls -A "$XDG_RUNTIME_DIR" "$TMPDIR" 2>/dev/null | grep -v ':$' | grep -v '^$')" ]
}

# ---- the host side ----

# host_account USER UID: a local account (only in this namespace).
host_account() {
	local home=$CW/home/$1
	grep -q "^$1:" /etc/passwd && return 0
	echo "$1:x:$2:$2:pgl JIT user (test):$home:/bin/sh" >>"$CW/etc/passwd"
	echo "$1:x:$2:" >>"$CW/etc/group"
	# "*": no password, not locked ("!"), which sshd refuses without PAM.
	echo "$1:*:$(($(date +%s) / 86400)):0:99999:7:::" >>"$CW/etc/shadow"
	mkdir -p "$home"
	chown "$2:$2" "$home"
	chmod 0700 "$home"
}

# host_sshd_start NAME PORT [ADDR [plain|other-ca]]
host_sshd_start() {
	local name=$1 port=$2 addr=${3:-127.0.0.1} mode=${4:-} d et i
	d=$CW/hosts/$name
	host_sshd_stop "$name"
	rm -rf "$d"
	mkdir -p "$d/principals"
	chmod 0755 "$CW/hosts" "$d" "$d/principals"
	ssh-keygen -q -t ed25519 -N '' -C "host-$name" -f "$d/hostkey" </dev/null || return 1
	case $mode in
	plain) ;;
	other-ca)
		[ -f "$CW/other-ca/host_ca" ] || "$PGL_SIGNER" init --dir "$CW/other-ca" >/dev/null 2>&1
		"$PGL_SIGNER" sign --ca "$CW/other-ca/host_ca" --key "$d/hostkey.pub" --host \
			--principal "$name" --key-id "other-$name" >/dev/null 2>&1 || return 1
		;;
	*)
		# Enrolled like a real host: a one-time token, then the API.
		run_signer host add -c "$SVC_CONF" "$name"
		et=$(cat "$WORK/.out")
		api_auth POST /v1/hosts/enroll "$et" -H 'Content-Type: application/json' \
			--data-binary "{\"host_key\": \"$(cat "$d/hostkey.pub")\"}"
		if [ "$HTTP_CODE" != 200 ]; then
			diag "enroll $name failed: $(http_desc)"
			return 1
		fi
		jget "$WORK/body" host_certificate >"$d/hostkey-cert.pub"
		;;
	esac
	cp "$SVC_DIR/user_ca.pub" "$d/user_ca.pub"
	[ -n "$JIT_USER" ] && echo "$JIT_USER@$name" >"$d/principals/$JIT_USER"
	{
		echo "ListenAddress $addr:$port"
		echo "HostKey $d/hostkey"
		[ -f "$d/hostkey-cert.pub" ] && echo "HostCertificate $d/hostkey-cert.pub"
		cat <<EOF
PidFile none
LogLevel VERBOSE
UsePAM no
UseDNS no
StrictModes yes
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey
AuthorizedKeysFile none
AuthorizedPrincipalsFile $d/principals/%u
TrustedUserCAKeys $d/user_ca.pub
AllowTcpForwarding yes
X11Forwarding yes
PermitTTY yes
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
EOF
	} >"$d/sshd_config"
	HOST_LOG[$name]=$d/sshd.log
	: >"$d/sshd.log"
	"$SSHD" -t -f "$d/sshd_config" >"$d/sshd-t.out" 2>&1 ||
		{ diag "sshd -t for $name:"; diag_file "$d/sshd-t.out"; return 1; }
	"$SSHD" -D -E "$d/sshd.log" -f "$d/sshd_config" </dev/null &
	HOST_PID[$name]=$!
	for ((i = 0; i < 200; i++)); do
		grep -q 'Server listening on' "$d/sshd.log" && return 0
		kill -0 "${HOST_PID[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	diag "sshd for $name did not start:"
	diag_file "$d/sshd.log"
	return 1
}

host_sshd_stop() {
	local pid=${HOST_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "HOST_PID[$1]"
}

# host_log NAME: the sshd log of NAME (for diagnostics)
host_log() { tail -n "${2:-20}" "${HOST_LOG[$1]}" 2>/dev/null; }
