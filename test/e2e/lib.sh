# shellcheck shell=bash
# Shared helpers for pgl end-to-end tests. Source it; do not run it.
#
# Conventions (see DESIGN.md): tests print TAP on stdout, run as root in
# their own mount and network namespaces, use loopback only, and never change
# the real system's files. Everything a test writes lives on tmpfs mounts
# that exist only inside its namespace.

E2E_PORT=${E2E_PORT:-2222}     # private network namespace: any port is free
E2E_USER=${E2E_USER:-pgltest}  # login account, exists only in the namespace
E2E_UID=${E2E_UID:-4242}
SSHD=/usr/sbin/sshd            # sshd insists on an absolute path (re-exec)

# ---------------------------------------------------------------- TAP ----

_tap_n=0
_tap_failed=0
_tap_planned=0
_tap_pending=()   # diagnostics for the next result, shown only if it fails

tap_plan() { _tap_planned=$1; echo "1..$1"; }
tap_skip_all() { echo "1..0 # SKIP $*"; exit 0; }
tap_bail() { echo "Bail out! $*"; exit 1; }

# tap_diag LINE...: print diagnostics now (every line prefixed with "# ").
tap_diag() {
    local l line
    for l in "$@"; do
        while IFS= read -r line; do printf '# %s\n' "$line"; done <<<"$l"
    done
}

# tap_note LINE...: keep diagnostics for the next result; printed on failure.
tap_note() { _tap_pending+=("$@"); }

# tap_note_file TITLE FILE [MAXLINES]: keep the tail of a file as diagnostics.
tap_note_file() {
    local title=$1 file=$2 max=${3:-40}
    if [[ -s $file ]]; then
        tap_note "--- $title:" "$(tail -n "$max" "$file")"
    else
        tap_note "--- $title: (empty)"
    fi
}

