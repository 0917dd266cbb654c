#!/usr/bin/env bash
# pgl against a host running the whole pgl host stack (host-stack.sh:
# pgl-host enrolled with --configure, libnss_pgl, principals, pam_pgl,
# the resolver): no local account for the user anywhere, the host learns
# of them at the first `pgl ssh`, and plain scp works through
# `pgl config ssh`.  TAP on stdout.
#
#   PGL_SIGNER, PGL_CLIENT, PGL_HOST, PGL_NSS_MODULE, PGL_PAM_MODULE,
#   PGL_PRINCIPALS, PGL_PAM_PROFILE   (set by meson)

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../e2e/host-stack.sh"
if [ "${PGL_SVC_IN_NS:-}" != 1 ]; then
	[ "${PGL_SANITIZE:-0}" = 1 ] && cl_skip "the host modules are loaded by \
uninstrumented sshd; the plain build runs this test"
	for v in PGL_HOST PGL_NSS_MODULE PGL_PAM_MODULE PGL_PRINCIPALS PGL_PAM_PROFILE; do
		[ -e "${!v:-}" ] || { echo "Bail out! $v is not set to a file"; exit 1; }
		export "$v=$(readlink -f "${!v}")"
	done
fi
cl_enter_namespace "$0" "$@"
cl_begin
unset LD_LIBRARY_PATH
trap 'hs_stop_all; cl_cleanup; svc_kill; tap_cleanup' EXIT
cd "$CW" || exit 1

ok_if() {
	local st=$1 d=$2
	shift 2
	result "$st" "$d"
	if [ "$st" -ne 0 ] && [ $# -gt 0 ]; then diag "$@"; fi
	return "$st"
}

jit_policy() {
	pol_new
	pol_resource vm-jit 127.0.0.1 2240
	pol_role ops "vm-jit" 'sudo = "all";'
	pol_user alice@example.com "ops"
	pol_user bob@example.com ""
	pol_write "$SVC_DIR/policy.conf"
}
SSHO=(-o BatchMode=yes -o ConnectTimeout=10)

cl_signer jit_policy
pgl_login
ok_if $? "pgl login" "$(pgl_desc)"
hs_start vm-jit 2240
ok_if $? "vm-jit enrolled with pgl-host enroll --configure; sshd and resolver up"
! hs vm-jit grep -q "^$JIT_USER:" /etc/passwd
ok_if $? "$JIT_USER is no local account on vm-jit"

pgl ssh vm-jit "${SSHO[@]}" -- 'id -un; id -u; stat -c "%U %a" "$HOME"; sudo -n id -un'
[ "$PGL_RC" -eq 0 ] && [ "$(sed -n 1p out)" = "$JIT_USER" ] &&
	[ "$(sed -n 2p out)" = "$JIT_UID" ] &&
	[ "$(sed -n 3p out)" = "$JIT_USER 700" ] && [ "$(sed -n 4p out)" = root ]
ok_if $? "first pgl ssh: the JIT user ($JIT_USER, uid $JIT_UID), a 0700 home, sudo" \
	"$(pgl_desc)" "$(hs_log vm-jit | tail -n 15)"

pgl config ssh --install
ok_if $? "pgl config ssh --install" "$(pgl_desc)"
head -c 65536 /dev/urandom >payload
scp -q "${SSHO[@]}" payload vm-jit:up.bin 2>scp.err &&
	scp -q "${SSHO[@]}" vm-jit:up.bin back.bin 2>>scp.err && cmp -s payload back.bin
ok_if $? "plain scp through the installed config: a file up and back" \
	"$(cat scp.err)" "$(hs_log vm-jit | tail -n 15)"

tap_done
