# shellcheck shell=bash
# Shared helpers for the pgl-signer service tests (sourced, not executed).
#
# Builds on test/cli/lib.sh (buffered TAP: ok / not_ok / result / diag,
# tap_done; WORK, genkey, cert_field, epoch_of).  Adds:
#   svc_enter_namespace "$0" "$@"   re-exec in private network (and mount)
#                                   namespaces with only lo, up
#   svc_init DIR                    pgl-signer init, and SVC_* variables
#   svc_config FILE [KEY=VALUE...]  a complete pgl-signer.conf
#   pol_* / pol_write FILE          a policy from a few calls
#   svc_start / svc_stop / svc_reload
#   api METHOD PATH [curl args]     HTTPS request: HTTP_CODE, $WORK/body,
#                                   $WORK/headers
#   jget FILE EXPR, db SQL          JSON and state database queries (python3)
#
# The signer runs on 127.0.0.1 in a network namespace of its own: any port
# is free, nothing outside can reach it, and it cannot reach anything.

SVC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cli/lib.sh
. "$SVC_LIB_DIR/../cli/lib.sh"

SVC_PID=
SVC_LOG=
SVC_DIR=
SVC_CONF=
SVC_CACERT=
SVC_PIN=
SVC_PORT=
SVC_URL=
HTTP_CODE=
SVC_HEALTH_WAIT=${PGL_SVC_HEALTH_WAIT:-30}    # seconds (ASan is slow)

svc_skip() { echo "1..0 # SKIP $*"; exit 0; }

# svc_enter_namespace SCRIPT [ARGS...]: unless already inside, re-exec
# SCRIPT under bash in new network and mount namespaces (as root, or in a
# user namespace where root is mapped).  The mount namespace only serves
# to hide /dev/log, so the signer's audit lines do not reach the real
# syslog.
svc_enter_namespace() {
	local pre=()
	[ "${PGL_SVC_IN_NS:-}" = 1 ] && return 0
	for c in unshare ip curl python3 ssh-keygen; do
		command -v "$c" >/dev/null 2>&1 || svc_skip "$c not installed"
	done
	[ "$(id -u)" -eq 0 ] || pre=(--user --map-root-user)
	unshare "${pre[@]}" --mount --net true 2>/dev/null ||
		svc_skip "unshare --net not permitted here"
	PGL_SVC_IN_NS=1 PGL_SVC_OUTER_NET=$(readlink /proc/self/ns/net) \
		exec unshare "${pre[@]}" --mount --net -- bash "$@"
}

# svc_ns_setup: inside the namespaces: lo up, /dev/log hidden.
svc_ns_setup() {
	if [ -z "${PGL_SVC_OUTER_NET:-}" ] ||
		[ "$(readlink /proc/self/ns/net)" = "$PGL_SVC_OUTER_NET" ]; then
		echo "Bail out! not in a private network namespace"
		exit 1
	fi
	ip link set lo up || { echo "Bail out! cannot bring up lo"; exit 1; }
	mount --make-rprivate / 2>/dev/null
	if [ -e /dev/log ] || [ -L /dev/log ]; then
		mount --bind /dev/null /dev/log 2>/dev/null || true
	fi
	SVC_PORT=$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
	SVC_URL=https://127.0.0.1:$SVC_PORT
}

# svc_begin: namespace setup and TAP init, cleanup on exit.
svc_begin() {
	svc_ns_setup
	tap_init
	for c in curl python3; do
		command -v "$c" >/dev/null 2>&1 || { echo "1..0 # SKIP $c not installed"; exit 0; }
	done
	# The interpreter itself, not a wrapper such as a pyenv shim: it runs
	# a few hundred times.
	PY=$(python3 -c 'import sys; print(sys.executable)') && [ -x "$PY" ] || PY=python3
	trap 'svc_kill; tap_cleanup' EXIT
	trap 'svc_kill; tap_abort' INT TERM HUP
	SVC_LOG=$WORK/signer.log
	: >"$SVC_LOG"
}

# svc_init DIR: pgl-signer init; sets SVC_DIR, SVC_CONF, SVC_CACERT,
# SVC_PIN (the TLS pin init printed).  Returns init's status.
svc_init() {
	SVC_DIR=$1
	run_signer init --dir "$SVC_DIR"
	[ "$RC" -eq 0 ] || return "$RC"
	SVC_CONF=$SVC_DIR/pgl-signer.conf
	SVC_CACERT=$SVC_DIR/tls.crt
	SVC_PIN=$(sed -n 's/^tls: .* pin \(sha256\/\/[A-Za-z0-9+\/=]*\)$/\1/p' "$WORK/.out")
	[ -n "$SVC_PIN" ] && [ -f "$SVC_CONF" ] && [ -f "$SVC_CACERT" ]
}

