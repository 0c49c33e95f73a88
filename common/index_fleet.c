/*
 * index_fleet.c - the fleet's SQL: the ledger rows, its seq, the claim epoch,
 * adopted messages, heartbeat figures; see index_fleet.h and
 * schema/009_fleet.sql.
 *
 * Statements go through the handle's cache (index_prepare); adopted messages
 * and recipients move through the one state setter (index_queue.c).  The
 * reservation of a batch is one BEGIN IMMEDIATE transaction, so two processes
 * of one node (serve and drain) never give the same seq to different rows.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "index_fleet.h"
#include "index_queue.h"
#include "queue_state.h"

/*
 * ifl_run - run sql with up to two int64 parameters (?1 a, ?2 b): with v, a
 * query whose one row's first column goes to *v (*isnull, may be NULL, says
 * it was NULL); without, a change whose row count goes to *changes (may be NULL)
 */
static enum index_status
ifl_run(struct index *ix, const char *sql, int64_t a, int64_t b, int64_t *v, int *isnull,
    int *changes)
{
	sqlite3_stmt	*st;
	int		 rc, np;

	if ((st = index_prepare(ix, sql)) == NULL)
		return INDEX_PERMFAIL;
	np = sqlite3_bind_parameter_count(st);
	if (np >= 1)
		sqlite3_bind_int64(st, 1, a);
	if (np >= 2)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && v != NULL) {
		if (isnull != NULL)
			*isnull = sqlite3_column_type(st, 0) == SQLITE_NULL;
		*v = sqlite3_column_int64(st, 0);
	}
	if (changes != NULL)
		*changes = sqlite3_changes(index_db(ix));
	index_unprepare(ix, st);
	if (rc != (v != NULL ? SQLITE_ROW : SQLITE_DONE))
		return index_fail(ix, sql, rc);
	return INDEX_OK;
}

/* ifl_int - the one integer sql (one optional parameter) returns into *v */
static enum index_status
ifl_int(struct index *ix, const char *sql, int64_t arg, int64_t *v, int *isnull)
{
	return ifl_run(ix, sql, arg, 0, v, isnull, NULL);
}

/* ifl_exec - run a change with up to two parameters; *changes (may be NULL) */
static enum index_status
ifl_exec(struct index *ix, const char *sql, int64_t a, int64_t b, int *changes)
{
	return ifl_run(ix, sql, a, b, NULL, NULL, changes);
}

/* ifl_kv_num - the control key as a number (def when unset or not a number) */
static enum index_status
ifl_kv_num(struct index *ix, const char *key, int64_t def, int64_t *v)
{
	enum index_status	 st;
	char			*s = NULL;
	long long		 n;

	*v = def;
	if ((st = index_kv_get(ix, key, &s)) == INDEX_NOTFOUND)
		return INDEX_OK;
	if (st == INDEX_OK && config_parse_num(s, 0, INT64_MAX, &n) == 0)
		*v = n;
	free(s);
	return st;
}

/* ifl_kv_set_num - set the control key to a number */
static enum index_status
ifl_kv_set_num(struct index *ix, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return index_kv_set(ix, key, buf);
}

/* index_fleet_ledger_enable - see index_fleet.h */
enum index_status
index_fleet_ledger_enable(struct index *ix, int on)
{
	return index_kv_set(ix, INDEX_FLEET_LEDGER_KEY, on ? "1" : "0");
}

/* index_fleet_reserve - see index_fleet.h */
enum index_status
index_fleet_reserve(struct index *ix, int max, int64_t *seq, int *n)
{
	enum index_status	st;
	int64_t			old, cnt;
	int			isnull = 1;

	*seq = 0;
	*n = 0;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	st = ifl_int(ix, "SELECT min(batch) FROM fleet_ledger WHERE batch IS NOT NULL", 0, &old,
	    &isnull);
	if (st == INDEX_OK && !isnull) {
		/* a writer died between reserve and done: the same rows again */
		if ((st = ifl_int(ix, "SELECT count(*) FROM fleet_ledger WHERE batch = ?1", old,
		    &cnt, NULL)) == INDEX_OK) {
			*seq = old;
			*n = (int)cnt;
		}
	} else if (st == INDEX_OK && (st = ifl_kv_num(ix, INDEX_FLEET_SEQ_KEY, 1, &old)) ==
	    INDEX_OK && (st = ifl_exec(ix, "UPDATE fleet_ledger SET batch = ?1 WHERE rowid IN"
	    " (SELECT rowid FROM fleet_ledger WHERE batch IS NULL ORDER BY rowid LIMIT ?2)",
	    old < 1 ? 1 : old, max, n)) == INDEX_OK && *n > 0) {
		*seq = old < 1 ? 1 : old;
		st = ifl_kv_set_num(ix, INDEX_FLEET_SEQ_KEY, *seq + 1);
	}
	if (st != INDEX_OK) {
		index_rollback(ix);
		*seq = 0;
		*n = 0;
		return st;
	}
	return index_commit(ix);
}

