#!/bin/bash
# pgl-signer krl: the KRLs it writes must revoke exactly what was asked, as
# judged by OpenSSH itself (ssh-keygen -Q, the same code sshd's RevokedKeys
# uses), for every CA key type, and be scoped to the CA they name.
#
#   PGL_SIGNER=build/signer/pgl-signer bash test/cli/krl-query.sh
#
# ssh-keygen -Q -f KRL FILE... (OpenSSH 9.2) prints "FILE (comment): ok" or
# "FILE (comment): REVOKED" per file and exits 0 when nothing is revoked,
# 1 when at least one file is revoked, 255 when the KRL or a key cannot be
# loaded.  Those semantics are checked at the end, since the rest relies on
# them.
#
# TAP on stdout, exit 0 iff every test passed.

set -u
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"
tap_init

CA_TYPES="ed25519 ecdsa-p256 ecdsa-p384 rsa"

genkey "$WORK/subject" ed25519 || { echo "Bail out! ssh-keygen failed"; exit 1; }

# The certificates every CA issues: "serial:key id".
CERTS=(
	"1:id-1" "2:id-2" "3:revoked-id" "5:id-5" "9:id-9"
	"10:id-10" "11:id-11" "12:id-12" "13:id-13" "14:id-14" "15:id-15"
	"16:id-16" "17:revoked-id" "18:Revoked-ID" "19:revoked-id2" "20:revoked-i"
	"21:ops: rotated key 7" "100:revoked-id" "101:id-101"
	"18446744073709551615:id-max"
)

