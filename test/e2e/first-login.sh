#!/usr/bin/env bash
# End to end: a person's first ssh to a host they were just granted.  A
# real pgl-signer and two enrolled hosts (vm-01, vm-02: each with its own
# sshd, libnss_pgl, principals, pam_pgl and pgl-host resolver, see
# host-stack.sh), the real ssh client with certificates from the
# signer's API.  TAP.  Runs as root in private namespaces; the real
# system's files are never changed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../service/lib.sh
. "$HERE/../service/lib.sh"
# shellcheck source=host-stack.sh
. "$HERE/host-stack.sh"

if [ "${PGL_SVC_IN_NS:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || svc_skip "needs root (mount namespaces, sshd)"
	[ "${PGL_SANITIZE:-0}" = 1 ] && svc_skip "the host modules are loaded by \
uninstrumented sshd and sudo; the plain build runs this test, and the \
modules' own tests run under ASan"
	for c in /usr/sbin/sshd ssh ssh-keygen nsenter sudo visudo gcc pam-auth-update; do
		command -v "$c" >/dev/null 2>&1 || svc_skip "$c not installed"
	done
	for v in PGL_SIGNER PGL_HOST PGL_NSS_MODULE PGL_PAM_MODULE PGL_PRINCIPALS PGL_PAM_PROFILE; do
		[ -e "${!v:-}" ] || { echo "Bail out! $v is not set to a file"; exit 1; }
		export "$v=$(readlink -f "${!v}")"
	done
fi
svc_enter_namespace "$0" "$@"
svc_begin
# Meson points LD_LIBRARY_PATH at the build's modules; sshd and sudo
# must load the installed copies, as on a real host.
unset LD_LIBRARY_PATH
keep() {
	[ -n "${PGL_E2E_KEEP:-}" ] || return 0
	mkdir -p "$PGL_E2E_KEEP" && cp -a /run/pgl-hosts "$CW" "$WORK/signer" \
		"$PGL_E2E_KEEP/" 2>/dev/null
}
trap 'keep; hs_stop_all; svc_kill; tap_cleanup' EXIT
trap 'keep; hs_stop_all; svc_kill; tap_abort' INT TERM HUP


# This namespace's own /run (sshd's privsep dir, the hosts' work dirs:
# root-owned 0755, as sshd's StrictModes wants) and /var/log; root's home
# moves to a test directory so ssh never touches the real ~/.ssh.
mount -t tmpfs -o mode=0755,size=64m pgl-e2e-run /run &&
	mount -t tmpfs -o mode=0755,size=16m pgl-e2e-log /var/log &&
	mkdir -m 0755 /run/sshd /run/e2e ||
	{ echo "Bail out! tmpfs mounts"; exit 1; }
CW=/run/e2e
mkdir -m 0700 "$CW/root"
awk -F: -v OFS=: -v h="$CW/root" '$1 == "root" { $6 = h } 1' /etc/passwd >"$CW/passwd"
mount --bind "$CW/passwd" /etc/passwd || { echo "Bail out! bind /etc/passwd"; exit 1; }
export HOME=$CW/root

# ---- the signer and its policy ----

policy() {
	pol_new
	pol_resource vm-01 127.0.0.1 2201
	pol_resource vm-02 127.0.0.1 2202
	pol_role ops "vm-01 vm-02" 'sudo = "all"; groups = [ "deploy" ];'
	pol_role dev "vm-01" 'groups = [ "devs" ];'
	pol_user alice@example.com "${ALICE_ROLES-ops}" 'name = "Alice Example";'
	pol_user bob@example.com "dev"
	pol_user root@example.com "dev"
	pol_user carol@example.com "dev"
	pol_write "$SVC_DIR/policy.conf"
}

svc_init "$WORK/signer" || { echo "Bail out! pgl-signer init"; exit 1; }
svc_config "$SVC_CONF"
policy
declare -A TOK
for id in alice@example.com bob@example.com root@example.com carol@example.com; do
	run_signer token add -c "$SVC_CONF" -- "$id"
	TOK[$id]=$(cat "$WORK/.out")
done
svc_start || { echo "Bail out! the signer did not start"; exit 1; }
echo "@cert-authority * $(cat "$SVC_DIR/host_ca.pub")" >"$CW/known_hosts"

# ---- two hosts ----

hs_start vm-01 2201
result $? "vm-01 enrolled with a one-time token, sshd and the resolver up"
hs_start vm-02 2202
result $? "vm-02 enrolled, sshd and the resolver up"
hs vm-01 grep -Eq '^passwd:.* pgl' /etc/nsswitch.conf &&
	hs vm-01 grep -q pam_pgl /etc/pam.d/common-account &&
	hs vm-01 grep -q pam_pgl /etc/pam.d/common-session
result $? "enroll --configure added pgl to nsswitch.conf and the PAM stack"
# carol is a local account on vm-01 only (an existing user of that host).
hs vm-01 useradd -M -u 4001 -s /bin/sh carol
result $? "a local account carol exists on vm-01"

# ---- helpers ----

# cert ID RESOURCE NAME: a fresh key pair $CW/NAME and its certificate
# from the API for RESOURCE; sets CERT_USER (the JIT username).
cert() {
	local id=$1 res=$2 k=$CW/$3
	rm -f "$k" "$k.pub" "$k-cert.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$3" -f "$k" </dev/null || return 1
	sign "${TOK[$id]}" "$k.pub" "$res"
	[ "$HTTP_CODE" = 200 ] || { diag_http; return 1; }
	jget "$WORK/body" certificate >"$k-cert.pub"
	CERT_USER=$(jget "$WORK/body" username)
	CERT_SERIAL=$(jget "$WORK/body" serial)
}

# login KEY USER PORT CMD...: plain ssh with KEY and its certificate only.
login() {
	local k=$CW/$1 u=$2 p=$3
	shift 3
	SSH_OUT=$(timeout 30 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
		-o IdentityAgent=none -o PreferredAuthentications=publickey \
		-i "$k" -o CertificateFile="$k-cert.pub" \
		-o UserKnownHostsFile="$CW/known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o CheckHostIP=no -o ConnectTimeout=10 \
		-p "$p" "$u@127.0.0.1" "$@" </dev/null 2>"$CW/ssh.err")
	SSH_RC=$?
	return "$SSH_RC"
}

diag_login() {
	diag "ssh exit $SSH_RC; stdout: $SSH_OUT"
	diag "stderr: $(head -c 800 "$CW/ssh.err")"
	diag "sshd ($1):"
	diag "$(hs_log "$1" | tail -n 15)"
}

# ---- first login: nothing synced, the resolver fetches the user ----

cert alice@example.com vm-01 alice
result $? "alice gets a certificate for vm-01 (username $CERT_USER)"
A=$CERT_USER
hs vm-01 test ! -e /var/lib/pgl/cache
result $? "vm-01 has no cache yet (nothing synced)"
login alice "$A" 2201 'id -un; id -u; id -gn; id -Gn; echo "$HOME"'
[ "$SSH_RC" -eq 0 ] && [ "$(sed -n 1p <<<"$SSH_OUT")" = "$A" ]
result $? "first login of $A on vm-01 works without a prior sync" || diag_login vm-01
uid=$(sed -n 2p <<<"$SSH_OUT")
[ "$uid" -ge 100000 ] && [ "$uid" -le 199999 ] &&
	[ "$(sed -n 3p <<<"$SSH_OUT")" = "$A" ] &&
	grep -qw deploy <<<"$(sed -n 4p <<<"$SSH_OUT")"
result $? "id: the org uid ($uid), the self-group, the grant's group deploy" ||
	diag "id output: $SSH_OUT"
[ "$(hs vm-01 stat -c '%U %G %a' "/home/$A")" = "$A $A 700" ] &&
	hs vm-01 test -f "/home/$A/.bashrc" && hs vm-01 test -f "/home/$A/.profile"
result $? "home /home/$A: owner, group, mode 0700, skeleton files" ||
	diag "$(hs vm-01 ls -la "/home/$A" 2>&1)"
login alice "$A" 2201 sudo -n true
result $? "sudo -n true works for $A (grant: all; pam_unix account via the pgl shadow entry)" ||
	diag_login vm-01
[ "$(hs vm-01 stat -c '%a %U' "/etc/sudoers.d/pgl-$A")" = "440 root" ] &&
	hs vm-01 visudo -cf "/etc/sudoers.d/pgl-$A" >/dev/null
result $? "the sudoers drop-in is 0440 root and valid"
hs_log vm-01 | grep -q "ID pgl:alice@example.com:vm-01:$CERT_SERIAL"
result $? "sshd logged the certificate's key ID and serial"

cert bob@example.com vm-01 bob
B=$CERT_USER
login bob "$B" 2201 'id -Gn; sudo -n true'
[ "$SSH_RC" -ne 0 ] && grep -qw devs <<<"$SSH_OUT"
result $? "$B logs in with group devs, and sudo -n true fails (no sudo grant)" ||
	diag_login vm-01
hs vm-01 test ! -e "/etc/sudoers.d/pgl-$B"
result $? "no sudoers drop-in for $B"

# ---- host binding ----

hs_sync vm-02
hs vm-02 getent passwd "$A" >/dev/null
result $? "after a sync, $A exists on vm-02 too" || diag "$HS_OUT"
login alice "$A" 2202 true
[ "$SSH_RC" -ne 0 ]
result $? "alice's certificate for vm-01 is refused by vm-02" || diag_login vm-02
cert alice@example.com vm-02 alice2
login alice2 "$A" 2202 id -un
[ "$SSH_RC" -eq 0 ] && [ "$SSH_OUT" = "$A" ]
result $? "a certificate for vm-02 is accepted there" || diag_login vm-02
login alice2 "$A" 2201 true
[ "$SSH_RC" -ne 0 ]
result $? "and refused by vm-01" || diag_login vm-01

# ---- names that are local accounts ----

cert root@example.com vm-01 rootid
R=$CERT_USER
[ "$R" != root ] && ! ssh-keygen -L -f "$CW/rootid-cert.pub" | grep -qw 'root@vm-01'
result $? "root@example.com gets username $R, no root principal"
login rootid root 2201 id -un
[ "$SSH_RC" -ne 0 ]
result $? "its certificate does not log in as root" || diag_login vm-01
login rootid "$R" 2201 id -u
[ "$SSH_RC" -eq 0 ] && [ "$SSH_OUT" -ge 100000 ]
result $? "it logs in as $R with an org uid" || diag_login vm-01

cert carol@example.com vm-01 carol
[ "$CERT_USER" = carol ]
result $? "carol@example.com's username is carol (the signer knows no host's accounts)"
login carol carol 2201 id -u
[ "$SSH_RC" -ne 0 ]
result $? "her certificate does not log in as vm-01's local carol" || diag_login vm-01
[ "$(hs vm-01 /usr/lib/pgl/principals carol)" = "" ] &&
	[ "$(hs vm-01 id -u carol)" = 4001 ]
result $? "principals prints nothing for carol; carol stays the local account"

# ---- removing a grant, revoking a certificate ----

cert alice@example.com vm-01 alice3
ALICE_ROLES= policy
svc_reload
result $? "the signer reloads a policy without any grant for alice"
hs_sync vm-01
login alice3 "$A" 2201 true
[ "$SSH_RC" -ne 0 ]
result $? "after a sync, alice's unexpired certificate no longer logs in" ||
	diag_login vm-01
hs vm-01 test ! -e "/etc/sudoers.d/pgl-$A"
result $? "and her sudoers drop-in is gone" || diag "$HS_OUT"

login bob "$B" 2201 true
result $? "bob still logs in" || diag_login vm-01
cert bob@example.com vm-01 bob2
run_signer revoke -c "$SVC_CONF" --serial "$CERT_SERIAL"
result "$RC" "revoke bob's new certificate by serial" || diag_run revoke
hs_sync vm-01
login bob2 "$B" 2201 true
[ "$SSH_RC" -ne 0 ] && hs_log vm-01 | grep -q "revoked"
result $? "after a sync the KRL refuses the revoked certificate" || diag_login vm-01
login bob "$B" 2201 true
result $? "bob's other certificate still works" || diag_login vm-01

tap_done
