#!/usr/bin/env bash
# The signer's HTTP API end to end: `pgl-signer init`, `token add`,
# `host add`, then `serve` in a private network namespace, exercised over
# real HTTPS with curl; certificates checked with ssh-keygen, the state
# database with python3's sqlite3 module.  TAP on stdout.
#
#   PGL_SIGNER   path to pgl-signer (set by meson)

. "$(dirname "$0")/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin

cd "$WORK" || exit 1
D=$WORK/signer
N_ISSUED=0              # user certificates issued by the running signer

declare -A TOK UNAME UIDOF

# ok_if COND_STATUS DESC [DIAG...]: a result, with diagnostics on failure
ok_if() {
	local st=$1 d=$2
	shift 2
	result "$st" "$d"
	if [ "$st" -ne 0 ] && [ $# -gt 0 ]; then diag "$@"; fi
	return "$st"
}

# sign_ok IDENTITY KEY RESOURCE CERTFILE [EXTRA JSON]: a sign request that
# must succeed; keeps the certificate in CERTFILE and the response in
# CERTFILE.json.  Returns 1 (after a diagnostic) otherwise.
sign_ok() {
	sign "${TOK[$1]}" "$2.pub" "$3" "${5:-}"
	if [ "$HTTP_CODE" != 200 ]; then
		diag "sign $1 $3: expected 200"
		diag_http
		return 1
	fi
	N_ISSUED=$((N_ISSUED + 1))
	cp "$WORK/body" "$4.json"
	jget "$4.json" certificate >"$4"
}

# ================================================================ setup

svc_init "$D"
ok_if $? "init writes CA keys, TLS key/certificate, config and policy, and prints the TLS pin" \
	"$(cat "$WORK/.out" "$WORK/.err")"
# The files exactly as init wrote them: they check, and serve comes up
# on the default address (free: this network namespace is ours).
run_signer check -c "$SVC_CONF"
ok_if "$RC" "check accepts init's own config and policy" "$(cat "$WORK/.out" "$WORK/.err")"
url=$SVC_URL
SVC_URL=https://127.0.0.1:8443
svc_start && svc_stop
ok_if $? "serve runs with init's config as it is (127.0.0.1:8443) and stops cleanly" "$(tail -n 20 "$SVC_LOG")"
SVC_URL=$url

svc_config "$SVC_CONF"

IDS_ODD=(
	'first.last@example.com'
	'alice+ops@example.com'
	'"john.doe"@example.com'
	"o'brien@example.com"
	'2fa@example.com'
	'-x-@example.com'
	'Mixed.CASE@example.com'
	'...@example.com'
	'nobody@example.com'
	'admin@example.com'
	'systemd-x@example.com'
	'Very.Long.Local-Part.With.Many.Words.And_Underscores.1234567890x@example.com'
)
IDS_SYS=('root@x.org' 'daemon@x.org' 'sshd@x.org')
IDS_NAMES=('alice@example.com' 'alice@other.org' "${IDS_SYS[@]}" "${IDS_ODD[@]}")

LONG_A="rate.limit.$(printf '%060d' 0).a@example.com"
LONG_B="rate.limit.$(printf '%060d' 0).b@example.com"

# policy_main [without-carol] [with-dana]
policy_main() {
	local u
	pol_new
	pol_resource vm-01 127.0.0.1 22 web
	pol_resource vm-02 vm-02.example.com
	pol_resource vm-03
	pol_resource locked
	pol_role ops "vm-01" 'ttl_max = 600; groups = [ "devs" ];'
	pol_role b "vm-02"
	pol_role c "vm-03"
	pol_user alice@example.com "ops c" 'name = "Alice Example";'
	pol_user bob@example.com "b"
	[[ " $* " == *" with-dana "* ]] && pol_user dana@example.com "ops"
	pol_user "$LONG_A" "ops"
	pol_user "$LONG_B" "ops"
	if [[ " $* " == *" without-carol "* ]]; then
		pol_user carol@example.com ""
	else
		pol_user carol@example.com "ops"
	fi
	pol_user nogrant@example.com ""
	pol_user disabled@example.com "ops" 'disabled = true;'
	for u in "${IDS_NAMES[@]:1}"; do
		pol_user "$u" "ops"
	done
	pol_write "$D/policy.conf"
}
policy_main
run_signer check -c "$SVC_CONF"
ok_if "$RC" "check accepts the test config and policy" "$(cat "$WORK/.out" "$WORK/.err")"

tok_ok=0
for id in "${IDS_NAMES[@]}" bob@example.com carol@example.com nogrant@example.com disabled@example.com \
	stranger@example.com ALICE@EXAMPLE.COM "$LONG_A" "$LONG_B"; do
	run_signer token add -c "$SVC_CONF" -- "$id"
	TOK[$id]=$(cat "$WORK/.out")
	if [ "$RC" -ne 0 ] || ! [[ ${TOK[$id]} =~ ^pgl_[A-Za-z0-9_-]{40,}$ ]]; then
		tok_ok=1
		diag_run token add "$id"
	fi
done
ok_if $tok_ok "token add prints one pgl_... token per identity"
# A policy holds printable-ASCII identities only: such a token could never
# be used, so token add refuses it.
run_signer token add -c "$SVC_CONF" -- 'jöhn@example.com'
[ "$RC" -ne 0 ] && [ ! -s "$WORK/.out" ]
ok_if $? "token add refuses a non-ASCII identity (a policy cannot name it)"
run_signer token add -c "$SVC_CONF" -- gone@example.com
TOK_GONE=$(cat "$WORK/.out")
run_signer token revoke -c "$SVC_CONF" -- Gone@Example.com
r1=$RC
run_signer token revoke -c "$SVC_CONF" -- gone@example.com
[ "$r1" -eq 0 ] && [ "$RC" -eq 1 ] && grep -q "has no token to revoke" "$WORK/.err"
ok_if $? "token revoke revokes an identity's tokens (any case); again: nothing to revoke" \
	"$(cat "$WORK/.err")"

run_signer host add -c "$SVC_CONF" vm-01
ET1=$(cat "$WORK/.out")
run_signer host add -c "$SVC_CONF" vm-02
ET2=$(cat "$WORK/.out")
[[ $ET1 =~ ^pglenroll_ && $ET2 =~ ^pglenroll_ && $ET1 != "$ET2" ]]
ok_if $? "host add prints a distinct enrollment token per host" "ET1=$ET1 ET2=$ET2"

genkey alice ed25519
genkey other ed25519
genkey hostA ed25519
genkey hostB ed25519
genkey hostC ed25519
genkey rsa1024 rsa 1024

# ================================================================ serve

svc_start
ok_if $? "serve starts and answers /healthz on $SVC_URL" || { tap_done; }

api GET /healthz
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" status)" = ok ]
ok_if $? "GET /healthz -> 200 {\"status\":\"ok\"}" "$(http_desc)"