# issue CA_PRIV OUTDIR: issue every certificate of CERTS into OUTDIR as
# c<serial>-cert.pub; 0 on success
issue() {
	local ca=$1 out=$2 e s id
	mkdir -p "$out"
	for e in "${CERTS[@]}"; do
		s=${e%%:*} id=${e#*:}
		cp "$WORK/subject.pub" "$out/c$s.pub"
		run_signer sign --ca "$ca" --key "$out/c$s.pub" --principal alice --key-id "$id" --serial "$s"
		if [ "$RC" -ne 0 ] || [ ! -f "$out/c$s-cert.pub" ]; then
			diag "could not issue serial $s / '$id' with $ca"
			diag_run sign --ca "$ca" --key "$out/c$s.pub" --principal alice --key-id "$id" --serial "$s"
			return 1
		fi
		rm -f "$out/c$s.pub"
	done
}

# query KRL FILE: prints ok / REVOKED / error:<rc>:<output>, checking that the
# status word and ssh-keygen's exit code agree.
query() {
	local out rc st
	out=$(ssh-keygen -Q -f "$1" "$2" 2>&1)
	rc=$?
	st=${out##*: }
	if [ "$rc" -eq 0 ] && [ "$st" = ok ]; then echo ok
	elif [ "$rc" -eq 1 ] && [ "$st" = REVOKED ]; then echo REVOKED
	else echo "error:$rc:$out"; fi
}

# expect_revoked DESC KRL CERTDIR REVOKED_SERIALS...: every certificate in
# CERTDIR must be REVOKED iff its serial is listed, else ok.  One ssh-keygen
# -Q call for all of them (it prints one line per file, in order); the exit
# status must be 1 iff something is revoked.
expect_revoked() {
	local desc=$1 krl=$2 dir=$3 e s want got bad=0 i rc wantrc=0
	shift 3
	local -A rev=()
	for s in "$@"; do rev[$s]=1; done
	[ $# -gt 0 ] && wantrc=1
	if [ ! -s "$krl" ]; then
		not_ok "$desc"
		diag "KRL $krl missing or empty"
		return
	fi
	local files=()
	for e in "${CERTS[@]}"; do files+=("$dir/c${e%%:*}-cert.pub"); done
	local lines=()
	mapfile -t lines < <(ssh-keygen -Q -f "$krl" "${files[@]}" 2>&1; echo "rc=$?")
	rc=${lines[-1]#rc=}
	if [ "$rc" != "$wantrc" ]; then
		diag "$desc:"
		diag "  ssh-keygen -Q exited $rc, want $wantrc"
		bad=1
	fi
	i=0
	for e in "${CERTS[@]}"; do
		s=${e%%:*}
		want=ok
		[ -n "${rev[$s]:-}" ] && want=REVOKED
		got=${lines[$i]:-}
		case $got in
		"${files[$i]} ("*"): ok") got=ok ;;
		"${files[$i]} ("*"): REVOKED") got=REVOKED ;;
		*) got="unexpected output '$got'" ;;
		esac
		if [ "$got" != "$want" ]; then
			[ $bad -eq 0 ] && diag "$desc:"
			bad=1
			diag "  serial $s key id '${e#*:}': want $want, got $got"
		fi
		i=$((i + 1))
	done
	result $bad "$desc"
}

# krl_listing KRL: normalised "ssh-keygen -Q -l" output: per CA section a
# line "CA <fingerprint>", then "serial N" (ranges expanded; only for ranges
# up to 1000 long, longer ones kept as "serial A-B") and "id X", sorted.
krl_listing() {
	ssh-keygen -Q -l -f "$1" 2>&1 | awk '
		/^# CA key / { ca = $5; print "CA " ca; next }
		/^#/ || /^$/ { next }
		/^serial: / {
			v = substr($0, 9)
			n = split(v, r, "-")
			if (n == 2 && r[2] - r[1] <= 1000) {
				for (i = r[1]; i <= r[2]; i++) print "CA " ca " serial " i
			} else print "CA " ca " serial " v
			next
		}
		/^id: / { print "CA " ca " id " substr($0, 5); next }
		{ print "CA " ca " OTHER " $0 }
	' | sort
}

declare -A CA_A CA_B
for ct in $CA_TYPES; do
	mkdir -p "$WORK/$ct-A" "$WORK/$ct-B"
	run_signer init --dir "$WORK/$ct-A" --key-type "$ct"
	ra=$RC
	run_signer init --dir "$WORK/$ct-B" --key-type "$ct"
	if [ "$ra" -ne 0 ] || [ "$RC" -ne 0 ]; then
		echo "Bail out! pgl-signer init --key-type $ct failed: $(head -c 300 "$WORK/.err")"
		exit 1
	fi
	CA_A[$ct]=$WORK/$ct-A/user_ca
	CA_B[$ct]=$WORK/$ct-B/user_ca
done

for ct in $CA_TYPES; do
	A=${CA_A[$ct]} B=${CA_B[$ct]}
	if ! issue "$A" "$WORK/certs-$ct-A" || ! issue "$B" "$WORK/certs-$ct-B"; then
		not_ok "$ct: issue test certificates"
		continue
	fi

	# 1. one CA: serials {2, 10-15}, key IDs "revoked-id", "ops: rotated key 7"
	krl=$WORK/$ct-a.krl
	args=(krl --ca "$A.pub" --serial 2 --serial 10-15 --key-id revoked-id --key-id "ops: rotated key 7" --out "$krl")
	run_signer "${args[@]}"
	if [ "$RC" -ne 0 ] || [ ! -s "$krl" ]; then
		not_ok "$ct: krl --serial 2 --serial 10-15 --key-id revoked-id"
		diag_run "${args[@]}"
		continue
	fi
	ok "$ct: krl --serial 2 --serial 10-15 --key-id revoked-id"
	magic=$(head -c 8 "$krl" | tr '\n\0' 'N@')
	ver=$(od -An -tu1 -j8 -N4 "$krl" | tr -s ' ')
	if [ "$magic" = "SSHKRLN@" ] && [ "$ver" = " 0 0 0 1" ]; then ok "$ct: KRL magic SSHKRL\\n\\0, format version 1"; else
		not_ok "$ct: KRL magic SSHKRL\\n\\0, format version 1"
		diag "first bytes: $(od -An -tx1 -N12 "$krl")"
	fi
	expect_revoked "$ct: CA A: exactly serials 2,10-15 and key IDs revoked-id / 'ops: rotated key 7' are REVOKED" \
		"$krl" "$WORK/certs-$ct-A" 2 10 11 12 13 14 15 3 17 100 21
	expect_revoked "$ct: CA B certificates with the same serials and key IDs are ok" \
		"$krl" "$WORK/certs-$ct-B"
	got=$(query "$krl" "$WORK/subject.pub")
	if [ "$got" = ok ]; then ok "$ct: the plain subject key is ok"; else
		not_ok "$ct: the plain subject key is ok"
		diag "got $got"
	fi
	{
		echo "CA $(fp "$A.pub")"
		for s in 2 10 11 12 13 14 15; do echo "CA $(fp "$A.pub") serial $s"; done
		echo "CA $(fp "$A.pub") id revoked-id"
		echo "CA $(fp "$A.pub") id ops: rotated key 7"
	} | sort >"$WORK/.want"
	krl_listing "$krl" >"$WORK/.got"
	if diff -u "$WORK/.want" "$WORK/.got" >"$WORK/.diff"; then
		ok "$ct: ssh-keygen -Q -l lists exactly one CA section with those serials and IDs"
	else
		not_ok "$ct: ssh-keygen -Q -l lists exactly one CA section with those serials and IDs"
		diag_file "$WORK/.diff"
	fi

	# 2. two CAs in one file
	krl=$WORK/$ct-ab.krl
	args=(krl --ca "$A.pub" --serial 2 --key-id revoked-id
		--ca "$B.pub" --serial 5 --serial 18-20 --key-id id-1 --out "$krl")
	run_signer "${args[@]}"
	if [ "$RC" -ne 0 ]; then
		not_ok "$ct: two CAs in one KRL"
		diag_run "${args[@]}"
	else
		expect_revoked "$ct: two-CA KRL: CA A revokes serial 2 + 'revoked-id' only" \
			"$krl" "$WORK/certs-$ct-A" 2 3 17 100
		expect_revoked "$ct: two-CA KRL: CA B revokes serials 5,18-20 + 'id-1' only" \
			"$krl" "$WORK/certs-$ct-B" 5 18 19 20 1
	fi

	# 3. overlapping and repeated ranges merge
	krl=$WORK/$ct-ov.krl
	args=(krl --ca "$A.pub" --serial 10-15 --serial 12 --serial 14-20 --serial 2 --serial 2 --serial 1-1 --out "$krl")
	run_signer "${args[@]}"
	if [ "$RC" -ne 0 ]; then
		not_ok "$ct: overlapping/repeated serial ranges"
		diag_run "${args[@]}"
	else
		expect_revoked "$ct: overlapping/repeated serial ranges: exactly 1,2,10-20" \
			"$krl" "$WORK/certs-$ct-A" 1 2 10 11 12 13 14 15 16 17 18 19 20
	fi

	# 4. the largest serial, and a range over the whole serial space
	krl=$WORK/$ct-max.krl
	args=(krl --ca "$A.pub" --serial 18446744073709551615 --out "$krl")
	run_signer "${args[@]}"
	if [ "$RC" -ne 0 ]; then
		not_ok "$ct: --serial 2^64-1"
		diag_run "${args[@]}"
	else
		expect_revoked "$ct: --serial 18446744073709551615 revokes only that one" \
			"$krl" "$WORK/certs-$ct-A" 18446744073709551615
	fi
	krl=$WORK/$ct-all.krl
	args=(krl --ca "$A.pub" --serial 1-18446744073709551615 --out "$krl")
	run_signer "${args[@]}"
	sz=$(stat -c %s "$krl" 2>/dev/null || echo 0)
	if [ "$RC" -ne 0 ]; then
		not_ok "$ct: --serial 1-18446744073709551615"
		diag_run "${args[@]}"
	else
		expect_revoked "$ct: --serial 1-18446744073709551615 revokes every CA A cert" \
			"$krl" "$WORK/certs-$ct-A" "${CERTS[@]%%:*}"
		expect_revoked "$ct: ... and no CA B cert" "$krl" "$WORK/certs-$ct-B"
		if [ "$sz" -le 4096 ]; then ok "$ct: whole-range KRL is small ($sz bytes)"; else
			not_ok "$ct: whole-range KRL is small ($sz bytes)"
		fi
	fi

	# 5. a CA section with nothing revoked
	krl=$WORK/$ct-empty.krl
	run_signer krl --ca "$A.pub" --out "$krl"
	if [ "$RC" -ne 0 ]; then
		not_ok "$ct: KRL naming a CA but revoking nothing"
		diag_run krl --ca "$A.pub" --out "$krl"
	else
		expect_revoked "$ct: KRL naming a CA but revoking nothing: all ok" "$krl" "$WORK/certs-$ct-A"
	fi
done

# 6. one KRL over four CAs of four key types
args=(krl)
for ct in $CA_TYPES; do
	case $ct in ed25519) s=1 ;; ecdsa-p256) s=3 ;; ecdsa-p384) s=5 ;; rsa) s=9 ;; esac
	args+=(--ca "${CA_A[$ct]}.pub" --serial "$s")
