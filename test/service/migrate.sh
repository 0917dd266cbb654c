#!/usr/bin/env bash
# The state database of an older signer is upgraded in place and keeps
# every record; one from a newer signer is refused and left untouched.
# Schema 1 kept random serials under a unique index; schema 2 keys the
# certificate rows by sequence number and derives serials from it.
#
#   PGL_SIGNER   path to pgl-signer (set by meson)

. "$(dirname "$0")/lib.sh"
svc_enter_namespace "$0" "$@"
svc_begin
cd "$WORK" || exit 1
D=$WORK/signer

svc_init "$D"
result $? "init"
svc_config "$SVC_CONF"
pol_new
pol_resource vm-01
pol_role login vm-01
pol_user "alice@example.com" login
pol_write "$D/policy.conf"
run_signer token add -c "$SVC_CONF" alice@example.com
result $RC "token add (makes the state database)"
TOKEN=$(cat "$WORK/.out")
genkey key ed25519

# Turn it into what the first schema looked like, with three issued
# certificates whose serials are random, as that signer drew them.
"$PY" - "$D/state/signer.db" <<'PYEOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.executescript("""
DROP TABLE certs;
CREATE TABLE certs (
  serial INTEGER NOT NULL UNIQUE, key_id TEXT NOT NULL, identity TEXT NOT NULL,
  resource TEXT NOT NULL, type INTEGER NOT NULL, valid_after INTEGER NOT NULL,
  valid_before INTEGER NOT NULL, fingerprint TEXT NOT NULL, issued INTEGER NOT NULL);
CREATE INDEX certs_identity ON certs (identity);
INSERT INTO certs VALUES (-8070450532247928832, 'pgl:alice@example.com:vm-01:10376293541461622784',
  'alice@example.com', 'vm-01', 1, 1000, 1360, 'SHA256:a', 1060);
INSERT INTO certs VALUES (5, 'pgl:alice@example.com:vm-01:5',
  'alice@example.com', 'vm-01', 1, 2000, 2360, 'SHA256:b', 2060);
INSERT INTO certs VALUES (77, 'pgl-host:vm-01:77', 'vm-01', 'vm-01', 2, 3000, 4000, 'SHA256:c', 3060);
DELETE FROM meta WHERE key LIKE 'serial_key_%';
UPDATE meta SET value = 1 WHERE key = 'schema';
""")
c.commit()
PYEOF
result $? "a schema-1 database with three certificate records"
old=$(db "SELECT rowid, serial, key_id, identity, resource, type, valid_after, valid_before, fingerprint, issued FROM certs ORDER BY rowid")

svc_start
result $? "the signer starts on the schema-1 database"
[ "$(db "SELECT value FROM meta WHERE key = 'schema'")" = 2 ]
result $? "the schema is now 2"
new=$(db "SELECT seq, serial, key_id, identity, resource, type, valid_after, valid_before, fingerprint, issued FROM certs ORDER BY seq")
[ "$old" = "$new" ]
result $? "every old record is kept, its rowid as its sequence number"
[ "$new" = "$old" ] || diag "before: $old / after: $new"
idx=$(db "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'certs' AND sql IS NULL")
[ "$idx" = 0 ]
result $? "no unique index on the serial is left ($idx)"
[ "$(db "SELECT count(*) FROM sqlite_master WHERE name = 'certs_identity'")" = 1 ]
result $? "the identity index is there"
[ "$(db "SELECT count(*) FROM meta WHERE key LIKE 'serial_key_%'")" = 2 ]
result $? "a serial key was made"

serials=()
for i in 1 2 3; do
	sign "$TOKEN" key.pub vm-01
	expect 200 "sign $i after the upgrade"
	serials+=("$(jget "$WORK/body" serial)")
done
# Sequence numbers continue above the old ones and never below the
# clock's second << 20 (a restored older backup must not reissue them).
t0=$(date +%s)
seqs=($(db "SELECT seq FROM certs WHERE seq > 3 ORDER BY seq"))
[ "${#seqs[@]}" = 3 ] && [ $((seqs[1])) = $((seqs[0] + 1)) ] &&
    [ $((seqs[2])) = $((seqs[0] + 2)) ] &&
    [ "${seqs[0]}" -ge $(((t0 - 120) << 20)) ] && [ "${seqs[0]}" -le $(((t0 + 1) << 20)) ]
result $? "new records follow on from the clock's floor, one apart (${seqs[*]})"
got=$(db "SELECT serial FROM certs WHERE seq > 3 ORDER BY seq" | u64_first | tr '\n' ' ')
[ "$got" = "${serials[0]} ${serials[1]} ${serials[2]} " ]
result $? "the serials answered are the ones recorded"
# Random-looking: far apart, not 4, 5, 6 nor any small run.
"$PY" -c '
import sys
s = [int(x) for x in sys.argv[1:]]
assert len(set(s)) == 3 and all(x != 0 for x in s)
assert all(abs(a - b) > 2**32 for a in s for b in s if a != b)
assert sum(bin(a ^ b).count("1") for a, b in zip(s, s[1:])) > 30
' "${serials[@]}"
result $? "the new serials look random (${serials[*]})"
svc_stop
result $? "the signer stops"

cp "$D/state/signer.db" backup.db
svc_start
result $? "the signer restarts on the upgraded database"
sign "$TOKEN" key.pub vm-01
expect 200 "sign after the restart"
s7=$(jget "$WORK/body" serial)
last=$(db "SELECT max(seq) FROM certs")
[ "$last" -gt "${seqs[2]}" ] &&
    [ "$(db "SELECT serial FROM certs WHERE seq = $last" | u64_first)" = "$s7" ]
result $? "the sequence goes on after a restart ($last), its record holds its serial"
case " ${serials[*]} " in *" $s7 "*) false ;; *) true ;; esac
result $? "and its serial is new"
svc_stop
result $? "the signer stops"

# A restored older backup: the certificates issued since are not in it,
# yet their serials must not come again.
sleep 1
issued=$(db "SELECT serial FROM certs WHERE seq > 3" | u64_first | sort)
cp backup.db "$D/state/signer.db"
rm -f "$D/state/signer.db-wal" "$D/state/signer.db-shm"
svc_start
result $? "the signer starts on a restored backup"
sign "$TOKEN" key.pub vm-01
expect 200 "sign after the restore"
s8=$(jget "$WORK/body" serial)
! grep -qx "$s8" <<<"$issued"
result $? "the serial after the restore is none issued before it ($s8)"
svc_stop
result $? "the signer stops"

# A database a newer signer wrote: refused, untouched.
"$PY" -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE meta SET value = 3 WHERE key = '"'schema'"'")
c.execute("DROP TABLE groups"); c.commit()
' "$D/state/signer.db"
before=$( (db_dump; db "SELECT type, name, sql FROM sqlite_master ORDER BY name") | sha256sum)
run_signer token add -c "$SVC_CONF" bob@example.com
[ "$RC" -ne 0 ] && grep -q "newer version" "$WORK/.err"
result $? "a schema-3 database is refused: $(head -c 200 "$WORK/.err")"
: >"$SVC_LOG"
TMPDIR=$SIGNER_TMP timeout 20 "$PGL_SIGNER" serve -c "$SVC_CONF" </dev/null >>"$SVC_LOG" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "newer version" "$SVC_LOG"
result $? "serve refuses it too (exit $rc): $(head -c 200 "$SVC_LOG")"
after=$( (db_dump; db "SELECT type, name, sql FROM sqlite_master ORDER BY name") | sha256sum)
[ "$before" = "$after" ]
result $? "and the database is unchanged (not even a table it lacks is made)"
tap_done