/* index_fleet_batch_rows - see index_fleet.h */
enum index_status
index_fleet_batch_rows(struct index *ix, int64_t seq, int (*fn)(const char *, const char *,
    const char *, int64_t, void *), void *arg)
{
	const char	*sql = "SELECT message_id, rcpt, outcome, at_ms FROM fleet_ledger"
			    " WHERE batch = ?1 ORDER BY rowid";
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, sql)) == NULL)
		return INDEX_PERMFAIL;
	sqlite3_bind_int64(st, 1, seq);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), sqlite3_column_int64(st, 3),
		    arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	index_unprepare(ix, st);
	if (rc != SQLITE_DONE)
		return index_fail(ix, "fleet ledger rows", rc);
	return INDEX_OK;
}

/* index_fleet_batch_done - see index_fleet.h */
enum index_status
index_fleet_batch_done(struct index *ix, int64_t seq)
{
	return ifl_exec(ix, "DELETE FROM fleet_ledger WHERE batch = ?1", seq, 0, NULL);
}

/* index_fleet_pending - see index_fleet.h */
enum index_status
index_fleet_pending(struct index *ix, int64_t *n)
{
	return ifl_int(ix, "SELECT count(*) FROM fleet_ledger", 0, n, NULL);
}

/* index_fleet_epoch - see index_fleet.h */
enum index_status
index_fleet_epoch(struct index *ix, int64_t *epoch)
{
	return ifl_kv_num(ix, INDEX_FLEET_EPOCH_KEY, 0, epoch);
}

/* index_fleet_set_epoch - see index_fleet.h */
enum index_status
index_fleet_set_epoch(struct index *ix, int64_t epoch)
{
	return ifl_kv_set_num(ix, INDEX_FLEET_EPOCH_KEY, epoch);
}

/* ifl_adopt_one - one id: the message if in the backlog, then its open recipients */
static enum index_status
ifl_adopt_one(struct index *ix, const char *id, const char *note, int64_t now, int *moved)
{
	struct index_move	a = { .now = now, .note = note };
	enum index_status	st;
	int			n;

	st = index_queue_move(ix, id, QUEUE_BACKLOG_SET, QUEUE_ADOPTED, "state_ms = :now, "
	    INDEX_QUEUE_UNLEASE ", note = :note", "", &a, moved);
	if (st == INDEX_NOTFOUND)	/* not here: nothing to adopt */
		return INDEX_OK;
	if (st != INDEX_OK || *moved == 0)
		return st;		/* final already: its recipients stay */
	return index_queue_rcpt_move(ix, id, RCPT_BIT(RCPT_PENDING) | RCPT_BIT(RCPT_QUARANTINE),
	    RCPT_ADOPTED, "", "", &a, &n);
}

/* index_fleet_adopt - see index_fleet.h */
enum index_status
index_fleet_adopt(struct index *ix, const char (*ids)[MSGID_MAX], size_t n,
    const char *adopter, int64_t now_ms, int *changed)
{
	enum index_status	st;
	char			note[96];
	int			moved;

	*changed = 0;
	snprintf(note, sizeof(note), "adopted by node %s", adopter);
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	for (size_t i = 0; i < n; i++) {
		if ((st = ifl_adopt_one(ix, ids[i], note, now_ms, &moved)) != INDEX_OK) {
			index_rollback(ix);
			*changed = 0;
			return st;
		}
		*changed += moved;
	}
	return index_commit(ix);
}

/* index_fleet_figures - see index_fleet.h */
enum index_status
index_fleet_figures(struct index *ix, int64_t *backlog, int64_t *oldest_ms,
    int64_t *last_delivery_ms)
{
	enum index_status	st;
	int			isnull = 0;

	*backlog = *oldest_ms = *last_delivery_ms = 0;
	if ((st = ifl_int(ix, "SELECT count(*) FROM messages WHERE state IN " QS_BACKLOG_SQL,
	    0, backlog, NULL)) != INDEX_OK ||
	    (st = ifl_int(ix, "SELECT min(received_ms) FROM messages WHERE state IN "
	    QS_BACKLOG_SQL, 0, oldest_ms, &isnull)) != INDEX_OK)
		return st;
	if (isnull)
		*oldest_ms = 0;
	/* the attempts_time index read from its end: the last 2xx, without a scan */
	if ((st = ifl_int(ix, "SELECT coalesce((SELECT at_ms FROM attempts WHERE code BETWEEN"
	    " 200 AND 299 ORDER BY at_ms DESC LIMIT 1), 0)", 0, last_delivery_ms, NULL)) !=
	    INDEX_OK)
		return st;
	return INDEX_OK;
}
