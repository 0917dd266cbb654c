#!/usr/bin/env bash
# GET /v1/me (who a token is, the username, the granted resources) and
# certificates for resources behind a bastion (`via`), over real HTTPS in
# a private network namespace.  TAP on stdout.
#
#   PGL_SIGNER   path to pgl-signer (set by meson)

. "$(dirname "$0")/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin

cd "$WORK" || exit 1
D=$WORK/signer
declare -A TOK

ok_if() {
	local st=$1 d=$2
	shift 2
	result "$st" "$d"
	if [ "$st" -ne 0 ] && [ $# -gt 0 ]; then diag "$@"; fi
	return "$st"
}

svc_init "$D" || { echo "Bail out! pgl-signer init failed"; exit 1; }
svc_config "$SVC_CONF"
pol_new
pol_resource vm-01 127.0.0.1 2222 "web web1"
pol_resource vm-02
pol_resource bastion 127.0.0.2 22 jump
pol_resource db 10.0.0.5 5022
POL_RES[${#POL_RES[@]} - 1]='{ name = "db"; address = "10.0.0.5"; port = 5022; via = "jump"; }'
pol_resource hidden 10.0.0.6
POL_RES[${#POL_RES[@]} - 1]='{ name = "hidden"; address = "10.0.0.6"; via = "bastion"; }'
pol_role ops "vm-01 db bastion" 'ttl_max = 600;'
pol_role nobastion "hidden"
pol_role other "vm-02"
pol_user alice@example.com "ops"
pol_user carol@example.com "nobastion"
pol_user bob@example.com "other"
pol_user nogrant@example.com ""
pol_write "$D/policy.conf"
run_signer check -c "$SVC_CONF"
ok_if "$RC" "check accepts a policy with a bastion (via an alias)" "$(cat "$WORK/.err")"

for id in alice@example.com bob@example.com carol@example.com nogrant@example.com stranger@example.com; do
	run_signer token add -c "$SVC_CONF" -- "$id"
	TOK[$id]=$(cat "$WORK/.out")
done
genkey k ed25519

svc_start || { diag "signer did not start"; tap_done; }

# ---- authentication

api GET /v1/me
expect 401 "GET /v1/me without a token"
api_auth GET /v1/me pgl_notatoken0000000000000000000000000000000000
expect 401 "GET /v1/me with an unknown token"
api_auth POST /v1/me "${TOK[alice@example.com]}" -d '{}'
expect 405 "POST /v1/me"

# ---- alice: grants, aliases, via; the username assigned on first use

[ -z "$(db "SELECT username FROM identities WHERE identity = 'alice@example.com'" 2>/dev/null)" ]
ok_if $? "alice has no username before her first request"
api_auth GET /v1/me "${TOK[alice@example.com]}"
expect 200 "GET /v1/me with alice's token"
cp "$WORK/body" me1.json
[ "$(jget me1.json identity)" = alice@example.com ] &&
	[ "$(jget me1.json username)" = alice ] &&
	[ "$(jget me1.json uid)" -ge 100000 ]
ok_if $? "identity alice@example.com, username alice assigned with a uid in range" "$(cat me1.json)"
[ "$(jget me1.json "' '.join(r['name'] for r in j['resources'])")" = "vm-01 bastion db" ]
ok_if $? "resources: exactly the granted ones, in policy order (vm-02 is not)" "$(cat me1.json)"
[ "$(jget me1.json "j['resources'][0]")" = '{"name": "vm-01", "aliases": ["web", "web1"], "address": "127.0.0.1", "port": 2222, "via": null, "ttl_max": 600}' ]
ok_if $? "a resource: name, aliases, address, port, via null, ttl_max" "$(jget me1.json "j['resources'][0]")"
[ "$(jget me1.json "j['resources'][2]['via']")" = bastion ] &&
	[ "$(jget me1.json "j['resources'][2]['port']")" = 5022 ]
ok_if $? "via names the bastion's canonical name (the policy said its alias)" "$(cat me1.json)"
[ -n "$(header Date)" ]
ok_if $? "the response carries a Date header (the client's clock check)"
api_auth GET /v1/me "${TOK[alice@example.com]}"
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" username)" = alice ] &&
	[ "$(jget "$WORK/body" uid)" = "$(jget me1.json uid)" ]
ok_if $? "a second GET /v1/me: same username and uid" "$(http_desc)"
sign "${TOK[alice@example.com]}" k.pub web
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" username)" = alice ] &&
	[ "$(jget "$WORK/body" uid)" = "$(jget me1.json uid)" ]
ok_if $? "signing then gives the same username and uid" "$(http_desc)"

# ---- no grants, unknown identity

api_auth GET /v1/me "${TOK[nogrant@example.com]}"
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" username)" = null ] &&
	[ "$(jget "$WORK/body" resources)" = "[]" ]
ok_if $? "an identity without grants: username null, no resources" "$(http_desc)"
[ -z "$(db "SELECT username FROM identities WHERE identity = 'nogrant@example.com'" 2>/dev/null)" ]
ok_if $? "... and no username or uid is spent on it"
api_auth GET /v1/me "${TOK[stranger@example.com]}"
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" identity)" = stranger@example.com ] &&
	[ "$(jget "$WORK/body" resources)" = "[]" ]
ok_if $? "an identity the policy does not know: 200, no resources" "$(http_desc)"
api_auth GET /v1/me "${TOK[bob@example.com]}"
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" username)" = bob ] &&
	[ "$(jget "$WORK/body" "' '.join(r['name'] for r in j['resources'])")" = vm-02 ]
