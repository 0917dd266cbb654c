#!/usr/bin/env bash
# Concurrent first requests: starts a signer whose policy has 51 users
# (half of them with the same local part, so their usernames compete for
# the same suffixes), then runs the libcurl client svc-concurrency
# (concurrency.c): 50 identities' first requests at once, then 50
# requests at once for the 51st.  Its TAP lines are folded into this
# script's, followed by checks of the state database and the signer.
#
#   PGL_SIGNER            path to pgl-signer (set by meson)
#   PGL_SVC_CONCURRENCY   path to svc-concurrency (set by meson)

. "$(dirname "$0")/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin

if [ -z "${PGL_SVC_CONCURRENCY:-}" ] || [ ! -x "$PGL_SVC_CONCURRENCY" ]; then
	echo "Bail out! PGL_SVC_CONCURRENCY is not set to the svc-concurrency executable"
	exit 1
fi
case $PGL_SVC_CONCURRENCY in /*) ;; *) PGL_SVC_CONCURRENCY=$PWD/$PGL_SVC_CONCURRENCY ;; esac
cd "$WORK" || exit 1
D=$WORK/signer
N=50

svc_init "$D"
result $? "init"
# A high rate limit (50 requests at once for one token), more workers
# than the default so requests really overlap.
svc_config "$SVC_CONF" workers=32 rate_limit=100000 rate_burst=10000

ids=()
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then
		ids+=("sam@d$i.example.com")            # all want "sam"
	else
		ids+=("user.$i@example.com")
	fi
done
single=single@example.com
pol_new
pol_resource vm-01
pol_role login vm-01
for id in "${ids[@]}" "$single"; do
	pol_user "$id" login
done
pol_write "$D/policy.conf"
run_signer check -c "$SVC_CONF"
result "$RC" "check accepts a policy of $((N + 1)) users"
[ "$RC" -eq 0 ] || diag_run check

st=0
: >tokens
for id in "${ids[@]}" "$single"; do
	run_signer token add -c "$SVC_CONF" "$id"
	if [ "$RC" -ne 0 ]; then
		st=1
		diag_run token add "$id"
	fi
	echo "$id $(cat "$WORK/.out")" >>tokens
done
result $st "$((N + 1)) tokens"

svc_start
result $? "serve"

# While the client runs, SIGHUP the signer again and again: requests in
# flight hold the policy they started with while reloads replace it.
reloads0=$(svc_log_count 'policy reloaded')
start=${EPOCHREALTIME/./}
timeout -k 5 200 "$PGL_SVC_CONCURRENCY" "$SVC_URL" "$SVC_CACERT" tokens >client.out 2>client.err &
cpid=$!
while kill -0 "$cpid" 2>/dev/null; do
	kill -HUP "$SVC_PID"
	sleep 0.005
done
wait "$cpid"
crc=$?
end=${EPOCHREALTIME/./}
# Fold the client's TAP into ours (its plan comes last; ours is printed
# by tap_done).
while IFS= read -r l; do
	case $l in
	"ok "*) ok "client: ${l#ok * - }" ;;
	"not ok "*) not_ok "client: ${l#not ok * - }" ;;
	"# "*) echo "$l" >>"$T_BUF" ;;
	"Bail out!"*) not_ok "client: $l" ;;
	esac
done <client.out
result "$crc" "the client exits 0 ($(((end - start) / 1000)) ms)"
if [ "$crc" -ne 0 ]; then
	diag "client exit status $crc"
	diag_file client.err
fi

sleep 0.2
got=$(($(svc_log_count 'policy reloaded') - reloads0))
result "$([ "$got" -gt 0 ] && [ "$(svc_log_count 'reload failed')" = 0 ]; echo $?)" \
	"$got policy reloads (SIGHUP) during the requests, none failed"
got=$(db 'SELECT count(*) FROM identities')
result "$([ "$got" = $((N + 1)) ]; echo $?)" "the database holds $((N + 1)) identities ($got)"
got=$(db 'SELECT count(DISTINCT username) || " " || count(DISTINCT uid) FROM identities')
result "$([ "$got" = "$((N + 1)) $((N + 1))" ]; echo $?)" "with distinct usernames and uids ($got)"
got=$(db "SELECT count(*) FROM certs WHERE type = 1")
result "$([ "$got" = $((2 * N)) ]; echo $?)" "and $((2 * N)) certificates ($got)"
got=$(db "SELECT count(*) FROM certs WHERE identity = '$single'")
result "$([ "$got" = "$N" ]; echo $?)" "$N of them for $single ($got)"
got=$(db "SELECT min(uid) || ' ' || max(uid) FROM identities")
result "$([ "$got" = "100000 $((100000 + N))" ]; echo $?)" "uids are consecutive from uid_min, none skipped ($got)"
sams=$(db "SELECT username FROM identities WHERE identity LIKE 'sam@%' ORDER BY uid" | tr '\n' ' ')
diag "the sam@ identities got: $sams"
bad=0
for n in $sams; do valid_username "$n" || bad=1; done
result $bad "every sam@ name is a valid POSIX name"
api GET /metrics
got=$(sed -n 's/^pgl_certificates_issued_total{type="user"} //p' "$WORK/body")
result "$([ "$got" = $((2 * N)) ]; echo $?)" "pgl_certificates_issued_total{type=\"user\"} = $((2 * N)) ($got)"
got=$(sed -n 's/^pgl_responses_total{class="5xx"} //p' "$WORK/body")
result "$([ "$got" = 0 ]; echo $?)" "no 5xx counted ($got)"
! grep -qi 'locked\|busy' "$SVC_LOG"
result $? "the signer logged nothing about a locked or busy database"
svc_stop
result $? "the signer exits 0 (no sanitizer report)"
if [ "$SVC_RC" -ne 0 ] || svc_sanitizer_report; then
	diag_file "$SVC_LOG" 20000
fi

tap_done
