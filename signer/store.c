/* SQLite state with a single writer thread doing group commits. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include <sodium.h>

#include "err.h"
#include "serial.h"
#include "store.h"
#include "sshkey.h"
#include "username.h"

#define SCHEMA_VERSION 2
#define STR(x) STR_(x)
#define STR_(x) #x
#define CHECKPOINT_FRAMES 1000          /* SQLite's auto-checkpoint size */
#define WAL_MAX_FRAMES 4000             /* then the writer checkpoints too */
#define TOKEN_BYTES 32
#define SEQ_CLOCK_SHIFT 20              /* sequence floor: seconds << 20 */
#define MAX_CANDIDATES 10000

/* Rows append in issue order, keyed by their sequence number; the
 * serial is a keyed permutation of it (serial.h), unique without an
 * index whose random entries would dirty a page per certificate. */
#define CERTS_TABLE(name) \
    "CREATE TABLE IF NOT EXISTS " name " (" \
    "  seq INTEGER PRIMARY KEY, serial INTEGER NOT NULL, key_id TEXT NOT NULL," \
    "  identity TEXT NOT NULL, resource TEXT NOT NULL, type INTEGER NOT NULL," \
    "  valid_after INTEGER NOT NULL, valid_before INTEGER NOT NULL," \
    "  fingerprint TEXT NOT NULL, issued INTEGER NOT NULL);"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS identities ("
    "  identity TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE,"
    "  uid INTEGER NOT NULL UNIQUE, created INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens ("
    "  hash BLOB PRIMARY KEY, identity TEXT NOT NULL,"
    "  created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);"
    CERTS_TABLE("certs")
    "CREATE INDEX IF NOT EXISTS certs_identity ON certs (identity);"
    "CREATE TABLE IF NOT EXISTS revocations ("
    "  kind TEXT NOT NULL CHECK (kind IN ('serial', 'key_id', 'identity')),"
    "  value TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (kind, value));"
    "CREATE TABLE IF NOT EXISTS hosts ("
    "  name TEXT PRIMARY KEY, credential BLOB UNIQUE, host_key TEXT NOT NULL DEFAULT '',"
    "  created INTEGER NOT NULL, enrolled INTEGER, revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS enroll_tokens ("
    "  hash BLOB PRIMARY KEY, host TEXT NOT NULL, expires INTEGER NOT NULL,"
    "  used INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS groups ("
    "  name TEXT PRIMARY KEY, gid INTEGER NOT NULL UNIQUE);"
    "INSERT OR IGNORE INTO meta VALUES ('schema', " STR(SCHEMA_VERSION) ");"
    "INSERT OR IGNORE INTO meta VALUES ('revocations', 0);";

/* Statements prepared once per connection. */
enum stmt_id {
	ST_IDENTITY_GET,
	ST_USERNAME_TAKEN,
	ST_NEXT_UID,
	ST_IDENTITY_ADD,
	ST_UID_BUMP,
	ST_CERT_ADD,
	ST_TOKEN_ADD,
	ST_TOKEN_GET,
	ST_REVOKE,
	ST_REVOKE_BUMP,
	ST_REVOKED,
	ST_IDENTITY_SERIALS,
	ST_REVOCATION_VERSION,
	ST_HOST_ADD,
	ST_ENROLL_ADD,
	ST_ENROLL_GET,
	ST_ENROLL_USE,
	ST_HOST_ENROLL,
	ST_HOST_GET,
	ST_HOST_REVOKE,
	ST_TOKEN_REVOKE,
	ST_GROUP_GET,
	ST_GROUP_ADD,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_IDENTITY_GET] = "SELECT username, uid FROM identities WHERE identity = ?",
	[ST_USERNAME_TAKEN] = "SELECT 1 FROM identities WHERE username = ?",
	[ST_NEXT_UID] = "SELECT value FROM meta WHERE key = 'next_uid'",
	[ST_IDENTITY_ADD] = "INSERT INTO identities VALUES (?, ?, ?, ?)",
	[ST_UID_BUMP] = "INSERT OR REPLACE INTO meta VALUES ('next_uid', ?)",
	[ST_CERT_ADD] = "INSERT INTO certs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_TOKEN_ADD] = "INSERT INTO tokens (hash, identity, created) VALUES (?, ?, ?)",
	[ST_TOKEN_GET] = "SELECT hash, identity FROM tokens WHERE hash = ? AND revoked = 0",
	[ST_REVOKE] = "INSERT OR IGNORE INTO revocations VALUES (?, ?, ?)",
	[ST_REVOKE_BUMP] = "UPDATE meta SET value = value + 1 WHERE key = 'revocations'",
	[ST_REVOKED] = "SELECT kind, value FROM revocations ORDER BY kind, value",
	[ST_IDENTITY_SERIALS] = "SELECT serial FROM certs WHERE identity = ? AND type = 1",
	[ST_REVOCATION_VERSION] = "SELECT value FROM meta WHERE key = 'revocations'",
	[ST_HOST_ADD] = "INSERT INTO hosts (name, created) VALUES (?, ?) "
	    "ON CONFLICT (name) DO UPDATE SET revoked = 0, credential = NULL, "
	    "enrolled = NULL",
	[ST_ENROLL_ADD] = "INSERT INTO enroll_tokens VALUES (?, ?, ?, 0)",
	[ST_ENROLL_GET] = "SELECT hash, host FROM enroll_tokens WHERE hash = ? "
	    "AND used = 0 AND expires > ?",
	[ST_ENROLL_USE] = "UPDATE enroll_tokens SET used = 1 WHERE hash = ?",
	[ST_HOST_ENROLL] = "UPDATE hosts SET credential = ?, host_key = ?, "
	    "enrolled = ?, revoked = 0 WHERE name = ?",
	[ST_HOST_GET] = "SELECT credential, name, host_key, enrolled, revoked "
	    "FROM hosts WHERE credential = ?",
	[ST_HOST_REVOKE] = "UPDATE hosts SET revoked = 1, credential = NULL "
	    "WHERE name = ?",
	[ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked = 1 WHERE identity = ? "
	    "AND revoked = 0",
	[ST_GROUP_GET] = "SELECT gid FROM groups WHERE name = ?",
	[ST_GROUP_ADD] = "INSERT INTO groups VALUES (?, ?)",
};

struct conn {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
};

struct job {
	int (*fn)(struct pgl_store *s, struct conn *c, void *arg);
	void *arg;
	int result;
	int done;
	pthread_cond_t cond;            /* its own: wake only its caller */
	void (*done_fn)(int result, void *arg); /* async: called, then freed */
	void *done_arg;
	int one_statement;              /* atomic alone: no savepoint */
	struct job *next;
};

/* Small caches in front of the hot reads.  An identity's name and uid
 * never change once assigned, so those entries never go stale; token
 * entries expire (TOKEN_CACHE_TTL) so a revocation takes effect soon. */
#define CACHE_SLOTS 1024
#define TOKEN_CACHE_TTL 10

struct identity_slot {
	int used;
	struct pgl_identity v;
};

struct token_slot {
	int used;
	uint8_t hash[32];
	char identity[256];
	time_t expires;
};

struct pgl_store {
	char *path;
	pthread_mutex_t cache_lock;
	struct identity_slot identities[CACHE_SLOTS];
	struct token_slot tokens[CACHE_SLOTS];
	uint32_t uid_min, uid_max;
	struct conn writer;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t work;            /* writer: jobs queued or stop */
	struct job *head, **tail;
	int stop;
	pthread_key_t reader_key;       /* per-thread read connection */
	/* WAL checkpoints, mostly in a thread of their own: SQLite's
	 * automatic one runs inside the COMMIT that crosses the size, so a
	 * batch's callers would wait for a copy of ~1000 pages and an
	 * fsync of the database file on top of their own commit.  But
	 * only a checkpoint between two transactions lets the next one
	 * start the WAL over, so past WAL_MAX_FRAMES the writer runs one
	 * too (short then: the thread has copied most frames already). */
	struct conn checkpointer;
	pthread_t cp_thread;
	int cp_started;
	pthread_cond_t cp_work;         /* under lock: cp_due or stop */
	int cp_due;
	int wal_frames;                 /* writer only: frames in the WAL */
	/* Certificate sequence numbers are drawn by the signing threads
	 * (the serial goes into the certificate before its record is
	 * written); the permutation key comes from the database. */
	_Atomic uint64_t next_seq;
	uint8_t serial_key[PGL_SERIAL_KEY_LEN];
	int cp_mark;                    /* writer only: wal_frames at the last wake */
};

static void
conn_close(struct conn *c)
{
	size_t i;

	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	memset(c, 0, sizeof(*c));
}

static int
conn_open(const char *path, struct conn *c)
{
	memset(c, 0, sizeof(*c));
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		conn_close(c);
		return PGL_E_STORE;
	}
	/* The writer is alone; readers never wait on it in WAL mode, but a
	 * checkpoint may briefly hold them. */
	sqlite3_busy_timeout(c->db, 5000);
	if (sqlite3_exec(c->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
	    NULL, NULL, NULL) != SQLITE_OK) {
		conn_close(c);
		return PGL_E_STORE;
	}
	return 0;
}

