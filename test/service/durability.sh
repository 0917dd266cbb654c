#!/usr/bin/env bash
# A kill -9 under load loses no record of an issued certificate: clients
# hammer the signer, it is killed mid-stream, and every certificate a
# client received must have its row in the state database after restart
# (the signer records each one durably before it answers).
#
#   PGL_SIGNER   path to pgl-signer (set by meson)

. "$(dirname "$0")/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin
cd "$WORK" || exit 1
D=$WORK/signer
CLIENTS=12

svc_init "$D"
result $? "init"
svc_config "$SVC_CONF" workers=8 rate_limit=100000000 rate_burst=1000000
pol_new
pol_resource vm-01
pol_role login vm-01
for ((i = 1; i <= CLIENTS; i++)); do
	pol_user "u$i@example.com" login
done
pol_write "$D/policy.conf"
for ((i = 1; i <= CLIENTS; i++)); do
	run_signer token add -c "$SVC_CONF" "u$i@example.com"
	cp "$WORK/.out" "token.$i"
	genkey "key.$i" ed25519
done
svc_start
result $? "the signer starts"

# One client: sign in a loop, keep every certificate it was given.
client() {
	local i=$1 n=0 code pk tok
	pk=$(cat "key.$i.pub")
	tok=$(cat "token.$i")
	while [ ! -e stop ]; do
		n=$((n + 1))
		code=$(curl -sS --max-time 5 --cacert "$SVC_CACERT" \
		    -H "Authorization: Bearer $tok" -o "resp.$i.$n" -w '%{http_code}' \
		    --data-binary "{\"public_key\": \"$pk\", \"resource\": \"vm-01\"}" \
		    "$SVC_URL/v1/certs/user" 2>/dev/null)
		[ "$code" = 200 ] || rm -f "resp.$i.$n"
	done
}
for ((i = 1; i <= CLIENTS; i++)); do
	client "$i" &
done
sleep 2
kill -KILL "$SVC_PID"
wait "$SVC_PID" 2>/dev/null
SVC_PID=
touch stop
wait

# What the clients got, and what the database holds.
for f in resp.*; do
	[ -e "$f" ] && jget "$f" serial
done | sort -u >received
db "SELECT serial FROM certs WHERE type = 1" | u64_first | sort -u >recorded
n_received=$(wc -l <received)
missing=$(comm -23 received recorded | wc -l)
[ "$n_received" -gt 20 ]
result $? "clients received certificates before the kill ($n_received)"
[ "$missing" -eq 0 ]
result $? "every received certificate is recorded after kill -9 ($missing missing of $n_received)"
[ "$missing" -eq 0 ] || diag "missing: $(comm -23 received recorded | head -5 | tr '\n' ' ')"

# The database is consistent and the signer serves again.
integrity=$(db "PRAGMA integrity_check")
[ "$integrity" = ok ]
result $? "the state database passes integrity_check after kill -9"
svc_start
result $? "the signer restarts on the same state"
sign "$(cat token.1)" key.1.pub vm-01
expect 200 "sign after restart"
u1=$(db "SELECT uid FROM identities WHERE identity = 'u1@example.com'")
[ "$(jget "$WORK/body" uid)" = "$u1" ]
result $? "the identity keeps its uid across the crash ($u1)"
svc_stop
result $? "the signer stops cleanly"
tap_done
