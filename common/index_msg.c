/*
 * index_msg.c - the message rows of the index: add a message with its
 * recipients, move its bytes' location, read it back, walk the spooled or
 * all messages, read its state; the control keys and the node register.
 *
 * Entry points: index_add_message, index_set_location, index_get_message,
 * index_has_message, index_foreach_spooled/message, index_get_state,
 * index_kv_get/set, index_node_since/register.  A state changes only
 * through index_queue.c; the insert names the first one (QS_* literals).
 * Invariants: a message and its recipients are inserted in one transaction
 * (or inside the caller's); statements come from the handle's cache
 * (index_prepare, index.c).  Errors: as index.c - the reason in
 * index_error() (index_fail/index_seterr), mapped to enum index_status,
 * nothing logged here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "clock.h"
#include "index.h"
#include "msgid.h"
#include "queue_state.h"

#define INDEX_BATCH		512	/* ids per page in the foreach functions */

enum index_stmt {
	ST_ADD_MSG, ST_ADD_RCPT, ST_SET_LOC, ST_GET_MSG, ST_GET_RCPTS, ST_HAS,
	ST_SPOOLED, ST_ALL, ST_STATE, ST_KV_GET, ST_KV_SET, ST_COUNT
};

static const char *const index_sql[ST_COUNT] = {
	[ST_ADD_MSG] = "INSERT INTO messages (id, node, object_key, location, spool_path,"
	    " received_ms, size, sha256, mail_from, mail_params, client_addr, client_name,"
	    " helo, tls, state, next_attempt_ms, state_ms, auth_spf, auth_dkim, auth_dmarc)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	    " CASE WHEN ?19 THEN " QS_SQL(QS_QUARANTINE) " ELSE " QS_SQL(QS_QUEUED) " END,"
	    " ?15, ?15, ?16, ?17, ?18)",
	/* a DMARC p=quarantine failure under auth_policy = enforce waits for the operator */
	[ST_ADD_RCPT] = "INSERT OR IGNORE INTO recipients (message_id, rcpt, domain, params, seq,"
	    " state, last_text, updated_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5,"
	    " CASE WHEN ?6 THEN " QS_SQL(RS_QUARANTINE) " ELSE " QS_SQL(RS_PENDING) " END,"
	    " CASE WHEN ?6 THEN 'DMARC policy quarantine (verified at ingest)' END,"
	    " CASE WHEN ?6 THEN ?7 END)",
	[ST_SET_LOC] = "UPDATE messages SET location = ?2, object_key = ?3, spool_path = ?4"
	    " WHERE id = ?1",
	[ST_GET_MSG] = "SELECT " INDEX_ENVELOPE_COLS " FROM messages WHERE id = ?1",
	[ST_GET_RCPTS] = "SELECT rcpt, params FROM recipients WHERE message_id = ?1"
	    " ORDER BY seq, rcpt",
	[ST_HAS] = "SELECT 1 FROM messages WHERE id = ?1",
	/* "location <> 0" selects the partial index, "= 1" lets it deliver the order */
	/* the two walks (index_walk): the same columns, the page after :ms/:id, :n rows */
	[ST_SPOOLED] = "SELECT id, object_key, spool_path, received_ms, location FROM messages"
	    " WHERE location = 1 AND location <> 0 AND (received_ms, id) > (:ms, :id)"
	    " ORDER BY received_ms, id LIMIT :n",
	[ST_ALL] = "SELECT id, object_key, spool_path, received_ms, location FROM messages"
	    " WHERE id > :id ORDER BY id LIMIT :n",
	[ST_STATE] = "SELECT state, coalesce(purged_ms, 0) FROM messages WHERE id = ?1",
	[ST_KV_GET] = "SELECT value FROM control WHERE key = ?1",
	[ST_KV_SET] = "INSERT INTO control (key, value, updated_ms) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
	    " updated_ms = excluded.updated_ms",
};

/*
 * index_key_row - prepare sql, bind ?1 = key, step once: INDEX_OK with *sp on
 * the row, INDEX_NOTFOUND (no row), or the failure; *sp (NULL when the prepare
 * failed) goes back through index_unprepare in every case
 */
static enum index_status
index_key_row(struct index *ix, const char *sql, const char *key, const char *what,
    sqlite3_stmt **sp)
{
	int rc;

	if ((*sp = index_prepare(ix, sql)) == NULL)
		return INDEX_PERMFAIL;
	sqlite3_bind_text(*sp, 1, key ? key : "", -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(*sp)) == SQLITE_ROW)
		return INDEX_OK;
	return rc == SQLITE_DONE ? INDEX_NOTFOUND : index_fail(ix, what, rc);
}