# svc_config FILE [KEY=VALUE...]: write a complete pgl-signer.conf for the
# signer in SVC_DIR (FILE may be another config next to it: relative
# paths resolve against its directory).  VALUEs are written as given:
# quote strings ('audit_log="x.log"').
svc_config() {
	local f=$1 kv k
	shift
	local -A v=(
		[listen]="\"127.0.0.1:$SVC_PORT\"" [tls]=true
		[tls_cert]='"tls.crt"' [tls_key]='"tls.key"' [ca_dir]='"."'
		[state_dir]='"state"' [policy]='"policy.conf"'
		[audit_log]='"audit.log"' [uid_min]=100000 [uid_max]=199999
		[home_base]='"/home"' [default_shell]='"/bin/bash"' [workers]=4
		[max_body]=65536 [request_timeout]=10 [rate_limit]=100000
		[rate_burst]=10000 [metrics_public]=true [enroll_token_ttl]=3600
		[host_cert_ttl]=2592000
	)
	for kv in "$@"; do
		v[${kv%%=*}]=${kv#*=}
	done
	{
		echo "# written by test/service/lib.sh"
		for k in "${!v[@]}"; do
			echo "$k = ${v[$k]};"
		done
	} >"$f"
}

# ---- policy ----

POL_RES=()
POL_ROLES=()
POL_USERS=()

pol_new() { POL_RES=(); POL_ROLES=(); POL_USERS=(); }

# libconfig string literal
pol_str() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# pol_list "a b c" -> [ "a", "b", "c" ]
pol_list() {
	local x out='' sep=''
	for x in $1; do
		out+="$sep$(pol_str "$x")"
		sep=", "
	done
	printf '[ %s ]' "$out"
}

# pol_resource NAME [ADDRESS [PORT [ALIASES]]]
pol_resource() {
	local s
	s="{ name = $(pol_str "$1");"
	[ -n "${2:-}" ] && s+=" address = $(pol_str "$2");"
	[ -n "${3:-}" ] && s+=" port = $3;"
	[ -n "${4:-}" ] && s+=" aliases = $(pol_list "$4");"
	POL_RES+=("$s }")
}

# pol_role NAME "RESOURCES" [EXTRA grant settings, e.g. 'ttl_max = 600;']
pol_role() {
	POL_ROLES+=("{ name = $(pol_str "$1"); grants = ( { resources = $(pol_list "$2"); ${3:-} } ); }")
}

# pol_user IDENTITY "ROLES" [EXTRA]
pol_user() {
	POL_USERS+=("{ identity = $(pol_str "$1"); roles = $(pol_list "$2"); ${3:-} }")
}

pol_join() {
	local i sep=
	for i in "$@"; do
		printf '%s  %s\n' "$sep" "$i"
		sep=","
	done
}

# pol_write FILE [TTL_DEFAULT [TTL_MAX]]
pol_write() {
	{
		echo "# written by test/service/lib.sh"
		echo "ttl_default = ${2:-300};"
		echo "ttl_max = ${3:-3600};"
		echo "resources = ("
		pol_join "${POL_RES[@]}"
		echo ");"
		echo "roles = ("
		[ ${#POL_ROLES[@]} -eq 0 ] || pol_join "${POL_ROLES[@]}"
		echo ");"
		echo "users = ("
		[ ${#POL_USERS[@]} -eq 0 ] || pol_join "${POL_USERS[@]}"
		echo ");"
	} >"$1"
}

# ---- the signer process ----

# svc_start [CONF]: start `pgl-signer serve` in the background (stderr to
# SVC_LOG) and wait for /healthz.  Returns 1, with diagnostics, if it
# does not come up.
svc_start() {
	local conf=${1:-$SVC_CONF} i code
	svc_kill
	echo "--- serve -c $conf ($(date -u +%T))" >>"$SVC_LOG"
	TMPDIR=$SIGNER_TMP "$PGL_SIGNER" serve -c "$conf" </dev/null >>"$SVC_LOG" 2>&1 &
	SVC_PID=$!
	for ((i = 0; i < SVC_HEALTH_WAIT * 10; i++)); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
			--cacert "$SVC_CACERT" "$SVC_URL/healthz" 2>/dev/null)
		[ "$code" = 200 ] && return 0
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	diag "the signer did not come up (last /healthz status: ${code:-none})"
	diag_file "$SVC_LOG"
	svc_kill
	return 1
}

# svc_stop: SIGTERM and wait; SVC_RC is its exit status (124 if it had
# to be killed).  Returns 0 if it exited 0 without sanitizer reports.
svc_stop() {
	local i
	SVC_RC=0
	[ -n "$SVC_PID" ] || return 0
	kill -TERM "$SVC_PID" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$SVC_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SVC_PID" 2>/dev/null; then
		kill -KILL "$SVC_PID" 2>/dev/null
		wait "$SVC_PID" 2>/dev/null
		SVC_RC=124
	else
		wait "$SVC_PID" 2>/dev/null
		SVC_RC=$?
	fi
	SVC_PID=
	[ "$SVC_RC" -eq 0 ] && ! svc_sanitizer_report
}

# svc_kill: stop the signer without checks (cleanup).
svc_kill() {
	[ -n "$SVC_PID" ] || return 0
	kill -TERM "$SVC_PID" 2>/dev/null
	sleep 0.2
	kill -KILL "$SVC_PID" 2>/dev/null
	wait "$SVC_PID" 2>/dev/null
	SVC_PID=
}

# True if the signer's log holds an ASan/UBSan/LSan report.
svc_sanitizer_report() {
	grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$SVC_LOG"
}

# svc_log_count REGEX: lines of the signer's log matching REGEX.
svc_log_count() { grep -Ec -- "$1" "$SVC_LOG"; }

# svc_reload: SIGHUP, then wait until the signer logged the outcome.
# Returns 0 for "policy reloaded", 1 for "policy reload failed", 2 if
# nothing was logged.
svc_reload() {
	local ok0 bad0 i
	ok0=$(svc_log_count 'policy reloaded')
	bad0=$(svc_log_count 'policy reload failed')
	kill -HUP "$SVC_PID" 2>/dev/null || return 2
	for ((i = 0; i < 100; i++)); do
		[ "$(svc_log_count 'policy reloaded')" -gt "$ok0" ] && return 0
		[ "$(svc_log_count 'policy reload failed')" -gt "$bad0" ] && return 1
		sleep 0.05
	done
	return 2
}

# ---- HTTP ----

# api METHOD PATH [CURL ARGS...]: one HTTPS request to the signer.
# HTTP_CODE is the status ("000" if curl failed), the body is in
# $WORK/body and the response headers in $WORK/headers.
api() {
	local m=$1 p=$2
	shift 2
	rm -f "$WORK/body" "$WORK/headers"
	HTTP_CODE=$(curl -sS --max-time 30 --cacert "$SVC_CACERT" -X "$m" \
		-o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@" \
		"$SVC_URL$p" 2>"$WORK/curl.err")
	[ -n "$HTTP_CODE" ] || HTTP_CODE=000
}

# api_auth METHOD PATH TOKEN [CURL ARGS...]
api_auth() {
	local m=$1 p=$2 t=$3
	shift 3
	api "$m" "$p" -H "Authorization: Bearer $t" "$@"
}

# sign TOKEN PUBKEY_FILE RESOURCE [EXTRA JSON]: POST /v1/certs/user
sign() {
	local pk
	pk=$(cat "$2")
	api_auth POST /v1/certs/user "$1" -H 'Content-Type: application/json' \
		--data-binary "{\"public_key\": \"$pk\", \"resource\": \"$3\"${4:+, $4}}"
}

# header NAME: a response header's value (last response)
header() {
	tr -d '\r' <"$WORK/headers" | sed -n "s/^$1: //Ip" | tail -n 1
}

# http_desc: the last response, described (for diagnostics)
http_desc() {
	echo "HTTP status: $HTTP_CODE"
	[ -s "$WORK/curl.err" ] && echo "curl: $(cat "$WORK/curl.err")"
	echo "body: $(head -c 600 "$WORK/body" 2>/dev/null | cat -v)"
}

diag_http() { diag "$(http_desc)"; }

# expect CODE DESC: a test that the last response had status CODE and a
# JSON {"error": "..."} body when CODE >= 400.
expect() {
	local ok=0
	[ "$HTTP_CODE" = "$1" ] || ok=1
	if [ "$ok" -eq 0 ] && [ "$1" -ge 400 ]; then
		[ -n "$(jget "$WORK/body" error 2>/dev/null)" ] || ok=1
	fi
	result $ok "$2 -> $1"
	[ $ok -eq 0 ] || diag_http
	return $ok
}

# jget FILE EXPR: a value from a JSON file; EXPR is a Python expression
# on `j` ("j['resources'][0]['principal']") or a plain key ("serial").
# Strings print as they are, anything else as JSON.  Fails (status 1,
# nothing printed) if the file is not JSON or the value is missing.
jget() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
try:
    j = json.load(open(sys.argv[1], encoding="utf-8"))
    e = sys.argv[2]
    v = eval(e, {"j": j}) if ("[" in e or "(" in e or "." in e) else j[e]
except Exception:
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# db SQL: rows of a query on the state database, fields joined by '|'.
# (python3's sqlite3 module, read-only: the CLI is not a dependency.)
db() {
	"$PY" - "$SVC_DIR/state/signer.db" "$1" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
for row in c.execute(sys.argv[2]):
    print("|".join("" if v is None else str(v) for v in row))
EOF
}

# u64_first: the first '|' field of each line, a signed 64-bit integer as
# SQLite stores a serial, printed as the unsigned serial it is.
u64_first() {
	"$PY" -c 'import sys
for l in sys.stdin:
    f = l.rstrip("\n").split("|")
    f[0] = str(int(f[0]) % 2**64)
    print("|".join(f))'
}

# db_dump: every table's rows, sorted (to compare before and after).
db_dump() {
	"$PY" - "$SVC_DIR/state/signer.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
    for row in sorted(repr(r) for r in c.execute('SELECT * FROM "%s"' % t)):
        print(t, row)
EOF
}

# valid_username NAME: [a-z_][a-z0-9_-]{0,31}
valid_username() {
	[[ $1 =~ ^[a-z_][a-z0-9_-]{0,31}$ ]]
}