/* A reset, ready statement of this connection. */
static sqlite3_stmt *
stmt(struct conn *c, enum stmt_id id)
{
	if (c->st[id] == NULL && sqlite3_prepare_v3(c->db, stmt_sql[id], -1,
	    SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(c->st[id]);
	sqlite3_clear_bindings(c->st[id]);
	return c->st[id];
}

static void
reader_free(void *p)
{
	struct conn *c = p;

	conn_close(c);
	free(c);
}

static struct conn *
reader(struct pgl_store *s)
{
	struct conn *c = pthread_getspecific(s->reader_key);

	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (conn_open(s->path, c) != 0 ||
	    pthread_setspecific(s->reader_key, c) != 0) {
		reader_free(c);
		return NULL;
	}
	return c;
}

static int
exec_sql(struct conn *c, const char *sql)
{
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    PGL_E_STORE;
}

/* Runs one batch: each job in a savepoint, so one failure does not undo
 * the others; the commit decides every job's outcome. */
static void
run_batch(struct pgl_store *s, struct job *batch)
{
	struct job *j;
	int r;

	if ((r = exec_sql(&s->writer, "BEGIN IMMEDIATE")) != 0) {
		for (j = batch; j != NULL; j = j->next)
			j->result = r;
		return;
	}
	for (j = batch; j != NULL; j = j->next) {
		/* A failed statement undoes only itself (SQLite's statement
		 * journal), so a one-statement job needs no savepoint. */
		if (j->one_statement) {
			j->result = j->fn(s, &s->writer, j->arg);
			continue;
		}
		if (exec_sql(&s->writer, "SAVEPOINT job") != 0) {
			j->result = PGL_E_STORE;
			continue;
		}
		j->result = j->fn(s, &s->writer, j->arg);
		if (j->result != 0)
			(void)exec_sql(&s->writer, "ROLLBACK TO job");
		(void)exec_sql(&s->writer, "RELEASE job");
	}
	if (exec_sql(&s->writer, "COMMIT") != 0) {
		(void)exec_sql(&s->writer, "ROLLBACK");
		for (j = batch; j != NULL; j = j->next)
			if (j->result == 0)
				j->result = PGL_E_STORE;
	}
}

static void *
writer_main(void *arg)
{
	struct pgl_store *s = arg;
	struct job *batch, *j, *next, *async;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->head == NULL && !s->stop)
			pthread_cond_wait(&s->work, &s->lock);
		if (s->head == NULL && s->stop)
			break;
		batch = s->head;
		s->head = NULL;
		s->tail = &s->head;
		pthread_mutex_unlock(&s->lock);
		run_batch(s, batch);
		async = NULL;
		pthread_mutex_lock(&s->lock);
		for (j = batch; j != NULL; j = next) {
			next = j->next; /* j may be gone once its caller runs */
			if (j->done_fn != NULL) {
				j->next = async;
				async = j;
				continue;
			}
			j->done = 1;
			pthread_cond_signal(&j->cond);
		}
		/* Callbacks without the lock: they may take others. */
		pthread_mutex_unlock(&s->lock);
		for (j = async; j != NULL; j = next) {
			next = j->next;
			j->done_fn(j->result, j->done_arg);
			free(j);
		}
		/* After the callbacks: nobody waits for this one.  Busy
		 * when the thread is at it; then after the next batch. */
		if (s->wal_frames >= WAL_MAX_FRAMES)
			(void)sqlite3_wal_checkpoint_v2(s->writer.db, NULL,
			    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The writer committed and the WAL holds frames pages: every
 * CHECKPOINT_FRAMES new ones, wake the checkpointer (registering this
 * hook turns SQLite's own auto-checkpoint off). */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct pgl_store *s = arg;

	(void)db;
	(void)name;
	if (frames < s->wal_frames)
		s->cp_mark = 0;         /* the WAL started over */
	s->wal_frames = frames;
	if (frames - s->cp_mark >= CHECKPOINT_FRAMES) {
		s->cp_mark = frames;
		pthread_mutex_lock(&s->lock);
		s->cp_due = 1;
		pthread_cond_signal(&s->cp_work);
		pthread_mutex_unlock(&s->lock);
	}
	return SQLITE_OK;
}

/* PASSIVE: copies what no reader still needs and never blocks the
 * writer, which goes on appending meanwhile. */
static void *
checkpointer_main(void *arg)
{
	struct pgl_store *s = arg;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->cp_due && !s->stop)
			pthread_cond_wait(&s->cp_work, &s->lock);
		if (s->stop)
			break;
		s->cp_due = 0;
		pthread_mutex_unlock(&s->lock);
		(void)sqlite3_wal_checkpoint_v2(s->checkpointer.db, NULL,
		    SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* Queues a write and waits until it is committed (or failed). */
static int
submit(struct pgl_store *s, int (*fn)(struct pgl_store *, struct conn *,
    void *), void *arg)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.fn = fn;
	j.arg = arg;
	pthread_cond_init(&j.cond, NULL);
	pthread_mutex_lock(&s->lock);
	if (s->stop) {
		pthread_mutex_unlock(&s->lock);
		pthread_cond_destroy(&j.cond);
		return PGL_E_STORE;
	}
	*s->tail = &j;
	s->tail = &j.next;
	pthread_cond_signal(&s->work);
	while (!j.done)
		pthread_cond_wait(&j.cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&j.cond);
	return j.result;
}

/* One integer of a query without parameters; def when it has no row. */
static int
query_int(struct conn *c, const char *sql, int64_t def, int64_t *out)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK)
		return PGL_E_STORE;
	rc = sqlite3_step(q);
	*out = rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL ?
	    sqlite3_column_int64(q, 0) : def;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : PGL_E_STORE;
}

/* The database's schema version; 0 for a new, empty one. */
static int
schema_version(struct conn *c, int64_t *v)
{
	int64_t n;
	int r;

	*v = 0;
	if ((r = query_int(c, "SELECT count(*) FROM sqlite_master WHERE "
	    "type = 'table' AND name = 'meta'", 0, &n)) != 0 || n == 0)
		return r;
	return query_int(c, "SELECT value FROM meta WHERE key = 'schema'", 0,
	    v);
}

/* Schema 1 kept random serials under a unique index; schema 2 keys rows
 * by sequence number.  Old rows keep their serials, their rowid becomes
 * their sequence number, and new numbers continue after them. */
static int
schema_upgrade(struct conn *c)
{
	static const char v1_to_v2[] =
	    "BEGIN IMMEDIATE;"
	    CERTS_TABLE("certs_v2")
	    "INSERT INTO certs_v2 SELECT rowid, serial, key_id, identity,"
	    "  resource, type, valid_after, valid_before, fingerprint, issued"
	    "  FROM certs ORDER BY rowid;"
	    "DROP TABLE certs;"
	    "ALTER TABLE certs_v2 RENAME TO certs;"
	    "CREATE INDEX certs_identity ON certs (identity);"
	    "UPDATE meta SET value = 2 WHERE key = 'schema';"
	    "COMMIT;";
	int64_t v;
	int r;

	if ((r = schema_version(c, &v)) != 0)
		return r;
	if (v > SCHEMA_VERSION)
		return PGL_E_NEWER;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v != 1)
		return PGL_E_STORE;
	if ((r = exec_sql(c, v1_to_v2)) != 0)
		exec_sql(c, "ROLLBACK");
	return r;
}