ok_if $? "bob sees only vm-02" "$(http_desc)"

# ---- bastions

sign "${TOK[alice@example.com]}" k.pub db
cp "$WORK/body" db.json
jget db.json certificate >db-cert.pub 2>/dev/null
P=$(ssh-keygen -L -f db-cert.pub 2>/dev/null | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | tr -d ' \t' | tr '\n' ' ')
[ "$HTTP_CODE" = 200 ] && [ "$P" = "alice@db alice@bastion " ]
ok_if $? "a certificate for db (via jump = bastion) carries alice@db and alice@bastion" "$(http_desc)" "principals: $P"
[ "$(jget db.json "j['resources'][0]['name']")" = db ] &&
	[ "$(jget db.json "j['resources'][0]['via']")" = bastion ] &&
	[ "$(jget db.json "j['resources'][1]['name']")" = bastion ] &&
	[ "$(jget db.json "j['resources'][1]['address']")" = 127.0.0.2 ] &&
	[ "$(jget db.json "j['resources'][1]['principal']")" = alice@bastion ]
ok_if $? "the response lists db first (with via), then the bastion with its address" "$(cat db.json)"
[[ $(jget db.json key_id) == pgl:alice@example.com:db,bastion:* ]]
ok_if $? "the key ID names both hops" "$(jget db.json key_id)"
sign "${TOK[alice@example.com]}" k.pub db '"resources_unused": 1'
expect 400 "an unknown field is still refused"
api_auth POST /v1/certs/user "${TOK[alice@example.com]}" -H 'Content-Type: application/json' \
	--data-binary "{\"public_key\": \"$(cat k.pub)\", \"resources\": [\"db\", \"jump\"]}"
P=$(jget "$WORK/body" "len(j['resources'])" 2>/dev/null)
[ "$HTTP_CODE" = 200 ] && [ "$P" = 2 ]
ok_if $? "db and its bastion asked together: one entry each, not twice" "$(http_desc)"
sign "${TOK[carol@example.com]}" k.pub hidden
[ "$HTTP_CODE" = 403 ] && [[ $(jget "$WORK/body" error) == *bastion* ]]
ok_if $? "carol is granted hidden but not its bastion: 403 naming the bastion" "$(http_desc)"
sign "${TOK[alice@example.com]}" k.pub vm-01
[ "$HTTP_CODE" = 200 ] && [ "$(jget "$WORK/body" "len(j['resources'])")" = 1 ] &&
	[ "$(jget "$WORK/body" "'via' in j['resources'][0]")" = false ]
ok_if $? "a resource without a bastion: one principal, no via" "$(http_desc)"

svc_stop
ok_if $? "the signer stops cleanly" "$(tail -n 20 "$SVC_LOG")"
tap_done
