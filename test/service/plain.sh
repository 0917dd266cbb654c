#!/usr/bin/env bash
# Plain HTTP only where nothing else can listen in: a unix socket (or
# loopback) and only when the config says tls = false.
#
#   PGL_SIGNER   path to pgl-signer (set by meson)

. "$(dirname "$0")/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin
cd "$WORK" || exit 1
D=$WORK/signer
SOCK=$WORK/api.sock

svc_init "$D"
result $? "init"
svc_config "$D/public.conf" 'listen="0.0.0.0:8443"' tls=false
run_signer check -c "$D/public.conf"
[ "$RC" -ne 0 ] && grep -q "tls" "$WORK/.err"
result $? "check refuses tls = false on a non-loopback address"
[ "$RC" -ne 0 ] || diag_run check

svc_config "$D/unix.conf" "listen=\"unix:$SOCK\"" tls=false
run_signer check -c "$D/unix.conf"
result "$RC" "check accepts tls = false on a unix socket"
pol_new
pol_resource vm-01
pol_role login vm-01
pol_user alice@example.com login
pol_write "$D/policy.conf"
run_signer token add -c "$D/unix.conf" alice@example.com
tok=$(cat "$WORK/.out")
genkey alice ed25519

TMPDIR=$SIGNER_TMP "$PGL_SIGNER" serve -c "$D/unix.conf" </dev/null >>"$SVC_LOG" 2>&1 &
SVC_PID=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$SOCK" ] && curl -sS --unix-socket "$SOCK" -o /dev/null http://pgl/healthz 2>/dev/null && break
	sleep 0.1
done
code=$(curl -sS --unix-socket "$SOCK" -o body -w '%{http_code}' \
    -H "Authorization: Bearer $tok" \
    --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\"}" \
    http://pgl/v1/certs/user)
[ "$code" = 200 ] && [ "$(jget body "j['resources'][0]['principal']")" = alice@vm-01 ]
result $? "sign over plain HTTP on the unix socket ($code)"
[ "$(stat -c %a "$SOCK")" = 660 ]
result $? "the socket is 0660 ($(stat -c %a "$SOCK"))"
svc_stop
result $? "the signer stops cleanly"
tap_done