api GET /v1/ca
[ "$HTTP_CODE" = 200 ] &&
	[ "$(jget "$WORK/body" "j['user_ca'][0]" | awk '{print $1, $2}')" = "$(awk '{print $1, $2}' "$D/user_ca.pub")" ] &&
	[ "$(jget "$WORK/body" "j['host_ca'][0]" | awk '{print $1, $2}')" = "$(awk '{print $1, $2}' "$D/host_ca.pub")" ]
ok_if $? "GET /v1/ca returns the user and host CA keys init wrote"

code=$(curl -sS -k --pinnedpubkey "$SVC_PIN" -o /dev/null -w '%{http_code}' "$SVC_URL/healthz" 2>&1)
ok_if "$([ "$code" = 200 ]; echo $?)" "curl --pinnedpubkey with the pin init printed connects" "pin $SVC_PIN: $code"
curl -sS -k --pinnedpubkey 'sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' \
	-o /dev/null "$SVC_URL/healthz" 2>/dev/null
ok_if "$(($? == 0))" "curl with a wrong pin is refused"
curl -sS -o /dev/null "$SVC_URL/healthz" 2>/dev/null
ok_if "$(($? == 0))" "without --cacert the self-signed certificate is not trusted"

# ================================================================ sign

t0=$(date +%s)
sign_ok alice@example.com alice vm-01 c-first
st=$?
t1=$(date +%s)
ok_if $st "alice signs for vm-01 (granted) -> 200"
S1=$(jget c-first.json serial)
KID=$(jget c-first.json key_id)
VA=$(jget c-first.json valid_after)
VB=$(jget c-first.json valid_before)
UNAME[alice@example.com]=$(jget c-first.json username)
UIDOF[alice@example.com]=$(jget c-first.json uid)
[ "${UNAME[alice@example.com]}" = alice ] &&
	[ "${UIDOF[alice@example.com]}" -ge 100000 ] && [ "${UIDOF[alice@example.com]}" -le 199999 ]
ok_if $? "response: username alice, uid in uid_min..uid_max" "$(cat c-first.json)"
[ "$(jget c-first.json "j['resources'][0]['principal']")" = alice@vm-01 ] &&
	[ "$(jget c-first.json "j['resources'][0]['name']")" = vm-01 ] &&
	[ "$(jget c-first.json "j['resources'][0]['address']")" = 127.0.0.1 ] &&
	[ "$(jget c-first.json "j['resources'][0]['port']")" = 22 ] &&
	[ "$(jget c-first.json "len(j['resources'])")" = 1 ] &&
	[ "$(jget c-first.json host_ca | awk '{print $2}')" = "$(awk '{print $2}' "$D/host_ca.pub")" ]
ok_if $? "response: resources[0] {name, principal alice@vm-01, address, port} and host_ca" "$(cat c-first.json)"
[[ $S1 =~ ^[1-9][0-9]*$ ]] && [ "$KID" = "pgl:alice@example.com:vm-01:$S1" ]
ok_if $? "response: serial is a decimal string, key_id = pgl:alice@example.com:vm-01:SERIAL" "serial=$S1 key_id=$KID"

L=$(ssh-keygen -L -f c-first 2>&1)
echo "$L" | grep -q 'Type: ssh-ed25519-cert-v01@openssh.com user certificate'
ok_if $? "ssh-keygen -L: an ed25519 user certificate" "$L"
[ "$(cert_field c-first Principals)" = "" ] &&
	[ "$(echo "$L" | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | tr -d ' \t')" = alice@vm-01 ]
ok_if $? "ssh-keygen -L: the only principal is alice@vm-01 (host-bound)" "$L"
[ "$(cert_field c-first 'Key ID')" = "\"$KID\"" ] && [ "$(cert_field c-first Serial)" = "$S1" ]
ok_if $? "ssh-keygen -L: key ID and serial match the response" "$L"
[ "$(cert_field c-first 'Public key' | awk '{print $2}')" = "$(fp alice.pub)" ] &&
	[ "$(cert_field c-first 'Signing CA' | awk '{print $2}')" = "$(fp "$D/user_ca.pub")" ]
ok_if $? "ssh-keygen -L: certifies alice's key, signed by the user CA" "$L"
valid=$(cert_field c-first Valid)
from=$(epoch_of "$(echo "$valid" | awk '{print $2}')")
to=$(epoch_of "$(echo "$valid" | awk '{print $4}')")
[ -n "$from" ] && [ -n "$to" ] && [ $((to - from)) -eq 360 ] &&
	[ "$from" -ge $((t0 - 60)) ] && [ "$from" -le $((t1 - 60)) ] &&
	[ "$from" = "$VA" ] && [ "$to" = "$VB" ]
ok_if $? "validity is exactly now-60 .. now+300 (360 s), as in the response" \
	"Valid: $valid; t0=$t0 t1=$t1 valid_after=$VA valid_before=$VB"
ext=$(echo "$L" | sed -n '/Extensions:/,$p' | sed '1d' | tr -d ' \t' | sort | tr '\n' ' ')
crit=$(cert_field c-first 'Critical Options')
[ "$ext" = "permit-agent-forwarding permit-port-forwarding permit-pty permit-user-rc " ] &&
	[ "$crit" = "(none)" ]
ok_if $? "default extensions (no X11), no critical options" "$L"
[ "$(db "SELECT serial, key_id, identity, resource, type, valid_after, valid_before FROM certs WHERE key_id = '$KID'" | u64_first)" = \
	"$S1|$KID|alice@example.com|vm-01|1|$VA|$VB" ]
ok_if $? "the certificate is recorded in the state database" "$(db 'SELECT * FROM certs')"

sign_ok alice@example.com alice web c-alias '"ttl": 600'
st=$?
[ $st -eq 0 ] && [ "$(jget c-alias.json "j['resources'][0]['principal']")" = alice@vm-01 ] &&
	[ $(($(jget c-alias.json valid_before) - $(jget c-alias.json valid_after))) -eq 660 ]
ok_if $? "an alias (web) gives the canonical principal; ttl 600 (= grant's ttl_max) is accepted" \
	"$(cat c-alias.json 2>/dev/null)"
sign_ok alice@example.com alice VM-01 c-upper
[ $? -eq 0 ] && [ "$(jget c-upper.json "j['resources'][0]['principal']")" = alice@vm-01 ]
ok_if $? "VM-01 in capitals finds vm-01; the principal uses the canonical name" "$(cat c-upper.json 2>/dev/null)"

