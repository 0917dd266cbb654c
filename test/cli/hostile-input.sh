#!/bin/bash
# pgl-signer refusals: every bad input gives a non-zero exit (not a crash or
# a hang), an error message on stderr, and writes nothing: no -cert.pub, no
# KRL, no temporary or partial file in the key's directory, the CA directory
# or $TMPDIR.  init never overwrites existing keys and makes 0600 private keys.
#
#   PGL_SIGNER=build/signer/pgl-signer bash test/cli/hostile-input.sh
#
# PGL_TEST_VERBOSE=1 also shows each refusal's stderr as a diagnostic.
#
# TAP on stdout, exit 0 iff every test passed.

set -u
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
tap_init

# --- binary helpers -------------------------------------------------------
# u32 N: 4 bytes big-endian
u32() {
	printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))"
	printf "\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"
}
# sstr TEXT: SSH string from a (NUL-free) shell string
sstr() {
	u32 "${#1}"
	printf '%s' "$1"
}
# sfile FILE: SSH string from a file's bytes
sfile() {
	u32 "$(stat -c %s "$1")"
	cat -- "$1"
}
# blob_of PUBFILE > BIN: decoded key blob of a .pub line
blob_of() {
	awk '{print $2; exit}' "$1" | base64 -d
}
# publine TYPE BLOBFILE: a .pub line
publine() {
	printf '%s %s crafted\n' "$1" "$(base64 -w0 <"$2")"
}

# --- the CA and some subject keys -------------------------------------------
CADIR=$WORK/ca
mkdir -p "$CADIR"
run_signer init --dir "$CADIR"
if [ "$RC" -ne 0 ] || [ ! -f "$CADIR/user_ca" ]; then
	echo "Bail out! pgl-signer init --dir $CADIR failed: $(head -c 300 "$WORK/.err")"
	exit 1
fi
CA=$CADIR/user_ca
K=$WORK/keys
mkdir -p "$K"
genkey "$K/ed25519" ed25519 && genkey "$K/ecdsa256" ecdsa 256 && genkey "$K/ecdsa384" ecdsa 384 &&
	genkey "$K/rsa3072" rsa 3072 || { echo "Bail out! ssh-keygen failed"; exit 1; }
for t in ed25519 ecdsa256 ecdsa384 rsa3072; do blob_of "$K/$t.pub" >"$K/$t.bin"; done

# --- the refusal check ------------------------------------------------------
N_CASE=0
# newcase: a fresh empty directory in $CASE
newcase() {
	N_CASE=$((N_CASE + 1))
	CASE=$WORK/case$N_CASE
	mkdir -p "$CASE"
}