# tap_result STATUS DESCRIPTION: STATUS 0 is "ok".
tap_result() {
    _tap_n=$((_tap_n + 1))
    if [[ $1 == 0 ]]; then
        echo "ok $_tap_n - $2"
    else
        echo "not ok $_tap_n - $2"
        _tap_failed=$((_tap_failed + 1))
        ((${#_tap_pending[@]} == 0)) || tap_diag "${_tap_pending[@]}"
    fi
    _tap_pending=()
}

# tap_finish: exit 0 only if every planned test ran and passed.
tap_finish() {
    if ((_tap_n != _tap_planned)); then
        tap_diag "planned $_tap_planned tests but ran $_tap_n"
        exit 1
    fi
    ((_tap_failed == 0)) || exit 1
    exit 0
}

# ---------------------------------------------------------- namespace ----

# e2e_enter_namespace SCRIPT [ARGS...]: unless already inside, re-exec the
# script (as bash) in new mount and network namespaces. Prints a TAP skip
# and exits when that is impossible here.
e2e_enter_namespace() {
    [[ ${PGL_E2E_IN_NS:-} == 1 ]] && return 0
    ((EUID == 0)) || tap_skip_all "needs root (mount and network namespaces)"
    command -v unshare >/dev/null || tap_skip_all "unshare(1) not found"
    command -v ip >/dev/null || tap_skip_all "ip(8) not found"
    unshare --mount --net true 2>/dev/null ||
        tap_skip_all "unshare --mount --net not permitted here"
    PGL_E2E_IN_NS=1 PGL_E2E_OUTER_MNT=$(readlink /proc/self/ns/mnt) \
        exec unshare --mount --net -- bash "$@"
}

# e2e_sandbox_init: make this namespace private and give it fresh /run and
# /var/log. Sets E2E_DIR, a root-owned 0755 work directory (sshd's
# StrictModes rejects files under group/world-writable directories like
# /tmp, so nothing of ours may live there).
e2e_sandbox_init() {
    # Refuse to touch mounts unless we really are in our own mount namespace.
    if [[ -z ${PGL_E2E_OUTER_MNT:-} ||
        $(readlink /proc/self/ns/mnt) == "$PGL_E2E_OUTER_MNT" ]]; then
        tap_bail "not in a private mount namespace; refusing to mount anything"
    fi
    mount --make-rprivate / || tap_bail "mount --make-rprivate / failed"
    ip link set lo up || tap_bail "cannot bring up lo"
    # Fresh /run: sshd's privilege separation dir /run/sshd, utmp; also hides
    # the host's daemons' sockets (syslog, nscd) from everything we start.
    mount -t tmpfs -o mode=0755,size=64m pgl-e2e-run /run || tap_bail "tmpfs /run"
    # sshd records logins in wtmp/lastlog/btmp under /var/log: keep them here.
    mount -t tmpfs -o mode=0755,size=16m pgl-e2e-log /var/log || tap_bail "tmpfs /var/log"
    mkdir -m 0755 /run/sshd
    E2E_DIR=$(mktemp -d -p /run pgl-e2e.XXXXXX) || tap_bail "mktemp"
    chmod 0755 "$E2E_DIR"
}

# e2e_add_user: create $E2E_USER ($E2E_UID) in test copies of /etc/passwd,
# /etc/group and /etc/shadow, bind-mounted over the real ones, with a
# files-only nsswitch.conf. Home is under $E2E_DIR. Root's home also moves
# there so the ssh client never reads or creates the real ~root/.ssh.
e2e_add_user() {
    local etc=$E2E_DIR/etc home=$E2E_DIR/home/$E2E_USER f
    if grep -q "^$E2E_USER:" /etc/passwd || cut -d: -f3 /etc/passwd | grep -qx "$E2E_UID"; then
        tap_bail "user $E2E_USER or uid $E2E_UID already exists on this system"
    fi
    mkdir -p "$etc" "$E2E_DIR/root"
    chmod 0700 "$E2E_DIR/root"
    cp -p /etc/passwd /etc/group /etc/shadow "$etc/" || tap_bail "cannot copy /etc files"
    awk -F: -v OFS=: -v h="$E2E_DIR/root" '$1 == "root" { $6 = h } 1' \
        /etc/passwd >"$etc/passwd"
    echo "$E2E_USER:x:$E2E_UID:$E2E_UID:pgl e2e test user:$home:/bin/sh" >>"$etc/passwd"
    echo "$E2E_USER:x:$E2E_UID:" >>"$etc/group"
    # "*": no password, but not locked ("!"), which sshd refuses with UsePAM no.
    echo "$E2E_USER:*:$(($(date +%s) / 86400)):0:99999:7:::" >>"$etc/shadow"
    printf '%s\n' 'passwd: files' 'group: files' 'shadow: files' 'hosts: files' \
        >"$etc/nsswitch.conf"
    for f in passwd group shadow nsswitch.conf; do
        mount --bind "$etc/$f" "/etc/$f" || tap_bail "bind-mount /etc/$f"
    done
    mkdir -p "$home"
    chown "$E2E_UID:$E2E_UID" "$home"
    chmod 0700 "$home"
}

# --------------------------------------------------------------- sshd ----

SSHD_PID=
SSHD_LOG=
_sshd_mark=0

# sshd_start CONFIG LOG: run "sshd -D" in the background, logging to LOG,
# and wait until it listens. On failure print diagnostics and return 1.
sshd_start() {
    local cfg=$1 i out
    SSHD_LOG=$2
    sshd_stop
    if ! out=$("$SSHD" -t -f "$cfg" 2>&1); then
        tap_diag "sshd -t -f $cfg rejected the configuration:" "$out"
        return 1
    fi
    : >>"$SSHD_LOG"
    sshd_log_mark
    "$SSHD" -D -E "$SSHD_LOG" -f "$cfg" </dev/null &
    SSHD_PID=$!
    for ((i = 0; i < 200; i++)); do
        sshd_log_new | grep -q 'Server listening on' && return 0
        kill -0 "$SSHD_PID" 2>/dev/null || break
        sleep 0.05
    done
    tap_diag "sshd did not start listening (config $cfg):" "$(sshd_log_new)"
    sshd_stop
    return 1
}

# e2e_cleanup: stop sshd; with PGL_E2E_KEEP=DIR set, copy the work
# directory (configs, keys, sshd logs) there for inspection.
e2e_cleanup() {
    sshd_stop
    if [[ -n ${PGL_E2E_KEEP:-} && -n ${E2E_DIR:-} ]]; then
        mkdir -p "$PGL_E2E_KEEP" && cp -a "$E2E_DIR/." "$PGL_E2E_KEEP/"
    fi
}

sshd_stop() {
    [[ -n $SSHD_PID ]] || return 0
    kill "$SSHD_PID" 2>/dev/null
    wait "$SSHD_PID" 2>/dev/null
    SSHD_PID=
}

sshd_running() { [[ -n $SSHD_PID ]] && kill -0 "$SSHD_PID" 2>/dev/null; }

# sshd_log_mark / sshd_log_new: what sshd logged since the mark.
sshd_log_mark() { _sshd_mark=$(stat -c %s "$SSHD_LOG" 2>/dev/null || echo 0); }
sshd_log_new() { tail -c "+$((_sshd_mark + 1))" "$SSHD_LOG" 2>/dev/null; }

# sshd_log_wait REGEX: wait (up to ~2 s) until sshd logged a line matching
# REGEX (grep -E) since the mark; the monitor may write it a moment after
# the client has already seen the result.
sshd_log_wait() {
    local i
    for ((i = 0; i < 40; i++)); do
        sshd_log_new | grep -Eq -- "$1" && return 0
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- ssh ----

# e2e_ssh KEY KNOWN_HOSTS STRICT COMMAND...: log in as $E2E_USER on
# 127.0.0.1:$E2E_PORT with KEY and KEY-cert.pub only (no agent, no config
# files). Sets SSH_RC, SSH_OUT (stdout) and SSH_ERR (stderr).
e2e_ssh() {
    local key=$1 known=$2 strict=$3 errf
    shift 3
    errf=$(mktemp -p "$E2E_DIR" ssh-err.XXXXXX)
    sshd_log_mark
    SSH_OUT=$(ssh -F /dev/null \
        -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityAgent=none \
        -o PreferredAuthentications=publickey \
        -i "$key" -o CertificateFile="$key-cert.pub" \
        -o UserKnownHostsFile="$known" -o GlobalKnownHostsFile=/dev/null \
        -o StrictHostKeyChecking="$strict" -o CheckHostIP=no \
        -o ConnectTimeout=5 -p "$E2E_PORT" \
        "$E2E_USER@127.0.0.1" "$@" </dev/null 2>"$errf")
    SSH_RC=$?
    SSH_ERR=$(<"$errf")
    rm -f "$errf"
}

# e2e_note_ssh: keep the last e2e_ssh result and sshd's log as diagnostics.
e2e_note_ssh() {
    tap_note "ssh exit status $SSH_RC" "--- ssh stdout:" "${SSH_OUT:-(empty)}" \
        "--- ssh stderr:" "${SSH_ERR:-(empty)}"
    sshd_running || tap_note "(sshd is not running)"
    tap_note "--- sshd log for this attempt:" "$(sshd_log_new | tail -n 25)"
}