api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resources\": [\"vm-01\", \"vm-03\"]}"
expect 200 "alice signs for two resources at once (vm-01, vm-03)" && N_ISSUED=$((N_ISSUED + 1))
cp "$WORK/body" c-multi.json
jget c-multi.json certificate >c-multi
SM=$(jget c-multi.json serial)
princ=$(cert_body c-multi | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | tr -d ' \t' | tr '\n' ' ')
[ "$princ" = "alice@vm-01 alice@vm-03 " ] &&
	[ "$(jget c-multi.json key_id)" = "pgl:alice@example.com:vm-01,vm-03:$SM" ] &&
	[ "$(jget c-multi.json "[r['principal'] for r in j['resources']]")" = '["alice@vm-01", "alice@vm-03"]' ]
ok_if $? "one certificate with both host-bound principals, key ID pgl:alice@example.com:vm-01,vm-03:SERIAL" \
	"principals: $princ" "$(cat c-multi.json)"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resources\": [\"vm-03\", \"vm-01\"], \"ttl\": 601}"
expect 400 "two resources: the smaller ttl_max (vm-01's 600) applies"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resources\": [\"vm-01\", \"vm-02\"]}"
expect 403 "two resources, one of them not granted: the whole request is refused"
grep '"result":"allowed"' "$D/audit.log" | grep '"action":"sign"' | tail -n 1 >allowed-audit.json
[ "$(jget allowed-audit.json serial)" = "$SM" ] && [ "$(jget allowed-audit.json key_id)" = "pgl:alice@example.com:vm-01,vm-03:$SM" ] &&
	[ "$(jget allowed-audit.json identity)" = alice@example.com ] &&
	[ "$(jget allowed-audit.json resource)" = vm-01,vm-03 ] &&
	[ "$(jget allowed-audit.json fingerprint)" = "$(fp alice.pub)" ]
ok_if $? "audit.log: the allowed sign line has identity, resources, serial (string), key_id, key fingerprint" \
	"$(cat allowed-audit.json)"

# ======================================================= rejections

audit_lines0=$(wc -l <"$D/audit.log")
dump0=$(db_dump)
certs0=$(db 'SELECT count(*) FROM certs')
ids0=$(db 'SELECT count(*) FROM identities')

sign "${TOK[alice@example.com]}" alice.pub vm-02
expect 403 "alice asks for vm-02 (no grant)"
tail -n 1 "$D/audit.log" >last-audit.json
[ "$(jget last-audit.json action)" = sign ] && [ "$(jget last-audit.json result)" = denied ] &&
	[ "$(jget last-audit.json identity)" = alice@example.com ] &&
	[ "$(jget last-audit.json resource)" = vm-02 ] &&
	[[ "$(jget last-audit.json reason)" == *"no grant"* ]] &&
	[ -n "$(jget last-audit.json time)" ] && [ -n "$(jget last-audit.json source)" ]
ok_if $? "audit.log: a JSON line {action sign, result denied, identity, resource vm-02, reason}" \
	"$(tail -n 2 "$D/audit.log")"

sign "${TOK[alice@example.com]}" alice.pub locked
expect 403 "a resource nobody is granted"
sign "${TOK[nogrant@example.com]}" alice.pub vm-01
expect 403 "a user without roles"
sign "${TOK[stranger@example.com]}" alice.pub vm-01
expect 403 "a valid token whose identity is not in the policy"
sign "${TOK[disabled@example.com]}" alice.pub vm-01
expect 403 "a disabled user"
sign "pgl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" alice.pub vm-01
expect 401 "a wrong token"
sign "$TOK_GONE" alice.pub vm-01
expect 401 "a revoked token"
sign "${TOK[alice@example.com]}x" alice.pub vm-01
expect 401 "a valid token with a byte appended"
api POST /v1/certs/user --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\"}"
expect 401 "no Authorization header"
api POST /v1/certs/user -H "Authorization: Bearer " --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\"}"
expect 401 "an empty bearer token"
api POST /v1/certs/user -H "Authorization: Basic ${TOK[alice@example.com]}" \
	--data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\"}"
expect 401 "Authorization: Basic instead of Bearer"

"$PY" -c 'import sys; sys.stdout.write("{\"public_key\": \"" + "A" * 70000 + "\"}")' >big.json
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" -H 'Expect: 100-continue' --data-binary @big.json
expect 413 "a 70000-byte body (max_body 65536), Content-Length and Expect: 100-continue"
# Without Expect the client sends the body at once, while the signer
# answers from the Content-Length alone: the 413 must still arrive (not a
# connection reset that loses it).
"$PY" -c 'import sys; sys.stdout.write("{\"public_key\": \"" + "A" * 1000000 + "\"}")' >big1m.json
codes=$(for i in $(seq 40); do
	curl -sS --max-time 30 --cacert "$SVC_CACERT" -o /dev/null -w '%{http_code}\n' -H 'Expect:' \
		-H "Authorization: Bearer ${TOK[alice@example.com]}" --data-binary @big1m.json \
		"$SVC_URL/v1/certs/user" 2>/dev/null
done | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
ok_if "$([ "$codes" = "413x40 " ]; echo $?)" "40 bodies of 1 MB sent without Expect: every client gets the 413 ($codes)" \
	"000 = curl saw the connection reset before the answer (error 55, send failure)"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" -H 'Transfer-Encoding: chunked' --data-binary @big.json
expect 413 "a 70000-byte chunked body (no Content-Length)"
# Request headers: up to ~7 KB are read (the request is decided: no
# grant for vm-02); far past the limit, libmicrohttpd's own 431 (HTML).
pad=$(head -c 6000 /dev/zero | tr '\0' a)
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" -H "X-Pad: $pad" \
	--data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-02\"}"
expect 403 "a request with 6000 bytes of extra header is read and decided"
pad=$(head -c 20000 /dev/zero | tr '\0' a)
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" -H "X-Pad: $pad" \
	--data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\"}"
ok_if "$([ "$HTTP_CODE" = 431 ]; echo $?)" "a request with 20000 bytes of header is refused -> 431 ($HTTP_CODE)"
head -c 65536 big.json >max.json
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary @max.json
expect 400 "a body of exactly max_body bytes is read (and is not JSON)"

api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary '{"public_key": "x", "resource": '
expect 400 "malformed JSON"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\"} x"
expect 400 "JSON followed by garbage"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary '[1, 2]'
expect 400 "a JSON array instead of an object"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'
expect 400 "deeply nested JSON"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary ''
expect 400 "an empty body"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary '{"public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBAD", "resource": "vm-01"}'
expect 400 "a bad public key"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary '{"public_key": "not a key at all", "resource": "vm-01"}'
expect 400 "a public key that is not a key line"
sign "${TOK[alice@example.com]}" rsa1024.pub vm-01
expect 400 "an RSA-1024 key (RSA must be >= 2048)"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat c-first)\", \"resource\": \"vm-01\"}"
expect 400 "a certificate instead of a public key"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\"}"
expect 400 "no resource"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary '{"resource": "vm-01"}'
expect 400 "no public_key"

