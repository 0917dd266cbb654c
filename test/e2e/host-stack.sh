# shellcheck shell=bash
# A pgl target host as a package would set it up, for end-to-end tests
# (sourced, not executed).  Needs test/service/lib.sh (a running signer:
# SVC_URL, SVC_PIN, SVC_CONF, run_signer) and runs inside the test's
# private mount and network namespaces.
#
# Each host gets a mount namespace of its own, held open by a sleeping
# process, in which
#   /etc, /usr and /var/lib are overlays (tmpfs upper layers): the host's
#       sshd_config, nsswitch.conf, PAM stack and sudoers.d change there
#       and nowhere else;
#   libnss_pgl.so.2, pam_pgl.so and principals are installed at their real
#       paths (the multiarch libdir, its security/, /usr/lib/pgl), and the
#       pam-auth-update profile in /usr/share/pam-configs;
#   /home and /run/pgl are tmpfs of its own.
# Then `pgl-host enroll --configure` enrolls it with a one-time token and
# configures sshd, nsswitch.conf and PAM exactly as on a real host, sshd
# runs from its stock /etc/ssh/sshd_config plus pgl's snippet, and
# `pgl-host resolve --listen /run/pgl/resolve.sock` serves cache misses.
# All hosts share the test's network namespace (loopback, one port each).
#
#   hs_start NAME PORT        set up, enroll, start sshd and the resolver
#   hs NAME CMD...            run CMD in the host's mount namespace
#   hs_sync NAME              pgl-host sync on it (HS_OUT: its output)
#   hs_log NAME               the host's sshd log
#   hs_stop_all               stop every host (cleanup)
#
# Environment: PGL_HOST, PGL_NSS_MODULE, PGL_PAM_MODULE, PGL_PRINCIPALS
# (built files), PGL_PAM_PROFILE (dist/pam-configs/pgl).

declare -A HS_NS HS_SSHD HS_RESOLVER HS_DIR
HS_OUT=

hs_multiarch() {
	gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH
}

# hs NAME CMD...: CMD in NAME's mount namespace (same network namespace).
hs() {
	local n=$1
	shift
	nsenter -t "${HS_NS[$n]}" -m -- "$@"
}

hs_log() { cat "${HS_DIR[$1]}/sshd.log" 2>/dev/null; }

# hs_setup_mounts NAME: runs inside the host's namespace.
_hs_mounts() {
	local d=$1 ma=$2 l
	for l in etc usr var/lib; do
		mkdir -p "$d/ov/$l/up" "$d/ov/$l/work"
		mount -t overlay "pgl-host-${l//\//-}" \
			-o "lowerdir=/$l,upperdir=$d/ov/$l/up,workdir=$d/ov/$l/work" "/$l" ||
			return 1
	done
	mount -t tmpfs -o mode=0755,size=64m pgl-host-home /home || return 1
	mkdir -p /run/pgl &&
		mount -t tmpfs -o mode=0755,size=8m pgl-host-run /run/pgl || return 1
	# Installed as the packages install them.
	install -D -m 0755 "$PGL_PRINCIPALS" /usr/lib/pgl/principals &&
		install -m 0644 "$PGL_NSS_MODULE" "/usr/lib/$ma/libnss_pgl.so.2" &&
		install -D -m 0644 "$PGL_PAM_MODULE" "/usr/lib/$ma/security/pam_pgl.so" &&
		install -D -m 0644 "$PGL_PAM_PROFILE" /usr/share/pam-configs/pgl ||
		return 1
	# A host key of its own, and sshd's stock configuration with what a
	# test host needs on top: its port, no pid file, verbose logs.
	rm -f /etc/ssh/ssh_host_*
	ssh-keygen -q -t ed25519 -N '' -C "host" -f /etc/ssh/ssh_host_ed25519_key \
		</dev/null || return 1
	rm -f /etc/sudoers.d/pgl-*
}

# hs_start NAME PORT: returns 1 with diagnostics on failure.
hs_start() {
	local n=$1 port=$2 d ma et i
	d=/run/pgl-hosts/$n
	mkdir -p "$d"
	chmod 0755 /run/pgl-hosts "$d"
	HS_DIR[$n]=$d
	ma=$(hs_multiarch) || { diag "no multiarch triplet"; return 1; }
	unshare -m --propagation private sleep infinity </dev/null >/dev/null 2>&1 &
	HS_NS[$n]=$!
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/${HS_NS[$n]}/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && break
		sleep 0.02
	done
	hs "$n" bash -c "$(declare -f _hs_mounts); PGL_PRINCIPALS='$PGL_PRINCIPALS' \
		PGL_NSS_MODULE='$PGL_NSS_MODULE' PGL_PAM_MODULE='$PGL_PAM_MODULE' \
		PGL_PAM_PROFILE='$PGL_PAM_PROFILE' _hs_mounts '$d' '$ma'" >"$d/setup.log" 2>&1 ||
		{ diag "host $n: mounts failed"; diag_file "$d/setup.log"; return 1; }
	{
		echo "Port $port"
		echo "ListenAddress 127.0.0.1"
		echo "PidFile none"
		echo "LogLevel VERBOSE"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
	} | hs "$n" tee -a /etc/ssh/sshd_config >/dev/null

	run_signer host add -c "$SVC_CONF" "$n"
	et=$(cat "$WORK/.out")
	hs "$n" "$PGL_HOST" enroll --signer "$SVC_URL" --pin "$SVC_PIN" \
		--token "$et" --configure >"$d/enroll.log" 2>&1 ||
		{ diag "host $n: pgl-host enroll failed"; diag_file "$d/enroll.log"; return 1; }

	: >"$d/sshd.log"
	hs "$n" /usr/sbin/sshd -t >"$d/sshd-t.log" 2>&1 ||
		{ diag "host $n: sshd -t"; diag_file "$d/sshd-t.log"; return 1; }
	# nsenter execs its command, so $! is the daemon itself (a function
	# in the background would be a subshell that kill does not reach);
	# no daemon keeps the caller's stdout open.
	nsenter -t "${HS_NS[$n]}" -m -- /usr/sbin/sshd -D -E "$d/sshd.log" \
		</dev/null >/dev/null 2>&1 &
	HS_SSHD[$n]=$!
	nsenter -t "${HS_NS[$n]}" -m -- "$PGL_HOST" resolve --listen \
		/run/pgl/resolve.sock </dev/null >"$d/resolve.log" 2>&1 &
	HS_RESOLVER[$n]=$!
	for ((i = 0; i < 200; i++)); do
		grep -q 'Server listening on' "$d/sshd.log" &&
			hs "$n" test -S /run/pgl/resolve.sock && return 0
		sleep 0.05
	done
	diag "host $n: sshd or the resolver did not start"
	diag_file "$d/sshd.log"
	diag_file "$d/resolve.log"
	return 1
}

# hs_sync NAME [ARGS]: pgl-host sync; its status, output in HS_OUT.
hs_sync() {
	local n=$1
	shift
	HS_OUT=$(hs "$n" "$PGL_HOST" sync "$@" 2>&1)
}

_hs_kill() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

hs_stop_all() {
	local n
	for n in "${!HS_NS[@]}"; do
		_hs_kill "${HS_SSHD[$n]:-}"
		_hs_kill "${HS_RESOLVER[$n]:-}"
		_hs_kill "${HS_NS[$n]}"
	done
	HS_NS=()
}