/* The serial permutation's key (made once, with the database) and the
 * next sequence number. */
static int
serial_setup(struct pgl_store *s)
{
	uint8_t fresh[PGL_SERIAL_KEY_LEN];
	sqlite3_stmt *q = NULL;
	int64_t k[2], max;
	uint64_t next, seq_floor;
	size_t i;
	int r = PGL_E_STORE;

	if (sodium_init() < 0)
		return PGL_E_CRYPTO;
	randombytes_buf(fresh, sizeof(fresh));
	if (sqlite3_prepare_v2(s->writer.db, "INSERT OR IGNORE INTO meta "
	    "VALUES ('serial_key_0', ?), ('serial_key_1', ?)", -1, &q,
	    NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < 2; i++) {
		uint64_t u = 0;

		memcpy(&u, fresh + 8 * i, 8);
		sqlite3_bind_int64(q, (int)i + 1, (int64_t)u);
	}
	if (sqlite3_step(q) != SQLITE_DONE)
		goto out;
	if ((r = query_int(&s->writer, "SELECT value FROM meta WHERE key = "
	    "'serial_key_0'", 0, &k[0])) != 0 ||
	    (r = query_int(&s->writer, "SELECT value FROM meta WHERE key = "
	    "'serial_key_1'", 0, &k[1])) != 0 ||
	    (r = query_int(&s->writer, "SELECT max(seq) FROM certs", 0,
	    &max)) != 0)
		goto out;
	for (i = 0; i < 2; i++) {
		uint64_t u = (uint64_t)k[i];

		memcpy(s->serial_key + 8 * i, &u, 8);
	}
	/* Never below the clock's second << 20: a database restored from
	 * an older backup must not hand out the sequence numbers (and so
	 * the serials) of certificates issued after that backup.  Issuing
	 * stays below 2^20 a second, so the floor never overtakes. */
	next = (uint64_t)(max < 0 ? 0 : max) + 1;
	seq_floor = (uint64_t)time(NULL) << SEQ_CLOCK_SHIFT;
	atomic_store(&s->next_seq, next > seq_floor ? next : seq_floor);
	r = 0;
 out:
	sqlite3_finalize(q);
	explicit_bzero(fresh, sizeof(fresh));
	explicit_bzero(k, sizeof(k));
	return r;
}

int
pgl_store_new_serial(struct pgl_store *s, uint64_t *seq, uint64_t *serial)
{
	uint64_t n, v;

	/* Serial 0 cannot be revoked (certificates.md): one number in
	 * 2^64 maps to it and is skipped.  Sequence numbers stay below
	 * 2^63, SQLite's largest integer. */
	do {
		n = atomic_fetch_add(&s->next_seq, 1);
		if (n == 0 || n > (uint64_t)INT64_MAX)
			return PGL_E_EXHAUSTED;
		v = pgl_serial_permute(s->serial_key, n);
	} while (v == 0);
	*seq = n;
	*serial = v;
	return 0;
}

int
pgl_store_open(const char *state_dir, uint32_t uid_min, uint32_t uid_max,
    struct pgl_store **out)
{
	struct pgl_store *s;
	int64_t version;
	int r = PGL_E_NOMEM;

	if (uid_min == 0 || uid_min > uid_max)
		return PGL_E_INVALID_ARG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PGL_E_NOMEM;
	s->uid_min = uid_min;
	s->uid_max = uid_max;
	s->tail = &s->head;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->cp_work, NULL);
	if (pthread_key_create(&s->reader_key, reader_free) != 0) {
		free(s);
		return PGL_E_SYSTEM;
	}
	if (asprintf(&s->path, "%s/signer.db", state_dir) < 0) {
		s->path = NULL;
		goto fail;
	}
	if (mkdir(state_dir, 0700) == -1 && errno != EEXIST) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	/* The database holds token and credential hashes: owner only. */
	{
		mode_t old = umask(077);

		r = conn_open(s->path, &s->writer);
		umask(old);
		if (r != 0)
			goto fail;
	}
	/* A newer signer's database is left exactly as it is. */
	if ((r = schema_version(&s->writer, &version)) != 0)
		goto fail;
	if (version > SCHEMA_VERSION) {
		r = PGL_E_NEWER;
		goto fail;
	}
	if ((r = exec_sql(&s->writer, schema)) != 0 ||
	    (r = schema_upgrade(&s->writer)) != 0 ||
	    (r = serial_setup(s)) != 0)
		goto fail;
	if ((r = conn_open(s->path, &s->checkpointer)) != 0)
		goto fail;
	if (pthread_create(&s->cp_thread, NULL, checkpointer_main, s) != 0) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	s->cp_started = 1;
	sqlite3_wal_hook(s->writer.db, wal_hook, s);
	if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
		r = PGL_E_SYSTEM;
		goto fail;
	}
	s->started = 1;
	*out = s;
	return 0;
 fail:
	pgl_store_close(s);
	return r;
}

