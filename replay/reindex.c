/*
 * reindex.c - rebuild or reconcile the index from the object store.
 *
 * Entry points: store_reindex(), and for `adopt` (adopt.c) store_message_keys()
 * and store_import() (declared in store.h).  It lives with mxspool-replay, its
 * only caller; it reaches into the store through store_impl.h.
 * The bucket is the source of truth for bytes and envelopes: each
 * "<prefix>/<node>/.../<id>.eml" carries its envelope in metadata (base64
 * JSON) or a sidecar "<id>.env.json".  Pass 1 lists the objects (sorted
 * keys kept in memory) and adds what the index lacks; pass 2 walks the index
 * and finds rows whose object is gone.  Rows in the spool, deleted by the
 * operator or purged after retention are expected to have no object.
 * Repair inserts in batches of REINDEX_BATCH per transaction.
 * An unindexed object of a node that commits into this index since before
 * the id's time (store_orphan) is an orphan, never acknowledged: reported,
 * never added (the ingest moves it aside, reconcile.c); one older, or of a
 * node never registered here (a lost host's, being adopted), is added.  Keys not under "<prefix>/<node of the id>/"
 * (e.g. "<prefix>/_orphaned/...") are no messages and are skipped.
 * store_import() runs the same add path over keys it is given, with only the
 * recipients its filter leaves pending (adopt: those no fleet ledger holds).
 * Errors: STORE_TEMPFAIL when listing or the index fails; per-object problems
 * are findings (incomplete), reported through report() and not fatal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "index.h"
#include "index_adopt.h"
#include "index_replay.h"
#include "log.h"
#include "msgid.h"
#include "objstore.h"
#include "queue_state.h"
#include "spool.h"
#include "store.h"
#include "store_impl.h"

#define REINDEX_BATCH		256
#define REINDEX_ENVELOPE_MAX	(4 * 1024 * 1024)

struct reindex_ctx {
	struct store		*st;
	int			 repair;
	void			(*report)(const char *, void *);
	void			*arg;
	struct reindex_result	*res;
	char			**keys;		/* listed .eml keys, sorted */
	size_t			 nkeys, capkeys;
	int			 oom;
	int			 intx;		/* repair transaction open */
	int			 batch;
	const char		*prefix;	/* listing prefix, rows outside it are skipped */
	const struct store_import *imp;		/* store_import: filter and callback */
};

/* reindex_say - one finding line */
static void __attribute__((format(printf, 2, 3)))
reindex_say(struct reindex_ctx *rc, const char *fmt, ...)
{
	char	line[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rc->report)
		rc->report(line, rc->arg);
}

/* reindex_collect - listing callback: keep .eml keys */
static void
reindex_collect(const char *key, const struct objinfo *info, void *arg)
{
	struct reindex_ctx	*rc = arg;
	char			 id[MSGID_MAX], **k;
	const char		*sfx;

	if (!store_key_ours(rc->st, key, id, sizeof(id), &sfx) || strcmp(sfx, ".eml") != 0)
		return;
	if (rc->nkeys == rc->capkeys) {
		k = realloc(rc->keys, (rc->capkeys ? rc->capkeys * 2 : 1024) * sizeof(*k));
		if (k == NULL) {
			rc->oom = 1;
			return;
		}
		rc->keys = k;
		rc->capkeys = rc->capkeys ? rc->capkeys * 2 : 1024;
	}
	if ((rc->keys[rc->nkeys] = strdup(key)) == NULL) {
		rc->oom = 1;
		return;
	}
	rc->nkeys++;
}

static int
reindex_keycmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* reindex_sidecar - read "<id>.env.json" into a malloc'd string */
static char *
reindex_sidecar(struct store *st, const char *id, char *why, size_t whylen)
{
	struct objinfo		 info;
	enum objstore_status	 s;
	char			 key[OBJKEY_MAX], *json = NULL;
	FILE			*f;
	size_t			 n;

	if (msgid_key(st->prefix, id, ".env.json", key, sizeof(key)) == -1 ||
	    (f = tmpfile()) == NULL) {
		snprintf(why, whylen, "sidecar: no key or temp file");
		return NULL;
	}
	s = objstore_get_fd(st->os, key, fileno(f), NULL, &info);
	if (s != OBJ_OK) {
		snprintf(why, whylen, "sidecar: %s: %s", objstore_strstatus(s),
		    objstore_error(st->os));
		goto done;
	}
	if (info.size > REINDEX_ENVELOPE_MAX || (json = malloc(info.size + 1)) == NULL) {
		snprintf(why, whylen, "sidecar: too large");
		goto done;
	}
	n = pread(fileno(f), json, info.size, 0) == info.size ? (size_t)info.size : 0;
	if (n == 0) {
		snprintf(why, whylen, "sidecar: short read");
		free(json);
		json = NULL;
		goto done;
	}
	json[n] = '\0';
done:
	fclose(f);
	return json;
}

