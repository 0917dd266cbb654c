#!/bin/bash
# End-to-end: stock OpenSSH sshd accepts and refuses certificates made by
# pgl-signer (init, sign, krl). Prints TAP; exit status 0 if all passed.
#
#   PGL_SIGNER=build/signer/pgl-signer bash test/e2e/sshd-login.sh
#
# Runs as root inside its own mount and network namespaces (re-executes
# itself with unshare), with a test user that exists only there, and an
# sshd on 127.0.0.1:$E2E_PORT. Nothing outside the namespace is changed.
# PGL_E2E_KEEP=DIR keeps a copy of the work directory (configs, keys, CA
# dirs, KRL, one sshd log per configuration) for inspection.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

CA_TYPES=(ed25519 ecdsa-p256 ecdsa-p384 rsa)
PRINCIPAL=pgltest@e2e-host     # what the principals file lists for $E2E_USER
# known_hosts names for "@cert-authority". ssh 9.2 matches these bare names
# for CA lines even on a non-22 port (no "[host]:port" form needed).
HOST_NAMES=127.0.0.1,localhost
PLAN=26

# ------------------------------------------------------------ helpers ----

# keygen_args TYPE: ssh-keygen options for a key of the same kind as CA TYPE.
keygen_args() {
    case $1 in
    ed25519) echo "-t ed25519" ;;
    ecdsa-p256) echo "-t ecdsa -b 256" ;;
    ecdsa-p384) echo "-t ecdsa -b 384" ;;
    rsa) echo "-t rsa -b 3072" ;;
    esac
}

# setup CMD...: run a setup step; if it fails, say so (the tests that need
# its output will then fail with their own diagnostics).
setup() {
    local out
    if ! out=$("$@" 2>&1); then
        tap_diag "setup step failed: $*" "$out"
        return 1
    fi
}

# newkey NAME [TYPE]: fresh subject key $K/NAME (+ .pub), mode 0600.
newkey() {
    # shellcheck disable=SC2046 # word splitting of the options is wanted
    setup ssh-keygen -q $(keygen_args "${2:-ed25519}") -N '' -C "$1" -f "$K/$1"
}

# sign CA_DIR NAME ARGS...: user certificate $K/NAME-cert.pub via pgl-signer.
sign() {
    local ca=$1 name=$2
    shift 2
    rm -f "$K/$name-cert.pub"
    setup "$PGL_SIGNER" sign --ca "$ca/user_ca" --key "$K/$name.pub" "$@"
}

# ca_fp CA_DIR: "ED25519 SHA256:..." of the user CA, as sshd logs it.
# Returned as an extended regex (the fingerprint's base64 may contain "+").
ca_fp() {
    ssh-keygen -l -f "$1/user_ca.pub" 2>/dev/null |
        awk '{ print $NF, $2 }' | tr -d '()' | sed 's/[]*.^$+?{}|\\[]/\\&/g'
}

# write_sshd_config FILE HOSTKEY HOSTCERT|- TRUSTED_CA_FILE KRL|-
write_sshd_config() {
    {
        cat <<EOF
ListenAddress 127.0.0.1:$E2E_PORT
HostKey $2
PidFile none
LogLevel VERBOSE
UsePAM no
UseDNS no
StrictModes yes
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthenticationMethods publickey
AuthorizedKeysFile none
AuthorizedPrincipalsFile $W/principals/%u
TrustedUserCAKeys $4
PrintMotd no
PrintLastLog no
EOF
        [[ $3 == - ]] || echo "HostCertificate $3"
        [[ $5 == - ]] || echo "RevokedKeys $5"
    } >"$1"
}

# known_hosts_for CA_DIR FILE: trust only CA_DIR's host CA for this server.
known_hosts_for() {
    echo "@cert-authority $HOST_NAMES $(cat "$1/host_ca.pub" 2>/dev/null)" >"$2"
}

# expect_login DESC NAME [EXPECTED_OUTPUT]: login with $K/NAME succeeds
# (no host verification) and the command prints EXPECTED_OUTPUT.
expect_login() {
    local want=${3:-$E2E_USER}
    e2e_ssh "$K/$2" /dev/null no id -un
    if [[ $SSH_RC == 0 && $SSH_OUT == "$want" ]]; then
        tap_result 0 "$1"
    else
        tap_note "expected output \"$want\""
        e2e_ssh_notes "$2"
        tap_result 1 "$1"
    fi
}

