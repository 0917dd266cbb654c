#!/bin/bash
# pgl-signer init/sign: every CA type x every subject key type, checked field
# by field with OpenSSH's own parser (ssh-keygen -L, which also verifies the
# CA signature; run with TZ=UTC since it prints local time), plus what -L does
# not show (nonce, reserved field, signature algorithm, trailing bytes), read
# from the certificate blob.  Also: host certificates, defaults (extensions,
# validity, serial), the time syntaxes, init's key files.
#
#   PGL_SIGNER=build/signer/pgl-signer bash test/cli/cert-matrix.sh
#
# TAP on stdout, exit 0 iff every test passed.

set -u
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
tap_init

CA_TYPES="ed25519 ecdsa-p256 ecdsa-p384 rsa"
SUBJECTS="ed25519 ecdsa256 ecdsa384 ecdsa521 rsa2048 rsa3072"

# --- expectations per CA type ---------------------------------------------
ca_pubtype() {
	case $1 in
	ed25519) echo ssh-ed25519 ;;
	ecdsa-p256) echo ecdsa-sha2-nistp256 ;;
	ecdsa-p384) echo ecdsa-sha2-nistp384 ;;
	rsa) echo ssh-rsa ;;
	esac
}
ca_bits() {
	case $1 in
	ed25519 | ecdsa-p256) echo 256 ;;
	ecdsa-p384) echo 384 ;;
	rsa) echo 3072 ;;
	esac
}
# "Signing CA:" word and signature algorithm as printed by ssh-keygen -L
ca_label() {
	case $1 in
	ed25519) echo ED25519 ;;
	ecdsa-*) echo ECDSA ;;
	rsa) echo RSA ;;
	esac
}
ca_sigalg() {
	case $1 in
	ed25519) echo ssh-ed25519 ;;
	ecdsa-p256) echo ecdsa-sha2-nistp256 ;;
	ecdsa-p384) echo ecdsa-sha2-nistp384 ;;
	rsa) echo rsa-sha2-512 ;;
	esac
}

# --- expectations per subject key type ------------------------------------
subj_gen() {
	case $1 in
	ed25519) genkey "$2" ed25519 ;;
	ecdsa*) genkey "$2" ecdsa "${1#ecdsa}" ;;
	rsa*) genkey "$2" rsa "${1#rsa}" ;;
	esac
}
subj_certtype() {
	case $1 in
	ed25519) echo ssh-ed25519-cert-v01@openssh.com ;;
	ecdsa*) echo "ecdsa-sha2-nistp${1#ecdsa}-cert-v01@openssh.com" ;;
	rsa*) echo ssh-rsa-cert-v01@openssh.com ;;
	esac
}
subj_label() {
	case $1 in
	ed25519) echo ED25519-CERT ;;
	ecdsa*) echo ECDSA-CERT ;;
	rsa*) echo RSA-CERT ;;
	esac
}

