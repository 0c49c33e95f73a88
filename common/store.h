/*
 * store.h - the durable commit path: object store + fallback spool + index.
 *
 * store_commit() is what the ingest calls at end-of-data.  It returns
 * STORE_OK only when the message bytes are durable (S3 acknowledged the
 * object, or the local fallback spool file and its directory were fsync'd)
 * AND the index row is committed; the caller then answers 250.  Anything
 * else is a 4xx.  Order: (sidecar envelope) -> object -> index; a crash
 * between leaves an object without an index row, never acknowledged: an
 * orphan, which store_reconcile() moves aside and reindex does not adopt.
 *
 * The fallback spool ([spool] dir, max_size) holds messages the object store
 * refused temporarily; store_spool_flush() uploads them and moves the index
 * row to the store; the ingest runs it from a background thread.
 *
 * Hung storage: the object store attempts of one message (retries, parts,
 * sidecar) end within [storage] commit_deadline, then the spool takes it.  A
 * circuit breaker shared by every handle of the process opens after
 * [storage] breaker_failures consecutive failures: commits then go straight to
 * the spool and the flush waits, until store_probe() (one caller, the
 * housekeeping thread) sees the store answer again.  store_healthy() reads
 * this state and local file systems only: it never waits on the store.
 *
 * A handle belongs to one thread at a time.
 */
#ifndef MXS_STORE_H
#define MXS_STORE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "envelope.h"

struct config;
struct objstore;
struct index;

enum store_status {
	STORE_OK = 0,
	STORE_TEMPFAIL,		/* 451 4.3.0: nothing acknowledged, sender retries */
	STORE_NOSPACE,		/* 452 4.3.1: spool full and object store down */
	STORE_NOTFOUND,		/* store_fetch/store_purge: no such message (never from commit) */
};

struct store;

/* store_conf_prefix - [storage] prefix (default STORE_PREFIX_DEFAULT, "mail") */
const char	*store_conf_prefix(const struct config *);
/* store_open - objstore + index + spool from config; NULL + err on bad config */
struct store	*store_open(const struct config *, char *err, size_t errlen);
void		 store_close(struct store *);
struct objstore	*store_objstore(struct store *);
struct index	*store_index(struct store *);
const char	*store_prefix(const struct store *);	/* [storage] prefix */
/* store_prefix_valid - 1 if prefix is a usable [storage] prefix (config_check, store_open) */
int		 store_prefix_valid(const char *prefix);

/*
 * store_commit - make the message in fd (size bytes, read with pread from 0)
 * durable and indexed.  env must be complete (id, size, sha256, envelope).
 * On failure reason gets a short text for the log (not for the peer).
 */
enum store_status store_commit(struct store *, const struct envelope *, int fd, off_t size,
		    char *reason, size_t reasonlen);
/*
 * store_commit_since - store_commit for a message whose end-of-data was at t0
 * (mono_ms()): [storage] commit_deadline counts from t0, so a wait
 * for a commit worker is part of it.  The object store gets what is left
 * minus a tenth (at most STORE_SPOOL_ALLOWANCE_MS), kept for the spool and the
 * index, so the reply comes within the deadline.
 */
enum store_status store_commit_since(struct store *, const struct envelope *, int fd,
		    off_t size, int64_t t0, char *reason, size_t reasonlen);

/* store_fetch - write the bytes of message id (store or spool) to fd; on failure why
 * says what failed and nothing is logged: the caller reports it once, with what it does */
enum store_status store_fetch(struct store *, const char *id, int fd, char *why,
		    size_t whylen);
/* store_fetch_at - the same where the caller read the row already (index_replay_job):
 * object_key, spool_path and loc (enum index_location) as the index holds them */
enum store_status store_fetch_at(struct store *, const char *object_key, int loc,
		    const char *spool_path, int fd, char *why, size_t whylen);

/* store_spool_flush - upload spooled messages; returns how many remain, -1 on index error */
int		 store_spool_flush(struct store *);
/* store_spool_usage - bytes and messages in the spool */
void		 store_spool_usage(struct store *, int64_t *bytes, int64_t *count);
/*
 * store_healthy - 1 if a message could be stored now: the index's file system
 * has room, and the object store was seen working (last outcome of a commit
 * or probe) or the spool has room.  No network I/O.
 */