# expect_refused DESC NAME LOG_REGEX: login with $K/NAME fails, prints
# nothing, and sshd logged LOG_REGEX for it, so the refusal happened for
# the reason under test and not because, say, sshd was not running.
expect_refused() {
    local ok=0
    e2e_ssh "$K/$2" /dev/null no id -un
    if [[ ! -s $K/$2-cert.pub ]]; then
        tap_note "no certificate $K/$2-cert.pub (signing failed)"
        ok=1
    elif [[ $SSH_RC == 0 || -n $SSH_OUT ]]; then
        tap_note "login was not refused"
        ok=1
    elif ! sshd_log_wait "$3"; then
        tap_note "sshd did not log /$3/"
        ok=1
    elif sshd_log_new | grep -q 'Accepted publickey'; then
        tap_note "sshd logged an accepted key"
        ok=1
    fi
    ((ok == 0)) || e2e_ssh_notes "$2"
    tap_result "$ok" "$1"
}

# expect_host_rejected DESC KNOWN_HOSTS: with strict host key checking the
# client refuses the server's host key before authenticating.
expect_host_rejected() {
    e2e_ssh "$K/good" "$2" yes id -un
    if [[ $SSH_RC != 0 && -z $SSH_OUT && $SSH_ERR == *"Host key verification failed"* ]]; then
        tap_result 0 "$1"
    else
        tap_note "expected \"Host key verification failed\" from ssh"
        e2e_ssh_notes good
        tap_result 1 "$1"
    fi
}

e2e_ssh_notes() {
    e2e_note_ssh
    [[ -s $K/$1-cert.pub ]] && tap_note "--- ssh-keygen -L:" "$(ssh-keygen -L -f "$K/$1-cert.pub" 2>&1)"
}

# -------------------------------------------------------------- tests ----

# 1. Every CA key type: sshd accepts our user certificate, and the client
# verifies sshd's host certificate through "@cert-authority" alone. The
# subject keys are of the CA's kind, so each certificate key type is used.
test_ca_types() {
    local t ca
    for t in "${CA_TYPES[@]}"; do
        ca=$W/ca-$t
        setup "$PGL_SIGNER" init --dir "$ca" --key-type "$t"
        newkey "user-$t" "$t"
        sign "$ca" "user-$t" --principal "$PRINCIPAL" --key-id "e2e-$t" --serial 100
        # shellcheck disable=SC2046
        setup ssh-keygen -q $(keygen_args "$t") -N '' -C "host-$t" -f "$W/hostkey-$t"
        rm -f "$W/hostkey-$t-cert.pub"
        setup "$PGL_SIGNER" sign --ca "$ca/host_ca" --key "$W/hostkey-$t.pub" --host \
            --principal 127.0.0.1 --principal localhost --key-id "host-$t" --serial 1
        known_hosts_for "$ca" "$W/known_hosts-$t"
        write_sshd_config "$W/sshd_config-$t" "$W/hostkey-$t" "$W/hostkey-$t-cert.pub" \
            "$ca/user_ca.pub" -
        sshd_start "$W/sshd_config-$t" "$W/sshd-$t.log"

        expect_login "$t CA: user certificate accepted by sshd" "user-$t"

        e2e_ssh "$K/user-$t" "$W/known_hosts-$t" yes id -un
        if [[ $SSH_RC == 0 && $SSH_OUT == "$E2E_USER" ]]; then
            tap_result 0 "$t CA: host certificate verified by ssh via @cert-authority"
        else
            e2e_note_ssh
            tap_note "--- host cert:" "$(ssh-keygen -L -f "$W/hostkey-$t-cert.pub" 2>&1)"
            tap_result 1 "$t CA: host certificate verified by ssh via @cert-authority"
        fi
    done
}