/*
 * reindex_envelope - the envelope of object key (metadata or sidecar).
 * 0 ok; -1 incomplete (why set); -2 the store failed (temporary).
 */
static int
reindex_envelope(struct store *st, const char *key, const char *id, struct envelope *e,
    char *why, size_t whylen)
{
	struct objmeta		 meta;
	enum objstore_status	 s;
	const char		*v;
	char			*json = NULL, err[ERRSTR_MAX];
	int			 rc = -1;

	objmeta_init(&meta);
	envelope_init(e);
	s = objstore_head(st->os, key, &meta, NULL);
	if (s != OBJ_OK) {
		snprintf(why, whylen, "head: %s: %s", objstore_strstatus(s),
		    objstore_error(st->os));
		rc = s == OBJ_NOTFOUND ? -1 : -2;
		goto done;
	}
	if ((v = objmeta_get(&meta, "envelope")) == NULL) {
		snprintf(why, whylen, "no envelope metadata");
		goto done;
	}
	if (strcmp(v, "sidecar") == 0)
		json = reindex_sidecar(st, id, why, whylen);
	else if ((json = store_unb64(v, NULL)) == NULL)
		snprintf(why, whylen, "envelope metadata is not base64");
	if (json == NULL)
		goto done;
	if (envelope_from_json(json, strlen(json), e, err, sizeof(err)) == -1) {
		snprintf(why, whylen, "envelope: %s", err);
		goto done;
	}
	if (strcmp(e->id, id) != 0) {
		snprintf(why, whylen, "envelope id %s does not match the key", e->id);
		envelope_free(e);
		goto done;
	}
	rc = 0;
done:
	free(json);
	objmeta_free(&meta);
	return rc;
}

/* reindex_keep - store_import: drop the recipients imp->keep says are finished; how many left */
static size_t
reindex_keep(const struct store_import *imp, struct envelope *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->nrcpts; i++) {
		if (imp->keep(e->id, e->rcpts[i].addr, imp->arg)) {
			e->rcpts[n++] = e->rcpts[i];
			continue;
		}
		free(e->rcpts[i].addr);
		free(e->rcpts[i].params);
	}
	e->nrcpts = n;
	return n;
}

/* reindex_add - one object the index lacks: report, and add it when repairing */
static int
reindex_add(struct reindex_ctx *rc, const char *key, const char *id)
{
	struct store		*st = rc->st;
	struct envelope		 e;
	enum index_status	 is;
	char			 why[ERRSTR_MAX * 2];
	int			 r;

	if ((r = reindex_envelope(st, key, id, &e, why, sizeof(why))) != 0) {
		if (r == -2) {
			log_warnx("%s reindex tempfail key=%s reason=\"%s\"", id, key, why);
			return -1;
		}
		rc->res->incomplete++;
		reindex_say(rc, "%s incomplete key=%s reason=\"%s\"", id, key, why);
		return 0;
	}
	if (rc->imp && rc->imp->keep && reindex_keep(rc->imp, &e) == 0) {
		rc->res->finished++;
		envelope_free(&e);
		return 0;
	}
	if (rc->imp && rc->imp->seen)
		rc->imp->seen(key, &e, rc->imp->arg);
	rc->res->added++;
	if (!rc->repair) {
		reindex_say(rc, "%s unindexed key=%s rcpts=%zu (--repair adds it)", id, key,
		    e.nrcpts);
		envelope_free(&e);
		return 0;
	}
	if (!rc->intx) {
		if (index_begin(st->ix) != INDEX_OK)
			goto fail;
		rc->intx = 1;
	}
	is = index_add_message(st->ix, &e, key, INDEX_LOC_STORE, NULL);
	if (is != INDEX_OK && is != INDEX_EXISTS)
		goto fail;
	reindex_say(rc, "%s added key=%s rcpts=%zu", id, key, e.nrcpts);
	envelope_free(&e);
	if (++rc->batch >= REINDEX_BATCH) {
		rc->intx = rc->batch = 0;
		if (index_commit(st->ix) != INDEX_OK)
			goto fail_nofree;
	}
	return 0;
fail:
	envelope_free(&e);
fail_nofree:
	log_warnx("%s reindex tempfail reason=\"%s\"", id, index_error(st->ix));
	if (rc->intx)
		index_rollback(st->ix);
	rc->intx = 0;
	return -1;
}