int		 store_healthy(struct store *, char *why, size_t whylen);
/*
 * store_probe - call periodically from one thread: when the breaker is open
 * (every [storage] probe_interval) or the store has been idle that long, one
 * HEAD within [storage] probe_timeout; its outcome feeds the breaker.
 * Returns 1 if the breaker is closed afterwards.
 */
int		 store_probe(struct store *);
/* store_purge - delete the object (and sidecar) of a delivered message past retention, by
 * the key its index row holds (the [storage] prefix may have changed since) */
enum store_status store_purge(struct store *, const char *id);
/* store_purge_key - store_purge with the key the caller read from the row ("": none, the
 * current prefix's), so a caller that listed the rows does not read each one again */
enum store_status store_purge_key(struct store *, const char *id, const char *key);

/*
 * store_reindex - rebuild or reconcile the index from the bucket.
 * node: only that node's objects (NULL: all).  repair: add messages found in
 * the bucket but not in the index, mark index rows whose object is gone as
 * 'missing'; without repair only report.  report() gets one line per finding.
 * Never added: orphans, objects without a row whose node commits into this
 * index since before the id's time (store_register_node: never committed,
 * so never acknowledged; adding them would deliver duplicates).  Stale temp
 * files of the file store under the prefix are removed.
 */
struct reindex_result {
	int64_t	objects;	/* .eml objects seen */
	int64_t	added;		/* index rows created (repair) or that would be */
	int64_t	missing;	/* index rows without object */
	int64_t	incomplete;	/* objects without a readable envelope */
	int64_t	ok;		/* in both */
	int64_t	orphans;	/* unindexed orphans (store_orphan): not added */
	int64_t	tmp;		/* stale temp files removed */
	int64_t	finished;	/* store_import: no recipient left pending, not added */
};
enum store_status store_reindex(struct store *, const char *node, int repair,
		    void (*report)(const char *line, void *), void *arg, struct reindex_result *);
/* store_message_keys - the sorted .eml keys of node's messages (*keys malloc'd) */
enum store_status store_message_keys(struct store *, const char *node, char ***keys,
		    size_t *nkeys);
void		 store_keys_free(char **keys, size_t nkeys);
/*
 * store_import - reindex's add path for given keys (adopt, replay/adopt.c):
 * each object's envelope (metadata or sidecar) with only the recipients
 * keep() leaves pending; seen() gets that envelope (dry run too); a message
 * with none left counts as finished; one already indexed is left as it is,
 * unless it is 'adopted' here (a chain of adoptions back to this node): then
 * its recipients keep() leaves pending come back (index_adopt_revive) and it
 * counts as added.  repair 0: read and count only.  Errors as store_reindex.
 */
struct store_import {
	int	(*keep)(const char *id, const char *rcpt, void *arg);	/* NULL: all */
	void	(*seen)(const char *key, const struct envelope *, void *arg);
	void	 *arg;
};
enum store_status store_import(struct store *, char *const *keys, size_t nkeys, int repair,
		    const struct store_import *, void (*report)(const char *line, void *),
		    void *arg, struct reindex_result *);

/*
 * store_register_node - node's ingest commits into this index from now on
 * (index_nodes; the first registration stays).  The ingest calls it before it
 * accepts mail: an object of the node with no row younger than that is an
 * orphan, an older one or one of an unregistered node is not (reindex.c).
 */
enum store_status store_register_node(struct store *, const char *node, int64_t now_ms);
/*
 * store_reconcile - after a crash: remove the file store's stale temp files
 * and move this node's orphans (objects of the last RECONCILE_DAYS whose
 * index row was never committed, so never acknowledged, written more than
 * [storage] orphan_age ago) aside to "<prefix>/_orphaned/"; objects that
 * predate the node's registration (lost or replaced index) are only counted
 * and logged.  Registers the node too.  Logs what it did.  See reconcile.c.
 */
struct reconcile_result {
	int64_t	objects;	/* this node's keys seen */
	int64_t	orphans;	/* moved aside */
	int64_t	predate;	/* unindexed but older than the registration: left alone */
	int64_t	tmp;		/* stale temp files removed */
	int64_t	failed;		/* orphans that could not be moved (next run retries) */
};
enum store_status store_reconcile(struct store *, const char *node, int64_t now_ms,
		    struct reconcile_result *);

#endif