# expect_refusal DESC ARGS...: run the signer, which must refuse, leaving
# $CASE, the CA directory and its TMPDIR exactly as they were.
expect_refusal() {
	local desc=$1 errs=() nl
	shift
	snapshot "$CASE" "$CADIR" "$SIGNER_TMP" >"$WORK/.before"
	run_signer "$@"
	snapshot "$CASE" "$CADIR" "$SIGNER_TMP" >"$WORK/.after"
	if [ "$RC" -eq 0 ]; then
		errs+=("exit status 0: accepted")
	elif [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		errs+=("timed out (hung) after ${PGL_TIMEOUT:-30}s")
	elif [ "$RC" -gt 128 ]; then
		errs+=("crashed: exit status $RC (signal $((RC - 128)))")
	fi
	if [ ! -s "$WORK/.err" ]; then
		errs+=("no error message on stderr")
	elif grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|core dumped' "$WORK/.err"; then
		errs+=("sanitizer/crash report on stderr")
	fi
	if ! diff -u "$WORK/.before" "$WORK/.after" >"$WORK/.diff"; then
		errs+=("files changed (- before, + after):")
	fi
	if [ ${#errs[@]} -eq 0 ]; then
		ok "$desc"
		[ -n "${PGL_TEST_VERBOSE:-}" ] && diag_file "$WORK/.err" 600
		nl=$(grep -c '' "$WORK/.err")
		[ "$nl" -gt 1 ] && diag "note: stderr has $nl lines (want one):" && diag_file "$WORK/.err" 600
	else
		not_ok "$desc"
		diag_run "$@"
		for e in "${errs[@]}"; do diag "$e"; done
		[ -s "$WORK/.diff" ] && diag_file "$WORK/.diff" 2000
	fi
	# leave the next case a clean slate
	find "$SIGNER_TMP" -mindepth 1 -delete 2>/dev/null
}

# sign_refused DESC KEYFILE_CONTENT_FILE [EXTRA ARGS...]: put the content as
# $CASE/id.pub and sign it with otherwise valid arguments.
sign_refused() {
	local desc=$1 src=$2
	shift 2
	newcase
	cp -- "$src" "$CASE/id.pub"
	expect_refusal "$desc" sign --ca "$CA" --key "$CASE/id.pub" --principal alice \
		--key-id test --serial 1 "$@"
}

# args_refused DESC ARGS...: a valid ed25519 key, signed with these arguments
# (which must include --ca, --principal, ... as wanted)
args_refused() {
	local desc=$1
	shift
	newcase
	cp -- "$K/ed25519.pub" "$CASE/id.pub"
	expect_refusal "$desc" sign --key "$CASE/id.pub" "$@"
}

# args_accepted DESC ARGS...: control for args_refused: must succeed and
# write exactly id-cert.pub.
args_accepted() {
	local desc=$1
	shift
	newcase
	cp -- "$K/ed25519.pub" "$CASE/id.pub"
	run_signer sign --key "$CASE/id.pub" "$@"
	if [ "$RC" -eq 0 ] && ssh-keygen -L -f "$CASE/id-cert.pub" >/dev/null 2>&1 &&
		[ "$(ls -A "$CASE" | tr '\n' ' ')" = "id-cert.pub id.pub " ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag_run sign --key "$CASE/id.pub" "$@"
		diag "files: $(ls -A "$CASE" | tr '\n' ' ')"
	fi
}

# --- 0. controls: the same setup with good input works --------------------
for t in ed25519 ecdsa256 rsa3072; do
	newcase
	cp "$K/$t.pub" "$CASE/id.pub"
	run_signer sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
	if [ "$RC" -eq 0 ] && ssh-keygen -L -f "$CASE/id-cert.pub" >/dev/null 2>&1 &&
		[ "$(ls -A "$CASE" | tr '\n' ' ')" = "id-cert.pub id.pub " ]; then
		ok "control: a valid $t key is signed (only id-cert.pub written)"
	else
		not_ok "control: a valid $t key is signed (only id-cert.pub written)"
		diag_run sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
		diag "files: $(ls -A "$CASE" | tr '\n' ' ')"
	fi
done

# --- 1. truncated key files ---------------------------------------------------
for t in ed25519 ecdsa256 rsa3072; do
	line=$(head -n 1 "$K/$t.pub")
	type=${line%% *}
	b64=$(awk '{print $2}' "$K/$t.pub")
	nopad=${b64%%=*}
	tl=${#type}
	half=$(((${#b64} / 2) / 4 * 4))
	seen=
	for cut in "7:inside the type name" \
		"$tl:type name only" \
		"$((tl + 1)):type name and space" \
		"$((tl + 9)):8 base64 chars" \
		"$((tl + 1 + half)):half of the base64" \
		"$((tl + 1 + ${#b64} - 4)):last base64 quad dropped (short blob, valid base64)" \
		"$((tl + 1 + ${#nopad} - 2)):padding and 2 base64 chars dropped"; do
		n=${cut%%:*}
		case " $seen " in *" $n "*) continue ;; esac
		seen="$seen $n"
		printf '%s' "${line:0:n}" >"$WORK/in"
		sign_refused "truncated $t key: $n bytes (${cut#*:})" "$WORK/in"
	done
done

# --- 2. base64 garbage and malformed lines ---------------------------------------
printf 'ssh-ed25519 !!!!****$$$$^^^^ comment\n' >"$WORK/in"
sign_refused "base64 garbage (invalid characters)" "$WORK/in"
printf 'ssh-ed25519 %s comment\n' "$(head -c 51 /dev/urandom | base64 -w0)" >"$WORK/in"
sign_refused "base64 of random bytes" "$WORK/in"
printf 'ssh-ed25519 AAAA\n' >"$WORK/in"
sign_refused "base64 decoding to 3 zero bytes" "$WORK/in"
printf '%s\n' "$(awk '{print $2}' "$K/ed25519.pub")" >"$WORK/in"
sign_refused "base64 blob without a type name" "$WORK/in"
{ head -n 1 "$K/ed25519.pub"; printf '\001\002\377binary junk\n'; } >"$WORK/in"
sign_refused "valid key line followed by a line of binary junk" "$WORK/in"

# --- 3. trailing bytes inside the blob ---------------------------------------------
for t in ed25519 ecdsa256 rsa3072; do
	type=$(awk '{print $1}' "$K/$t.pub")
	{ cat "$K/$t.bin"; printf '\0'; } >"$WORK/b"
	publine "$type" "$WORK/b" >"$WORK/in"
	sign_refused "$t blob + 1 trailing byte" "$WORK/in"
done
{ cat "$K/ed25519.bin"; u32 0; } >"$WORK/b"
publine ssh-ed25519 "$WORK/b" >"$WORK/in"
sign_refused "ed25519 blob + an extra empty string" "$WORK/in"
{ cat "$K/rsa3072.bin"; sstr A; } >"$WORK/b"
publine ssh-rsa "$WORK/b" >"$WORK/in"
sign_refused "rsa blob + an extra string" "$WORK/in"

# --- 4. declared type vs blob type, inconsistent fields ------------------------
publine ssh-rsa "$K/ed25519.bin" >"$WORK/in"
sign_refused "declared ssh-rsa, ed25519 blob" "$WORK/in"
publine ecdsa-sha2-nistp256 "$K/ed25519.bin" >"$WORK/in"
sign_refused "declared ecdsa-sha2-nistp256, ed25519 blob" "$WORK/in"
publine ssh-ed25519 "$K/rsa3072.bin" >"$WORK/in"
sign_refused "declared ssh-ed25519, rsa blob" "$WORK/in"
publine ecdsa-sha2-nistp384 "$K/ecdsa256.bin" >"$WORK/in"
sign_refused "declared ecdsa-sha2-nistp384, nistp256 blob" "$WORK/in"
publine ssh-ed25519-cert-v01@openssh.com "$K/ed25519.bin" >"$WORK/in"
sign_refused "declared ssh-ed25519-cert-v01@openssh.com, plain ed25519 blob" "$WORK/in"
# nistp256 key type name, nistp384 curve and point
tail -c 97 "$K/ecdsa384.bin" >"$WORK/q384"
{ sstr ecdsa-sha2-nistp256; sstr nistp384; sfile "$WORK/q384"; } >"$WORK/b"
publine ecdsa-sha2-nistp256 "$WORK/b" >"$WORK/in"
sign_refused "ecdsa-sha2-nistp256 blob with curve nistp384 and a P-384 point" "$WORK/in"
# ed25519 public key of 31 and 33 bytes
tail -c 32 "$K/ed25519.bin" >"$WORK/pk"
{ sstr ssh-ed25519; u32 31; head -c 31 "$WORK/pk"; } >"$WORK/b"
publine ssh-ed25519 "$WORK/b" >"$WORK/in"
sign_refused "ed25519 public key of 31 bytes" "$WORK/in"
{ sstr ssh-ed25519; u32 33; cat "$WORK/pk"; printf '\0'; } >"$WORK/b"
publine ssh-ed25519 "$WORK/b" >"$WORK/in"
sign_refused "ed25519 public key of 33 bytes" "$WORK/in"
# ECDSA points: not on the curve, compressed, the point at infinity
tail -c 65 "$K/ecdsa256.bin" >"$WORK/q"
last=$(tail -c 1 "$WORK/q" | od -An -tu1 | tr -d ' ')
{ head -c 64 "$WORK/q"; printf "\\x$(printf %02x $((last ^ 1)))"; } >"$WORK/q2"
{ sstr ecdsa-sha2-nistp256; sstr nistp256; sfile "$WORK/q2"; } >"$WORK/b"
publine ecdsa-sha2-nistp256 "$WORK/b" >"$WORK/in"
if ssh-keygen -l -f "$WORK/in" >/dev/null 2>&1; then
	diag "note: ssh-keygen accepts the altered P-256 point; skipping that case"
else
	sign_refused "ecdsa P-256 point not on the curve" "$WORK/in"
fi
y_last=$last
{ printf "\\x$(printf %02x $((2 + (y_last & 1))))"; head -c 33 "$WORK/q" | tail -c 32; } >"$WORK/q2"
{ sstr ecdsa-sha2-nistp256; sstr nistp256; sfile "$WORK/q2"; } >"$WORK/b"
publine ecdsa-sha2-nistp256 "$WORK/b" >"$WORK/in"
sign_refused "ecdsa P-256 compressed point (OpenSSH accepts only uncompressed)" "$WORK/in"
printf '\0' >"$WORK/q2"
{ sstr ecdsa-sha2-nistp256; sstr nistp256; sfile "$WORK/q2"; } >"$WORK/b"
publine ecdsa-sha2-nistp256 "$WORK/b" >"$WORK/in"
sign_refused "ecdsa P-256 point at infinity" "$WORK/in"
# unknown key type
{ sstr ssh-foo@example.com; sstr 0123456789abcdef0123456789abcdef; } >"$WORK/b"
publine ssh-foo@example.com "$WORK/b" >"$WORK/in"
sign_refused "unknown key type ssh-foo@example.com" "$WORK/in"

# --- 5. key types that are refused ---------------------------------------------------
if genkey "$K/dsa" dsa; then
	cp "$K/dsa.pub" "$WORK/in"
	dsa_how="ssh-keygen -t dsa"
else
	# p, q, g, y with plausible sizes (1024/160 bits)
	head -c 128 /dev/urandom >"$WORK/p"
	head -c 20 /dev/urandom >"$WORK/q"
	head -c 128 /dev/urandom >"$WORK/g"
	head -c 128 /dev/urandom >"$WORK/y"
	{ sstr ssh-dss; for f in p q g y; do u32 129; printf '\0'; cat "$WORK/$f"; done; } >"$WORK/b"
	publine ssh-dss "$WORK/b" >"$WORK/in"
	dsa_how="hand-made blob"
fi
sign_refused "DSA (ssh-dss) key ($dsa_how)" "$WORK/in"

if genkey "$K/rsa1024" rsa 1024; then
	rsa_how="ssh-keygen -b 1024"
else
	openssl genrsa 1024 2>/dev/null | openssl rsa -pubout 2>/dev/null >"$WORK/p.pem" &&
		ssh-keygen -i -m PKCS8 -f "$WORK/p.pem" >"$K/rsa1024.pub"
	rsa_how="openssl genrsa"
fi
sign_refused "RSA 1024-bit key ($rsa_how)" "$K/rsa1024.pub"
if openssl genrsa 2047 2>/dev/null | openssl rsa -pubout 2>/dev/null >"$WORK/p.pem" &&
	ssh-keygen -i -m PKCS8 -f "$WORK/p.pem" >"$WORK/in" 2>/dev/null &&
	[ "$(ssh-keygen -l -f "$WORK/in" | awk '{print $1}')" = 2047 ]; then
	sign_refused "RSA 2047-bit key (one bit short)" "$WORK/in"
else
	not_ok "RSA 2047-bit key (one bit short)"
	diag "could not make a 2047-bit RSA key with openssl"
fi

# sk keys (FIDO): sk-ssh-ed25519@openssh.com and sk-ecdsa-sha2-nistp256@openssh.com
{ sstr sk-ssh-ed25519@openssh.com; sfile "$WORK/pk"; sstr ssh:; } >"$WORK/b"
publine sk-ssh-ed25519@openssh.com "$WORK/b" >"$WORK/in"
sign_refused "sk-ssh-ed25519@openssh.com key" "$WORK/in"
{ sstr sk-ecdsa-sha2-nistp256@openssh.com; sstr nistp256; sfile "$WORK/q"; sstr ssh:; } >"$WORK/b"
publine sk-ecdsa-sha2-nistp256@openssh.com "$WORK/b" >"$WORK/in"
sign_refused "sk-ecdsa-sha2-nistp256@openssh.com key" "$WORK/in"

# a certificate as the subject (made by ssh-keygen with a throwaway CA)
genkey "$WORK/otherca" ed25519
for kind in user host; do
	rm -f "$WORK/c.pub" "$WORK/c-cert.pub"
	cp "$K/ed25519.pub" "$WORK/c.pub"
	h=
	[ $kind = host ] && h=-h
	ssh-keygen -q -s "$WORK/otherca" $h -I x -n alice "$WORK/c.pub" >/dev/null 2>&1
	sign_refused "an OpenSSH $kind certificate as --key" "$WORK/c-cert.pub"
done

# --- 6. size and file type -----------------------------------------------------
{ printf 'ssh-ed25519 '; head -c 10485760 /dev/zero | tr '\0' 'A'; printf ' c\n'; } >"$WORK/in"
sign_refused "10 MB base64 field" "$WORK/in"
{ printf '%s ' "$(awk '{print $1" "$2}' "$K/ed25519.pub")"; head -c 10485760 /dev/zero | tr '\0' 'x'; printf '\n'; } >"$WORK/in"
sign_refused "valid key with a 10 MB comment (10 MB file)" "$WORK/in"
head -c 10485760 /dev/urandom >"$WORK/in"
sign_refused "10 MB of random bytes" "$WORK/in"
: >"$WORK/in"
sign_refused "empty key file" "$WORK/in"
printf '\n\n' >"$WORK/in"
sign_refused "key file of blank lines" "$WORK/in"

newcase
expect_refusal "non-existent key file" sign --ca "$CA" --key "$CASE/nope.pub" --principal alice --key-id test --serial 1
newcase
mkdir "$CASE/dir.pub"
expect_refusal "a directory as --key" sign --ca "$CA" --key "$CASE/dir.pub" --principal alice --key-id test --serial 1
newcase
ln -s /dev/zero "$CASE/zero.pub"
expect_refusal "--key is a symlink to /dev/zero (unbounded input)" sign --ca "$CA" --key "$CASE/zero.pub" --principal alice --key-id test --serial 1

# --- 7. principals, key ID, options, serial, validity ------------------------------
C=(--ca "$CA")
args_accepted "control: --critical-option force-command, source-address, verify-required + 2 extensions" \
	"${C[@]}" --principal alice --key-id test --serial 1 --critical-option force-command=/bin/true \
	--critical-option source-address=10.0.0.0/8 --critical-option verify-required \
	--extension permit-pty --extension x@example.com
args_accepted "control: --host with principals, key ID, serial" "${C[@]}" --host --principal h --key-id test --serial 1
args_accepted "control: --valid-from/--valid-to absolute" "${C[@]}" --principal alice --key-id test --serial 1 \
	--valid-from 20300101000000 --valid-to 20300102000000
args_accepted "control: principal and key ID with spaces and punctuation" "${C[@]}" --principal 'alice smith' \
	--key-id 'alice@example.com vm-01 "x" #1' --serial 1
args_refused "no --principal" "${C[@]}" --key-id test --serial 1
args_refused "empty principal" "${C[@]}" --principal '' --key-id test --serial 1
args_refused "principal with a newline" "${C[@]}" --principal $'ali\nce' --key-id test --serial 1
args_refused "principal with \\x01" "${C[@]}" --principal $'ali\001ce' --key-id test --serial 1
args_refused "principal with a tab" "${C[@]}" --principal $'ali\tce' --key-id test --serial 1
args_refused "principal with ESC" "${C[@]}" --principal $'alice\e[31m' --key-id test --serial 1
args_refused "principal with DEL (0x7f)" "${C[@]}" --principal $'ali\177ce' --key-id test --serial 1
args_refused "second principal with a newline" "${C[@]}" --principal alice --principal $'bob\nroot' --key-id test --serial 1
args_refused "key ID with a newline" "${C[@]}" --principal alice --key-id $'id\ninjected: yes' --serial 1
args_refused "key ID with CR" "${C[@]}" --principal alice --key-id $'id\rx' --serial 1
args_refused "key ID with ESC" "${C[@]}" --principal alice --key-id $'id\e]0;x\a' --serial 1
args_refused "key ID with DEL (0x7f)" "${C[@]}" --principal alice --key-id $'id\177' --serial 1
P=("${C[@]}" --principal alice --key-id test --serial 1)
args_refused "unknown critical option no-such-option=1" "${P[@]}" --critical-option no-such-option=1
args_refused "permit-pty as a critical option" "${P[@]}" --critical-option permit-pty
args_refused "critical option verify-required=yes (takes no value)" "${P[@]}" --critical-option verify-required=yes
args_refused "critical option force-command without =" "${P[@]}" --critical-option force-command
args_refused "critical option source-address=not-an-address" "${P[@]}" --critical-option source-address=not-an-address
args_refused "critical option source-address= (empty)" "${P[@]}" --critical-option source-address=
args_refused "unknown extension permit-everything" "${P[@]}" --extension permit-everything
args_refused "empty extension name" "${P[@]}" --extension ''
args_refused "duplicate critical option force-command (same value)" "${P[@]}" \
	--critical-option force-command=/bin/true --critical-option force-command=/bin/true
args_refused "duplicate critical option force-command (different values)" "${P[@]}" \
	--critical-option force-command=/bin/true --critical-option force-command=/bin/sh
args_refused "duplicate critical option source-address" "${P[@]}" \
	--critical-option source-address=10.0.0.0/8 --critical-option source-address=0.0.0.0/0
args_refused "duplicate critical option verify-required" "${P[@]}" \
	--critical-option verify-required --critical-option verify-required
args_refused "duplicate extension permit-pty" "${P[@]}" --extension permit-pty --extension permit-pty
args_refused "duplicate vendor extension" "${P[@]}" --extension x@example.com --extension x@example.com
args_refused "host cert with --extension" "${C[@]}" --host --principal h --key-id test --serial 1 --extension permit-pty
args_refused "host cert with --critical-option" "${C[@]}" --host --principal h --key-id test --serial 1 --critical-option force-command=/bin/true
Q=("${C[@]}" --principal alice --key-id test)
args_refused "serial 0" "${Q[@]}" --serial 0
args_refused "serial -1" "${Q[@]}" --serial -1
args_refused "serial abc" "${Q[@]}" --serial abc
args_refused "serial 2^64 (overflow)" "${Q[@]}" --serial 18446744073709551616
args_refused "empty serial" "${Q[@]}" --serial ''
args_refused "valid-from after valid-to" "${Q[@]}" --serial 1 --valid-from 20300102000000 --valid-to 20300101000000
args_refused "valid-from equal to valid-to" "${Q[@]}" --serial 1 --valid-from @1900000000 --valid-to @1900000000
args_refused "relative valid-from after valid-to" "${Q[@]}" --serial 1 --valid-from +2h --valid-to +1h
args_refused "valid-from forever" "${Q[@]}" --serial 1 --valid-from forever --valid-to forever
args_refused "malformed time 2030-01-01" "${Q[@]}" --serial 1 --valid-from 2030-01-01 --valid-to 20300102000000
args_refused "malformed relative time +5x" "${Q[@]}" --serial 1 --valid-to +5x
args_refused "impossible date 20301301000000 (month 13)" "${Q[@]}" --serial 1 --valid-from 20301301000000 --valid-to forever
args_refused "impossible date 20300230000000 (30 February)" "${Q[@]}" --serial 1 --valid-from 20300230000000 --valid-to forever
args_refused "impossible time 20300101250000 (hour 25)" "${Q[@]}" --serial 1 --valid-from 20300101250000 --valid-to forever
args_refused "relative time overflow +99999999999999999999" "${Q[@]}" --serial 1 --valid-to +99999999999999999999
args_refused "epoch overflow @99999999999999999999" "${Q[@]}" --serial 1 --valid-from @99999999999999999999 --valid-to forever
args_refused "--ttl overflow 99999999999999999999" "${Q[@]}" --serial 1 --ttl 99999999999999999999
args_refused "--ttl together with --valid-to" "${Q[@]}" --serial 1 --ttl 60 --valid-to +1h

# a refused signature must not touch an existing certificate
newcase
cp "$K/ed25519.pub" "$CASE/id.pub"
echo "previous certificate" >"$CASE/id-cert.pub"
expect_refusal "refused sign leaves an existing id-cert.pub alone" \
	sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 0

# output paths that are symlinks: whatever the signer does (refuse, or
# replace the link), the file the link points to is never written.
newcase
cp "$K/ed25519.pub" "$CASE/id.pub"
echo "victim" >"$WORK/victim"
ln -s "$WORK/victim" "$CASE/id-cert.pub"
run_signer sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
if [ "$(cat "$WORK/victim")" = victim ]; then
	ok "id-cert.pub is a symlink to another file: that file is not written"
else
	not_ok "id-cert.pub is a symlink to another file: that file is not written"
	diag_run sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
	diag "the symlink target now holds: $(head -c 100 "$WORK/victim" | cat -v)"
fi
newcase
cp "$K/ed25519.pub" "$CASE/id.pub"
ln -s "$WORK/created-through-link" "$CASE/id-cert.pub"
run_signer sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
if [ ! -e "$WORK/created-through-link" ]; then
	ok "id-cert.pub is a dangling symlink: its target is not created"
else
	not_ok "id-cert.pub is a dangling symlink: its target is not created"
	diag_run sign --ca "$CA" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
	rm -f "$WORK/created-through-link"
fi
newcase
ln -s "$WORK/victim" "$CASE/out.krl"
run_signer krl --ca "$CADIR/user_ca.pub" --serial 1 --out "$CASE/out.krl"
if [ "$(cat "$WORK/victim")" = victim ]; then
	ok "krl --out is a symlink to another file: that file is not written"
else
	not_ok "krl --out is a symlink to another file: that file is not written"
	diag_run krl --ca "$CADIR/user_ca.pub" --serial 1 --out "$CASE/out.krl"
fi

# --- 8. the CA private key -------------------------------------------------------
# mk_ca_case: a case directory with a subject key.  The CA files made in it
# are chmod 600 (by ca_600) so that only their content can be the reason
# for a refusal.
mk_ca_case() {
	newcase
	cp "$K/ed25519.pub" "$CASE/id.pub"
}
ca_600() { chmod 600 "$CASE/ca" "$CASE/ca.pub" 2>/dev/null; }
for ct in ed25519 rsa; do
	d=$WORK/ca-$ct
	mkdir -p "$d"
	run_signer init --dir "$d" --key-type "$ct"
	sz=$(stat -c %s "$d/user_ca")
	for cut in "$((sz / 2)):half" "36:only the BEGIN line" "$((sz - 40)):END line cut"; do
		mk_ca_case
		head -c "${cut%%:*}" "$d/user_ca" >"$CASE/ca"
		chmod 600 "$CASE/ca"
		cp "$d/user_ca.pub" "$CASE/ca.pub"
		expect_refusal "truncated $ct CA private key (${cut#*:})" \
			sign --ca "$CASE/ca" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
	done
done
mk_ca_case
head -c 1000 /dev/urandom >"$CASE/ca"
ca_600
expect_refusal "CA private key of random bytes" sign --ca "$CASE/ca" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
mk_ca_case
{ echo "-----BEGIN OPENSSH PRIVATE KEY-----"; head -c 300 /dev/urandom | base64; echo "-----END OPENSSH PRIVATE KEY-----"; } >"$CASE/ca"
ca_600
expect_refusal "CA private key: PEM armour around random bytes" sign --ca "$CASE/ca" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
mk_ca_case
ssh-keygen -q -t ed25519 -N 'secret pass' -f "$CASE/ca" </dev/null >/dev/null 2>&1
expect_refusal "encrypted CA private key (ssh-keygen -N)" sign --ca "$CASE/ca" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
mk_ca_case
: >"$CASE/ca"
ca_600
expect_refusal "empty CA key file" sign --ca "$CASE/ca" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
mk_ca_case
expect_refusal "non-existent CA key" sign --ca "$CASE/nope" --key "$CASE/id.pub" --principal alice --key-id test --serial 1
mk_ca_case
cp "$CADIR/user_ca.pub" "$CASE/ca.pub"
ca_600
expect_refusal "public key given as --ca" sign --ca "$CASE/ca.pub" --key "$CASE/id.pub" --principal alice --key-id test --serial 1

# --- 9. krl ------------------------------------------------------------------------
krl_refused() {
	local desc=$1
	shift
	newcase
	expect_refusal "krl: $desc" krl "$@" --out "$CASE/out.krl"
}
newcase
run_signer krl --ca "$CADIR/user_ca.pub" --serial 5 --serial 7-9 --key-id x --out "$CASE/out.krl"
if [ "$RC" -eq 0 ] && [ "$(ls -A "$CASE")" = out.krl ] && ssh-keygen -Q -l -f "$CASE/out.krl" >/dev/null 2>&1; then
	ok "krl: control: a valid KRL is written (only out.krl)"
else
	not_ok "krl: control: a valid KRL is written (only out.krl)"
	diag_run krl --ca "$CADIR/user_ca.pub" --serial 5 --serial 7-9 --key-id x --out "$CASE/out.krl"
fi
krl_refused "--serial before any --ca" --serial 5 --ca "$CADIR/user_ca.pub"
krl_refused "--key-id before any --ca" --key-id x --ca "$CADIR/user_ca.pub"
krl_refused "reversed range 15-10" --ca "$CADIR/user_ca.pub" --serial 15-10
krl_refused "serial abc" --ca "$CADIR/user_ca.pub" --serial abc
krl_refused "serial 2^64 (overflow)" --ca "$CADIR/user_ca.pub" --serial 18446744073709551616
krl_refused "non-existent --ca" --ca "$WORK/nope.pub" --serial 1
printf 'ssh-ed25519 !!!garbage\n' >"$WORK/garbage.pub"
krl_refused "--ca is garbage" --ca "$WORK/garbage.pub" --serial 1
printf 'ssh-ed25519 %s\n' "$(head -c 20 "$K/ed25519.bin" | base64 -w0)" >"$WORK/trunc.pub"
krl_refused "--ca is a truncated key" --ca "$WORK/trunc.pub" --serial 1
newcase
expect_refusal "krl: no --out" krl --ca "$CADIR/user_ca.pub" --serial 1

# --- 10. init -------------------------------------------------------------------
# refusing over a full set of existing keys leaves them byte-identical
D=$WORK/initdir
mkdir -p "$D"
run_signer init --dir "$D"
snapshot "$D" >"$WORK/.keys-before"
for kt in ed25519 rsa; do
	run_signer init --dir "$D" --key-type "$kt"
	snapshot "$D" >"$WORK/.keys-after"
	if [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ] && [ -s "$WORK/.err" ] &&
		diff -u "$WORK/.keys-before" "$WORK/.keys-after" >"$WORK/.diff"; then
		ok "init --key-type $kt over existing keys: refused, keys byte-identical"
	else
		not_ok "init --key-type $kt over existing keys: refused, keys byte-identical"
		diag_run init --dir "$D" --key-type "$kt"
		diag_file "$WORK/.diff"
	fi
done
# any one of the four names existing is enough to refuse, and nothing is added
for f in user_ca user_ca.pub host_ca host_ca.pub; do
	newcase
	echo "precious $f" >"$CASE/$f"
	chmod 640 "$CASE/$f"
	expect_refusal "init with only $f present: refused, nothing written" init --dir "$CASE"
done
newcase
ln -s "$CASE/elsewhere" "$CASE/host_ca"
expect_refusal "init with host_ca a dangling symlink: refused, target not created" init --dir "$CASE"
newcase
expect_refusal "init --key-type dsa" init --dir "$CASE" --key-type dsa
newcase
expect_refusal "init --key-type ecdsa-p521 (not offered)" init --dir "$CASE" --key-type ecdsa-p521

# private keys are 0600 whatever the umask
for kt in ed25519 ecdsa-p256 ecdsa-p384 rsa; do
	newcase
	(umask 000 && run_signer init --dir "$CASE" --key-type "$kt" && echo "$RC" >"$WORK/.rc")
	m1=$(stat -c %a "$CASE/user_ca" 2>/dev/null)
	m2=$(stat -c %a "$CASE/host_ca" 2>/dev/null)
	if [ "$(cat "$WORK/.rc")" = 0 ] && [ "$m1" = 600 ] && [ "$m2" = 600 ]; then
		ok "init --key-type $kt under umask 000: private keys are 0600"
	else
		not_ok "init --key-type $kt under umask 000: private keys are 0600"
		diag "exit $(cat "$WORK/.rc"), user_ca mode '$m1', host_ca mode '$m2'"
		diag_file "$WORK/.err"
	fi
	extra=$(find "$CASE" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -Ev '^(user_ca|user_ca\.pub|host_ca|host_ca\.pub)$' | tr '\n' ' ')
	[ -n "$extra" ] && diag "note: init also wrote: $extra"
	for f in user_ca.pub host_ca.pub; do
		m=$(stat -c %a "$CASE/$f" 2>/dev/null)
		case $m in *[2367]? | *?[2367]) diag "note: $f is group/world-writable ($m) under umask 000" ;; esac
	done
done

tap_done