/* rcpt_domain - lower-cased part after the last '@' ("" if none) */
static void
rcpt_domain(const char *addr, char *out, size_t outlen)
{
	const char	*at = strrchr(addr, '@');
	size_t		 i;

	at = at ? at + 1 : "";
	for (i = 0; at[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (at[i] >= 'A' && at[i] <= 'Z') ? at[i] - 'A' + 'a' : at[i];
	out[i] = '\0';
}

/* bind_text - bind a C string (NULL binds "") */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

/* index_insert - the two INSERTs of index_add_message, inside a transaction */
static enum index_status
index_insert(struct index *ix, const struct envelope *e, const char *object_key,
    enum index_location loc, const char *spool_path)
{
	sqlite3_stmt	*st;
	char		 dom[MXS_DOMAIN_MAX + 1];
	size_t		 i;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_ADD_MSG])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, e->id);
	bind_text(st, 2, e->node);
	bind_text(st, 3, object_key);
	sqlite3_bind_int(st, 4, loc);
	if (spool_path != NULL)
		bind_text(st, 5, spool_path);
	sqlite3_bind_int64(st, 6, e->received_ms);
	sqlite3_bind_int64(st, 7, e->size);
	bind_text(st, 8, e->sha256);
	bind_text(st, 9, e->mail_from);
	bind_text(st, 10, e->mail_params);
	bind_text(st, 11, e->client_addr);
	bind_text(st, 12, e->client_name);
	bind_text(st, 13, e->helo);
	bind_text(st, 14, e->tls);
	sqlite3_bind_int64(st, 15, now_ms());
	bind_text(st, 16, e->auth_spf);
	bind_text(st, 17, e->auth_dkim);
	bind_text(st, 18, e->auth_dmarc);
	sqlite3_bind_int(st, 19, e->auth_quarantine);
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(index_db(ix)) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		index_seterr(ix, "index: message %s already present", e->id);
		return INDEX_EXISTS;
	}
	if (rc != SQLITE_DONE)
		return index_fail(ix, "insert message", rc) == INDEX_EXISTS ? INDEX_PERMFAIL :
		    index_status_of(rc);
	for (i = 0; i < e->nrcpts; i++) {
		if ((st = index_prepare(ix, index_sql[ST_ADD_RCPT])) == NULL)
			return INDEX_PERMFAIL;
		rcpt_domain(e->rcpts[i].addr, dom, sizeof(dom));
		bind_text(st, 1, e->id);
		bind_text(st, 2, e->rcpts[i].addr);
		bind_text(st, 3, dom);
		bind_text(st, 4, e->rcpts[i].params);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)i);
		sqlite3_bind_int(st, 6, e->auth_quarantine);
		sqlite3_bind_int64(st, 7, now_ms());
		rc = sqlite3_step(st);
		index_unprepare(ix, st);
		if (rc != SQLITE_DONE) {
			index_fail(ix, "insert recipient", rc);
			return index_status_of(rc) == INDEX_EXISTS ? INDEX_PERMFAIL : index_status_of(rc);
		}
	}
	return INDEX_OK;
}

/*
 * index_add_message - message + recipients in one transaction.  Inside a
 * caller's index_begin() it only inserts (bulk loads, reindex batches).
 */
enum index_status
index_add_message(struct index *ix, const struct envelope *e, const char *object_key,
    enum index_location loc, const char *spool_path)
{
	enum index_status	s;
	int			outer = !sqlite3_get_autocommit(index_db(ix));

	if (e->nrcpts == 0 || !msgid_valid(e->id)) {
		index_seterr(ix, "index: refusing message %s without recipients or valid id",
		    e->id);
		return INDEX_PERMFAIL;
	}
	if (!outer && (s = index_begin(ix)) != INDEX_OK)
		return s;
	s = index_insert(ix, e, object_key, loc, spool_path);
	if (outer)
		return s;
	if (s != INDEX_OK) {
		index_rollback(ix);
		return s;
	}
	return index_commit(ix);
}

/* index_set_location - move the bytes' location (spool -> store after upload) */
enum index_status
index_set_location(struct index *ix, const char *id, enum index_location loc,
    const char *object_key, const char *spool_path)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_SET_LOC])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, loc);
	bind_text(st, 3, object_key);
	if (spool_path != NULL && loc == INDEX_LOC_SPOOL)
		bind_text(st, 4, spool_path);
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	if (rc != SQLITE_DONE)
		return index_fail(ix, "set location", rc);
	if (sqlite3_changes(index_db(ix)) == 0) {
		index_seterr(ix, "index: no message %s", id);
		return INDEX_NOTFOUND;
	}
	return INDEX_OK;
}

/* col_dup - strdup of a text column ("" for NULL) */
static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return strdup(s ? (const char *)s : "");
}

/* col_copy - a text column into a fixed buffer (truncation is a bug: buffers fit keys) */
static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	if (out != NULL && outlen > 0)
		snprintf(out, outlen, "%s", s ? (const char *)s : "");
}

