#!/bin/bash
# pgl-signer init: every file it writes (CA keys, TLS key and certificate,
# configuration, policy, state directory) with its mode, the TLS pin it
# prints against the one openssl computes, and all-or-nothing refusal when
# any one of them exists.
#
#   PGL_SIGNER=build/signer/pgl-signer bash test/cli/init-files.sh
#
# TAP on stdout, exit 0 iff every test passed.

set -u
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
command -v openssl >/dev/null 2>&1 || { echo "1..0 # SKIP openssl not installed"; exit 0; }
tap_init

# name mode type (f file, d directory), for everything init creates
EXPECTED="user_ca 600 f
user_ca.pub 644 f
host_ca 600 f
host_ca.pub 644 f
tls.key 600 f
tls.crt 644 f
pgl-signer.conf 640 f
policy.conf 640 f
state 700 d"

N_CASE=0
newcase() {
	N_CASE=$((N_CASE + 1))
	CASE=$WORK/case$N_CASE
	mkdir -p "$CASE"
}

# listing DIR: "name mode type" of each entry, sorted as EXPECTED is not
listing() {
	(cd "$1" && find . -mindepth 1 -maxdepth 1 -printf '%f %m %y\n' | sort)
}

# pin_of CERT: curl's --pinnedpubkey value, the way its manual computes it
pin_of() {
	printf 'sha256//%s\n' "$(openssl x509 -in "$1" -pubkey -noout |
		openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
		base64)"
}

# --- 1. a fresh init: files and modes, under several umasks --------------------
for um in 022 000 077; do
	newcase
	D=$CASE/ca
	(umask "$um" && run_signer init --dir "$D" --tls-name signer.example.com &&
		echo "$RC" >"$WORK/.rc")
	got=$(listing "$D" 2>/dev/null)
	want=$(sort <<<"$EXPECTED")
	if [ "$(cat "$WORK/.rc")" = 0 ] && [ "$got" = "$want" ] &&
		[ -z "$(ls -A "$D/state")" ]; then
		ok "init under umask $um: exactly the expected files, modes and an empty state/"
	else
		not_ok "init under umask $um: exactly the expected files, modes and an empty state/"
		diag "exit status: $(cat "$WORK/.rc")"
		diag "got:"
		diag "$got"
		diag "want:"
		diag "$want"
		diag_file "$WORK/.err"
	fi
	[ "$um" = 022 ] && cp "$WORK/.out" "$WORK/.init-out"
done
D=$WORK/case1/ca

# --- 2. what it prints ----------------------------------------------------------
out=$WORK/.init-out
l3=$(sed -n 3p "$out")
l4=$(sed -n 4p "$out")
pin=$(pin_of "$D/tls.crt" 2>/dev/null)
if [ "$(grep -c '' "$out")" -eq 4 ] &&
	sed -n 1p "$out" | grep -q "^user_ca: $D/user_ca.pub ssh-ed25519 SHA256:" &&
	sed -n 2p "$out" | grep -q "^host_ca: $D/host_ca.pub ssh-ed25519 SHA256:"; then
	ok "init prints the two CA fingerprints first"
else
	not_ok "init prints the two CA fingerprints first"
	diag_file "$out"
fi
if [ -n "$pin" ] && [ "$l3" = "tls: $D/tls.crt pin $pin" ]; then
	ok "init prints tls.crt and its pin, equal to openssl's ($pin)"
else
	not_ok "init prints tls.crt and its pin, equal to openssl's ($pin)"
	diag "line 3: $l3"
fi
if [ "$l4" = "next: pgl-signer check -c $D/pgl-signer.conf" ]; then
	ok "init ends with the hint to run check"
else
	not_ok "init ends with the hint to run check"
	diag "line 4: $l4"
fi
fp_user=$(fp "$D/user_ca.pub")
if [ -n "$fp_user" ] && sed -n 1p "$out" | grep -qF "$fp_user"; then
	ok "the printed user CA fingerprint is ssh-keygen's"
else
	not_ok "the printed user CA fingerprint is ssh-keygen's"
	diag "ssh-keygen: $fp_user"
	diag_file "$out"
fi