done
args+=(--key-id id-101 --out "$WORK/mixed.krl")
run_signer "${args[@]}"
if [ "$RC" -ne 0 ]; then
	not_ok "KRL over four CAs of different key types"
	diag_run "${args[@]}"
else
	expect_revoked "mixed KRL: ed25519 CA revokes serial 1 only" "$WORK/mixed.krl" "$WORK/certs-ed25519-A" 1
	expect_revoked "mixed KRL: ecdsa-p256 CA revokes serial 3 only" "$WORK/mixed.krl" "$WORK/certs-ecdsa-p256-A" 3
	expect_revoked "mixed KRL: ecdsa-p384 CA revokes serial 5 only" "$WORK/mixed.krl" "$WORK/certs-ecdsa-p384-A" 5
	expect_revoked "mixed KRL: rsa CA revokes serial 9 + 'id-101' (last --ca) only" "$WORK/mixed.krl" "$WORK/certs-rsa-A" 9 101
	n=$(ssh-keygen -Q -l -f "$WORK/mixed.krl" 2>/dev/null | grep -c '^# CA key ')
	if [ "$n" = 4 ]; then ok "mixed KRL has four CA sections"; else
		not_ok "mixed KRL has four CA sections"
		ssh-keygen -Q -l -f "$WORK/mixed.krl" >"$WORK/.got" 2>&1
		diag_file "$WORK/.got"
	fi