void
pgl_store_close(struct pgl_store *s)
{
	struct conn *c;

	if (s == NULL)
		return;
	if (s->started || s->cp_started) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->work);
		pthread_cond_signal(&s->cp_work);
		pthread_mutex_unlock(&s->lock);
		if (s->started)
			pthread_join(s->thread, NULL);
		if (s->cp_started)
			pthread_join(s->cp_thread, NULL);
	}
	/* Only this thread's reader can be closed here; others close at
	 * their thread's exit. */
	if ((c = pthread_getspecific(s->reader_key)) != NULL) {
		pthread_setspecific(s->reader_key, NULL);
		reader_free(c);
	}
	conn_close(&s->checkpointer);
	conn_close(&s->writer);
	pthread_key_delete(s->reader_key);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->cache_lock);
	explicit_bzero(s->tokens, sizeof(s->tokens));
	explicit_bzero(s->serial_key, sizeof(s->serial_key));
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->cp_work);
	free(s->path);
	free(s);
}

static int
identity_lookup(struct conn *c, const char *identity, struct pgl_identity *out)
{
	sqlite3_stmt *q;
	const unsigned char *name;
	int rc;

	if ((q = stmt(c, ST_IDENTITY_GET)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, identity, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(q);
		return PGL_E_NOT_FOUND;
	}
	if (rc != SQLITE_ROW) {
		sqlite3_reset(q);
		return PGL_E_STORE;
	}
	name = sqlite3_column_text(q, 0);
	snprintf(out->identity, sizeof(out->identity), "%s", identity);
	snprintf(out->username, sizeof(out->username), "%s",
	    name == NULL ? "" : (const char *)name);
	out->uid = (uint32_t)sqlite3_column_int64(q, 1);
	sqlite3_reset(q);
	return 0;
}

static uint32_t
fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static int
identity_cached(struct pgl_store *s, const char *identity,
    struct pgl_identity *out)
{
	struct identity_slot *e =
	    &s->identities[fnv(identity, strlen(identity)) % CACHE_SLOTS];
	int hit;

	pthread_mutex_lock(&s->cache_lock);
	if ((hit = e->used && strcmp(e->v.identity, identity) == 0))
		*out = e->v;
	pthread_mutex_unlock(&s->cache_lock);
	return hit;
}

static void
identity_cache(struct pgl_store *s, const struct pgl_identity *v)
{
	struct identity_slot *e =
	    &s->identities[fnv(v->identity, strlen(v->identity)) % CACHE_SLOTS];

	pthread_mutex_lock(&s->cache_lock);
	e->used = 1;
	e->v = *v;
	pthread_mutex_unlock(&s->cache_lock);
}

int
pgl_store_identity_get(struct pgl_store *s, const char *identity,
    struct pgl_identity *out)
{
	struct conn *c;
	int r;

	if (strlen(identity) >= sizeof(out->identity))
		return PGL_E_TOO_LARGE;
	if (identity_cached(s, identity, out))
		return 0;
	if ((c = reader(s)) == NULL)
		return PGL_E_STORE;
	if ((r = identity_lookup(c, identity, out)) == 0)
		identity_cache(s, out);
	return r;
}

static int
username_taken(struct conn *c, const char *name, int *taken)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = stmt(c, ST_USERNAME_TAKEN)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return PGL_E_STORE;
	*taken = rc == SQLITE_ROW;
	return 0;
}

