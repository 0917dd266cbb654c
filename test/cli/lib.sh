# shellcheck shell=bash
# Shared helpers for the pgl-signer CLI tests (sourced, not executed).
#
# Output is TAP: the plan "1..N" comes first, so results are buffered and
# printed by tap_done.  Every script works in its own mktemp -d directory,
# removed on exit.

set -u
export LC_ALL=C TZ=UTC

T_N=0
T_FAIL=0
WORK=
T_BUF=

tap_cleanup() {
	[ -n "$WORK" ] && [ -d "$WORK" ] && rm -rf -- "$WORK"
}

# Print what we have if interrupted, so a partial run is still readable.
tap_abort() {
	if [ -n "$T_BUF" ] && [ -f "$T_BUF" ]; then
		echo "1..$((T_N + 1))"
		cat -- "$T_BUF"
		echo "not ok $((T_N + 1)) - interrupted"
	fi
	echo "Bail out! interrupted"
	tap_cleanup
	exit 1
}

tap_init() {
	command -v ssh-keygen >/dev/null 2>&1 || { echo "1..0 # SKIP ssh-keygen not installed"; exit 0; }
	if [ -z "${PGL_SIGNER:-}" ]; then
		echo "Bail out! PGL_SIGNER is not set (path to pgl-signer)"
		exit 1
	fi
	if [ ! -x "$PGL_SIGNER" ]; then
		echo "Bail out! PGL_SIGNER=$PGL_SIGNER is not an executable file"
		exit 1
	fi
	case $PGL_SIGNER in /*) ;; *) PGL_SIGNER=$PWD/$PGL_SIGNER ;; esac
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/pgl-cli.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
	trap tap_cleanup EXIT
	trap tap_abort INT TERM HUP
	T_BUF=$WORK/.tap
	: >"$T_BUF"
	# The signer gets its own private TMPDIR so that stray temp files can
	# be detected.
	SIGNER_TMP=$WORK/.signer-tmp
	mkdir -p "$SIGNER_TMP"
	umask 022
}

diag() {
	local l
	while IFS= read -r l; do
		printf '# %s\n' "$l" >>"$T_BUF"
	done <<<"$*"
}

diag_file() {
	local l
	[ -f "$1" ] || return 0
	while IFS= read -r l; do
		printf '#   %s\n' "$l" >>"$T_BUF"
	done < <(head -c "${2:-4000}" -- "$1" | cat -v)
}

ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $*" >>"$T_BUF"
}

not_ok() {
	T_N=$((T_N + 1))
	T_FAIL=$((T_FAIL + 1))
	echo "not ok $T_N - $*" >>"$T_BUF"
}

# result STATUS DESC: 0 -> ok, else not ok; returns STATUS != 0, so that
# "result $? DESC || diag ..." shows diagnostics for a failure only.
result() {
	if [ "$1" -eq 0 ]; then ok "$2"; else not_ok "$2"; return 1; fi
}

tap_done() {
	echo "1..$T_N"
	cat -- "$T_BUF"
	if [ "$T_FAIL" -ne 0 ]; then
		echo "# $T_FAIL of $T_N tests failed"
		exit 1
	fi
	exit 0
}

# run_signer ARGS...: runs pgl-signer with stdin closed, a time limit and a
# private TMPDIR.  Sets RC; stdout in $WORK/.out, stderr in $WORK/.err.
run_signer() {
	TMPDIR=$SIGNER_TMP timeout -k 5 "${PGL_TIMEOUT:-30}" "$PGL_SIGNER" "$@" \
		</dev/null >"$WORK/.out" 2>"$WORK/.err"
	RC=$?
}

# Describe the last signer run (for diagnostics).
diag_run() {
	diag "command: pgl-signer $(printf '%q ' "$@")"
	diag "exit status: $RC"
	if [ -s "$WORK/.err" ]; then
		diag "stderr:"
		diag_file "$WORK/.err"
	fi
}

# genkey FILE TYPE [BITS]: make an unencrypted key pair with ssh-keygen
genkey() {
	local f=$1 t=$2 b=${3:-}
	rm -f -- "$f" "$f.pub"
	if [ -n "$b" ]; then
		ssh-keygen -q -t "$t" -b "$b" -N '' -C "test-$t$b" -f "$f" </dev/null >/dev/null 2>&1
	else
		ssh-keygen -q -t "$t" -N '' -C "test-$t" -f "$f" </dev/null >/dev/null 2>&1
	fi
}

# fp FILE: SHA256 fingerprint of a public key (or certificate's key)
fp() {
	ssh-keygen -l -E sha256 -f "$1" 2>/dev/null | awk '{print $2}'
}

# cert_body CERT: ssh-keygen -L output without its first "file:" line
cert_body() {
	ssh-keygen -L -f "$1" 2>&1 | tail -n +2
}

# cert_field CERT NAME: value of one "Name: value" line of ssh-keygen -L
cert_field() {
	cert_body "$1" | sed -n "s/^ *$2: //p" | head -n 1
}

# epoch_of "2030-01-01T00:00:00" (UTC)
epoch_of() {
	date -u -d "${1/T/ }" +%s 2>/dev/null
}

iso_of() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%S
}

# snapshot DIR...: names, sizes, modes and hashes of everything under DIR
snapshot() {
	local d
	for d in "$@"; do
		(cd "$d" && find . -printf '%p %y %s %m %l\n' | sort)
		(cd "$d" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
	done
}