# --- 3. the TLS pair ------------------------------------------------------------
text=$(openssl x509 -in "$D/tls.crt" -noout -text 2>&1)
san=$(grep -A1 'X509v3 Subject Alternative Name' <<<"$text" | tail -n 1 | sed 's/^ *//')
want_san="DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:signer.example.com"
if [ "$san" = "$want_san" ] && grep -q 'Subject: CN = localhost$' <<<"$text" &&
	grep -q 'CA:FALSE' <<<"$text"; then
	ok "tls.crt: CN localhost, SAN the defaults and --tls-name, not a CA"
else
	not_ok "tls.crt: CN localhost, SAN the defaults and --tls-name, not a CA"
	diag "subjectAltName: $san"
	diag "want:           $want_san"
fi
a=$(openssl x509 -in "$D/tls.crt" -noout -pubkey 2>&1)
b=$(openssl pkey -in "$D/tls.key" -pubout 2>&1)
if [ -n "$a" ] && [ "$a" = "$b" ] && head -n 1 "$D/tls.key" | grep -qx -- '-----BEGIN PRIVATE KEY-----'; then
	ok "tls.key is unencrypted PKCS#8 and matches tls.crt"
else
	not_ok "tls.key is unencrypted PKCS#8 and matches tls.crt"
	diag "$a"
	diag "$b"
fi
if [ -s "$D/pgl-signer.conf" ] && [ -s "$D/policy.conf" ]; then
	ok "pgl-signer.conf and policy.conf are not empty"
else
	not_ok "pgl-signer.conf and policy.conf are not empty"
fi

newcase
run_signer init --dir "$CASE/ca" --tls-name LocalHost --tls-name 10.1.2.3 --tls-name 10.1.2.3
san=$(openssl x509 -in "$CASE/ca/tls.crt" -noout -ext subjectAltName 2>&1 | tail -n 1 | sed 's/^ *//')
if [ "$RC" -eq 0 ] &&
	[ "$san" = "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.1.2.3" ]; then
	ok "--tls-name: an IP literal is an IP entry; repeats are dropped"
else
	not_ok "--tls-name: an IP literal is an IP entry; repeats are dropped"
	diag_run init --dir "$CASE/ca" --tls-name LocalHost --tls-name 10.1.2.3 --tls-name 10.1.2.3
	diag "subjectAltName: $san"
fi

# --- 4. refusals: nothing written, nothing changed ------------------------------
# expect_refusal DESC ARGS...: the signer must fail with a message and
# leave $CASE exactly as it was
expect_refusal() {
	local desc=$1 errs=()
	shift
	snapshot "$CASE" "$SIGNER_TMP" >"$WORK/.before"
	run_signer "$@"
	snapshot "$CASE" "$SIGNER_TMP" >"$WORK/.after"
	[ "$RC" -ne 0 ] || errs+=("exit status 0: accepted")
	[ "$RC" -lt 124 ] || errs+=("exit status $RC: timed out or crashed")
	[ -s "$WORK/.err" ] || errs+=("no error message on stderr")
	diff -u "$WORK/.before" "$WORK/.after" >"$WORK/.diff" ||
		errs+=("files changed (- before, + after):")
	if [ ${#errs[@]} -eq 0 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag_run "$@"
		for e in "${errs[@]}"; do diag "$e"; done
		[ -s "$WORK/.diff" ] && diag_file "$WORK/.diff" 2000
	fi
}

while read -r name mode type; do
	newcase
	mkdir -p "$CASE/ca"
	if [ "$type" = d ]; then
		mkdir "$CASE/ca/$name"
		echo "precious" >"$CASE/ca/$name/db"
	else
		echo "precious $name" >"$CASE/ca/$name"
	fi
	chmod "$mode" "$CASE/ca/$name"
	expect_refusal "init with only $name present: refused, nothing written" \
		init --dir "$CASE/ca"
done <<<"$EXPECTED"

newcase
mkdir -p "$CASE/ca"
ln -s "$CASE/elsewhere" "$CASE/ca/tls.key"
expect_refusal "init with tls.key a dangling symlink: refused, target not created" \
	init --dir "$CASE/ca"

# a complete installation stays byte-identical
CASE=$WORK/case1
expect_refusal "init over a complete installation: refused, all byte-identical" \
	init --dir "$D"

for bad in 'a b' '' '*.example.com' 'host:443' 'bad_name.example'; do
	newcase
	expect_refusal "--tls-name '$bad': refused before anything is created" \
		init --dir "$CASE/ca" --tls-name "$bad"
done

tap_done