/* index_get_rcpts - recipients of id in envelope order */
static enum index_status
index_get_rcpts(struct index *ix, const char *id, struct envelope *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_GET_RCPTS])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (envelope_add_rcpt(e, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1)) == -1) {
			index_unprepare(ix, st);
			index_seterr(ix, "index: out of memory");
			return INDEX_TEMPFAIL;
		}
	}
	index_unprepare(ix, st);
	return rc == SQLITE_DONE ? INDEX_OK : index_fail(ix, "get recipients", rc);
}

/* index_envelope_cols - see index.h */
enum index_status
index_envelope_cols(struct index *ix, sqlite3_stmt *st, int c, const char *id,
    struct envelope *e, char *object_key, size_t keylen, enum index_location *loc,
    char *spool_path, size_t spoollen)
{
	snprintf(e->id, sizeof(e->id), "%s", id);
	col_copy(st, c, e->node, sizeof(e->node));
	col_copy(st, c + 1, object_key, keylen);
	if (loc != NULL)
		*loc = sqlite3_column_int(st, c + 2) ? INDEX_LOC_SPOOL : INDEX_LOC_STORE;
	col_copy(st, c + 3, spool_path, spoollen);
	e->received_ms = sqlite3_column_int64(st, c + 4);
	e->size = sqlite3_column_int64(st, c + 5);
	col_copy(st, c + 6, e->sha256, sizeof(e->sha256));
	e->mail_from = col_dup(st, c + 7);
	e->mail_params = col_dup(st, c + 8);
	e->client_addr = col_dup(st, c + 9);
	e->client_name = col_dup(st, c + 10);
	e->helo = col_dup(st, c + 11);
	e->tls = col_dup(st, c + 12);
	col_copy(st, c + 13, e->auth_spf, sizeof(e->auth_spf));
	col_copy(st, c + 14, e->auth_dkim, sizeof(e->auth_dkim));
	col_copy(st, c + 15, e->auth_dmarc, sizeof(e->auth_dmarc));
	if (!e->mail_from || !e->mail_params || !e->client_addr || !e->client_name ||
	    !e->helo || !e->tls) {
		envelope_free(e);
		index_seterr(ix, "index: out of memory");
		return INDEX_TEMPFAIL;
	}
	return INDEX_OK;
}

/* index_get_message - the envelope and location of id; e is initialised here */
enum index_status
index_get_message(struct index *ix, const char *id, struct envelope *e, char *object_key,
    size_t keylen, enum index_location *loc, char *spool_path, size_t spoollen)
{
	sqlite3_stmt		*st;
	enum index_status	 s;
	int			 rc;

	envelope_init(e);
	if ((st = index_prepare(ix, index_sql[ST_GET_MSG])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		index_unprepare(ix, st);
		index_seterr(ix, "index: no message %s", id);
		return INDEX_NOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		index_unprepare(ix, st);
		return index_fail(ix, "get message", rc);
	}
	s = index_envelope_cols(ix, st, 0, id, e, object_key, keylen, loc, spool_path, spoollen);
	index_unprepare(ix, st);
	if (s == INDEX_OK && (s = index_get_rcpts(ix, id, e)) != INDEX_OK)
		envelope_free(e);
	return s;
}

/* index_has_message - INDEX_OK if id is indexed */
enum index_status
index_has_message(struct index *ix, const char *id)
{
	sqlite3_stmt		*st;
	enum index_status	 s;

	s = index_key_row(ix, index_sql[ST_HAS], id, "has message", &st);
	index_unprepare(ix, st);
	return s;
}

/* one row collected by a foreach page, so callbacks may write to the index */
struct index_row {
	char	id[MSGID_MAX];
	char	key[OBJKEY_MAX];
	char	spool[1024];
	int64_t	received_ms;
	int	loc;
};

/* what a walk calls for each row: one of the two callbacks */
struct index_walk_fn {
	int	(*spooled)(const char *id, const char *key, const char *spool, void *);
	int	(*all)(const char *id, const char *key, enum index_location, void *);
	void	*arg;
};

/*
 * index_walk - the rows of ST_SPOOLED or ST_ALL in pages of INDEX_BATCH, each
 * page read whole before fn sees a row (fn may write to the index); the next
 * page starts after the last row seen (keyset, not offset), so rows added or
 * removed meanwhile neither repeat nor skip the rest.  fn != 0 stops.
 */
static enum index_status
index_walk(struct index *ix, enum index_stmt which, const char *what,
    const struct index_walk_fn *fn)
{
	struct index_row	*rows, last = { .received_ms = -1 };
	sqlite3_stmt		*st;
	int			 n, i, rc;

	if ((rows = calloc(INDEX_BATCH, sizeof(*rows))) == NULL)
		return INDEX_TEMPFAIL;
	for (;;) {
		if ((st = index_prepare(ix, index_sql[which])) == NULL) {
			free(rows);
			return INDEX_PERMFAIL;
		}
		sqlite3_bind_int64(st, sqlite3_bind_parameter_index(st, ":ms"), last.received_ms);
		bind_text(st, sqlite3_bind_parameter_index(st, ":id"), last.id);
		sqlite3_bind_int(st, sqlite3_bind_parameter_index(st, ":n"), INDEX_BATCH);
		for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			col_copy(st, 0, rows[n].id, sizeof(rows[n].id));
			col_copy(st, 1, rows[n].key, sizeof(rows[n].key));
			col_copy(st, 2, rows[n].spool, sizeof(rows[n].spool));
			rows[n].received_ms = sqlite3_column_int64(st, 3);
			rows[n].loc = sqlite3_column_int(st, 4);
		}
		index_unprepare(ix, st);
		if (rc != SQLITE_DONE) {
			free(rows);
			return index_fail(ix, what, rc);
		}
		for (i = 0; i < n; i++)
			if (fn->spooled ? fn->spooled(rows[i].id, rows[i].key, rows[i].spool,
			    fn->arg) : fn->all(rows[i].id, rows[i].key, rows[i].loc ?
			    INDEX_LOC_SPOOL : INDEX_LOC_STORE, fn->arg))
				n = 0;
		if (n < INDEX_BATCH)
			break;
		last = rows[n - 1];
	}
	free(rows);
	return INDEX_OK;
}

