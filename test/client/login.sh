#!/usr/bin/env bash
# pgl login and the client's errors: not logged in, TLS verification
# (pin, CA file, an unpinned self-signed signer refused), wrong token,
# unknown resource with suggestions, access denied, signer unreachable,
# clock skew; each with its documented text and exit status, and nothing
# left in the temp dirs.  No sshd needed.  TAP on stdout.
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

CONF=$U/.config/pgl/config
cl_signer

# ---- before login

pgl ssh vm-01 -- true
[ "$PGL_RC" -eq 3 ] && grep -q 'not logged in: run pgl login --signer URL first' err && tmp_empty
ok_if $? "pgl ssh before login: 'not logged in', exit 3, no temp files" "$(pgl_desc)"
pgl whoami
[ "$PGL_RC" -eq 3 ] && grep -q 'not logged in' err
ok_if $? "pgl whoami before login: exit 3" "$(pgl_desc)"

# ---- TLS

pgl login --signer "$SVC_URL" --token "${TOK[alice@example.com]}"
[ "$PGL_RC" -eq 4 ] && grep -q "cannot verify the signer at $SVC_URL" err && [ ! -e "$CONF" ]
ok_if $? "a self-signed signer without --pin is refused (exit 4), nothing stored" "$(pgl_desc)"
pgl login --signer "$SVC_URL" --pin 'sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' \
	--token "${TOK[alice@example.com]}"
[ "$PGL_RC" -eq 4 ] && grep -q 'does not match the pin' err && [ ! -e "$CONF" ]
ok_if $? "a wrong pin is refused (exit 4), nothing stored" "$(pgl_desc)"
pgl login --signer "http://192.0.2.1:8080" --token "${TOK[alice@example.com]}"
[ "$PGL_RC" -ne 0 ] && grep -q 'use https://' err && [ ! -e "$CONF" ]
ok_if $? "plain http:// to a non-loopback address is refused" "$(pgl_desc)"

# ---- tokens

pgl login --signer "$SVC_URL" --pin "$SVC_PIN" --token pgl_wrongwrongwrongwrongwrongwrongwrongwrong
[ "$PGL_RC" -eq 3 ] && grep -q "the signer at $SVC_URL does not accept your token (invalid token)" err &&
	[ ! -e "$CONF" ]
ok_if $? "a wrong token: exit 3 with the signer's reason, nothing stored" "$(pgl_desc)"

echo "${TOK[alice@example.com]}" >tokfile
PGL_STDIN=tokfile pgl login --signer "$SVC_URL/" --pin "$SVC_PIN"
[ "$PGL_RC" -eq 0 ] && grep -q "^Logged in to $SVC_URL as alice@example.com (username alice)\.$" out &&
	grep -q '^  vm-01 (web)  127.0.0.1:2222$' out && grep -q '^  inner  127.0.0.3:2225 via jump$' out
ok_if $? "login with the token on stdin: identity, username, resources" "$(pgl_desc)"
[ "$(stat -c %a "$CONF")" = 600 ] && [ "$(stat -c %a "$U/.config/pgl")" = 700 ] &&
	grep -q "^token = \"${TOK[alice@example.com]}\";" "$CONF" &&
	grep -q "^signer = \"$SVC_URL\";" "$CONF"
ok_if $? "the config is 0600 in a 0700 directory, with signer, pin and token" "$(ls -la "$U/.config/pgl")"
pgl whoami
[ "$PGL_RC" -eq 0 ] && [ "$(cat out)" = "alice@example.com alice $SVC_URL" ]
ok_if $? "pgl whoami" "$(pgl_desc)"
chmod 0640 "$CONF"
pgl whoami
[ "$PGL_RC" -ne 0 ] && grep -q 'only you can read (chmod 600)' err
ok_if $? "a config readable by the group is refused" "$(pgl_desc)"
chmod 0600 "$CONF"

XDG_CONFIG_HOME=$CW/xdgconf pgl login --signer "$SVC_URL" --ca-file "$SVC_CACERT" \
	--token "${TOK[bob@example.com]}"
[ "$PGL_RC" -eq 0 ] && grep -q 'as bob@example.com\.' out && grep -q 'grants you no resources' out &&
	[ -f "$CW/xdgconf/pgl/config" ]
ok_if $? "--ca-file verifies the chain; XDG_CONFIG_HOME is honoured; no grants said plainly" "$(pgl_desc)"

# ---- resources

pgl ssh vm01 -- true
[ "$PGL_RC" -eq 6 ] && grep -q "unknown resource 'vm01'; did you mean: vm-01?" err && tmp_empty
ok_if $? "unknown resource: exit 6 with close matches, no temp files" "$(pgl_desc)"
pgl ssh nothing-like-it -- true
[ "$PGL_RC" -eq 6 ] && grep -q "unknown resource 'nothing-like-it' (pgl resources lists" err
ok_if $? "unknown resource with nothing close" "$(pgl_desc)"
pgl ssh 'Bad/Name' -- true
[ "$PGL_RC" -eq 6 ] && grep -q 'is not a resource name' err
ok_if $? "a name that cannot be a resource is refused before any request" "$(pgl_desc)"
pgl ssh vm-02 -- true
[ "$PGL_RC" -eq 5 ] && grep -q 'access denied: vm-02: no grant for resource' err && tmp_empty
ok_if $? "no grant: 'access denied' with the signer's reason, exit 5, no temp files" "$(pgl_desc)"
pgl resources
[ "$PGL_RC" -eq 0 ] && [ "$(wc -l <out)" = 3 ] && ! grep -q vm-02 out
ok_if $? "pgl resources lists the three granted resources" "$(pgl_desc)"

# ---- the signer stops

svc_stop
pgl ssh vm-01 -- true
[ "$PGL_RC" -eq 4 ] && grep -q "cannot reach the signer at $SVC_URL" err && tmp_empty
ok_if $? "signer stopped: 'cannot reach the signer at URL', exit 4, no temp files" "$(pgl_desc)"
pgl sign vm-01 --key-file tokfile
[ "$PGL_RC" -ne 0 ]
ok_if $? "pgl sign with the signer stopped fails too" "$(pgl_desc)"

# ---- clock skew: a loopback stand-in whose clock is an hour behind

FAKE_PORT=$((SVC_PORT + 1))
cat >fake.py <<'EOF'
import http.server, json, sys, time, email.utils
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"identity": "skew@example.com", "username": "skew",
                           "uid": 100005, "resources": []}).encode()
        self.send_response_only(200)
        self.send_header("Date", email.utils.formatdate(time.time() - 3600, usegmt=True))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
"$PY" fake.py "$FAKE_PORT" &
FAKE=$!
for ((i = 0; i < 50; i++)); do
	curl -s -o /dev/null "http://127.0.0.1:$FAKE_PORT/" && break
	sleep 0.1
done
XDG_CONFIG_HOME=$CW/skew pgl login --signer "http://127.0.0.1:$FAKE_PORT" --token skew-token
kill "$FAKE" 2>/dev/null
wait "$FAKE" 2>/dev/null
[ "$PGL_RC" -eq 0 ] &&
	grep -q "warning: clock skew detected: this computer's clock is 3[56][0-9][0-9] s ahead of the signer's (http://127.0.0.1:$FAKE_PORT)" err
ok_if $? "an hour of clock skew is reported as a warning" "$(pgl_desc)"

tap_done