sign "${TOK[alice@example.com]}" alice.pub no-such-host
expect 404 "an unknown resource"
msg=$(jget "$WORK/body" error)
[[ $msg == *no-such-host* && $msg == *"unknown resource"* ]]
ok_if $? "the 404 names the resource and says it is unknown" "error: $msg"

sign "${TOK[alice@example.com]}" alice.pub vm-01 '"ttl": 601'
expect 400 "ttl 601 above the grant's ttl_max 600"
msg=$(jget "$WORK/body" error)
[[ $msg == *601* && $msg == *600* ]]
ok_if $? "the TTL error gives the asked and the maximum TTL" "error: $msg"
sign "${TOK[alice@example.com]}" alice.pub vm-01 '"ttl": 0'
expect 400 "ttl 0"
sign "${TOK[alice@example.com]}" alice.pub vm-01 '"ttl": -5'
expect 400 "a negative ttl"
sign "${TOK[alice@example.com]}" alice.pub vm-01 '"ttl": "300"'
expect 400 "ttl as a string"
sign "${TOK[alice@example.com]}" alice.pub vm-01 '"ttl": 1e3'
expect 400 "ttl as a float"
sign "${TOK[alice@example.com]}" alice.pub vm-01 '"principal": "root"'
expect 400 "an unknown JSON field (principal)"
msg=$(jget "$WORK/body" error)
[[ $msg == *unknown* ]]
ok_if $? "the unknown-field error says so" "error: $msg"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resources\": [\"vm-01\", \"web\"]}"
expect 400 "one resource named twice (name and alias)"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resources\": []}"
expect 400 "an empty resources array"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resources\": [\"vm-01\",\"vm-01\",\"vm-01\",\"vm-01\",\"vm-01\",\"vm-01\",\"vm-01\",\"vm-01\",\"vm-01\"]}"
expect 400 "nine resources (at most 8)"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" --data-binary "{\"public_key\": \"$(cat alice.pub)\", \"resource\": \"vm-01\", \"resources\": [\"vm-01\"]}"
expect 400 "both resource and resources"

api_auth GET /v1/certs/user "${TOK[alice@example.com]}"
expect 405 "GET on POST /v1/certs/user"
api POST /v1/krl --data-binary '{}'
expect 405 "POST on GET /v1/krl"
api DELETE /v1/host/users/alice
expect 405 "DELETE on /v1/host/users/alice"
api GET /v1/nope
expect 404 "an unknown path"
api GET /v1/certs/user/
expect 404 "a known path with a trailing slash"
api GET /
expect 404 "/"

[ "$(db_dump)" = "$dump0" ]
ok_if $? "after all the rejected requests the state database is unchanged" \
	"$(diff <(echo "$dump0") <(db_dump) | head -n 20)"
[ "$(db 'SELECT count(*) FROM certs')" = "$certs0" ] && [ "$(db 'SELECT count(*) FROM identities')" = "$ids0" ]
ok_if $? "no new certs rows ($certs0), no new identities ($ids0)"
bad=$(tail -n +$((audit_lines0 + 1)) "$D/audit.log" | "$PY" -c '
import json, sys
n = 0
for line in sys.stdin:
    j = json.loads(line)
    if j.get("result") != "denied":
        n += 1
print(n)' 2>&1)
ok_if "$([ "$bad" = 0 ]; echo $?)" "every audit line of the rejected requests says denied" "$bad"

# ======================================================= usernames

un_ok=0
for id in "${IDS_NAMES[@]:1}" ALICE@EXAMPLE.COM; do
	if ! sign_ok "$id" other vm-01 "c-user"; then
		un_ok=1
		continue
	fi
	UNAME[$id]=$(jget c-user.json username)
	UIDOF[$id]=$(jget c-user.json uid)
	if [ "$(jget c-user.json "j['resources'][0]['principal']")" != "${UNAME[$id]}@vm-01" ] ||
		[ "$(cert_body c-user | sed -n '/Principals:/,/Critical/p' | sed '1d;$d' | tr -d ' \t')" != "${UNAME[$id]}@vm-01" ]; then
		un_ok=1
		diag "$id: principal is not ${UNAME[$id]}@vm-01"
	fi
done
ok_if $un_ok "every test identity gets a certificate for USERNAME@vm-01"
for id in "${IDS_NAMES[@]}" ALICE@EXAMPLE.COM; do
	diag "username: $(printf '%-80s' "$id") -> ${UNAME[$id]:-?} (${UIDOF[$id]:-?})"
done

n=${UNAME[alice@other.org]:-}
[ -n "$n" ] && [ "$n" != alice ] && valid_username "$n"
ok_if $? "alice@other.org gets a valid name other than alice ($n)"
for id in "${IDS_SYS[@]}"; do
	n=${UNAME[$id]:-}
	[ -n "$n" ] && [ "$n" != "${id%@*}" ] && valid_username "$n"
	ok_if $? "$id does not become ${id%@*} ($n)"
done
for id in "${IDS_ODD[@]}"; do
	n=${UNAME[$id]:-}
	[ -n "$n" ] && valid_username "$n"
	ok_if $? "$id -> valid POSIX name ($n)"
done
for p in nobody admin systemd-x; do
	[ "${UNAME[$p@example.com]:-}" != "$p" ]
	ok_if $? "$p@example.com does not get the reserved name $p (${UNAME[$p@example.com]:-})"
done
[ "${UNAME[2fa@example.com]:-}" != "" ] && ! [[ ${UNAME[2fa@example.com]} =~ ^[0-9] ]]
ok_if $? "a local part starting with a digit does not give a name starting with one"
dups=$(for id in "${IDS_NAMES[@]}"; do echo "${UNAME[$id]:-}"; done | sort | uniq -d)
udups=$(for id in "${IDS_NAMES[@]}"; do echo "${UIDOF[$id]:-}"; done | sort | uniq -d)
[ -z "$dups" ] && [ -z "$udups" ]
ok_if $? "${#IDS_NAMES[@]} identities: distinct usernames and distinct uids" "duplicate names: $dups" "duplicate uids: $udups"
[ "${UNAME[ALICE@EXAMPLE.COM]:-}" = alice ] && [ "${UIDOF[ALICE@EXAMPLE.COM]:-}" = "${UIDOF[alice@example.com]}" ]
ok_if $? "a token for ALICE@EXAMPLE.COM (the policy's alice@example.com) is the same account alice" \
	"ALICE@EXAMPLE.COM -> ${UNAME[ALICE@EXAMPLE.COM]:-?} (${UIDOF[ALICE@EXAMPLE.COM]:-?}); alice@example.com -> alice (${UIDOF[alice@example.com]})" \
	"identities rows: $(db "SELECT identity, username, uid FROM identities WHERE lower(identity) = 'alice@example.com'" | tr '\n' ' ')"
[ "$(db "SELECT count(*) FROM identities WHERE identity = 'jöhn@example.com' OR identity = 'stranger@example.com' OR identity = 'nogrant@example.com'")" = 0 ]
ok_if $? "denied identities got no username"

# ======================================================= hosts

api_auth POST /v1/hosts/enroll "$ET1" --data-binary "{\"host_key\": \"$(cat hostA.pub)\"}"
expect 200 "vm-01 enrolls with its enrollment token"
cp "$WORK/body" enrollA.json
CREDA=$(jget enrollA.json credential)
jget enrollA.json host_certificate >hostA-cert.pub
[ "$(jget enrollA.json host)" = vm-01 ] && [[ $CREDA =~ ^pglhost_ ]] &&
	[ "$(jget enrollA.json "j['user_ca'][0]" | awk '{print $2}')" = "$(awk '{print $2}' "$D/user_ca.pub")" ] &&
	[ "$(jget enrollA.json "j['host_ca'][0]" | awk '{print $2}')" = "$(awk '{print $2}' "$D/host_ca.pub")" ]
ok_if $? "enroll returns host, credential, host_certificate, user_ca, host_ca" "$(cat enrollA.json)"
L=$(ssh-keygen -L -f hostA-cert.pub 2>&1)
princ=$(echo "$L" | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | tr -d ' \t' | sort | tr '\n' ' ')
echo "$L" | grep -q 'Type: ssh-ed25519-cert-v01@openssh.com host certificate' &&
	[ "$princ" = "127.0.0.1 vm-01 web " ] &&
	[ "$(cert_field hostA-cert.pub 'Public key' | awk '{print $2}')" = "$(fp hostA.pub)" ] &&
	[ "$(cert_field hostA-cert.pub 'Signing CA' | awk '{print $2}')" = "$(fp "$D/host_ca.pub")" ]
ok_if $? "the enrollment host certificate: host cert for hostA's key, principals vm-01, alias, address, by the host CA" "$L"

api_auth POST /v1/hosts/enroll "$ET1" --data-binary "{\"host_key\": \"$(cat hostC.pub)\"}"
expect 401 "the same enrollment token a second time"
api_auth POST /v1/hosts/enroll "pglenroll_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" --data-binary "{\"host_key\": \"$(cat hostC.pub)\"}"
expect 401 "an unknown enrollment token"
api POST /v1/hosts/enroll --data-binary "{\"host_key\": \"$(cat hostC.pub)\"}"
expect 401 "enroll without a token"
api_auth POST /v1/hosts/enroll "$ET2" --data-binary '{"host_key": "ssh-ed25519 AAAA"}'
expect 400 "enroll with a bad host key"
api_auth POST /v1/hosts/enroll "$ET2" --data-binary "{\"host_key\": \"$(cat hostB.pub)\", \"x\": 1}"
expect 400 "enroll with an extra field"
api_auth POST /v1/hosts/enroll "$ET2" --data-binary "{\"host_key\": \"$(cat hostB.pub)\"}"
expect 200 "vm-02 enrolls (its token was not used up by the rejected attempts)"
CREDB=$(jget "$WORK/body" credential)

svc_config "$D/ttl1.conf" enroll_token_ttl=1
run_signer host add -c "$D/ttl1.conf" vm-03
ET3=$(cat "$WORK/.out")
sleep 2
api_auth POST /v1/hosts/enroll "$ET3" --data-binary "{\"host_key\": \"$(cat hostC.pub)\"}"
expect 401 "an enrollment token past enroll_token_ttl (1 s)"

api_auth GET /v1/host/directory "$CREDA"
expect 200 "vm-01 reads its directory"
cp "$WORK/body" dirA.json
ETAG_A=$(header ETag)
usersA=$(jget dirA.json "' '.join(sorted(u['name'] for u in j['users']))")
[ "$(jget dirA.json host)" = vm-01 ] && [[ " $usersA " == *" alice "* ]] && [[ " $usersA " == *" carol "* ]] &&
	[[ " $usersA " != *" bob "* ]]
ok_if $? "vm-01's directory: host vm-01, alice and carol, not bob" "$usersA"
[ "$(jget dirA.json "[u for u in j['users'] if u['name'] == 'alice'][0]")" = \
	"{\"name\": \"alice\", \"uid\": ${UIDOF[alice@example.com]}, \"gid\": ${UIDOF[alice@example.com]}, \"identity\": \"alice@example.com\", \"gecos\": \"Alice Example\", \"home\": \"/home/alice\", \"shell\": \"/bin/bash\", \"principals\": [\"alice@vm-01\"], \"sudo\": \"none\", \"groups\": [\"devs\"]}" ]
ok_if $? "alice's entry: uid/gid as signed, gecos, home, shell, principals [alice@vm-01], sudo, groups" \
	"$(jget dirA.json "[u for u in j['users'] if u['name'] == 'alice'][0]")"
gid=$(jget dirA.json "[g for g in j['groups'] if g['name'] == 'devs'][0]['gid']")
members=$(jget dirA.json "' '.join(sorted([g for g in j['groups'] if g['name'] == 'devs'][0]['members']))")
[ -n "$gid" ] && [ "$members" = "$usersA" ] &&
	! jget dirA.json "[u['uid'] for u in j['users']]" | tr -d '[],' | tr ' ' '\n' | grep -qx "$gid"
ok_if $? "group devs: a gid no user has, every vm-01 user a member" "gid=$gid members=$members"
all_valid=0
for n in $usersA; do valid_username "$n" || all_valid=1; done
ok_if $all_valid "every directory name is a valid POSIX name"

api_auth GET /v1/host/directory "$CREDB"
expect 200 "vm-02 reads its directory"
usersB=$(jget "$WORK/body" "' '.join(sorted(u['name'] for u in j['users']))")
[ "$(jget "$WORK/body" host)" = vm-02 ] && [ "$usersB" = bob ]
ok_if $? "vm-02's directory holds bob only: host B never sees host A's users" "$usersB"
api_auth GET /v1/host/users/alice "$CREDB"
expect 404 "vm-02 asks for alice (allowed on vm-01 only)"
api_auth GET /v1/host/users/bob "$CREDA"
expect 404 "vm-01 asks for bob (allowed on vm-02 only)"

api_auth GET /v1/host/directory "$CREDA" -H "If-None-Match: $ETAG_A"
[ "$HTTP_CODE" = 304 ] && [ ! -s "$WORK/body" ] && [ "$(header ETag)" = "$ETAG_A" ]
ok_if $? "If-None-Match with the directory's ETag -> 304, empty body" "$(http_desc)" "ETag $ETAG_A"
api_auth GET /v1/host/directory "$CREDA" -H 'If-None-Match: "0000"'
expect 200 "If-None-Match with another ETag"
[[ $ETAG_A =~ ^\"[0-9a-f]{32}\"$ ]]
ok_if $? "the ETag is a quoted hash ($ETAG_A)"

api_auth GET /v1/host/users/alice "$CREDA"
expect 200 "GET /v1/host/users/alice on vm-01"
[ "$(jget "$WORK/body" "[u['name'] for u in j['users']]")" = '["alice"]' ] &&
	[ "$(jget "$WORK/body" "j['users'][0]['uid']")" = "${UIDOF[alice@example.com]}" ]
ok_if $? "it holds alice only, with her uid" "$(head -c 600 "$WORK/body")"
api_auth GET /v1/host/users/nosuchuser "$CREDA"
expect 404 "an unknown user"
api_auth GET /v1/host/users/Bad%21Name "$CREDA"
[ "$HTTP_CODE" = 400 ] || [ "$HTTP_CODE" = 404 ]
ok_if $? "an invalid user name -> 400/404 ($HTTP_CODE)"

api_auth GET /v1/host/directory "pglhost_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect 401 "a random host credential"
api GET /v1/host/directory
expect 401 "the directory without a credential"
api_auth GET /v1/host/directory "${TOK[alice@example.com]}"
expect 401 "a user token as a host credential"
sign "$CREDA" alice.pub vm-01
expect 401 "a host credential as a user token"
api_auth GET /v1/host/directory "$ET2"
expect 401 "a used enrollment token as a host credential"

api_auth POST /v1/certs/host "$CREDA" --data-binary "{\"host_key\": \"$(cat hostA.pub)\"}"
expect 200 "vm-01 renews its host certificate with the enrolled key"
jget "$WORK/body" host_certificate >hostA-cert2.pub
L=$(ssh-keygen -L -f hostA-cert2.pub 2>&1)
echo "$L" | grep -q 'host certificate' &&
	echo "$L" | sed -n '/Principals:/,/Critical Options:/p' | grep -qx '[[:space:]]*vm-01' &&
	[ "$(cert_field hostA-cert2.pub Serial)" != "$(cert_field hostA-cert.pub Serial)" ]
ok_if $? "ssh-keygen -L: a new host certificate, principals include vm-01" "$L"
valid=$(cert_field hostA-cert2.pub Valid)
from=$(epoch_of "$(echo "$valid" | awk '{print $2}')")
to=$(epoch_of "$(echo "$valid" | awk '{print $4}')")
[ $((to - from)) -eq $((2592000 + 60)) ]
ok_if $? "host certificate valid for host_cert_ttl (+60 s backdating)" "Valid: $valid"
api_auth POST /v1/certs/host "$CREDA" --data-binary "{\"host_key\": \"$(cat hostC.pub)\"}"
expect 403 "renewal with another key"
api_auth POST /v1/certs/host "$CREDA" --data-binary '{"host_key": 5}'
expect 400 "renewal with a malformed body"
api_auth GET /v1/certs/host "$CREDA"
expect 405 "GET on POST /v1/certs/host"

run_signer host revoke -c "$SVC_CONF" vm-02
ok_if "$RC" "host revoke vm-02" "$(cat "$WORK/.err")"
api_auth GET /v1/host/directory "$CREDB"
expect 401 "vm-02's credential after host revoke"
api_auth POST /v1/certs/host "$CREDB" --data-binary "{\"host_key\": \"$(cat hostB.pub)\"}"
expect 401 "vm-02 renewing after host revoke"
api_auth GET /v1/host/directory "$CREDA"
expect 200 "vm-01 is not affected"
run_signer host revoke -c "$SVC_CONF" no-such-host
ok_if "$([ "$RC" -ne 0 ]; echo $?)" "host revoke of an unknown host fails"

run_signer host add -c "$SVC_CONF" vm-03
ET3=$(cat "$WORK/.out")
pids=()
for i in 1 2 3 4 5 6; do
	curl -sS --max-time 30 --cacert "$SVC_CACERT" -o "enroll-$i.json" -w '%{http_code}\n' \
		-H "Authorization: Bearer $ET3" --data-binary "{\"host_key\": \"$(cat hostC.pub)\"}" \
		"$SVC_URL/v1/hosts/enroll" >"enroll-$i.code" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"       # not a bare wait: the signer is a child too
codes=$(cat enroll-?.code | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
ok_if "$([ "$codes" = "200x1 401x5 " ]; echo $?)" "six concurrent enrollments with one token: exactly one succeeds ($codes)"
CREDC=$(for i in 1 2 3 4 5 6; do [ "$(cat "enroll-$i.code")" = 200 ] && jget "enroll-$i.json" credential; done)
api_auth GET /v1/host/directory "$CREDC"
expect 200 "vm-03's credential works"
run_signer host add -c "$SVC_CONF" vm-03
api_auth GET /v1/host/directory "$CREDC"
expect 401 "host add again (re-enrollment) retires vm-03's old credential"

# ======================================================= policy reload

sign_ok carol@example.com other vm-01 c-carol
ok_if $? "carol signs for vm-01"
api_auth GET /v1/host/directory "$CREDA"
E1=$(header ETag)
[[ " $(jget "$WORK/body" "' '.join(u['name'] for u in j['users'])") " == *" carol "* ]]
ok_if $? "carol is in vm-01's directory"

policy_main without-carol
svc_reload
ok_if $? "SIGHUP with carol's grant removed: policy reloaded" "$(tail -n 5 "$SVC_LOG")"
sign "${TOK[carol@example.com]}" other.pub vm-01
expect 403 "carol signs for vm-01 after the reload"
api_auth GET /v1/host/directory "$CREDA" -H "If-None-Match: $E1"
E2=$(header ETag)
[ "$HTTP_CODE" = 200 ] && [ "$E2" != "$E1" ] &&
	[[ " $(jget "$WORK/body" "' '.join(u['name'] for u in j['users'])") " != *" carol "* ]] &&
	[[ " $(jget "$WORK/body" "' '.join(u['name'] for u in j['users'])") " == *" alice "* ]]
ok_if $? "vm-01's directory drops carol, keeps alice; the ETag changes (old one -> 200)" "$(http_desc)" "E1=$E1 E2=$E2"

policy_main without-carol with-dana
svc_reload
ok_if $? "SIGHUP with a new user dana (granted vm-01): reloaded"
api_auth GET /v1/host/users/nosuchuser "$CREDA"
expect 404 "vm-01 asks for an unknown user"
got=$(db "SELECT count(*) FROM identities WHERE identity = 'dana@example.com'")
ok_if "$([ "$got" = 0 ]; echo $?)" "the rejected (404) user lookup assigned no username or uid (dana has none yet)" \
	"identities: $(db "SELECT identity, username, uid FROM identities WHERE identity = 'dana@example.com'")"
# A name exists once assigned (her first sign, or a directory read).
api_auth GET /v1/host/directory "$CREDA"
api_auth GET /v1/host/users/dana "$CREDA"
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" "j['users'][0]['name']")" = dana ]
ok_if $? "vm-01 finds dana once the policy has her and her name is assigned" "$(http_desc)"
cp "$D/policy.conf" policy.good
echo 'users = ( { identity = "broken@example.com"; roles = [ ' >"$D/policy.conf"
svc_reload
ok_if "$([ $? -eq 1 ]; echo $?)" "SIGHUP with a syntax error: the reload is refused" "$(tail -n 5 "$SVC_LOG")"
line=$(grep 'policy reload failed' "$SVC_LOG" | tail -n 1)
[[ $line == *"keeping the current policy"* && $line == *policy.conf* ]]
ok_if $? "the signer logs why (stderr): $line"
sign_ok alice@example.com alice vm-01 c-after-broken
ok_if $? "alice still signs with the old policy"
sign "${TOK[carol@example.com]}" other.pub vm-01
expect 403 "carol is still refused (the old policy is the reloaded one, not the first)"
policy_main
sed -i 's/roles = \[ "ops", "c" \]; name = "Alice Example";/roles = [ "ops", "nosuchrole" ]; name = "Alice Example";/' "$D/policy.conf"
grep -q nosuchrole "$D/policy.conf"
svc_reload
ok_if "$([ $? -eq 1 ]; echo $?)" "SIGHUP with a policy naming an unknown role: refused" "$(tail -n 3 "$SVC_LOG")"
line=$(grep 'policy reload failed' "$SVC_LOG" | tail -n 1)
[[ $line == *nosuchrole* ]]
ok_if $? "the log names the problem: $line"
sign "${TOK[carol@example.com]}" other.pub vm-01
expect 403 "carol still refused: the refused policy (which granted her) is not used"
cp policy.good "$D/policy.conf"
svc_reload
ok_if $? "SIGHUP with the good policy again: reloaded"

# ======================================================= revocation

sign_ok alice@example.com alice vm-01 r1 && sign_ok alice@example.com alice vm-01 r2 &&
	sign_ok alice@example.com alice vm-01 r3 && sign_ok bob@example.com other vm-02 rb
ok_if $? "three certificates for alice, one for bob"
R1=$(jget r1.json serial)
K2=$(jget r2.json key_id)

api GET /v1/krl
KE0=$(header ETag)
cp "$WORK/body" krl0
[ "$HTTP_CODE" = 200 ] && [ -n "$KE0" ] && [ "$(header Content-Type)" = application/octet-stream ]
ok_if $? "GET /v1/krl -> 200, octet-stream, ETag $KE0" "$(http_desc)"
ssh-keygen -Q -f krl0 r1 >/dev/null 2>&1
ok_if $? "ssh-keygen -Q: nothing revoked yet" "$(ssh-keygen -Q -f krl0 r1 2>&1)"
api GET /v1/krl -H "If-None-Match: $KE0"
ok_if "$([ "$HTTP_CODE" = 304 ]; echo $?)" "GET /v1/krl with If-None-Match -> 304 ($HTTP_CODE)"

# krl_check NAME: fetch the KRL (ETag must change), then REVOKED=..., OK=...
krl_fetch() {
	api GET /v1/krl -H "If-None-Match: $KE0"
	cp "$WORK/body" krl
	KE1=$(header ETag)
	[ "$HTTP_CODE" = 200 ] && [ -n "$KE1" ] && [ "$KE1" != "$KE0" ]
	ok_if $? "after $1 the KRL's ETag changes ($KE0 -> $KE1)" "$(http_desc)"
	KE0=$KE1
}
revoked() { ssh-keygen -Q -f krl "$1" 2>&1 | grep -q ': REVOKED$'; }
not_revoked() { ssh-keygen -Q -f krl "$1" 2>&1 | grep -q ': ok$'; }

run_signer revoke -c "$SVC_CONF" --serial "$R1"
ok_if "$RC" "revoke --serial $R1" "$(cat "$WORK/.err")"
krl_fetch "revoke --serial"
revoked r1 && not_revoked r2 && not_revoked r3
ok_if $? "ssh-keygen -Q: r1 REVOKED, r2 and r3 not" "$(ssh-keygen -Q -f krl r1 r2 r3 2>&1)"

run_signer revoke -c "$SVC_CONF" --key-id "$K2"
ok_if "$RC" "revoke --key-id $K2" "$(cat "$WORK/.err")"
krl_fetch "revoke --key-id"
revoked r1 && revoked r2 && not_revoked r3 && not_revoked rb
ok_if $? "ssh-keygen -Q: r2 now REVOKED too, r3 and bob's not" "$(ssh-keygen -Q -f krl r1 r2 r3 rb 2>&1)"

run_signer revoke -c "$SVC_CONF" --identity bob@example.com
ok_if "$RC" "revoke --identity bob@example.com" "$(cat "$WORK/.err")"
krl_fetch "revoke --identity"
revoked rb && not_revoked r3
ok_if $? "ssh-keygen -Q: bob's certificate REVOKED, alice's r3 not" "$(ssh-keygen -Q -f krl r3 rb 2>&1)"
run_signer revoke -c "$SVC_CONF" --identity CAROL@Example.COM
ok_if "$RC" "revoke --identity CAROL@Example.COM" "$(cat "$WORK/.err")"
krl_fetch "revoke --identity CAROL@Example.COM"
revoked c-carol && not_revoked r3
ok_if $? "ssh-keygen -Q: carol's certificate REVOKED (identities are not case-sensitive)" "$(ssh-keygen -Q -f krl c-carol 2>&1)"
run_signer revoke -c "$SVC_CONF" --serial 0
ok_if "$([ "$RC" -ne 0 ]; echo $?)" "revoke --serial 0 is refused"

api_auth GET /v1/host/directory "$CREDA"
[ "$(jget "$WORK/body" krl_version)" = 4 ]
ok_if $? "the directory's krl_version counts the revocations (4)" "$(jget "$WORK/body" krl_version)"

# ======================================================= metrics

api GET /metrics
cp "$WORK/body" metrics.txt
[ "$HTTP_CODE" = 200 ] && [[ $(header Content-Type) == text/plain* ]]
ok_if $? "GET /metrics -> 200 text/plain" "$(http_desc)"
grep -q '^# TYPE pgl_certificates_issued_total counter$' metrics.txt &&
	grep -q '^# HELP pgl_certificates_issued_total ' metrics.txt
ok_if $? "pgl_certificates_issued_total has HELP and TYPE counter"
got=$(sed -n 's/^pgl_certificates_issued_total{type="user"} //p' metrics.txt)
ok_if "$([ "$got" = "$N_ISSUED" ]; echo $?)" "pgl_certificates_issued_total{type=\"user\"} = $N_ISSUED (the user certificates issued)" "got '$got'"
bad=$("$PY" - metrics.txt <<'EOF'
import re, sys
bad = 0
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
        continue
    if not re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? [0-9.e+-]+', line):
        print(line)
        bad += 1
sys.exit(1 if bad else 0)
EOF
)
ok_if $? "every metrics line is Prometheus text" "$bad"
got=$(sed -n 's/^pgl_policy_reloads_total{result="error"} //p' metrics.txt)
ok_if "$([ "$got" = 2 ]; echo $?)" "pgl_policy_reloads_total{result=\"error\"} = 2" "got '$got'"

# ======================================================= restart

svc_stop
ok_if $? "SIGTERM: the signer exits 0 (no sanitizer report)" "exit status $SVC_RC" "$(tail -n 30 "$SVC_LOG")"
svc_start
ok_if $? "serve starts again on the same state"
same=0
for id in "${IDS_NAMES[@]}"; do
	if ! sign_ok "$id" other vm-01 c-again; then
		same=1
		continue
	fi
	if [ "$(jget c-again.json username)" != "${UNAME[$id]}" ] ||
		[ "$(jget c-again.json uid)" != "${UIDOF[$id]}" ]; then
		same=1
		diag "$id: was ${UNAME[$id]} (${UIDOF[$id]}), now $(jget c-again.json username) ($(jget c-again.json uid))"
	fi
done
ok_if $same "after a restart every identity keeps its username and uid"
api_auth GET /v1/host/users/alice "$CREDA"
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" "j['users'][0]['uid']")" = "${UIDOF[alice@example.com]}" ]
ok_if $? "the host credential still works after the restart, alice's uid unchanged" "$(http_desc)"
api GET /metrics
got=$(sed -n 's/^pgl_certificates_issued_total{type="user"} //p' "$WORK/body")
ok_if "$([ "$got" = "${#IDS_NAMES[@]}" ]; echo $?)" "after the restart the counter counts this run's ${#IDS_NAMES[@]} certificates" "got '$got'"

# ======================================================= rate limit

svc_stop
ok_if $? "SIGTERM again: exit 0" "exit status $SVC_RC"
svc_config "$SVC_CONF" rate_limit=6 rate_burst=3
svc_start
ok_if $? "serve with rate_limit = 6, rate_burst = 3"
codes=
for i in 1 2 3 4; do
	sign "${TOK[alice@example.com]}" alice.pub vm-01
	codes+="$HTTP_CODE "
	[ "$HTTP_CODE" = 200 ] && N_ISSUED=$((N_ISSUED + 1))
done
retry=$(header Retry-After)
[ "$codes" = "200 200 200 429 " ]
ok_if $? "four quick requests: three pass (the burst), the fourth -> 429" "statuses: $codes"
[[ $retry =~ ^[0-9]+$ ]] && [ "$retry" -ge 1 ] && [ "$retry" -le 60 ]
ok_if $? "the 429 carries Retry-After: $retry" "$(cat "$WORK/headers")"
[ -n "$(jget "$WORK/body" error)" ]
ok_if $? "the 429 body is a JSON error" "$(cat "$WORK/body")"
sign "${TOK[alice@other.org]}" other.pub vm-01
expect 200 "another user's token is not limited by alice's"
codes=
for i in 1 2 3; do
	sign "${TOK[$LONG_A]}" other.pub vm-01
	codes+="$HTTP_CODE "
done
sign "${TOK[$LONG_B]}" other.pub vm-01
codes+="$HTTP_CODE"
ok_if "$([ "$codes" = "200 200 200 200" ]; echo $?)" \
	"two long identities alike in their first 70 characters have separate limits ($codes)" \
	"A=$LONG_A" "B=$LONG_B"
api GET /metrics
got=$(sed -n 's/^pgl_rate_limited_total //p' "$WORK/body")
ok_if "$([ "$got" -ge 1 ]; echo $?)" "pgl_rate_limited_total counts the 429s ($got)" "got '$got'"

# ======================================================= the end

svc_stop
ok_if $? "the signer exits 0 at the end (no sanitizer report)" "exit status $SVC_RC" "$(tail -n 40 "$SVC_LOG")"
if svc_sanitizer_report; then
	diag "sanitizer output in the signer's log:"
	diag_file "$SVC_LOG" 20000
fi
bad=$("$PY" - "$D/audit.log" <<'EOF'
import json, sys
bad = []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    try:
        j = json.loads(line)
        assert j["result"] in ("allowed", "denied") and j["action"] and j["time"]
    except Exception as e:
        bad.append("%d: %r" % (n, line[:200]))
print("\n".join(bad[:5]))
sys.exit(1 if bad else 0)
EOF
)
ok_if $? "every line of audit.log is a JSON object with time, action, result" "$bad"
allowed=$("$PY" -c '
import json, sys
print(sum(1 for l in open(sys.argv[1]) if (lambda j: j["action"] == "sign" and j["result"] == "allowed")(json.loads(l))))' "$D/audit.log")
rows=$(db 'SELECT count(*) FROM certs WHERE type = 1')
ok_if "$([ "$allowed" = "$rows" ]; echo $?)" "audit.log's allowed signs ($allowed) = user certificates in the database ($rows)"
mode=$(stat -c %a "$D/audit.log" "$D/state/signer.db" | tr '\n' ' ')
ok_if "$([ "$mode" = "600 600 " ]; echo $?)" "audit.log and signer.db are 0600 ($mode)"

tap_done