# --- 1. init, one per CA type ---------------------------------------------
for ct in $CA_TYPES; do
	d=$WORK/ca-$ct
	mkdir -p "$d"
	run_signer init --dir "$d" --key-type "$ct"
	errs=()
	[ "$RC" -eq 0 ] || errs+=("init exited $RC")
	for k in user_ca host_ca; do
		[ -f "$d/$k" ] || { errs+=("$k missing"); continue; }
		[ -f "$d/$k.pub" ] || { errs+=("$k.pub missing"); continue; }
		m=$(stat -c %a "$d/$k")
		[ "$m" = 600 ] || errs+=("$k has mode $m, want 600")
		m=$(stat -c %a "$d/$k.pub")
		case $m in *[2367]?|*?[2367]) errs+=("$k.pub is group/world writable ($m)") ;; esac
		[ "$(head -n 1 "$d/$k")" = "-----BEGIN OPENSSH PRIVATE KEY-----" ] ||
			errs+=("$k does not start with -----BEGIN OPENSSH PRIVATE KEY-----")
		magic=$(sed '1d;$d' "$d/$k" | tr -d '\n' | base64 -d 2>/dev/null | head -c 15 | tr '\0' '@')
		[ "$magic" = "openssh-key-v1@" ] || errs+=("$k: blob magic is '$magic', want openssh-key-v1\\0")
		t=$(awk '{print $1; exit}' "$d/$k.pub")
		[ "$t" = "$(ca_pubtype "$ct")" ] || errs+=("$k.pub type $t, want $(ca_pubtype "$ct")")
		b=$(ssh-keygen -l -f "$d/$k.pub" 2>/dev/null | awk '{print $1}')
		[ "$b" = "$(ca_bits "$ct")" ] || errs+=("$k.pub has $b bits, want $(ca_bits "$ct")")
		derived=$(ssh-keygen -y -P '' -f "$d/$k" </dev/null 2>&1 | awk '{print $1" "$2}')
		stored=$(awk '{print $1" "$2; exit}' "$d/$k.pub")
		[ "$derived" = "$stored" ] || errs+=("$k.pub does not match the public half of $k (ssh-keygen -y: $derived)")
	done
	if [ -f "$d/user_ca.pub" ] && [ -f "$d/host_ca.pub" ] &&
		[ "$(fp "$d/user_ca.pub")" = "$(fp "$d/host_ca.pub")" ]; then
		errs+=("user CA and host CA are the same key")
	fi
	if [ ${#errs[@]} -eq 0 ]; then
		ok "init --key-type $ct: user_ca/host_ca keys, types, sizes, modes, openssh-key-v1"
	else
		not_ok "init --key-type $ct: user_ca/host_ca keys, types, sizes, modes, openssh-key-v1"
		diag_run init --dir "$d" --key-type "$ct"
		for e in "${errs[@]}"; do diag "$e"; done
	fi
done

d=$WORK/ca-default
mkdir -p "$d"
run_signer init --dir "$d"
t=$(awk '{print $1; exit}' "$d/user_ca.pub" 2>/dev/null)
t2=$(awk '{print $1; exit}' "$d/host_ca.pub" 2>/dev/null)
if [ "$RC" -eq 0 ] && [ "$t" = ssh-ed25519 ] && [ "$t2" = ssh-ed25519 ]; then
	ok "init without --key-type makes Ed25519 CAs"
else
	not_ok "init without --key-type makes Ed25519 CAs"
	diag_run init --dir "$d"
	diag "user_ca.pub type '$t', host_ca.pub type '$t2'"
fi

# --- subject keys ----------------------------------------------------------
mkdir -p "$WORK/subj"
for s in $SUBJECTS; do
	subj_gen "$s" "$WORK/subj/$s" || { echo "Bail out! ssh-keygen could not make a $s key"; exit 1; }
done

# cert_struct CERT CA_PUB: walk the certificate blob field by field
# (PROTOCOL.certkeys) and print what is wrong with what ssh-keygen -L does not
# show: nonce length, reserved field, signature key, signature algorithm,
# bytes after the signature.  Prints nothing when all is well; sets NONCE.
cert_struct() {
	local cert=$1 capub=$2 hex pos=0 nkey i type sig sigkey cablob alg problems=
	hex=$(awk '{print $2; exit}' "$cert" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
	NONCE=
	rd_u32() { R=$((16#${hex:pos:8})); pos=$((pos + 8)); }
	rd_str() { rd_u32; R=${hex:pos:R*2}; pos=$((pos + ${#R})); }
	rd_str; type=$(printf '%s' "$R" | xxd -r -p)
	case $type in
	ssh-ed25519-cert-v01@openssh.com) nkey=1 ;;
	ecdsa-sha2-nistp*-cert-v01@openssh.com | ssh-rsa-cert-v01@openssh.com) nkey=2 ;;
	*) echo "unexpected certificate type '$type'"; return ;;
	esac
	rd_str; NONCE=$R
	[ $((${#R} / 2)) -ge 16 ] || problems="$problems nonce is $((${#R} / 2)) bytes (want >= 16);"
	for ((i = 0; i < nkey; i++)); do rd_str; done
	pos=$((pos + 16)) # serial
	rd_u32            # cert type
	rd_str; rd_str    # key id, principals
	pos=$((pos + 32)) # validity
	rd_str; rd_str    # critical options, extensions
	rd_str
	[ -z "$R" ] || problems="$problems reserved field is not empty ($((${#R} / 2)) bytes);"
	rd_str; sigkey=$R
	cablob=$(awk '{print $2; exit}' "$capub" | base64 -d | od -An -v -tx1 | tr -d ' \n')
	[ "$sigkey" = "$cablob" ] || problems="$problems signature key is not the CA public key blob;"
	rd_str; sig=$R
	if [ $pos -ne ${#hex} ]; then
		problems="$problems $(((${#hex} - pos) / 2)) bytes after the signature;"
	fi
	hex=$sig pos=0
	rd_str; alg=$(printf '%s' "$R" | xxd -r -p)
	case $(awk '{print $1; exit}' "$capub") in
	ssh-rsa) [ "$alg" = rsa-sha2-512 ] || problems="$problems signature algorithm '$alg' (want rsa-sha2-512);" ;;
	*) [ "$alg" = "$(awk '{print $1; exit}' "$capub")" ] || problems="$problems signature algorithm '$alg';" ;;
	esac
	[ -z "$problems" ] || echo "$problems"
}

declare -A SEEN_NONCE=()
NONCE=

# check_cert CERT EXPECTED_BODY_FILE DESC [CMD...]: compare ssh-keygen -L
# (and, if CERT_CA is set, the blob structure via cert_struct)
check_cert() {
	local cert=$1 exp=$2 desc=$3
	shift 3
	if [ "$RC" -ne 0 ]; then
		not_ok "$desc"
		diag_run "$@"
		return
	fi
	if [ ! -f "$cert" ]; then
		not_ok "$desc"
		diag_run "$@"
		diag "expected output file $cert was not written"
		diag "files there: $(ls -A "$(dirname "$cert")" | tr '\n' ' ')"
		return
	fi
	local lines
	lines=$(grep -c '' "$cert")
	if [ "$lines" -ne 1 ] || ! head -n 1 "$cert" | grep -Eq '^[a-z0-9@.-]+-cert-v01@openssh\.com [A-Za-z0-9+/]+=*( .*)?$'; then
		not_ok "$desc"
		diag "certificate file is not one '<type> <base64> [comment]' line:"
		diag_file "$cert" 600
		return
	fi
	if ! ssh-keygen -L -f "$cert" >"$WORK/.L" 2>&1; then
		not_ok "$desc"
		diag "ssh-keygen -L rejected the certificate (bad signature or encoding):"
		diag_file "$WORK/.L"
		return
	fi
	tail -n +2 "$WORK/.L" >"$WORK/.got"
	local serr=
	if [ -n "${CERT_CA:-}" ]; then
		cert_struct "$cert" "$CERT_CA" >"$WORK/.serr"
		serr=$(cat "$WORK/.serr")
		if [ -n "$NONCE" ] && [ -n "${SEEN_NONCE[$NONCE]:-}" ]; then
			serr="$serr nonce repeated from an earlier certificate;"
		fi
		[ -n "$NONCE" ] && SEEN_NONCE[$NONCE]=1
	fi
	if diff -u "$exp" "$WORK/.got" >"$WORK/.diff" && [ -z "$serr" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		if [ -s "$WORK/.diff" ]; then
			diag "ssh-keygen -L differs from the expectation (- want, + got):"
			diag_file "$WORK/.diff"
		fi
		[ -n "$serr" ] && diag "certificate blob:$serr"
	fi
}

# --- 2. user certificates: CA type x subject type ---------------------------
# Extensions and critical options are given out of order on the command line;
# PROTOCOL.certkeys requires them sorted by name in the certificate, and
# ssh-keygen -L prints them in certificate order.
EXT_ARGS=(--extension permit-pty --extension login@example.com
	--extension permit-X11-forwarding --extension permit-agent-forwarding
	--extension no-touch-required)
EXT_WANT="login@example.com UNKNOWN FLAG OPTION
no-touch-required
permit-X11-forwarding
permit-agent-forwarding
permit-pty"
CRIT_ARGS=(--critical-option "source-address=10.0.0.0/8,192.0.2.1/32,2001:db8::/32"
	--critical-option "force-command=/usr/bin/printf '%s\n' hello world")
CRIT_WANT="force-command /usr/bin/printf '%s\n' hello world
source-address 10.0.0.0/8,192.0.2.1/32,2001:db8::/32"

indent() { sed 's/^/                /'; }

serial=4242000
for ct in $CA_TYPES; do
	ca=$WORK/ca-$ct/user_ca
	cafp=$(fp "$ca.pub")
	CERT_CA=$ca.pub
	for s in $SUBJECTS; do
		serial=$((serial + 1))
		dd=$WORK/u-$ct-$s
		mkdir -p "$dd"
		cp "$WORK/subj/$s.pub" "$dd/id.pub"
		kid="alice@example.com vm-01 #$serial ($ct/$s)"
		args=(sign --ca "$ca" --key "$dd/id.pub"
			--principal alice --principal alice@vm-01.example.com --principal vm-01:alice
			--key-id "$kid" --serial "$serial"
			--valid-from 20300101000000 --valid-to 20300102000000
			"${CRIT_ARGS[@]}" "${EXT_ARGS[@]}")
		run_signer "${args[@]}"
		{
			echo "        Type: $(subj_certtype "$s") user certificate"
			echo "        Public key: $(subj_label "$s") $(fp "$WORK/subj/$s.pub")"
			echo "        Signing CA: $(ca_label "$ct") $cafp (using $(ca_sigalg "$ct"))"
			echo "        Key ID: \"$kid\""
			echo "        Serial: $serial"
			echo "        Valid: from 2030-01-01T00:00:00 to 2030-01-02T00:00:00"
			echo "        Principals: "
			printf '%s\n' alice alice@vm-01.example.com vm-01:alice | indent
			echo "        Critical Options: "
			echo "$CRIT_WANT" | indent
			echo "        Extensions: "
			echo "$EXT_WANT" | indent
		} >"$WORK/.want"
		check_cert "$dd/id-cert.pub" "$WORK/.want" "user cert: CA $ct, subject $s" "${args[@]}"
	done
done

# --- 3. host certificates, every CA type x every subject type ---------------
for ct in $CA_TYPES; do
	ca=$WORK/ca-$ct/host_ca
	cafp=$(fp "$ca.pub")
	CERT_CA=$ca.pub
	for s in $SUBJECTS; do
		serial=$((serial + 1))
		dd=$WORK/h-$ct-$s
		mkdir -p "$dd"
		cp "$WORK/subj/$s.pub" "$dd/ssh_host_key.pub"
		kid="host vm-01.example.com $serial"
		args=(sign --host --ca "$ca" --key "$dd/ssh_host_key.pub"
			--principal vm-01.example.com --principal vm-01 --principal 192.0.2.10
			--key-id "$kid" --serial "$serial"
			--valid-from 20300101000000 --valid-to 20300102000000)
		run_signer "${args[@]}"
		{
			echo "        Type: $(subj_certtype "$s") host certificate"
			echo "        Public key: $(subj_label "$s") $(fp "$WORK/subj/$s.pub")"
			echo "        Signing CA: $(ca_label "$ct") $cafp (using $(ca_sigalg "$ct"))"
			echo "        Key ID: \"$kid\""
			echo "        Serial: $serial"
			echo "        Valid: from 2030-01-01T00:00:00 to 2030-01-02T00:00:00"
			echo "        Principals: "
			printf '%s\n' vm-01.example.com vm-01 192.0.2.10 | indent
			echo "        Critical Options: (none)"
			echo "        Extensions: (none)"
		} >"$WORK/.want"
		check_cert "$dd/ssh_host_key-cert.pub" "$WORK/.want" "host cert: CA $ct, subject $s" "${args[@]}"
	done
done

# --- 4. defaults ---------------------------------------------------------
CERT_CA=
ca=$WORK/ca-ed25519/user_ca
dd=$WORK/defaults
mkdir -p "$dd"
cp "$WORK/subj/ed25519.pub" "$dd/id.pub"
t0=$(date +%s)
run_signer sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id defaults
t1=$(date +%s)
cert=$dd/id-cert.pub
if [ "$RC" -ne 0 ] || [ ! -f "$cert" ]; then
	not_ok "default extensions are exactly the four permit-* (no X11)"
	not_ok "default critical options: none"
	not_ok "default validity: now-60s .. now+300s"
	not_ok "default serial is non-zero"
	diag_run sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id defaults
else
	cert_body "$cert" | sed -n '/^ *Extensions:/,$p' >"$WORK/.got"
	{
		echo "        Extensions: "
		printf '%s\n' permit-agent-forwarding permit-port-forwarding permit-pty permit-user-rc | indent
	} >"$WORK/.want"
	if diff -u "$WORK/.want" "$WORK/.got" >"$WORK/.diff"; then
		ok "default extensions are exactly the four permit-* (no X11)"
	else
		not_ok "default extensions are exactly the four permit-* (no X11)"
		diag_file "$WORK/.diff"
	fi
	co=$(cert_field "$cert" "Critical Options")
	if [ "$co" = "(none)" ]; then ok "default critical options: none"; else
		not_ok "default critical options: none"
		cert_body "$cert" >"$WORK/.got"
		diag_file "$WORK/.got"
	fi
	v=$(cert_field "$cert" Valid)
	from=$(epoch_of "$(echo "$v" | awk '{print $2}')")
	to=$(epoch_of "$(echo "$v" | awk '{print $4}')")
	if [ -n "$from" ] && [ -n "$to" ] && [ $((to - from)) -eq 360 ] &&
		[ "$from" -ge $((t0 - 60 - 1)) ] && [ "$from" -le $((t1 - 60 + 1)) ]; then
		ok "default validity: now-60s .. now+300s"
	else
		not_ok "default validity: now-60s .. now+300s"
		diag "Valid: $v (signed between $(iso_of "$t0") and $(iso_of "$t1"))"
	fi
	sn=$(cert_field "$cert" Serial)
	if [ -n "$sn" ] && [ "$sn" != 0 ]; then ok "default serial is non-zero"; else
		not_ok "default serial is non-zero"
		diag "Serial: '$sn'"
	fi
fi

# Default serials: random -> two signatures of the same key differ.
serials=()
for i in 1 2 3; do
	rm -f "$dd/id-cert.pub"
	run_signer sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id "rand $i"
	serials+=("$(cert_field "$dd/id-cert.pub" Serial 2>/dev/null)")
done
if [ "${serials[0]}" != "${serials[1]}" ] && [ "${serials[1]}" != "${serials[2]}" ] &&
	[ "${serials[0]}" != "${serials[2]}" ] && [ -n "${serials[0]}" ]; then
	ok "default serials are random (3 signatures, 3 different serials)"
else
	not_ok "default serials are random (3 signatures, 3 different serials)"
	diag "serials: ${serials[*]}"
fi

# --ttl N: now-60 .. now+N
rm -f "$dd/id-cert.pub"
t0=$(date +%s)
run_signer sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id ttl --ttl 900
t1=$(date +%s)
v=$(cert_field "$dd/id-cert.pub" Valid 2>/dev/null)
from=$(epoch_of "$(echo "$v" | awk '{print $2}')")
to=$(epoch_of "$(echo "$v" | awk '{print $4}')")
if [ "$RC" -eq 0 ] && [ -n "$from" ] && [ -n "$to" ] && [ $((to - from)) -eq 960 ] &&
	[ "$from" -ge $((t0 - 61)) ] && [ "$from" -le $((t1 - 59)) ]; then
	ok "--ttl 900: valid now-60s .. now+900s"
else
	not_ok "--ttl 900: valid now-60s .. now+900s"
	diag_run sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id ttl --ttl 900
	diag "Valid: $v"
fi

# --- 5. time syntax ----------------------------------------------------------
# check_valid DESC FROM_SPEC TO_SPEC WANT_FROM_EPOCH WANT_TO_EPOCH|forever TOLERANCE
check_valid() {
	local desc=$1 fs=$2 ts=$3 wf=$4 wt=$5 tol=$6 v gf gt err=
	rm -f "$dd/id-cert.pub"
	run_signer sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id "time" \
		--valid-from "$fs" --valid-to "$ts"
	if [ "$RC" -ne 0 ] || [ ! -f "$dd/id-cert.pub" ]; then
		not_ok "$desc"
		diag_run sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id "time" --valid-from "$fs" --valid-to "$ts"
		return
	fi
	v=$(cert_field "$dd/id-cert.pub" Valid)
	gf=$(epoch_of "$(echo "$v" | awk '{print $2}')")
	if [ "$wt" = forever ]; then
		# ssh-keygen -L prints "after T" when valid_before is the maximum
		[ "$(echo "$v" | awk '{print $1}')" = after ] || err="valid-to is not forever (want 'Valid: after ...')"
	else
		gt=$(epoch_of "$(echo "$v" | awk '{print $4}')")
		{ [ -n "$gt" ] && [ $((gt - wt)) -le "$tol" ] && [ $((wt - gt)) -le "$tol" ]; } ||
			err="valid-to: want $(iso_of "$wt")"
	fi
	{ [ -n "$gf" ] && [ $((gf - wf)) -le "$tol" ] && [ $((wf - gf)) -le "$tol" ]; } ||
		err="$err valid-from: want $(iso_of "$wf")"
	if [ -z "$err" ]; then ok "$desc"; else
		not_ok "$desc"
		diag "--valid-from $fs --valid-to $ts -> Valid: $v"
		diag "$err"
	fi
}
check_valid "--valid-from @EPOCH --valid-to @EPOCH" @1900000000 @1900003600 1900000000 1900003600 0
check_valid "--valid-from 20300101000000 --valid-to forever" 20300101000000 forever 1893456000 forever 0
now=$(date +%s)
check_valid "--valid-from -2h --valid-to +3d" -2h +3d $((now - 7200)) $((now + 259200)) 3
now=$(date +%s)
check_valid "--valid-from -30s --valid-to +90m" -30s +90m $((now - 30)) $((now + 5400)) 3
now=$(date +%s)
check_valid "--valid-from -45 --valid-to +600 (no suffix = seconds)" -45 +600 $((now - 45)) $((now + 600)) 3
now=$(date +%s)
check_valid "--valid-from -1d --valid-to +1m" -1d +1m $((now - 86400)) $((now + 60)) 3

# --- 6. odd corners -----------------------------------------------------------
# Largest serial.
rm -f "$dd/id-cert.pub"
run_signer sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id max --serial 18446744073709551615
sn=$(cert_field "$dd/id-cert.pub" Serial 2>/dev/null)
if [ "$RC" -eq 0 ] && [ "$sn" = 18446744073709551615 ]; then ok "--serial 18446744073709551615 (2^64-1)"; else
	not_ok "--serial 18446744073709551615 (2^64-1)"
	diag_run sign --ca "$ca" --key "$dd/id.pub" --principal alice --key-id max --serial 18446744073709551615
	diag "Serial: '$sn'"
fi

# Key file without .pub suffix -> KEY-cert.pub
cp "$WORK/subj/ed25519.pub" "$dd/plainkey"
run_signer sign --ca "$ca" --key "$dd/plainkey" --principal alice --key-id nosuffix --serial 7
if [ "$RC" -eq 0 ] && [ -f "$dd/plainkey-cert.pub" ] && ssh-keygen -L -f "$dd/plainkey-cert.pub" >/dev/null 2>&1; then
	ok "key file without .pub: writes KEY-cert.pub"
else
	not_ok "key file without .pub: writes KEY-cert.pub"
	diag_run sign --ca "$ca" --key "$dd/plainkey" --principal alice --key-id nosuffix --serial 7
	diag "files: $(ls -A "$dd" | tr '\n' ' ')"
fi

# verify-required, only vendor extensions, a single principal.
rm -f "$dd/id-cert.pub"
args=(sign --ca "$ca" --key "$dd/id.pub" --principal bob --key-id vr --serial 9
	--valid-from 20300101000000 --valid-to 20300101000100
	--critical-option verify-required --extension b@example.org --extension a@example.org)
run_signer "${args[@]}"
{
	echo "        Type: ssh-ed25519-cert-v01@openssh.com user certificate"
	echo "        Public key: ED25519-CERT $(fp "$WORK/subj/ed25519.pub")"
	echo "        Signing CA: ED25519 $(fp "$ca.pub") (using ssh-ed25519)"
	echo '        Key ID: "vr"'
	echo "        Serial: 9"
	echo "        Valid: from 2030-01-01T00:00:00 to 2030-01-01T00:01:00"
	echo "        Principals: "
	echo bob | indent
	echo "        Critical Options: "
	echo verify-required | indent
	echo "        Extensions: "
	printf '%s\n' "a@example.org UNKNOWN FLAG OPTION" "b@example.org UNKNOWN FLAG OPTION" | indent
} >"$WORK/.want"
check_cert "$dd/id-cert.pub" "$WORK/.want" "verify-required, vendor-only extensions (sorted), single principal" "${args[@]}"

# A user certificate signed by the host CA must say so (CA fingerprint) and
# a host cert signed by the user CA likewise: the signer signs with what it
# is given; this just checks --ca is honoured.
rm -f "$dd/id-cert.pub"
run_signer sign --ca "$WORK/ca-ecdsa-p384/host_ca" --key "$dd/id.pub" --principal alice --key-id whichca --serial 11
got=$(cert_body "$dd/id-cert.pub" 2>/dev/null | sed -n 's/^ *Signing CA: [A-Z0-9]* \([^ ]*\).*/\1/p')
if [ "$RC" -eq 0 ] && [ "$got" = "$(fp "$WORK/ca-ecdsa-p384/host_ca.pub")" ]; then
	ok "--ca selects the signing key (ECDSA P-384 host CA)"
else
	not_ok "--ca selects the signing key (ECDSA P-384 host CA)"
	diag "Signing CA fingerprint '$got', want $(fp "$WORK/ca-ecdsa-p384/host_ca.pub")"
fi

tap_done