# 2. One sshd trusting the ed25519 CA: a good certificate works (the
# positive control for the refusals in this group), bad ones are refused.
test_user_cert_checks() {
    local ca=$W/ca-ed25519 now id serial
    setup "$PGL_SIGNER" init --dir "$W/ca-other"
    write_sshd_config "$W/sshd_config-user" "$W/hostkey-ed25519" - "$ca/user_ca.pub" -
    sshd_start "$W/sshd_config-user" "$W/sshd-user.log"

    newkey good
    sign "$ca" good --principal "$PRINCIPAL" --key-id "alice@example.org/e2e-host" \
        --serial 9223372036854775813 --ttl 120
    expect_login "good certificate accepted (control)" good

    # sshd's log line is the audit link: the key ID and serial must survive.
    id=$(sshd_log_new | grep -m1 'Accepted publickey for')
    serial=9223372036854775813
    if [[ $id == *"ID alice@example.org/e2e-host (serial $serial)"* ]]; then
        tap_result 0 "sshd logs the certificate's key ID and serial"
    else
        tap_note "expected 'ID alice@example.org/e2e-host (serial $serial)' in:" "${id:-(no Accepted line)}"
        tap_result 1 "sshd logs the certificate's key ID and serial"
    fi

    newkey second-principal
    now=$(date -u -d @$(($(date +%s) - 60)) +%Y%m%d%H%M%S)
    sign "$ca" second-principal --principal someone@elsewhere --principal "$PRINCIPAL" \
        --key-id second --serial 2 --valid-from "$now" --valid-to +5m
    expect_login "certificate whose second principal is listed accepted" second-principal

    newkey expired
    now=$(date +%s)
    sign "$ca" expired --principal "$PRINCIPAL" --key-id expired --serial 3 \
        --valid-from "@$((now - 7200))" --valid-to "@$((now - 3600))"
    expect_refused "expired certificate refused" expired 'Certificate invalid: expired'

    newkey future
    sign "$ca" future --principal "$PRINCIPAL" --key-id future --serial 4 \
        --valid-from +1h --valid-to +2h
    expect_refused "not yet valid certificate refused" future 'Certificate invalid: not yet valid'

    newkey wrong-principal
    sign "$ca" wrong-principal --principal "$E2E_USER" --principal mallory@e2e-host \
        --key-id wrong-principal --serial 5
    expect_refused "certificate without a listed principal refused" wrong-principal \
        'Certificate does not contain an authorized principal'

    newkey other-ca
    sign "$W/ca-other" other-ca --principal "$PRINCIPAL" --key-id other-ca --serial 6
    # At LogLevel VERBOSE sshd gives no reason for an unknown CA, only the
    # failure with the certificate's ID and CA: match those.
    expect_refused "certificate from another CA refused" other-ca \
        "Failed publickey for $E2E_USER .* ID other-ca \\(serial 6\\) CA $(ca_fp "$W/ca-other")"

    newkey source-address
    sign "$ca" source-address --principal "$PRINCIPAL" --key-id source-address --serial 7 \
        --critical-option source-address=192.0.2.1/32
    expect_refused "certificate with source-address not matching 127.0.0.1 refused" \
        source-address 'not from a permitted source address'

    newkey force-command
    sign "$ca" force-command --principal "$PRINCIPAL" --key-id force-command --serial 8 \
        --critical-option "force-command=echo forced"
    expect_login "force-command critical option runs instead of the command" \
        force-command forced
}

# 3. RevokedKeys from "pgl-signer krl" with two CAs: revoked serials (single,
# range ends) and key IDs are refused, their neighbours are accepted, and
# each revocation applies only to the CA it was given for.
test_krl() {
    local ca=$W/ca-ed25519 other=$W/ca-other s ok
    cat "$ca/user_ca.pub" "$other/user_ca.pub" >"$W/trusted_cas" 2>/dev/null
    setup "$PGL_SIGNER" krl --ca "$ca/user_ca.pub" --serial 1001 --serial 2000-2099 \
        --key-id revoked-id --ca "$other/user_ca.pub" --serial 7 --out "$W/krl"
    write_sshd_config "$W/sshd_config-krl" "$W/hostkey-ed25519" - "$W/trusted_cas" "$W/krl"
    sshd_start "$W/sshd_config-krl" "$W/sshd-krl.log"

    for s in 1000 1001 1002 1999 2000 2099 2100 3000 7; do
        newkey "krl-$s"
        sign "$ca" "krl-$s" --principal "$PRINCIPAL" --key-id "serial-$s" --serial "$s"
    done
    sign "$ca" krl-3000 --principal "$PRINCIPAL" --key-id revoked-id --serial 3000
    newkey krl-other-7
    sign "$other" krl-other-7 --principal "$PRINCIPAL" --key-id other-7 --serial 7

    # One result for the neighbours of the revoked serials.
    ok=0
    for s in 1000 1002 1999 2100; do
        e2e_ssh "$K/krl-$s" /dev/null no id -un
        if [[ $SSH_RC != 0 || $SSH_OUT != "$E2E_USER" ]]; then
            tap_note "serial $s was refused"
            e2e_ssh_notes "krl-$s"
            ok=1
        fi
    done
    tap_result "$ok" "KRL in place: non-revoked serials 1000, 1002, 1999, 2100 accepted"

    local revoked="ED25519-CERT .* revoked by file $W/krl"
    expect_refused "KRL: revoked serial 1001 refused" krl-1001 "$revoked"
    ok=0
    for s in 2000 2099; do
        expect_refused_quiet "krl-$s" "$revoked" || ok=1
    done
    tap_result "$ok" "KRL: serials 2000 and 2099 (range 2000-2099) refused"
    expect_refused "KRL: revoked key ID refused" krl-3000 "$revoked"
    expect_refused "KRL: second CA's serial 7 refused" krl-other-7 "$revoked"
    expect_login "KRL: first CA's serial 7 (revoked only for the second CA) accepted" krl-7
}