/* reindex_start - rc ready for one run (res zeroed) */
static void
reindex_start(struct reindex_ctx *rc, struct store *st, int repair,
    void (*report)(const char *, void *), void *arg, struct reindex_result *res)
{
	memset(res, 0, sizeof(*res));
	memset(rc, 0, sizeof(*rc));
	rc->st = st;
	rc->repair = repair;
	rc->report = report;
	rc->arg = arg;
	rc->res = res;
}

/* reindex_commit - commit the batch still open, if any; -1 (logged) if that failed */
static int
reindex_commit(struct reindex_ctx *rc)
{
	if (!rc->intx)
		return 0;
	rc->intx = 0;
	if (index_commit(rc->st->ix) == INDEX_OK)
		return 0;
	log_warnx("reindex tempfail reason=\"%s\"", index_error(rc->st->ix));
	return -1;
}

/*
 * reindex_revive - store_import, a row already here: if another node adopted
 * it and this node now adopts that node (a chain back to here), the
 * recipients the filter leaves pending come back (repair), else it is "ok".
 * 0, or -1 when the index failed (logged).
 */
static int
reindex_revive(struct reindex_ctx *rc, const char *key, const char *id)
{
	struct index		*ix = rc->st->ix;
	struct envelope		 e;
	enum index_location	 loc;
	enum queue_state	 state;
	char			 okey[OBJKEY_MAX], sp[SPOOL_PATH_MAX];
	int			 revived = 0;

	if (index_get_state(ix, id, &state, NULL) != INDEX_OK || state != QUEUE_ADOPTED) {
		rc->res->ok++;
		return 0;
	}
	if (index_get_message(ix, id, &e, okey, sizeof(okey), &loc, sp, sizeof(sp)) != INDEX_OK)
		goto fail;
	if (reindex_keep(rc->imp, &e) == 0) {
		rc->res->finished++;
		envelope_free(&e);
		return 0;
	}
	if (rc->imp->seen)
		rc->imp->seen(key, &e, rc->imp->arg);
	rc->res->added++;
	/* its own transaction: the batch of added rows goes first */
	if (rc->repair && (reindex_commit(rc) == -1 ||
	    index_adopt_revive(ix, &e, now_ms(), &revived) != INDEX_OK)) {
		envelope_free(&e);
		goto fail;
	}
	if (rc->repair)
		reindex_say(rc, "%s revived key=%s rcpts=%zu", id, key, e.nrcpts);
	envelope_free(&e);
	return 0;
fail:
	log_warnx("%s reindex tempfail reason=\"%s\"", id, index_error(ix));
	return -1;
}

/* reindex_row - pass 2: an index row whose object is not in the listing */
static int
reindex_row(const char *id, const char *key, enum index_location loc, void *arg)
{
	struct reindex_ctx	*rc = arg;
	const char		*k = key;
	enum queue_state	 state;
	int64_t			 purged = 0;
	int			 changed;

	if (loc == INDEX_LOC_SPOOL || strncmp(key, rc->prefix, strlen(rc->prefix)) != 0)
		return 0;
	if (rc->nkeys > 0 &&
	    bsearch(&k, rc->keys, rc->nkeys, sizeof(*rc->keys), reindex_keycmp) != NULL)
		return 0;
	if (index_get_state(rc->st->ix, id, &state, &purged) != INDEX_OK)
		return 0;
	if (purged != 0 || state == QUEUE_DELETED)
		return 0;
	rc->res->missing++;
	if (state == QUEUE_MISSING) {
		reindex_say(rc, "%s missing key=%s (already marked)", id, key);
		return 0;
	}
	if (!rc->repair) {
		reindex_say(rc, "%s missing key=%s state=%s (--repair marks it missing)", id, key,
		    queue_state_name(state));
		return 0;
	}
	if (index_replay_mark_missing(rc->st->ix, id, now_ms(), &changed) != INDEX_OK) {
		log_warnx("%s reindex tempfail reason=\"%s\"", id, index_error(rc->st->ix));
		return 1;
	}
	if (!changed) {
		/* deleted or marked by another run since index_get_state read it */
		reindex_say(rc, "%s missing key=%s state changed meanwhile, left", id, key);
		return 0;
	}
	reindex_say(rc, "%s missing key=%s state=%s marked missing", id, key,
	    queue_state_name(state));
	return 0;
}

/* reindex_list - every .eml key under prefix, sorted */
static int
reindex_list(struct reindex_ctx *rc, const char *prefix)
{
	enum objstore_status	s;
	char			token[1024] = "", next[1024];

	do {
		s = objstore_list(rc->st->os, prefix, token, 1000, reindex_collect, rc, next,
		    sizeof(next));
		if (s != OBJ_OK) {
			log_warnx("reindex list tempfail prefix=%s reason=\"%s\"", prefix,
			    objstore_error(rc->st->os));
			return -1;
		}
		if (rc->oom)
			return -1;
		memcpy(token, next, sizeof(token));
	} while (token[0] != '\0');
	if (rc->nkeys > 0)
		qsort(rc->keys, rc->nkeys, sizeof(*rc->keys), reindex_keycmp);
	return 0;
}

