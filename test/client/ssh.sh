#!/usr/bin/env bash
# pgl ssh against real sshds: the JIT username, a pty, -L forwarding,
# X11 refused, host verification by the host CA alone (no prompt, nothing
# in ~/.ssh/known_hosts, an uncertified host refused), a resource behind
# a bastion, and no key material left behind.  TAP on stdout.
#
#   PGL_SIGNER, PGL_CLIENT   paths to pgl-signer and pgl (set by meson)

. "$(dirname "$0")/lib.sh"
cl_enter_namespace "$0" "$@"
cl_begin
cd "$CW" || exit 1

ok_if() {
	local st=$1 d=$2
	shift 2
	result "$st" "$d"
	if [ "$st" -ne 0 ] && [ $# -gt 0 ]; then diag "$@"; fi
	return "$st"
}

SSHO=(-o BatchMode=yes -o ConnectTimeout=5)

cl_signer
pgl_login
ok_if $? "pgl login with the signer's pin" "$(pgl_desc)"
host_account "$JIT_USER" "$JIT_UID"
host_sshd_start vm-01 2222
ok_if $? "an sshd for vm-01 with a host certificate from enrollment"

# ---- the basics

pgl ssh vm-01 "${SSHO[@]}" -- id -un
[ "$PGL_RC" -eq 0 ] && [ "$(cat out)" = "$JIT_USER" ]
ok_if $? "pgl ssh vm-01 -- id -un prints the JIT username ($JIT_USER)" "$(pgl_desc)" "$(host_log vm-01)"
grep -q "Accepted publickey for $JIT_USER .*ID pgl:alice@example.com:vm-01:" "${HOST_LOG[vm-01]}"
ok_if $? "sshd logs the certificate's key ID (identity, resource, serial)" "$(host_log vm-01)"
[ ! -e "$U/.ssh/known_hosts" ] && ! grep -qs 'vm-01\|127.0.0.1' "$U/.ssh/known_hosts"
ok_if $? "first contact: no host-key prompt (BatchMode), nothing in ~/.ssh/known_hosts" \
	"$(ls -la "$U/.ssh" 2>&1)"
tmp_empty
ok_if $? "the key, certificate and known_hosts are gone after ssh exits" \
	"$(ls -laR "$XDG_RUNTIME_DIR" "$TMPDIR")"

pgl ssh web "${SSHO[@]}" -- echo via-alias
[ "$PGL_RC" -eq 0 ] && [ "$(cat out)" = via-alias ]
ok_if $? "an alias (web) reaches the same resource" "$(pgl_desc)"
pgl ssh "$JIT_USER@vm-01" "${SSHO[@]}" -- true
r1=$PGL_RC
pgl ssh someone@vm-01 "${SSHO[@]}" -- true
[ "$r1" -eq 0 ] && [ "$PGL_RC" -ne 0 ] && grep -q "you log in as $JIT_USER" err
ok_if $? "user@: the JIT username is accepted, another name refused with a reason" "$(pgl_desc)"

pgl ssh vm-01 "${SSHO[@]}" -- 'exit 7'
[ "$PGL_RC" -eq 7 ]
ok_if $? "the exit status is ssh's (remote exit 7)" "$(pgl_desc)"
pgl ssh vm-01 "${SSHO[@]}" -- 'echo "args:$#:$1"' x
[ "$PGL_RC" -eq 0 ] && [ "$(cat out)" = "args:0: x" ]
ok_if $? "a remote command after the resource passes through" "$(pgl_desc)"

# ---- an interactive session with a pty (tmux)

if command -v tmux >/dev/null 2>&1; then
	CL_TMUX=$CW/tmux.sock
	tmux -S "$CL_TMUX" new-session -d -x 120 -y 30 -s s \
		"$PGL_CLIENT ssh vm-01 -o BatchMode=yes; echo PGL-EXIT=\$?; sleep 30"
	got=1
	for ((i = 0; i < 100; i++)); do
		tmux -S "$CL_TMUX" capture-pane -p -t s >pane 2>/dev/null
		grep -q '\$ *$' pane && break
		sleep 0.1
	done
	tmux -S "$CL_TMUX" send-keys -t s 'tty; echo pty-ok-$((40+2)); exit 3' Enter
	for ((i = 0; i < 100; i++)); do
		tmux -S "$CL_TMUX" capture-pane -p -t s >pane 2>/dev/null
		if grep -q 'PGL-EXIT=' pane; then got=0; break; fi
		sleep 0.1
	done
	[ $got -eq 0 ] && grep -q '^/dev/pts/' pane && grep -q '^pty-ok-42' pane &&
		grep -q 'PGL-EXIT=3' pane
	ok_if $? "interactive session: a pty (/dev/pts/N), commands run, exit status passed on" \
		"$(cat pane)" "$(host_log vm-01)"
	tmux -S "$CL_TMUX" kill-server 2>/dev/null
	CL_TMUX=
	tmp_empty
	ok_if $? "... and nothing left in the temp dirs"
else
	ok "# SKIP tmux not installed"
	ok "# SKIP tmux not installed"
fi

# ---- -L forwarding

mkdir -p www && echo "forwarded-$$" >www/hello.txt
(cd www && exec "$PY" -m http.server --bind 127.0.0.1 18080 >/dev/null 2>&1) &
WWW=$!
"$PGL_CLIENT" ssh vm-01 "${SSHO[@]}" -o ExitOnForwardFailure=yes -N \
	-L 127.0.0.1:18081:127.0.0.1:18080 >fwd.out 2>fwd.err &
FWD=$!
body=
for ((i = 0; i < 100; i++)); do
	body=$(curl -s --max-time 2 http://127.0.0.1:18081/hello.txt 2>/dev/null) && [ -n "$body" ] && break
	sleep 0.1
done
[ "$body" = "forwarded-$$" ]
ok_if $? "-L 18081:127.0.0.1:18080 carries an HTTP request through the session" \
	"got: $body" "$(cat fwd.err)" "$(host_log vm-01)"
kill -TERM "$FWD" 2>/dev/null
wait "$FWD" 2>/dev/null
rc=$?
kill "$WWW" 2>/dev/null
wait "$WWW" 2>/dev/null
! kill -0 "$FWD" 2>/dev/null && tmp_empty
ok_if $? "SIGTERM to pgl ends ssh and still removes the temp dir (exit $rc)" \
	"$(ls -laR "$XDG_RUNTIME_DIR" "$TMPDIR")"

# ---- X11 is not in the certificate

DISPLAY=:42 pgl ssh vm-01 "${SSHO[@]}" -X -- 'echo "display=${DISPLAY:-none}"'
[ "$PGL_RC" -eq 0 ] && [ "$(cat out)" = "display=none" ] &&
	grep -qi 'X11 forwarding request failed' err
ok_if $? "ssh -X: X11 forwarding refused (no DISPLAY on the host), the session still runs" \
	"$(pgl_desc)" "$(host_log vm-01)"

# ---- hosts not certified by the host CA

host_sshd_start vm-01 2222 127.0.0.1 plain
pgl ssh vm-01 "${SSHO[@]}" -- id -un
[ "$PGL_RC" -eq 255 ] && [ ! -s out ] && grep -q 'Host key verification failed' err
ok_if $? "a host key without a certificate is refused (no prompt, no login)" "$(pgl_desc)"
host_sshd_start vm-01 2222 127.0.0.1 other-ca
pgl ssh vm-01 "${SSHO[@]}" -- id -un
[ "$PGL_RC" -eq 255 ] && [ ! -s out ] && grep -q 'Host key verification failed' err
ok_if $? "a host certificate from another CA is refused" "$(pgl_desc)"
[ ! -e "$U/.ssh/known_hosts" ] && tmp_empty
ok_if $? "... and neither wrote a known_hosts entry or left files"
host_sshd_start vm-01 2222

# ---- a resource behind a bastion: one certificate for both hops

host_sshd_start jump 2224
host_sshd_start inner 2225 127.0.0.3
pgl ssh inner "${SSHO[@]}" -- 'echo "$(id -un) on inner"'
[ "$PGL_RC" -eq 0 ] && [ "$(cat out)" = "$JIT_USER on inner" ]
ok_if $? "pgl ssh inner (via jump) logs in" "$(pgl_desc)" "$(host_log jump)" "$(host_log inner)"
serial_j=$(sed -n 's/.*Accepted publickey for .* ID pgl:alice@example.com:inner,jump:\([0-9]*\).*/\1/p' "${HOST_LOG[jump]}" | tail -n 1)
serial_i=$(sed -n 's/.*Accepted publickey for .* ID pgl:alice@example.com:inner,jump:\([0-9]*\).*/\1/p' "${HOST_LOG[inner]}" | tail -n 1)
[ -n "$serial_j" ] && [ "$serial_j" = "$serial_i" ]
ok_if $? "the bastion and the inner host accepted the same certificate (serial $serial_i)" \
	"$(host_log jump)" "$(host_log inner)"
tmp_empty
ok_if $? "... and nothing left in the temp dirs"

tap_done
