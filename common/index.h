/*
 * index.h - the SQLite index: what is stored, where, and its delivery state.
 *
 * Only the index modules run SQL (common/index*.c, and the replay's own
 * replay/index_replay.c, replay/index_stats.c).  One file is shared by the
 * ingest, the replay worker and the CLI: WAL, synchronous=FULL, a busy
 * timeout.  Migrations are the embedded schema/NNN_*.sql files, applied in
 * order at open while PRAGMA user_version is below NNN.
 *
 * A handle belongs to one thread at a time (open one per thread).
 * Functions return enum index_status; a failure leaves a reason in
 * index_error().
 *
 * Companion headers, one per concern:
 *   index.h          open, migrations, messages in/out (this file)
 *   replay/index_replay.h  leases, per-recipient outcomes, attempts, queue ops
 *   replay/index_stats.h   backlog figures for status/metrics/qshape
 *   (both serve only mxspool-replay, so they live with it; queue_state.h
 *   names the states for all)
 *   index_queue.h    the one setter of message and recipient states, used by
 *                    every module that changes one (replay, adopt, fleet, drill)
 *   index_verify.h   recipient verification cache, ingest counters
 */
#ifndef MXS_INDEX_H
#define MXS_INDEX_H
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "queue_state.h"

struct sqlite3;
struct sqlite3_stmt;

enum index_status {
	INDEX_OK = 0,
	INDEX_NOTFOUND,
	INDEX_EXISTS,		/* insert of an id already present */
	INDEX_TEMPFAIL,		/* busy/locked beyond the timeout, I/O error, disk full */
	INDEX_PERMFAIL,		/* corrupt, schema newer than this program, bad argument */
};

/* where the message bytes are */
enum index_location {
	INDEX_LOC_STORE = 0,	/* in the object store at object_key */
	INDEX_LOC_SPOOL,	/* in the local fallback spool at spool_path, not yet uploaded */
};

struct index;

/* index_open - open or create path and migrate; NULL with reason in err */
struct index	*index_open(const char *path, char *err, size_t errlen);
/* index_open_existing - as index_open but fail (INDEX_NOTFOUND-like) if the file is absent:
 * the CLI must not create an empty index by mistake */
struct index	*index_open_existing(const char *path, char *err, size_t errlen);
/* index_open_status - why this thread's last failed index_open*: INDEX_NOTFOUND (no file),
 * INDEX_TEMPFAIL (busy, I/O, permissions: retry or fix), INDEX_PERMFAIL (not an index
 * this program can use: not a database, corrupt, a newer schema) */
enum index_status index_open_status(void);
/* index_known_version - the newest schema version this program creates and knows */
int		 index_known_version(void);
void		 index_close(struct index *);
const char	*index_error(const struct index *);
struct sqlite3	*index_db(struct index *);	/* for the other index_*.c modules only */
/*
 * index_prepare - sql prepared on this handle, reused from a per-handle cache
 * (reset, no bindings); NULL with index_error() set.  Every statement goes
 * back through index_unprepare() instead of sqlite3_finalize().  For the
 * other index_*.c modules only.
 */
struct sqlite3_stmt *index_prepare(struct index *, const char *sql);
void		 index_unprepare(struct index *, struct sqlite3_stmt *);
/*
 * index_fail - the one error channel of every index module: "what: SQLite's
 * reason" becomes index_error(), sqlite_rc is mapped by index_status_of().
 * index_seterr - any other reason.  For the other index_*.c modules only;
 * nothing is logged by the index modules, their callers log once.
 */
