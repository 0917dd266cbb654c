#!/usr/bin/env bash
# Plain OpenSSH tools through `pgl config ssh` (ssh, scp, sftp, rsync -e
# ssh, a bastion by ProxyJump), `pgl sign` for an existing key, and
# `pgl agent-add` with a lifetime.  TAP on stdout.
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

cl_signer
pgl_login
ok_if $? "pgl login" "$(pgl_desc)"
host_account "$JIT_USER" "$JIT_UID"
RH=$CW/home/$JIT_USER          # the JIT user's home on the host
host_sshd_start vm-01 2222 && host_sshd_start jump 2224 &&
	host_sshd_start inner 2225 127.0.0.3
ok_if $? "sshds for vm-01, jump and inner"

# ================================================================ config ssh

pgl config ssh
cp out block.txt
[ "$PGL_RC" -eq 0 ] && grep -q '^# BEGIN pgl' out && grep -q '^# END pgl' out &&
	grep -q "^Match originalhost vm-01,web exec \"$PGL_CLIENT ensure --cache-dir $XDG_RUNTIME_DIR/pgl vm-01\"" out &&
	grep -q "^	User $JIT_USER$" out && grep -q '^	ProxyJump jump$' out &&
	[ ! -e "$U/.ssh/config" ]
ok_if $? "pgl config ssh prints the block (Match exec, Host, ProxyJump) and installs nothing" "$(pgl_desc)"
kh=$U/.config/pgl/known_hosts
grep -q "^@cert-authority vm-01,jump,inner $(awk '{print $1, $2}' "$SVC_DIR/host_ca.pub")" "$kh"
ok_if $? "the @cert-authority line for the host CA, limited to the resources" "$(cat "$kh" 2>&1)"

mkdir -m 0700 "$U/.ssh"
printf 'Host *\n\tServerAliveInterval 30\n' >"$U/.ssh/config"
pgl config ssh --install
pgl config ssh --install
[ "$PGL_RC" -eq 0 ] && [ "$(grep -c '^# BEGIN pgl' "$U/.ssh/config")" = 1 ] &&
	[ "$(head -n 1 "$U/.ssh/config" | cut -c1-11)" = "# BEGIN pgl" ] &&
	grep -q 'ServerAliveInterval 30' "$U/.ssh/config" &&
	[ "$(stat -c %a "$U/.ssh/config")" = 600 ]
ok_if $? "--install twice: one block, before the user's own lines, which stay; 0600" \
	"$(pgl_desc)" "$(cat "$U/.ssh/config")"

SSHO=(-o BatchMode=yes -o ConnectTimeout=5)
out=$(ssh "${SSHO[@]}" vm-01 id -un 2>ssh.err)
rc=$?
[ $rc -eq 0 ] && [ "$out" = "$JIT_USER" ]
ok_if $? "plain ssh vm-01 fetches a certificate through Match exec and logs in" \
	"rc=$rc out=$out" "$(cat ssh.err)" "$(host_log vm-01)"
c=$XDG_RUNTIME_DIR/pgl
[ "$(stat -c %a "$c")" = 700 ] && [ "$(stat -c %a "$c/vm-01")" = 600 ] &&
	ssh-keygen -L -f "$c/vm-01-cert.pub" | grep -q "$JIT_USER@vm-01"
ok_if $? "the cached key is 0600 in a 0700 directory, its certificate for $JIT_USER@vm-01" \
	"$(ls -la "$c")"
s1=$(ssh-keygen -L -f "$c/vm-01-cert.pub" | sed -n 's/^ *Serial: //p')
ssh "${SSHO[@]}" web true 2>>ssh.err
s2=$(ssh-keygen -L -f "$c/vm-01-cert.pub" | sed -n 's/^ *Serial: //p')
[ -n "$s1" ] && [ "$s1" = "$s2" ]
ok_if $? "a second ssh (by alias) reuses the valid certificate" "$s1 / $s2" "$(cat ssh.err)"

head -c 100000 /dev/urandom >payload
scp -q "${SSHO[@]}" payload vm-01:up.bin 2>scp.err &&
	scp -q "${SSHO[@]}" vm-01:up.bin back.bin 2>>scp.err
cmp -s payload "$RH/up.bin" && cmp -s payload back.bin
ok_if $? "scp: a file up and back, byte for byte" "$(cat scp.err)"

printf 'put payload sftp.bin\nget sftp.bin sftp-back.bin\n' >batch
sftp -q "${SSHO[@]}" -b batch vm-01 >sftp.out 2>&1
cmp -s payload "$RH/sftp.bin" && cmp -s payload sftp-back.bin
ok_if $? "sftp: put and get" "$(cat sftp.out)"

if command -v rsync >/dev/null 2>&1; then
	mkdir -p tree/sub && echo one >tree/a && echo two >tree/sub/b
	rsync -a -e "ssh ${SSHO[*]}" tree/ vm-01:rtree/ 2>rsync.err &&
		rsync -a -e "ssh ${SSHO[*]}" vm-01:rtree/ rback/ 2>>rsync.err
	diff -r tree "$RH/rtree" >/dev/null && diff -r tree rback >/dev/null
	ok_if $? "rsync -e ssh: a tree up and back" "$(cat rsync.err)"
else
	ok "# SKIP rsync not installed"
fi

out=$(ssh "${SSHO[@]}" inner 'echo "$(id -un) inner"' 2>ssh.err)
[ "$out" = "$JIT_USER inner" ] && grep -q "Accepted publickey for $JIT_USER" "${HOST_LOG[jump]}"
ok_if $? "plain ssh inner goes through jump (ProxyJump, both certificates ensured)" \
	"out=$out" "$(cat ssh.err)" "$(host_log jump)"