# expect_refused_quiet NAME LOG_REGEX: expect_refused without a TAP line.
expect_refused_quiet() {
    e2e_ssh "$K/$1" /dev/null no id -un
    if [[ -s $K/$1-cert.pub && $SSH_RC != 0 && -z $SSH_OUT ]] && sshd_log_wait "$2"; then
        return 0
    fi
    tap_note "$1: not refused as expected (sshd log should match /$2/)"
    e2e_ssh_notes "$1"
    return 1
}

# 4. The host side: with only "@cert-authority" for our host CA in
# known_hosts, ssh refuses a server whose host key is not certified by it
# (the positive control is the "host certificate verified" tests above,
# same client options and user key).
test_host_cert_refusals() {
    local ca=$W/ca-ed25519 kh=$W/known_hosts-ed25519

    # Plain host key, no certificate.
    setup ssh-keygen -q -t ed25519 -N '' -C host-plain -f "$W/hostkey-plain"
    write_sshd_config "$W/sshd_config-hplain" "$W/hostkey-plain" - "$ca/user_ca.pub" -
    sshd_start "$W/sshd_config-hplain" "$W/sshd-hplain.log"
    expect_host_rejected "host key without certificate rejected by ssh" "$kh"

    # Certified, but by another CA.
    setup ssh-keygen -q -t ed25519 -N '' -C host-other -f "$W/hostkey-other"
    setup "$PGL_SIGNER" sign --ca "$W/ca-other/host_ca" --key "$W/hostkey-other.pub" --host \
        --principal 127.0.0.1 --principal localhost --key-id host-other --serial 2
    write_sshd_config "$W/sshd_config-hother" "$W/hostkey-other" "$W/hostkey-other-cert.pub" \
        "$ca/user_ca.pub" -
    sshd_start "$W/sshd_config-hother" "$W/sshd-hother.log"
    expect_host_rejected "host certificate from another CA rejected by ssh" "$kh"

    # Our CA, but issued for another host name.
    setup ssh-keygen -q -t ed25519 -N '' -C host-elsewhere -f "$W/hostkey-elsewhere"
    setup "$PGL_SIGNER" sign --ca "$ca/host_ca" --key "$W/hostkey-elsewhere.pub" --host \
        --principal vm-02.example.org --key-id host-elsewhere --serial 3
    write_sshd_config "$W/sshd_config-helse" "$W/hostkey-elsewhere" \
        "$W/hostkey-elsewhere-cert.pub" "$ca/user_ca.pub" -
    sshd_start "$W/sshd_config-helse" "$W/sshd-helse.log"
    expect_host_rejected "host certificate for another host name rejected by ssh" "$kh"
}

# --------------------------------------------------------------- main ----

main() {
    e2e_enter_namespace "$0" "$@"

    # Resolve before the sandbox mounts anything over /run and /var/log.
    if [[ -z ${PGL_SIGNER:-} ]]; then
        tap_bail "PGL_SIGNER is not set (path to the pgl-signer binary)"
    fi
    PGL_SIGNER=$(readlink -f "$PGL_SIGNER")
    [[ -x $SSHD ]] || tap_skip_all "$SSHD not installed"
    command -v ssh >/dev/null || tap_skip_all "ssh client not installed"
    command -v ssh-keygen >/dev/null || tap_skip_all "ssh-keygen not installed"

    e2e_sandbox_init
    [[ -x $PGL_SIGNER ]] || tap_bail "PGL_SIGNER=$PGL_SIGNER is not executable"
    e2e_add_user
    trap 'e2e_cleanup' EXIT
    trap 'exit 1' INT TERM HUP

    W=$E2E_DIR
    K=$W/keys
    mkdir -m 0700 "$K" "$W/principals"
    chmod 0755 "$W/principals"
    echo "$PRINCIPAL" >"$W/principals/$E2E_USER"

    tap_plan "$PLAN"
    tap_diag "pgl-signer: $PGL_SIGNER" "$(ssh -V 2>&1)"
    test_ca_types
    test_user_cert_checks
    test_krl
    test_host_cert_refusals
    sshd_stop
    tap_finish
}

main "$@"