enum index_status index_fail(struct index *, const char *what, int sqlite_rc);
void		 index_seterr(struct index *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/*
 * The statement helpers of the index modules (named parameters, as every
 * queue statement uses them):
 *   index_failed     the handle's last SQLite failure, through index_fail
 *   index_prep       index_prepare with the status (*st) of a failure
 *   index_bind_text/_int  bind a named parameter if the statement has it
 *   index_text       column text, "" for NULL
 *   index_step_done  step a statement that returns no rows, then give it back
 *   index_rows_end   give back s after a row loop whose last step returned rc
 *   index_end        roll back when st failed, else commit; the outcome
 */
enum index_status index_failed(struct index *, const char *what);
struct sqlite3_stmt *index_prep(struct index *, const char *sql, enum index_status *st);
void		 index_bind_text(struct sqlite3_stmt *, const char *name, const char *v);
void		 index_bind_int(struct sqlite3_stmt *, const char *name, int64_t v);
const char	*index_text(struct sqlite3_stmt *, int col);
enum index_status index_step_done(struct index *, struct sqlite3_stmt *, const char *what);
enum index_status index_rows_end(struct index *, struct sqlite3_stmt *, int rc,
		    const char *what);
enum index_status index_end(struct index *, enum index_status st);
int		 index_schema_version(struct index *);
/* index_set_busy_timeout - wait up to ms for another process's lock (default 5000) */
void		 index_set_busy_timeout(struct index *, int ms);

/*
 * index_set_durable - synchronous=FULL (default) or NORMAL.  The ingest keeps
 * FULL: its commit is what makes a 250 true.  Replay's state changes may use
 * NORMAL: in WAL mode a commit still survives a crash of the process, and a
 * power loss can only roll back the latest delivery marks, i.e. re-send a
 * message (a duplicate), never lose one - its row and object were made
 * durable by the ingest.  Cuts one fsync per replay transaction.
 */
void		 index_set_durable(struct index *, int full);

/* index_begin/commit/rollback - BEGIN IMMEDIATE ... for multi-call transactions */
enum index_status index_begin(struct index *);
enum index_status index_commit(struct index *);
void		 index_rollback(struct index *);

/*
 * index_add_message - insert a message and its recipients (state queued,
 * due now) in one transaction; the commit is durable (synchronous=FULL)
 * when INDEX_OK returns.
 */
enum index_status index_add_message(struct index *, const struct envelope *,
		    const char *object_key, enum index_location, const char *spool_path);
/* index_set_location - the spool uploader moved a message to the store */
enum index_status index_set_location(struct index *, const char *id, enum index_location,
		    const char *object_key, const char *spool_path);
/* index_get_envelope - load the envelope and location of id */
enum index_status index_get_message(struct index *, const char *id, struct envelope *,
		    char *object_key, size_t keylen, enum index_location *loc,
		    char *spool_path, size_t spoollen);
/*
 * INDEX_ENVELOPE_COLS - the messages columns of an envelope and its location,
 * for a SELECT of another index module; index_envelope_cols fills e (after
 * envelope_init; its recipients are not among them), the key, *loc and the
 * spool path from the statement's columns c, c+1, ... in this order.
 */
#define INDEX_ENVELOPE_COLS "node, object_key, location, spool_path, received_ms, size,"	\
	" sha256, mail_from, mail_params, client_addr, client_name, helo, tls, auth_spf,"	\
	" auth_dkim, auth_dmarc"
enum index_status index_envelope_cols(struct index *, struct sqlite3_stmt *, int c,
		    const char *id, struct envelope *e, char *object_key, size_t keylen,
		    enum index_location *loc, char *spool_path, size_t spoollen);
/* index_has_message - INDEX_OK if present, INDEX_NOTFOUND if not */
enum index_status index_has_message(struct index *, const char *id);
/* index_foreach_spooled - messages still in the fallback spool, oldest first */
enum index_status index_foreach_spooled(struct index *, int (*fn)(const char *id,
		    const char *object_key, const char *spool_path, void *), void *arg);
/* index_foreach_message - every message id (for reindex reconciliation) */
enum index_status index_foreach_message(struct index *, int (*fn)(const char *id,
		    const char *object_key, enum index_location, void *), void *arg);
/* index_get_state - the state of id (QUEUE_UNKNOWN: a text this program does not know) and
 * purged_ms (0 if not purged; may be NULL); INDEX_NOTFOUND if there is no such message */
enum index_status index_get_state(struct index *, const char *id, enum queue_state *state,
		    int64_t *purged_ms);

/*
 * index_status_of - the one map from an SQLite result code to enum index_status
 * (busy, locked, full, I/O, no memory, cannot open: TEMPFAIL; constraint: EXISTS;
 * anything else PERMFAIL), for every index_*.c module.
 */
enum index_status index_status_of(int sqlite_rc);

/* index_node_since - since when node's ingest commits into this index (ms) into *ms;
 * INDEX_NOTFOUND when it never did, TEMPFAIL when the index could not say */
enum index_status index_node_since(struct index *, const char *node, int64_t *ms);
enum index_status index_node_register(struct index *, const char *node, int64_t now_ms);
/* index_kv_get/set - the control table (paused, rate, ...); value malloc'd or NULL */
enum index_status index_kv_get(struct index *, const char *key, char **value);
enum index_status index_kv_set(struct index *, const char *key, const char *value);

#endif