[ ! -e "$U/.ssh/known_hosts" ]
ok_if $? "no known_hosts entry was written to ~/.ssh"

pgl ssh vm-01 -o BatchMode=yes -- true
s3=$(ssh-keygen -L -f "$c/vm-01-cert.pub" | sed -n 's/^ *Serial: //p')
[ "$PGL_RC" -eq 0 ] && [ "$s3" = "$s1" ]
ok_if $? "pgl ssh with the block installed: works, and does not run ensure for itself" "$(pgl_desc)"

# ================================================================ sign

ssh-keygen -q -t ed25519 -N '' -C mine -f mykey </dev/null
pgl sign vm-01 --key-file mykey.pub
L=$(ssh-keygen -L -f mykey-cert.pub 2>&1)
va=$(echo "$L" | sed -n 's/^ *Valid: from \([^ ]*\) to \([^ ]*\)$/\1/p')
vb=$(echo "$L" | sed -n 's/^ *Valid: from \([^ ]*\) to \([^ ]*\)$/\2/p')
now=$(date +%s)
d_va=$((now - $(epoch_of "$va")))
d_vb=$(($(epoch_of "$vb") - now))
[ "$PGL_RC" -eq 0 ] && [ "$(stat -c %a mykey-cert.pub)" = 644 ] &&
	[ "$(echo "$L" | sed -n '/Principals:/,/Critical Options:/p' | sed '1d;$d' | tr -d ' \t')" = "$JIT_USER@vm-01" ] &&
	[ "$(fp mykey-cert.pub)" = "$(fp mykey.pub)" ] &&
	[ $d_va -ge 55 ] && [ $d_va -le 70 ] && [ $d_vb -ge 290 ] && [ $d_vb -le 300 ]
ok_if $? "pgl sign: mykey-cert.pub (0644) for that key, principal $JIT_USER@vm-01, valid now-60s..now+300s" \
	"$(pgl_desc)" "$L" "d_va=$d_va d_vb=$d_vb"
out=$(ssh -F /dev/null "${SSHO[@]}" -i mykey -o IdentitiesOnly=yes -o IdentityAgent=none \
	-o UserKnownHostsFile="$kh" -o HostKeyAlias=vm-01 -o StrictHostKeyChecking=yes \
	-p 2222 -l "$JIT_USER" 127.0.0.1 id -un 2>ssh.err)
[ "$out" = "$JIT_USER" ]
ok_if $? "the host accepts mykey with the certificate pgl sign wrote" "$(cat ssh.err)" "$(host_log vm-01)"
pgl sign --ttl 120 vm-01 --key-file mykey.pub --out other-cert.pub
vb2=$(ssh-keygen -L -f other-cert.pub | sed -n 's/^ *Valid: from [^ ]* to \([^ ]*\)$/\1/p')
d=$(($(epoch_of "$vb2") - $(date +%s)))
[ "$PGL_RC" -eq 0 ] && [ $d -ge 110 ] && [ $d -le 120 ]
ok_if $? "pgl sign --ttl 120 --out FILE" "$(pgl_desc)" "d=$d"
pgl sign vm-02 --key-file mykey.pub --out denied-cert.pub
[ "$PGL_RC" -eq 5 ] && [ ! -e denied-cert.pub ] && grep -q 'access denied' err
ok_if $? "pgl sign for a resource without a grant: exit 5, no file" "$(pgl_desc)"
pgl sign vm-01 --key-file mykey --out x-cert.pub
[ "$PGL_RC" -ne 0 ] && [ ! -e x-cert.pub ] && grep -q 'not an OpenSSH public key' err
ok_if $? "pgl sign refuses a private key file (sends nothing)" "$(pgl_desc)"

# ================================================================ agent

eval "$(ssh-agent -s -a "$CW/agent.sock")" >/dev/null
CL_AGENT_PID=$SSH_AGENT_PID
find "$XDG_RUNTIME_DIR" "$TMPDIR" "$U" "$CW" -maxdepth 3 -type f ! -name "*.out" ! -name "*.err" ! -name "files.*" | sort >files.before
pgl agent-add --ttl 5 vm-01
find "$XDG_RUNTIME_DIR" "$TMPDIR" "$U" "$CW" -maxdepth 3 -type f ! -name "*.out" ! -name "*.err" ! -name "files.*" | sort >files.after
l1=$(ssh-add -l 2>&1)
[ "$PGL_RC" -eq 0 ] && echo "$l1" | grep -q 'ED25519-CERT' && echo "$l1" | grep -q 'pgl:alice@example.com:vm-01:'
ok_if $? "pgl agent-add --ttl 5 vm-01: the agent holds the certificate" "$(pgl_desc)" "$l1"
out=$(ssh -F /dev/null "${SSHO[@]}" -o UserKnownHostsFile="$kh" -o HostKeyAlias=vm-01 \
	-o StrictHostKeyChecking=yes -p 2222 -l "$JIT_USER" 127.0.0.1 id -un 2>ssh.err)
[ "$out" = "$JIT_USER" ]
ok_if $? "ssh logs in with the agent's certificate" "$(cat ssh.err)"
cmp -s files.before files.after
ok_if $? "agent-add wrote no file (the private key went only to the agent)" "$(diff files.before files.after)"
sleep 6
l2=$(ssh-add -l 2>&1)
echo "$l2" | grep -q 'no identities'
ok_if $? "after the lifetime the agent no longer holds it" "$l2"
unset SSH_AUTH_SOCK
pgl agent-add vm-01
[ "$PGL_RC" -ne 0 ] && grep -q 'SSH_AUTH_SOCK' err
ok_if $? "agent-add without an agent: a clear error" "$(pgl_desc)"

tap_done