fi

# 7. ssh-keygen -Q exit status semantics (OpenSSH 9.2), with our KRL
krl=$WORK/ed25519-a.krl
d=$WORK/certs-ed25519-A
if [ -s "$krl" ] && [ -f "$d/c2-cert.pub" ]; then
	ssh-keygen -Q -f "$krl" "$d/c1-cert.pub" >/dev/null 2>&1
	r1=$?
	ssh-keygen -Q -f "$krl" "$d/c2-cert.pub" >/dev/null 2>&1
	r2=$?
	out=$(ssh-keygen -Q -f "$krl" "$d/c1-cert.pub" "$d/c2-cert.pub" "$d/c5-cert.pub" 2>&1)
	r3=$?
	ssh-keygen -Q -f "$krl" "$d/c1-cert.pub" "$d/c5-cert.pub" >/dev/null 2>&1
	r4=$?
	head -c 64 /dev/urandom >"$WORK/garbage.krl"
	ssh-keygen -Q -f "$WORK/garbage.krl" "$d/c1-cert.pub" >/dev/null 2>&1
	r5=$?
	stat3=$(echo "$out" | sed 's/.*: //' | tr '\n' ' ')
	if [ "$r1" = 0 ] && [ "$r2" = 1 ] && [ "$r3" = 1 ] && [ "$r4" = 0 ] && [ "$r5" = 255 ] &&
		[ "$stat3" = "ok REVOKED ok " ]; then
		ok "ssh-keygen -Q: exit 0 if none revoked, 1 if any revoked (one line per file), 255 on a bad KRL"
	else
		not_ok "ssh-keygen -Q: exit 0 if none revoked, 1 if any revoked (one line per file), 255 on a bad KRL"
		diag "ok->$r1 revoked->$r2 mixed->$r3 ($stat3) two-ok->$r4 garbage-krl->$r5"
	fi
else
	not_ok "ssh-keygen -Q exit status semantics (no KRL to test with)"
fi

tap_done