/* index_foreach_spooled - messages in the spool, oldest first, in pages */
enum index_status
index_foreach_spooled(struct index *ix, int (*fn)(const char *, const char *, const char *,
    void *), void *arg)
{
	struct index_walk_fn w = { .spooled = fn, .arg = arg };

	return index_walk(ix, ST_SPOOLED, "list spooled", &w);
}

/* index_foreach_message - every message in id order, in pages; fn != 0 stops */
enum index_status
index_foreach_message(struct index *ix, int (*fn)(const char *, const char *,
    enum index_location, void *), void *arg)
{
	struct index_walk_fn w = { .all = fn, .arg = arg };

	return index_walk(ix, ST_ALL, "list messages", &w);
}

/* index_get_state - the state of id and when its object was purged (0: not purged) */
enum index_status
index_get_state(struct index *ix, const char *id, enum queue_state *state, int64_t *purged_ms)
{
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((s = index_key_row(ix, index_sql[ST_STATE], id, "get state", &st)) == INDEX_OK) {
		*state = queue_state_parse((const char *)sqlite3_column_text(st, 0));
		if (purged_ms)
			*purged_ms = sqlite3_column_int64(st, 1);
	}
	index_unprepare(ix, st);
	if (s == INDEX_NOTFOUND)
		index_seterr(ix, "index: no message %s", id);
	return s;
}

/* index_kv_get - a control value (malloc'd), INDEX_NOTFOUND if unset */
enum index_status
index_kv_get(struct index *ix, const char *key, char **value)
{
	sqlite3_stmt		*st;
	enum index_status	 s;

	*value = NULL;
	if ((s = index_key_row(ix, index_sql[ST_KV_GET], key, "kv get", &st)) == INDEX_OK &&
	    (*value = col_dup(st, 0)) == NULL)
		s = INDEX_TEMPFAIL;
	index_unprepare(ix, st);
	return s;
}

/* index_kv_set - set a control value */
enum index_status
index_kv_set(struct index *ix, const char *key, const char *value)
{
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((st = index_prep(ix, index_sql[ST_KV_SET], &s)) == NULL)
		return s;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	sqlite3_bind_int64(st, 3, now_ms());
	return index_step_done(ix, st, "kv set");
}

/* index_node_since - since when node commits into this index (index_nodes) into *ms */
enum index_status
index_node_since(struct index *ix, const char *node, int64_t *ms)
{
	sqlite3_stmt		*st;
	enum index_status	 s;

	s = index_key_row(ix, "SELECT since_ms FROM index_nodes WHERE node = ?1", node,
	    "node since", &st);
	if (s == INDEX_OK)
		*ms = sqlite3_column_int64(st, 0);
	index_unprepare(ix, st);
	return s == INDEX_PERMFAIL && st == NULL ? INDEX_TEMPFAIL : s;	/* could not say */
}

/* index_node_register - node commits into this index from now on (the first time counts) */
enum index_status
index_node_register(struct index *ix, const char *node, int64_t now)
{
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((st = index_prep(ix, "INSERT OR IGNORE INTO index_nodes (node, since_ms)"
	    " VALUES (?1, ?2)", &s)) == NULL)
		return s;
	bind_text(st, 1, node);
	sqlite3_bind_int64(st, 2, now);
	return index_step_done(ix, st, "node register");
}
