#!/usr/bin/env bash
# pgl-host(8) end to end: a real `pgl-signer serve` over HTTPS in private
# network and mount namespaces, and pgl-host with --root pointing at a
# scratch tree (etc/, var/lib/pgl, ...): enroll, sync, resolve, status,
# host certificate renewal, and the systemd units.  TAP.  Nothing outside
# $WORK is written: the namespaces hide /run and the real /etc is only
# read (copies of passwd and group).
#
#   PGL_SIGNER     pgl-signer        PGL_HOST   pgl-host
#   PGL_DUMPCACHE  test/host/dumpcache  PGL_DIST  the dist/ directory
#   PH_WRAP        optional: run pgl-host under it (e.g. "valgrind -q")

. "$(dirname "$0")/../service/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin

for v in PGL_HOST PGL_DUMPCACHE; do
	[ -x "${!v:-}" ] || { echo "Bail out! $v is not set or not executable"; exit 1; }
done
H=$(realpath -- "$PGL_HOST")
DUMP=$(realpath -- "$PGL_DUMPCACHE")
cd "$WORK" || exit 1
# A private /run: the resolver socket, and the directory sshd -T wants.
mount -t tmpfs tmpfs /run 2>/dev/null && mkdir -p /run/sshd

D=$WORK/signer
R=$WORK/root
SOCK=$WORK/resolve.sock
RES_PID=