/* The next number of the uid range, for a user or a group; numbers are
 * never handed out twice, even after the range is moved. */
static int
allocate_id(struct pgl_store *s, struct conn *c, int64_t *out)
{
	sqlite3_stmt *q;
	int64_t id;
	int rc;

	if ((q = stmt(c, ST_NEXT_UID)) == NULL)
		return PGL_E_STORE;
	rc = sqlite3_step(q);
	id = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : (int64_t)s->uid_min;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return PGL_E_STORE;
	if (id < (int64_t)s->uid_min)
		id = s->uid_min;
	if (id > (int64_t)s->uid_max)
		return PGL_E_EXHAUSTED;
	if ((q = stmt(c, ST_UID_BUMP)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_int64(q, 1, id + 1);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return PGL_E_STORE;
	*out = id;
	return 0;
}

struct identity_job {
	const char *identity;
	struct pgl_identity *out;
};

/* In the writer: look again (another job may have just assigned it),
 * then take the first free candidate name and the next uid. */
static int
identity_assign(struct pgl_store *s, struct conn *c, void *arg)
{
	struct identity_job *ij = arg;
	char base[PGL_USERNAME_MAX + 1], name[PGL_USERNAME_MAX + 1];
	sqlite3_stmt *q;
	int64_t uid;
	unsigned n;
	int r, rc, taken = 1;

	if ((r = identity_lookup(c, ij->identity, ij->out)) != PGL_E_NOT_FOUND)
		return r;
	if ((r = pgl_username_base(ij->identity, base)) != 0)
		return r;
	for (n = 1; taken && n <= MAX_CANDIDATES; n++) {
		if ((r = pgl_username_candidate(base, n, name)) != 0)
			return r;
		if (pgl_username_reserved(name))
			continue;
		if ((r = username_taken(c, name, &taken)) != 0)
			return r;
	}
	if (taken)
		return PGL_E_EXHAUSTED;
	if ((r = allocate_id(s, c, &uid)) != 0)
		return r;
	if ((q = stmt(c, ST_IDENTITY_ADD)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, ij->identity, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, uid);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return PGL_E_STORE;
	snprintf(ij->out->identity, sizeof(ij->out->identity), "%s", ij->identity);
	snprintf(ij->out->username, sizeof(ij->out->username), "%s", name);
	ij->out->uid = (uint32_t)uid;
	return 0;
}

int
pgl_store_identity(struct pgl_store *s, const char *identity,
    struct pgl_identity *out)
{
	struct pgl_identity tmp;
	struct identity_job ij = { identity, &tmp };
	int r;

	/* Known identities are the common case: no writer round trip. */
	if ((r = pgl_store_identity_get(s, identity, &tmp)) == PGL_E_NOT_FOUND &&
	    (r = submit(s, identity_assign, &ij)) == 0)
		identity_cache(s, &tmp);
	if (r == 0)
		*out = tmp;
	return r;
}

static int
cert_add(struct pgl_store *s, struct conn *c, void *arg)
{
	const struct pgl_cert_record *rec = arg;
	sqlite3_stmt *q;
	int rc;

	if ((q = stmt(c, ST_CERT_ADD)) == NULL)
		return PGL_E_STORE;
	if (rec->seq == 0 || rec->seq > (uint64_t)INT64_MAX)
		return PGL_E_INVALID_ARG;
	sqlite3_bind_int64(q, 1, (int64_t)rec->seq);
	/* SQLite integers are signed: store the serial's bit pattern. */
	sqlite3_bind_int64(q, 2, (int64_t)rec->serial);
	sqlite3_bind_text(q, 3, rec->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, rec->identity, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, rec->resource, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 6, (int)rec->type);
	sqlite3_bind_int64(q, 7, (int64_t)rec->valid_after);
	sqlite3_bind_int64(q, 8, rec->valid_before > INT64_MAX ? INT64_MAX :
	    (int64_t)rec->valid_before);
	sqlite3_bind_text(q, 9, rec->fingerprint, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, (int64_t)time(NULL));
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_CONSTRAINT) {
		/* The number is taken: another process wrote to this
		 * database.  Continue after its rows; the caller retries. */
		int64_t max;
		uint64_t next, cur;

		if (query_int(c, "SELECT max(seq) FROM certs", 0, &max) == 0 &&
		    max > 0) {
			next = (uint64_t)max + 1;
			cur = atomic_load(&s->next_seq);
			while (cur < next && !atomic_compare_exchange_weak(
			    &s->next_seq, &cur, next))
				;
		}
		return PGL_E_EXISTS;
	}
	return rc == SQLITE_DONE ? 0 : PGL_E_STORE;
}

int
pgl_store_record_cert(struct pgl_store *s, const struct pgl_cert_record *c)
{
	return submit(s, cert_add, (void *)c);
}

int
pgl_store_record_cert_async(struct pgl_store *s,
    const struct pgl_cert_record *c, void (*done)(int result, void *arg),
    void *arg)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return PGL_E_NOMEM;
	j->fn = cert_add;
	j->arg = (void *)c;
	j->one_statement = 1;
	j->done_fn = done;
	j->done_arg = arg;
	pthread_mutex_lock(&s->lock);
	if (s->stop) {
		pthread_mutex_unlock(&s->lock);
		free(j);
		return PGL_E_STORE;
	}
	*s->tail = j;
	s->tail = &j->next;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* SHA-256 fetched once: EVP_sha256() makes EVP_Digest look the
 * algorithm up in the provider store on every call. */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void
sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void
token_hash(const char *token, uint8_t out[32])
{
	unsigned len = 32;

	(void)pthread_once(&sha256_once, sha256_fetch);
	EVP_Digest(token, strlen(token), out, &len,
	    sha256 != NULL ? sha256 : EVP_sha256(), NULL);
}

struct token_job {
	const char *identity;
	uint8_t hash[32];
};

static int
token_add(struct pgl_store *s, struct conn *c, void *arg)
{
	struct token_job *tj = arg;
	sqlite3_stmt *q;
	int rc;

	(void)s;
	if ((q = stmt(c, ST_TOKEN_ADD)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_blob(q, 1, tj->hash, sizeof(tj->hash), SQLITE_STATIC);
	sqlite3_bind_text(q, 2, tj->identity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : PGL_E_STORE;
}

/* A new secret "PREFIX_<base64url of 32 random bytes>" and its hash. */
static int
make_secret(const char *prefix, char **out, uint8_t hash[32])
{
	uint8_t raw[TOKEN_BYTES];
	struct pgl_buf *b64 = NULL;
	char *t = NULL;
	size_t i;
	int r;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return PGL_E_CRYPTO;
	if ((b64 = pgl_buf_new()) == NULL) {
		r = PGL_E_NOMEM;
		goto out;
	}
	if ((r = pgl_b64_encode(raw, sizeof(raw), b64)) != 0)
		goto out;
	/* base64url without padding: safe in headers, shells and URLs */
	if (asprintf(&t, "%s_%s", prefix, (const char *)pgl_buf_ptr(b64)) < 0) {
		t = NULL;
		r = PGL_E_NOMEM;
		goto out;
	}
	for (i = 0; t[i] != '\0'; i++) {
		if (t[i] == '+')
			t[i] = '-';
		else if (t[i] == '/')
			t[i] = '_';
		else if (t[i] == '=')
			t[i] = '\0';
	}
	token_hash(t, hash);
	*out = t;
	t = NULL;
 out:
	explicit_bzero(raw, sizeof(raw));
	pgl_buf_free(b64);
	return r;
}

static void
free_secret(char *t)
{
	if (t == NULL)
		return;
	explicit_bzero(t, strlen(t));
	free(t);
}

int
pgl_store_token_add(struct pgl_store *s, const char *identity, char **token)
{
	struct token_job tj = { identity, { 0 } };
	char *t = NULL;
	int r;

	if ((r = make_secret("pgl", &t, tj.hash)) != 0)
		return r;
	if ((r = submit(s, token_add, &tj)) != 0) {
		free_secret(t);
		return r;
	}
	*token = t;
	return 0;
}

int
pgl_store_token_check(struct pgl_store *s, const char *token, char *identity,
    size_t len)
{
	uint8_t hash[32];
	const void *stored;
	const unsigned char *id;
	sqlite3_stmt *q;
	struct conn *c;
	int rc, r = PGL_E_NOT_FOUND;

	token_hash(token, hash);
	{
		struct token_slot *e = &s->tokens[fnv(hash, 32) % CACHE_SLOTS];
		int hit;

		pthread_mutex_lock(&s->cache_lock);
		hit = e->used && e->expires > time(NULL) &&
		    CRYPTO_memcmp(e->hash, hash, 32) == 0 &&
		    strlen(e->identity) < len;
		if (hit)
			snprintf(identity, len, "%s", e->identity);
		pthread_mutex_unlock(&s->cache_lock);
		if (hit) {
			explicit_bzero(hash, sizeof(hash));
			return 0;
		}
	}
	if ((c = reader(s)) == NULL || (q = stmt(c, ST_TOKEN_GET)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_blob(q, 1, hash, sizeof(hash), SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		stored = sqlite3_column_blob(q, 0);
		id = sqlite3_column_text(q, 1);
		/* The index finds the row; the comparison that decides is
		 * constant-time all the same. */
		if (stored != NULL && sqlite3_column_bytes(q, 0) == 32 &&
		    CRYPTO_memcmp(stored, hash, 32) == 0 && id != NULL &&
		    strlen((const char *)id) < len &&
		    strlen((const char *)id) < sizeof(s->tokens[0].identity)) {
			struct token_slot *e = &s->tokens[fnv(hash, 32) % CACHE_SLOTS];

			snprintf(identity, len, "%s", (const char *)id);
			pthread_mutex_lock(&s->cache_lock);
			e->used = 1;
			memcpy(e->hash, hash, 32);
			snprintf(e->identity, sizeof(e->identity), "%s", (const char *)id);
			e->expires = time(NULL) + TOKEN_CACHE_TTL;
			pthread_mutex_unlock(&s->cache_lock);
			r = 0;
		}
	} else if (rc != SQLITE_DONE)
		r = PGL_E_STORE;
	sqlite3_reset(q);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

struct revoke_job {
	const char *kind;
	const char *value;
};

static int
revoke_add(struct pgl_store *s, struct conn *c, void *arg)
{
	struct revoke_job *rj = arg;
	sqlite3_stmt *q;
	int rc;

	(void)s;
	if ((q = stmt(c, ST_REVOKE)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, rj->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, rj->value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return PGL_E_STORE;
	if ((q = stmt(c, ST_REVOKE_BUMP)) == NULL)
		return PGL_E_STORE;
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : PGL_E_STORE;
}

int
pgl_store_revoke(struct pgl_store *s, const char *kind, const char *value)
{
	struct revoke_job rj = { kind, value };

	if (strcmp(kind, "serial") != 0 && strcmp(kind, "key_id") != 0 &&
	    strcmp(kind, "identity") != 0)
		return PGL_E_INVALID_ARG;
	return submit(s, revoke_add, &rj);
}

static int
identity_serials(struct conn *c, const char *identity,
    int (*serial_fn)(uint64_t, void *), void *arg)
{
	sqlite3_stmt *q;
	int rc = SQLITE_DONE, r = 0;

	/* A separate statement object from the outer loop's: prepare a
	 * fresh one rather than reuse the cached, busy one. */
	if (sqlite3_prepare_v2(c->db, stmt_sql[ST_IDENTITY_SERIALS], -1, &q,
	    NULL) != SQLITE_OK)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, identity, -1, SQLITE_STATIC);
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW)
		r = serial_fn((uint64_t)sqlite3_column_int64(q, 0), arg);
	if (r == 0 && rc != SQLITE_DONE)
		r = PGL_E_STORE;
	sqlite3_finalize(q);
	return r;
}

int
pgl_store_each_revoked(struct pgl_store *s,
    int (*serial_fn)(uint64_t serial, void *arg),
    int (*key_id_fn)(const char *key_id, void *arg), void *arg)
{
	const char *kind, *value;
	sqlite3_stmt *q;
	struct conn *c;
	uint64_t serial;
	char *end;
	int rc = SQLITE_DONE, r = 0;

	if ((c = reader(s)) == NULL || (q = stmt(c, ST_REVOKED)) == NULL)
		return PGL_E_STORE;
	/* One read transaction, so the list is one consistent snapshot. */
	if (exec_sql(c, "BEGIN") != 0)
		return PGL_E_STORE;
	while (r == 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		kind = (const char *)sqlite3_column_text(q, 0);
		value = (const char *)sqlite3_column_text(q, 1);
		if (kind == NULL || value == NULL)
			continue;
		if (strcmp(kind, "serial") == 0) {
			errno = 0;
			serial = strtoull(value, &end, 10);
			if (errno == 0 && *end == '\0' && serial != 0)
				r = serial_fn(serial, arg);
		} else if (strcmp(kind, "key_id") == 0)
			r = key_id_fn(value, arg);
		else
			r = identity_serials(c, value, serial_fn, arg);
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = PGL_E_STORE;
	sqlite3_reset(q);
	(void)exec_sql(c, "COMMIT");
	return r;
}

int
pgl_store_revocation_version(struct pgl_store *s, uint64_t *out)
{
	sqlite3_stmt *q;
	struct conn *c;
	int rc;

	if ((c = reader(s)) == NULL ||
	    (q = stmt(c, ST_REVOCATION_VERSION)) == NULL)
		return PGL_E_STORE;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*out = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : PGL_E_STORE;
}

/* One step of a statement that must finish: SQLITE_DONE or an error. */
static int
step_done(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	if (rc == SQLITE_CONSTRAINT)
		return PGL_E_EXISTS;
	return rc == SQLITE_DONE ? 0 : PGL_E_STORE;
}

struct host_add_job {
	const char *name;
	uint8_t hash[32];
	uint64_t expires;
};

static int
host_add(struct pgl_store *s, struct conn *c, void *arg)
{
	struct host_add_job *hj = arg;
	sqlite3_stmt *q;
	int r;

	(void)s;
	/* Re-adding a host starts over: its old credential stops working. */
	if ((q = stmt(c, ST_HOST_ADD)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, hj->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
	if ((r = step_done(q)) != 0)
		return r;
	if ((q = stmt(c, ST_ENROLL_ADD)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_blob(q, 1, hj->hash, sizeof(hj->hash), SQLITE_STATIC);
	sqlite3_bind_text(q, 2, hj->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)hj->expires);
	return step_done(q);
}

int
pgl_store_host_add(struct pgl_store *s, const char *name, uint32_t ttl,
    char **enroll_token)
{
	struct host_add_job hj = { name, { 0 }, (uint64_t)time(NULL) + ttl };
	char *t = NULL;
	int r;

	if ((r = make_secret("pglenroll", &t, hj.hash)) != 0)
		return r;
	if ((r = submit(s, host_add, &hj)) != 0) {
		free_secret(t);
		return r;
	}
	*enroll_token = t;
	return 0;
}

struct enroll_job {
	uint8_t token_hash[32];
	uint8_t cred_hash[32];
	const char *host_key;
	char *name;
	size_t namelen;
};

/* In one transaction: the token is valid and unused, then used. Two
 * concurrent enrollments with one token: exactly one succeeds. */
static int
host_enroll(struct pgl_store *s, struct conn *c, void *arg)
{
	struct enroll_job *ej = arg;
	const void *stored;
	const unsigned char *host;
	sqlite3_stmt *q;
	int rc, r;

	(void)s;
	if ((q = stmt(c, ST_ENROLL_GET)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_blob(q, 1, ej->token_hash, 32, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)time(NULL));
	rc = sqlite3_step(q);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(q);
		return rc == SQLITE_DONE ? PGL_E_NOT_FOUND : PGL_E_STORE;
	}
	stored = sqlite3_column_blob(q, 0);
	host = sqlite3_column_text(q, 1);
	if (stored == NULL || sqlite3_column_bytes(q, 0) != 32 ||
	    CRYPTO_memcmp(stored, ej->token_hash, 32) != 0 || host == NULL ||
	    strlen((const char *)host) >= ej->namelen) {
		sqlite3_reset(q);
		return PGL_E_NOT_FOUND;
	}
	snprintf(ej->name, ej->namelen, "%s", (const char *)host);
	sqlite3_reset(q);
	if ((q = stmt(c, ST_ENROLL_USE)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_blob(q, 1, ej->token_hash, 32, SQLITE_STATIC);
	if ((r = step_done(q)) != 0)
		return r;
	if ((q = stmt(c, ST_HOST_ENROLL)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_blob(q, 1, ej->cred_hash, 32, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ej->host_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)time(NULL));
	sqlite3_bind_text(q, 4, ej->name, -1, SQLITE_STATIC);
	if ((r = step_done(q)) != 0)
		return r;
	return sqlite3_changes(c->db) == 1 ? 0 : PGL_E_NOT_FOUND;
}

int
pgl_store_host_enroll(struct pgl_store *s, const char *enroll_token,
    const char *host_key, char *name, size_t namelen, char **credential)
{
	struct enroll_job ej;
	char *cred = NULL, tmp[256];
	int r;

	memset(&ej, 0, sizeof(ej));
	token_hash(enroll_token, ej.token_hash);
	ej.host_key = host_key;
	ej.name = tmp;
	ej.namelen = sizeof(tmp);
	if ((r = make_secret("pglhost", &cred, ej.cred_hash)) != 0)
		return r;
	if ((r = submit(s, host_enroll, &ej)) != 0 || strlen(tmp) >= namelen) {
		free_secret(cred);
		return r != 0 ? r : PGL_E_TOO_LARGE;
	}
	snprintf(name, namelen, "%s", tmp);
	*credential = cred;
	return 0;
}

int
pgl_store_host_check(struct pgl_store *s, const char *credential,
    struct pgl_host *out)
{
	uint8_t hash[32];
	const void *stored;
	const unsigned char *name, *key;
	sqlite3_stmt *q;
	struct conn *c;
	int rc, r = PGL_E_NOT_FOUND;

	if ((c = reader(s)) == NULL || (q = stmt(c, ST_HOST_GET)) == NULL)
		return PGL_E_STORE;
	token_hash(credential, hash);
	sqlite3_bind_blob(q, 1, hash, sizeof(hash), SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		stored = sqlite3_column_blob(q, 0);
		name = sqlite3_column_text(q, 1);
		key = sqlite3_column_text(q, 2);
		if (stored != NULL && sqlite3_column_bytes(q, 0) == 32 &&
		    CRYPTO_memcmp(stored, hash, 32) == 0 && name != NULL &&
		    sqlite3_column_int(q, 4) == 0 &&
		    strlen((const char *)name) < sizeof(out->name) &&
		    (key == NULL || strlen((const char *)key) < sizeof(out->host_key))) {
			snprintf(out->name, sizeof(out->name), "%s", (const char *)name);
			snprintf(out->host_key, sizeof(out->host_key), "%s",
			    key == NULL ? "" : (const char *)key);
			out->enrolled = sqlite3_column_type(q, 3) != SQLITE_NULL;
			out->revoked = 0;
			r = 0;
		}
	} else if (rc != SQLITE_DONE)
		r = PGL_E_STORE;
	sqlite3_reset(q);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

static int
host_revoke(struct pgl_store *s, struct conn *c, void *arg)
{
	sqlite3_stmt *q;
	int r;

	(void)s;
	if ((q = stmt(c, ST_HOST_REVOKE)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	if ((r = step_done(q)) != 0)
		return r;
	return sqlite3_changes(c->db) == 1 ? 0 : PGL_E_NOT_FOUND;
}

int
pgl_store_host_revoke(struct pgl_store *s, const char *name)
{
	return submit(s, host_revoke, (void *)name);
}

static int
token_revoke(struct pgl_store *s, struct conn *c, void *arg)
{
	sqlite3_stmt *q;
	int r;

	(void)s;
	if ((q = stmt(c, ST_TOKEN_REVOKE)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	if ((r = step_done(q)) != 0)
		return r;
	return sqlite3_changes(c->db) > 0 ? 0 : PGL_E_NOT_FOUND;
}

int
pgl_store_token_revoke(struct pgl_store *s, const char *identity)
{
	return submit(s, token_revoke, (void *)identity);
}

struct group_job {
	const char *name;
	uint32_t gid;
};

static int
group_lookup(struct conn *c, const char *name, uint32_t *gid)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = stmt(c, ST_GROUP_GET)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*gid = (uint32_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc == SQLITE_DONE)
		return PGL_E_NOT_FOUND;
	return rc == SQLITE_ROW ? 0 : PGL_E_STORE;
}

static int
group_assign(struct pgl_store *s, struct conn *c, void *arg)
{
	struct group_job *gj = arg;
	sqlite3_stmt *q;
	int64_t id;
	int r;

	if ((r = group_lookup(c, gj->name, &gj->gid)) != PGL_E_NOT_FOUND)
		return r;
	if ((r = allocate_id(s, c, &id)) != 0)
		return r;
	if ((q = stmt(c, ST_GROUP_ADD)) == NULL)
		return PGL_E_STORE;
	sqlite3_bind_text(q, 1, gj->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, id);
	if ((r = step_done(q)) != 0)
		return r;
	gj->gid = (uint32_t)id;
	return 0;
}

int
pgl_store_group(struct pgl_store *s, const char *name, uint32_t *gid)
{
	struct group_job gj = { name, 0 };
	struct conn *c;
	int r;

	if ((c = reader(s)) == NULL)
		return PGL_E_STORE;
	if ((r = group_lookup(c, name, &gj.gid)) == PGL_E_NOT_FOUND)
		r = submit(s, group_assign, &gj);
	if (r == 0)
		*gid = gj.gid;
	return r;
}