/* store_message_keys - see store.h */
enum store_status
store_message_keys(struct store *st, const char *node, char ***keys, size_t *nkeys)
{
	struct reindex_ctx	rc;
	char			prefix[OBJKEY_MAX];

	memset(&rc, 0, sizeof(rc));
	rc.st = st;
	snprintf(prefix, sizeof(prefix), "%s%s%s/", st->prefix, *st->prefix ? "/" : "", node);
	if (reindex_list(&rc, prefix) == -1) {
		store_keys_free(rc.keys, rc.nkeys);
		*keys = NULL;
		*nkeys = 0;
		return STORE_TEMPFAIL;
	}
	*keys = rc.keys;
	*nkeys = rc.nkeys;
	return STORE_OK;
}

/* store_keys_free - free what store_message_keys returned */
void
store_keys_free(char **keys, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
}

/* store_import - reindex's add path over the given keys; see store.h */
enum store_status
store_import(struct store *st, char *const *keys, size_t nkeys, int repair,
    const struct store_import *imp, void (*report)(const char *, void *), void *arg,
    struct reindex_result *res)
{
	struct reindex_ctx	 rc;
	char			 id[MSGID_MAX];
	enum index_status	 is;
	size_t			 i;

	reindex_start(&rc, st, repair, report, arg, res);
	rc.imp = imp;
	for (i = 0; i < nkeys; i++) {
		res->objects++;
		if (msgid_from_key(keys[i], ".eml", id, sizeof(id)) == -1) {
			res->incomplete++;
			reindex_say(&rc, "- incomplete key=%s reason=\"not a message key\"", keys[i]);
			continue;
		}
		if ((is = index_has_message(st->ix, id)) == INDEX_OK && imp && imp->keep) {
			if (reindex_revive(&rc, keys[i], id) == -1)
				goto fail;
			continue;
		}
		if (is == INDEX_OK) {
			res->ok++;
			continue;
		}
		if (is != INDEX_NOTFOUND || reindex_add(&rc, keys[i], id) == -1)
			goto fail;
	}
	if (reindex_commit(&rc) == 0)
		return STORE_OK;
fail:
	if (rc.intx)
		index_rollback(st->ix);
	return STORE_TEMPFAIL;
}

/* store_reindex - reconcile bucket and index; see store.h */
enum store_status
store_reindex(struct store *st, const char *node, int repair,
    void (*report)(const char *, void *), void *arg, struct reindex_result *res)
{
	struct reindex_ctx	 rc;
	enum store_status	 ret = STORE_TEMPFAIL;
	char			 prefix[OBJKEY_MAX], id[MSGID_MAX];
	size_t			 i;
	enum index_status	 is;
	int			 orphan = 0;

	reindex_start(&rc, st, repair, report, arg, res);
	snprintf(prefix, sizeof(prefix), "%s%s%s%s", st->prefix, *st->prefix ? "/" : "",
	    node ? node : "", node ? "/" : "");
	rc.prefix = prefix;
	if (objstore_sweep(st->os, prefix, now_ms() - st->orphan_age_ms, &res->tmp) != OBJ_OK)
		reindex_say(&rc, "temp files: sweep failed: %s", objstore_error(st->os));
	if (reindex_list(&rc, prefix) == -1)
		goto done;
	for (i = 0; i < rc.nkeys; i++) {
		res->objects++;
		msgid_from_key(rc.keys[i], ".eml", id, sizeof(id));
		is = index_has_message(st->ix, id);
		if (is == INDEX_OK) {
			res->ok++;
			continue;
		}
		if (is == INDEX_NOTFOUND && (orphan = store_orphan(st, id)) == -1) {
			log_warnx("%s reindex tempfail reason=\"%s\"", id, index_error(st->ix));
			goto done;
		}
		if (is == INDEX_NOTFOUND && orphan) {
			res->orphans++;
			reindex_say(&rc, "%s orphan key=%s (its node commits here, the row never"
			    " was: never acknowledged, not added)", id, rc.keys[i]);
			continue;
		}
		if (is != INDEX_NOTFOUND || reindex_add(&rc, rc.keys[i], id) == -1)
			goto done;
	}
	if (reindex_commit(&rc) == -1)
		goto done;
	if (index_foreach_message(st->ix, reindex_row, &rc) != INDEX_OK)
		goto done;
	ret = STORE_OK;
done:
	if (rc.intx)
		index_rollback(st->ix);
	store_keys_free(rc.keys, rc.nkeys);
	return ret;
}