ok_if() {
	local st=$1 d=$2
	shift 2
	result "$st" "$d"
	if [ "$st" -ne 0 ] && [ $# -gt 0 ]; then diag "$@"; fi
	return "$st"
}

# ph ARGS...: pgl-host --root ROOT ARGS; RC, $WORK/ph.out, $WORK/ph.err
PH_ROOT=$R
ph() {
	timeout -k 5 60 ${PH_WRAP:-} "$H" --root "$PH_ROOT" "$@" </dev/null \
		>"$WORK/ph.out" 2>"$WORK/ph.err"
	RC=$?
}
ph_desc() {
	echo "exit $RC"
	echo "stdout: $(head -c 2000 "$WORK/ph.out")"
	echo "stderr: $(head -c 2000 "$WORK/ph.err")"
}

mode_of() { stat -c '%a' "$1" 2>/dev/null; }
sum_of() { sha256sum "$1" 2>/dev/null | awk '{print $1}'; }
ino_of() { stat -c '%i' "$1" 2>/dev/null; }

# new_root DIR: a host tree: host key, passwd/group copies, nsswitch.conf
# without pgl, sshd_config including the snippet directory, PAM files
# loading pam_pgl, sudoers.d.
new_root() {
	local r=$1
	mkdir -p "$r/etc/ssh/sshd_config.d" "$r/etc/pam.d" "$r/var/lib" "$r/run"
	install -d -m 0750 "$r/etc/sudoers.d"
	ssh-keygen -q -t ed25519 -N '' -C host -f "$r/etc/ssh/ssh_host_ed25519_key" </dev/null >/dev/null
	cp /etc/passwd /etc/group "$r/etc/"
	cat >"$r/etc/nsswitch.conf" <<-'EOF'
		passwd:         files systemd
		group:          files systemd
		shadow:         files
		gshadow:        files

		hosts:          files dns
	EOF
	cat >"$r/etc/ssh/sshd_config" <<-EOF
		Include $r/etc/ssh/sshd_config.d/*.conf
		HostKey $r/etc/ssh/ssh_host_ed25519_key
		KbdInteractiveAuthentication no
	EOF
	echo "@include common-account" >"$r/etc/pam.d/sshd"
	echo "@include common-session" >>"$r/etc/pam.d/sshd"
	echo "account required pam_pgl.so" >"$r/etc/pam.d/common-account"
	echo "session required pam_pgl.so" >"$r/etc/pam.d/common-session"
}

# files_of DIR: every file under DIR with its mode and hash
files_of() {
	(cd "$1" && find . -type f -printf '%p %m\n' | sort && find . -type f -exec sha256sum {} + | sort)
}

# metric NAME: a counter from the signer's /metrics
metric() {
	curl -sS --max-time 10 --cacert "$SVC_CACERT" "$SVC_URL/metrics" |
		awk -v n="$1" '$1 == n {print $2}'
}

# ask NAME...: one resolver request per name (python3, in parallel when
# several), prints "name answer seconds" lines; "-" when no answer came
# within the 1.5 s deadline.
ask() {
	"$PY" - "$SOCK" "$@" <<'EOF'
import socket, sys, time
from concurrent.futures import ThreadPoolExecutor
path = sys.argv[1]
def one(name):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1.5)
    ans = "-"
    try:
        s.connect(path)
        s.sendall(name.encode("latin-1", "replace") + b"\n")
        buf = b""
        while b"\n" not in buf:
            d = s.recv(64)
            if not d:
                break
            buf += d
        if b"\n" in buf:
            ans = buf.split(b"\n")[0].decode()
    except OSError:
        pass
    finally:
        s.close()
    shown = name.encode("unicode_escape").decode()[:40] or "(empty)"
    return "%s %s %.3f" % (shown, ans, time.monotonic() - t0)
with ThreadPoolExecutor(max_workers=50) as ex:
    for line in ex.map(one, sys.argv[2:]):
        print(line)
EOF
}

resolver_start() {
	"$H" --root "$R" resolve --listen "$SOCK" 2>>"$WORK/resolver.log" &
	RES_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		sleep 0.05
	done
	return 1
}

resolver_stop() {
	[ -n "$RES_PID" ] || return 0
	kill "$RES_PID" 2>/dev/null
	wait "$RES_PID" 2>/dev/null
	RES_PID=
}
trap 'resolver_stop; svc_kill; tap_cleanup' EXIT

# ================================================================ setup

svc_init "$D" || { diag "init failed"; diag_file "$WORK/.err"; tap_done; }
svc_config "$SVC_CONF"
# policy [without-alice] [with-carol]
policy() {
	pol_new
	pol_resource vm-01 127.0.0.1
	pol_resource vm-02
	pol_role ops "vm-01" 'sudo = "all"; groups = [ "deploy" ];'
	pol_role dev "vm-01" 'sudo = [ "/usr/bin/systemctl" ]; groups = [ "deploy" ];'
	pol_role other "vm-02"
	if [[ " $* " == *" without-alice "* ]]; then
		pol_user alice@example.com ""
	else
		pol_user alice@example.com "ops" 'name = "Alice Example";'
	fi
	pol_user bob@example.com "dev"
	if [[ " $* " == *" with-carol "* ]]; then
		pol_user carol@example.com "ops"
	else
		pol_user carol@example.com "other"
	fi
	pol_user dave@example.com "other"
	pol_write "$D/policy.conf"
}
policy
run_signer check -c "$SVC_CONF"
ok_if "$RC" "signer config and policy check" "$(cat "$WORK/.err")"
run_signer host add -c "$SVC_CONF" vm-01
ET=$(cat "$WORK/.out")
run_signer token add -c "$SVC_CONF" carol@example.com
TOK_CAROL=$(cat "$WORK/.out")
svc_start || tap_done

new_root "$R"
BEFORE=$(files_of "$R")

# ================================================================ enroll

ph enroll --signer "$SVC_URL" --token "$ET"
[ "$RC" -ne 0 ] && grep -q 'not trusted' "$WORK/ph.err" && [ "$(files_of "$R")" = "$BEFORE" ]
ok_if $? "enroll without a pin against the self-signed signer is refused, nothing written" "$(ph_desc)"

ph enroll --signer "$SVC_URL" --token "$ET" --pin 'sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='
[ "$RC" -ne 0 ] && grep -q 'does not match the pin' "$WORK/ph.err" && [ "$(files_of "$R")" = "$BEFORE" ]
ok_if $? "enroll with a wrong pin is refused, nothing written" "$(ph_desc)"

ph enroll --signer "$SVC_URL" --token "$ET" --pin 'sha256//notapin'
[ "$RC" -ne 0 ] && grep -q 'pin' "$WORK/ph.err" && [ "$(files_of "$R")" = "$BEFORE" ]
ok_if $? "a malformed pin is refused before any request" "$(ph_desc)"

ph enroll --signer "http://127.0.0.1:$SVC_PORT" --token "$ET" --pin "$SVC_PIN"
[ "$RC" -ne 0 ] && [ "$(files_of "$R")" = "$BEFORE" ]
ok_if $? "an http:// signer URL is refused" "$(ph_desc)"

ph enroll --signer "$SVC_URL" --token "$ET" --pin "$SVC_PIN"
ok_if "$RC" "enroll with the token and the pin" "$(ph_desc)"
ENROLL_OUT=$(cat "$WORK/ph.out")
grep -q 'to do: add pgl after files on the passwd group shadow lines' "$WORK/ph.out"
ok_if $? "without --configure, enroll prints the nsswitch.conf change to make" "$ENROLL_OUT"

[ "$(mode_of "$R/var/lib/pgl/credential")" = 600 ] &&
	grep -q '^pglhost_' "$R/var/lib/pgl/credential"
ok_if $? "credential stored, mode 0600" "$(ls -l "$R/var/lib/pgl")"
grep -q '^host = "vm-01";' "$R/etc/pgl/host.conf" &&
	grep -q "^signer = \"$SVC_URL\";" "$R/etc/pgl/host.conf" &&
	grep -q "^pin = \"$SVC_PIN\";" "$R/etc/pgl/host.conf" &&
	! grep -q pglhost_ "$R/etc/pgl/host.conf" && [ "$(mode_of "$R/etc/pgl/host.conf")" = 644 ]
ok_if $? "host.conf: signer, pin, host; no credential; 0644" "$(cat "$R/etc/pgl/host.conf")"
[ "$(awk '{print $1, $2}' "$R/etc/ssh/pgl_user_ca.pub")" = "$(awk '{print $1, $2}' "$D/user_ca.pub")" ] &&
	[ "$(mode_of "$R/etc/ssh/pgl_user_ca.pub")" = 644 ]
ok_if $? "TrustedUserCAKeys file holds the signer's user CA key, 0644" "$(cat "$R/etc/ssh/pgl_user_ca.pub")"
CERT=$R/etc/ssh/ssh_host_ed25519_key-cert.pub
L=$(ssh-keygen -L -f "$CERT" 2>&1)
echo "$L" | grep -q 'host certificate' && echo "$L" | grep -qx ' *vm-01' &&
	[ "$(cert_field "$CERT" 'Signing CA' | awk '{print $2}')" = "$(fp "$D/host_ca.pub")" ] &&
	[ "$(cert_field "$CERT" 'Public key' | awk '{print $2}')" = "$(fp "$R/etc/ssh/ssh_host_ed25519_key.pub")" ] &&
	[ "$(mode_of "$CERT")" = 644 ]
ok_if $? "host certificate beside the host key: host cert for it, principal vm-01, by the host CA" "$L"
SERIAL0=$(cert_field "$CERT" Serial)
genkey probe ed25519
ssh-keygen -Q -f "$R/etc/ssh/pgl_revoked.krl" probe.pub >/dev/null 2>&1 &&
	[ "$(mode_of "$R/etc/ssh/pgl_revoked.krl")" = 644 ]
ok_if $? "KRL written and readable by ssh-keygen -Q" "$(ls -l "$R/etc/ssh")"
SN=$R/etc/ssh/sshd_config.d/pgl.conf
grep -qx 'TrustedUserCAKeys /etc/ssh/pgl_user_ca.pub' "$SN" &&
	grep -qx 'RevokedKeys /etc/ssh/pgl_revoked.krl' "$SN" &&
	grep -qx 'HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub' "$SN" &&
	grep -qE '^AuthorizedPrincipalsCommand /.*/lib/pgl/principals %u$' "$SN" &&
	grep -qx 'AuthorizedPrincipalsCommandUser nobody' "$SN" &&
	grep -qx 'UsePAM yes' "$SN" && grep -qx 'ExposeAuthInfo yes' "$SN"
ok_if $? "sshd_config.d/pgl.conf: CA keys, KRL, host certificate, principals command, PAM, ExposeAuthInfo" "$(cat "$SN")"
[ ! -e "$R/var/lib/pgl/cache" ] && ! ls "$R"/etc/ssh/*.tmp.* "$R"/var/lib/pgl/*.tmp.* >/dev/null 2>&1
ok_if $? "no temporary files left, no cache before the first sync"

R2=$WORK/root2
new_root "$R2"
B2=$(files_of "$R2")
PH_ROOT=$R2 ph enroll --signer "$SVC_URL" --token "$ET" --pin "$SVC_PIN"
[ "$RC" -ne 0 ] && grep -q '401' "$WORK/ph.err" && grep -qi 'used or expired' "$WORK/ph.err" &&
	[ "$(files_of "$R2")" = "$B2" ]
ok_if $? "a used enrollment token is refused with the signer's reason, nothing written" "$(ph_desc)"

# ================================================================ sync

ph sync
ok_if "$RC" "first sync" "$(ph_desc)"
"$DUMP" "$R/var/lib/pgl/cache" "$R/var/lib/pgl/shadow" >dump1 2>&1
now=$(date +%s)
alice=$(awk '$1 == "user" && $2 == "alice"' dump1)
bob=$(awk '$1 == "user" && $2 == "bob"' dump1)
deploy=$(awk '$1 == "group" && $2 == "deploy"' dump1)
auid=$(echo "$alice" | awk '{print $3}')
exp=$(echo "$alice" | awk '{print $5}')
grep -qx 'host vm-01' dump1 && grep -qx 'range 100000 199999' dump1 &&
	[ -n "$alice" ] && [ -n "$bob" ] && ! grep -q '^user carol' dump1 && ! grep -q '^user dave' dump1 &&
	[[ $alice == *" gecos=Alice Example home=/home/alice shell=/bin/bash principals=alice@vm-01 "* ]] &&
	[[ $alice == *" sudo=all" ]] && [[ $bob == *" sudo=/usr/bin/systemctl" ]] &&
	[ "$(echo "$alice" | awk '{print $4}')" = "$auid" ] &&
	[[ $deploy == *"members=alice,bob" || $deploy == *"members=bob,alice" ]] &&
	grep -q '^shadow alice \*$' dump1
ok_if $? "the cache holds vm-01's users (alice, bob; not carol, dave), their fields, self-group, group deploy, shadow" "$(cat dump1)"
[ "$exp" -ge $((now + 86400 - 120)) ] && [ "$exp" -le $((now + 86400 + 5)) ]
ok_if $? "entries expire after max_stale (default 86400 s)" "expire=$exp now=$now"
[ "$(mode_of "$R/var/lib/pgl/cache")" = 644 ] && [ "$(mode_of "$R/var/lib/pgl/shadow")" = 600 ]
ok_if $? "cache 0644, shadow 0600" "$(ls -l "$R/var/lib/pgl")"
grep -q '^result ok$' "$R/var/lib/pgl/sync-state"
ok_if $? "sync-state records success" "$(cat "$R/var/lib/pgl/sync-state")"

s1=$(sum_of "$R/var/lib/pgl/cache") i1=$(ino_of "$R/var/lib/pgl/cache")
k1=$(ino_of "$R/etc/ssh/pgl_revoked.krl") c1=$(ino_of "$R/etc/ssh/pgl_user_ca.pub")
ph sync
[ "$RC" -eq 0 ] && grep -q 'directory: unchanged (304)' "$WORK/ph.out" &&
	grep -q 'krl: unchanged (304)' "$WORK/ph.out" &&
	[ "$(sum_of "$R/var/lib/pgl/cache")" = "$s1" ] && [ "$(ino_of "$R/var/lib/pgl/cache")" = "$i1" ] &&
	[ "$(ino_of "$R/etc/ssh/pgl_revoked.krl")" = "$k1" ] && [ "$(ino_of "$R/etc/ssh/pgl_user_ca.pub")" = "$c1" ]
ok_if $? "a second sync gets 304 for directory and KRL and rewrites nothing" "$(ph_desc)"
[ "$(cert_field "$CERT" Serial)" = "$SERIAL0" ] && grep -q 'renewal in' "$WORK/ph.out"
ok_if $? "a fresh host certificate is not renewed" "$(ph_desc)"

# Two syncs at once: the second waits for the lock, then runs.
( timeout 60 "$H" --root "$R" sync >"$WORK/p1.out" 2>&1; echo $? >"$WORK/p1.rc" ) &
p1=$!
( timeout 60 "$H" --root "$R" sync >"$WORK/p2.out" 2>&1; echo $? >"$WORK/p2.rc" ) &
p2=$!
wait "$p1" "$p2"
[ "$(cat "$WORK/p1.rc")" = 0 ] && [ "$(cat "$WORK/p2.rc")" = 0 ]
ok_if $? "two concurrent syncs both succeed, one after the other (sync.lock)" "$(cat "$WORK/p1.out" "$WORK/p2.out")"

# A 304 still pushes expiries out once a quarter of max_stale has gone
# (here: max_stale raised, so the entries are "old").
sed -i 's/^max_stale = .*/max_stale = 200000;/' "$R/etc/pgl/host.conf"
ph sync
exp2=$("$DUMP" "$R/var/lib/pgl/cache" | awk '$1 == "user" && $2 == "bob" {print $5}')
[ "$RC" -eq 0 ] && grep -q 'unchanged (304), entry expiry refreshed' "$WORK/ph.out" &&
	[ "$exp2" -ge $(( $(date +%s) + 200000 - 120 )) ]
ok_if $? "an unchanged directory (304) refreshes entry expiry when due" "$(ph_desc)" "expire=$exp2"
sed -i 's/^max_stale = .*/max_stale = 86400;/' "$R/etc/pgl/host.conf"

# Drop-ins as pam_pgl writes them; a policy change takes alice away.
printf 'alice ALL=(ALL:ALL) ALL\n' >"$R/etc/sudoers.d/pgl-alice"
printf 'bob ALL=(root) /usr/bin/systemctl\n' >"$R/etc/sudoers.d/pgl-bob"
printf 'root ALL=(ALL) ALL\n' >"$R/etc/sudoers.d/local-admins"
chmod 0440 "$R"/etc/sudoers.d/*
policy without-alice
svc_reload
ok_if $? "SIGHUP: the signer reloads the policy without alice's grant"
ph sync
"$DUMP" "$R/var/lib/pgl/cache" >dump2 2>&1
[ "$RC" -eq 0 ] && ! grep -q '^user alice' dump2 && grep -q '^user bob' dump2
ok_if $? "after the grant is removed, sync drops alice from the cache and keeps bob" "$(ph_desc)" "$(cat dump2)"
[ ! -e "$R/etc/sudoers.d/pgl-alice" ] && [ -e "$R/etc/sudoers.d/pgl-bob" ] &&
	[ -e "$R/etc/sudoers.d/local-admins" ] && grep -q '1 sudoers drop-ins removed' "$WORK/ph.out"
ok_if $? "alice's sudoers drop-in is removed; bob's (grant unchanged) and other files stay" "$(ls -l "$R/etc/sudoers.d")"

# Signer down: the last good state stays.
s2=$(sum_of "$R/var/lib/pgl/cache")
svc_stop
ph sync
[ "$RC" -ne 0 ] && grep -q 'directory: .*kept the last good cache' "$WORK/ph.err" &&
	[ "$(sum_of "$R/var/lib/pgl/cache")" = "$s2" ] && [ -s "$R/etc/ssh/pgl_revoked.krl" ] &&
	grep -q '^result error: ' "$R/var/lib/pgl/sync-state"
ok_if $? "signer stopped: sync exits non-zero with a clear message and keeps the cache and KRL" "$(ph_desc)"
svc_start || tap_done

# Host certificate renewal: a certificate with less than a third left.
run_signer sign --ca "$D/host_ca" --key "$R/etc/ssh/ssh_host_ed25519_key.pub" --host \
	--principal vm-01 --key-id old --valid-from -172800 --valid-to +3600 --out "$CERT.new"
mv "$CERT.new" "$CERT"
old_serial=$(cert_field "$CERT" Serial)
ph sync
new_to=$(cert_field "$CERT" Valid | sed -n 's/.* to //p')
new_to_s=$(epoch_of "$new_to")
[ "$RC" -eq 0 ] && grep -q 'host certificate: renewed' "$WORK/ph.out" &&
	[ "$(cert_field "$CERT" Serial)" != "$old_serial" ] &&
	[ -n "$new_to_s" ] && [ "$new_to_s" -gt $(( $(date +%s) + 29 * 86400 )) ]
ok_if $? "a host certificate with less than 1/3 of its validity left is renewed on sync" "$(ph_desc)" "$(ssh-keygen -L -f "$CERT")"

# ================================================================ bad answers

# A fake signer (python3, HTTPS with its own pinned key) serves broken
# directories and KRLs: each is refused and the last good state stays.
mkdir -p fake
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=fake -keyout fake/key.pem -out fake/cert.pem >/dev/null 2>&1
FAKE_PIN=sha256//$(openssl x509 -in fake/cert.pem -pubkey -noout |
	openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
"$PY" - fake <<'PYEOF' >fake/port 2>fake/log &
import http.server, os, ssl, sys
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        p = os.path.join(d, "srv" + self.path.replace("/", "_"))
        if os.path.exists(p):
            body = open(p, "rb").read()
            self.send_response(200)
        else:
            body = b'{"error": "no such thing"}'
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PYEOF
FAKE_PID=$!
for _ in $(seq 50); do [ -s fake/port ] && break; sleep 0.1; done
sed -e "s#^signer = .*#signer = \"https://127.0.0.1:$(cat fake/port)\";#" \
	-e "s#^pin = .*#pin = \"$FAKE_PIN\";#" "$R/etc/pgl/host.conf" >"$R/etc/pgl/fake.conf"
UCA=$(cat "$D/user_ca.pub")
fake_dir() {
	printf '{"host":"%s","uid_range":[100000,199999],"users":[%s],"groups":[],"user_ca":["%s"],"krl_version":1}' \
		"$1" "$2" "$UCA" >fake/srv_v1_host_directory
}
fake_user() {
	printf '{"name":"%s","uid":%s,"gid":%s,"home":"/home/%s","shell":"/bin/sh","principals":["%s@vm-01"],"sudo":"none","groups":[]}' \
		"$1" "$2" "$2" "$1" "$1"
}
printf 'SSHKRL\n\0\0\0\0\2garbage' >fake/srv_v1_krl
good=$(sum_of "$R/var/lib/pgl/cache") krl0=$(sum_of "$R/etc/ssh/pgl_revoked.krl")
bad_ok=0
bad_case() {
	ph -c /etc/pgl/fake.conf sync
	if [ "$RC" -eq 0 ] || ! grep -q "directory: .*$1.*kept the last good cache" "$WORK/ph.err" ||
		[ "$(sum_of "$R/var/lib/pgl/cache")" != "$good" ]; then
		bad_ok=1
		diag "case '$1':" "$(ph_desc)"
	fi
}
echo 'not json' >fake/srv_v1_host_directory
bad_case 'not a JSON document'
fake_dir vm-02 "$(fake_user zed 100050)"
bad_case 'for host vm-02'
fake_dir vm-01 "$(fake_user zed 99)"
bad_case 'outside the range'
fake_dir vm-01 "$(fake_user zed 100050),$(fake_user carl 0)"
bad_case 'outside the range'
fake_dir vm-01 "$(fake_user Zed 100050)"
bad_case 'not a valid user name'
fake_dir vm-01 "$(fake_user zed 100050),$(fake_user zed 100051)"
bad_case 'appears twice'
fake_dir vm-01 "$(fake_user zed 100050 | sed 's#"/home/zed"#"home/zed"#')"
bad_case 'absolute paths'
fake_dir vm-01 "$(fake_user zed 100050 | sed 's#"groups":\[\]#"groups":["nogroup1"]#')"
bad_case 'not in the directory'
fake_dir vm-01 "$(fake_user zed 100050 | sed 's#"sudo":"none"#"sudo":["rm"]#')"
bad_case 'absolute paths'
ok_if $bad_ok "invalid directories (not JSON, other host, uid out of range or 0, bad name, duplicate, relative home, unknown group, relative sudo command) are refused; the cache stays"
grep -q 'krl: GET /v1/krl: not an OpenSSH KRL; kept the old one' "$WORK/ph.err" &&
	[ "$(sum_of "$R/etc/ssh/pgl_revoked.krl")" = "$krl0" ]
ok_if $? "a response that is not a KRL is refused; the KRL stays" "$(ph_desc)"
fake_dir vm-01 "$(fake_user zed 100050),$(fake_user root 100051)"
ph -c /etc/pgl/fake.conf sync
"$DUMP" "$R/var/lib/pgl/cache" >dumpf 2>&1
grep -q '^user zed 100050 ' dumpf && ! grep -q '^user root' dumpf &&
	grep -q 'colliding with local accounts left out' "$WORK/ph.out"
ok_if $? "a directory entry named like a local account (root) is left out, the others installed" "$(ph_desc)" "$(cat dumpf)"
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
ph sync
"$DUMP" "$R/var/lib/pgl/cache" >dumpr 2>&1
[ "$RC" -eq 0 ] && grep -q '^user bob ' dumpr && ! grep -q '^user zed ' dumpr
ok_if $? "the next sync from the real signer fetches the whole directory again" "$(ph_desc)"

# ================================================================ resolve

sed -i 's/^resolve_rate = .*/resolve_rate = 10;/' "$R/etc/pgl/host.conf"
resolver_start
ok_if $? "pgl-host resolve --listen serves a socket" "$(cat "$WORK/resolver.log")"

# carol: granted now, signs her first certificate, not yet synced.
policy without-alice with-carol
svc_reload
genkey carol ed25519
sign "$TOK_CAROL" carol.pub vm-01
[ "$HTTP_CODE" = 200 ]
ok_if $? "carol gets a certificate for vm-01 (her name is assigned)" "$(http_desc)"
out=$(ask carol)
"$DUMP" "$R/var/lib/pgl/cache" >dump3 2>&1
[[ $out == "carol ok "* ]] && grep -q '^user carol ' dump3 && grep -q '^user bob ' dump3 &&
	[[ $(awk '$1 == "user" && $2 == "carol"' dump3) == *"principals=carol@vm-01"*"sudo=all" ]]
ok_if $? "resolve: a granted user not yet synced is fetched, merged (bob kept), answered ok" "$out" "$(cat dump3)" "$(tail -5 "$WORK/resolver.log")"
out=$(ask carol)
[[ $out == "carol ok "* ]]
ok_if $? "resolve: asked again, carol is answered from the cache" "$out"

m0=$(metric pgl_requests_total)
out=$(ask nosuchuser)
m1=$(metric pgl_requests_total)
[[ $out == "nosuchuser none "* ]] && [ $((m1 - m0)) -eq 2 ]
ok_if $? "resolve: an unknown user -> none (one signer request)" "$out" "requests $m0 -> $m1"
out=$(ask nosuchuser)
m2=$(metric pgl_requests_total)
[[ $out == "nosuchuser none "* ]] && [ $((m2 - m1)) -eq 1 ]
ok_if $? "resolve: the same unknown name again -> none from the negative cache, no signer request" "$out" "requests $m1 -> $m2"
out=$(ask 'Bad!Name' '../etc' "$(printf 'x%.0s' $(seq 300))" 'a%b' $'a\x01b' 'Root' '')
out2=$(printf 'ali\0ce\n' | "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(1.5); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); print(s.recv(64).decode().strip())' "$SOCK")
out3=$(ask root daemon)
m3=$(metric pgl_requests_total)
[ "$(echo "$out" | awk '{print $2}' | sort -u)" = none ] && [ "$(echo "$out" | wc -l)" -eq 7 ] &&
	[ "$out2" = none ] && [ "$(echo "$out3" | awk '{print $2}' | sort -u)" = none ] &&
	[ $((m3 - m2)) -eq 1 ]
ok_if $? "resolve: invalid names (!, ../, 300 chars, %, control, upper case, empty, NUL) and local accounts -> none, signer never asked" \
	"$out" "$out2" "$out3" "requests $m2 -> $m3"

svc_stop
t0=$(date +%s%N)
out=$(ask erin)
t1=$(date +%s%N)
[[ $out == "erin error "* ]] && [ $(((t1 - t0) / 1000000)) -lt 2500 ]
ok_if $? "resolve: signer stopped -> error, within the deadline" "$out" "$(tail -3 "$WORK/resolver.log")"
out=$(ask carol)
[[ $out == "carol ok "* ]]
ok_if $? "resolve: signer stopped, a cached user still answers ok" "$out"
svc_start || tap_done

# A flood of misses for 200 distinct unknown names: the rate limit (10 a
# minute; 3 used above) bounds what reaches the signer.
m0=$(metric pgl_requests_total)
names=()
for i in $(seq -w 0 199); do names+=("nx$i"); done
ask "${names[@]}" >flood.out
m1=$(metric pgl_requests_total)
reqs=$((m1 - m0 - 1))
answered=$(awk '$2 != "-"' flood.out | wc -l)
oks=$(awk '$2 == "ok"' flood.out | wc -l)
[ "$reqs" -le 10 ] && [ "$oks" -eq 0 ] && [ "$answered" -ge 150 ]
ok_if $? "resolve: 200 concurrent misses reach the signer $reqs times (rate limit 10/min), $answered answered in time, none ok" \
	"$(sort -k2 flood.out | awk '{print $2}' | uniq -c)" "$(tail -5 "$WORK/resolver.log")"
diag "flood: $reqs signer requests, $answered of 200 answered within 1.5 s"

# A removed grant is not resurrected by a resolver that asked before
# the sync did: sync decides, resolve merges only newer answers.
policy without-alice
svc_reload
ph sync
"$DUMP" "$R/var/lib/pgl/cache" >dump4 2>&1
! grep -q '^user carol ' dump4 && grep -q '^user bob ' dump4
ok_if $? "sync after carol's grant is removed drops her, though the resolver had added her" "$(cat dump4)"
resolver_stop

# ================================================================ status

PH_ROOT=$R
ph status
grep -q '^host: *vm-01' "$WORK/ph.out" && grep -q '^cache: *1 users' "$WORK/ph.out" &&
	grep -q 'certificate: serial' "$WORK/ph.out" && grep -q 'last sync: .*: ok' "$WORK/ph.out"
ok_if $? "status: host, cache size, certificate, last sync" "$(ph_desc)"
[ "$RC" -ne 0 ] && grep -q 'FAIL nsswitch: .*pgl missing on the lines: passwd group shadow' "$WORK/ph.out" &&
	[ "$(grep -c FAIL "$WORK/ph.out")" -eq 1 ]
ok_if $? "status: fails on the missing nsswitch entries, and on nothing else" "$(ph_desc)"
grep -q '^  ok   sshd -T: sshd uses the pgl settings' "$WORK/ph.out" ||
	grep -q '^  skip sshd -T' "$WORK/ph.out"
ok_if $? "status: sshd -T sees the snippet's settings" "$(ph_desc)"

# Enroll again with --configure: nsswitch.conf gets pgl, atomically.
run_signer host add -c "$SVC_CONF" vm-01
ET2=$(cat "$WORK/.out")
ph enroll --signer "$SVC_URL" --token "$ET2" --pin "$SVC_PIN" --configure
grep -qx 'passwd:         files pgl systemd' "$R/etc/nsswitch.conf" &&
	grep -qx 'group:          files pgl systemd' "$R/etc/nsswitch.conf" &&
	grep -qx 'shadow:         files pgl' "$R/etc/nsswitch.conf" &&
	grep -qx 'hosts:          files dns' "$R/etc/nsswitch.conf" && [ "$RC" -eq 0 ]
ok_if $? "enroll --configure adds pgl after files on passwd, group, shadow only" "$(ph_desc)" "$(cat "$R/etc/nsswitch.conf")"
n1=$(sum_of "$R/etc/nsswitch.conf")
run_signer host add -c "$SVC_CONF" vm-01
ET3=$(cat "$WORK/.out")
ph enroll --signer "$SVC_URL" --token "$ET3" --pin "$SVC_PIN" --configure
[ "$RC" -eq 0 ] && [ "$(sum_of "$R/etc/nsswitch.conf")" = "$n1" ]
ok_if $? "--configure is idempotent" "$(ph_desc)"
ph sync
ph status
[ "$RC" -eq 0 ] && ! grep -q FAIL "$WORK/ph.out"
ok_if $? "status: every check passes on a configured, synced host" "$(ph_desc)"
sed -i 's/^group: .*/group:          files systemd/' "$R/etc/nsswitch.conf"
ph status
[ "$RC" -ne 0 ] && grep -q 'FAIL nsswitch: .*pgl missing on the lines: group$' "$WORK/ph.out"
ok_if $? "status: reports a missing nsswitch entry (group)" "$(ph_desc)"
chmod 0644 "$R/var/lib/pgl/credential"
ph status
[ "$RC" -ne 0 ] && grep -q 'FAIL credential: .*is 0644 uid 0, must be 0600 root' "$WORK/ph.out"
ok_if $? "status: reports a credential readable by others" "$(ph_desc)"
ph sync
[ "$RC" -ne 0 ] && grep -q 'mode must be 0600' "$WORK/ph.err"
ok_if $? "sync refuses to use a credential readable by others" "$(ph_desc)"
chmod 0600 "$R/var/lib/pgl/credential"

# ================================================================ units

if command -v systemd-analyze >/dev/null 2>&1 && [ -d "${PGL_DIST:-}" ]; then
	mkdir -p units
	cp "$PGL_DIST"/pgl-host-sync.service "$PGL_DIST"/pgl-host-sync.timer \
		"$PGL_DIST"/pgl-resolve.socket "$PGL_DIST"/pgl-resolve@.service units/
	sed -i "s#/usr/sbin/pgl-host#$H#" units/*
	(cd units && systemd-analyze verify --man=no ./pgl-host-sync.service \
		./pgl-host-sync.timer ./pgl-resolve.socket ./pgl-resolve@.service) >units.out 2>&1
	ok_if $? "systemd-analyze verify accepts the units in dist/" "$(cat units.out)"
	grep -q '^ListenStream=/run/pgl/resolve.sock$' units/pgl-resolve.socket &&
		grep -q '^SocketMode=0666$' units/pgl-resolve.socket && grep -q '^Accept=yes$' units/pgl-resolve.socket &&
		grep -q '^StandardInput=socket$' units/pgl-resolve@.service &&
		grep -q '^ProtectSystem=strict$' units/pgl-resolve@.service &&
		grep -q '^ProtectSystem=strict$' units/pgl-host-sync.service &&
		grep -q '^OnUnitActiveSec=60s$' units/pgl-host-sync.timer &&
		grep -q '^RandomizedDelaySec=' units/pgl-host-sync.timer
	ok_if $? "units: socket path and mode, Accept=yes, stdin socket, ProtectSystem=strict, 60 s timer"
else
	ok "# SKIP systemd-analyze not installed"
fi

if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/resolver.log" "$WORK/ph.err"; then
	not_ok "no sanitizer reports from pgl-host"
	diag_file "$WORK/resolver.log"
else
	ok "no sanitizer reports from pgl-host"
fi
svc_stop
tap_done
