/*
 * reconcile.c - what a crash leaves in the object store: temp files of
 * interrupted puts and orphans (objects whose index row was never committed).
 *
 * Entry points: store_register_node() and store_reconcile() (store.h; the
 * ingest runs them at start-up, the reconcile then hourly), store_key_ours()
 * and store_orphan() (store_impl.h, shared with reindex.c).
 * Why: the commit order is object -> index row -> 250, so an object without a
 * row was never acknowledged; its sender still holds the message and retries.
 * Left alone it is invisible, never purged, and `reindex --repair` would turn
 * it into a duplicate delivery.
 * Invariants: only this node's keys of the last RECONCILE_DAYS date prefixes
 * are looked at (start-up stays cheap); nothing written less than
 * [storage] orphan_age ago is touched (a commit of this or another process of
 * the node may be in flight); an object whose id predates the node's
 * registration in this index (index_nodes) means the index was lost or
 * replaced, not an orphan: it is only reported.
 * Orphans are moved aside to "<prefix>/_orphaned/<key>", not deleted: if the
 * judgement was wrong (an index restored from a backup looks intact) the bytes
 * are still there.  '_' is no node id character, so that key is no message's.
 * Errors: STORE_TEMPFAIL when the store or the index fails; logged here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index.h"
#include "log.h"
#include "msgid.h"
#include "objstore.h"
#include "store.h"
#include "store_impl.h"

#define RECONCILE_ASIDE		"_orphaned"
#define RECONCILE_DAY_MS	(86400LL * 1000)

struct reconcile_ctx {
	struct store		*st;
	const char		*node;
	int64_t			 before_ms;	/* written before: not in flight */
	char			**keys;		/* unindexed keys old enough */
	size_t			 nkeys, cap;
	int			 fail;
	struct reconcile_result	*res;
};

/* store_key_ours - see store_impl.h */
int
store_key_ours(const struct store *st, const char *key, char *id, size_t idlen,
    const char **suffix)
{
	static const char *const sfx[] = { ".eml", ".env.json" };
	size_t	plen = strlen(st->prefix), i, n;

	if (plen > 0 && (strncmp(key, st->prefix, plen) != 0 || key[plen] != '/'))
		return 0;
	key += plen + (plen > 0);
	for (i = 0; i < sizeof(sfx) / sizeof(*sfx); i++) {
		if (msgid_from_key(key, sfx[i], id, idlen) != 0)
			continue;
		/* "<node>/...": "_orphaned/..." and other non-node segments are not messages */
		n = strlen(msgid_node(id));
		if (strncmp(key, msgid_node(id), n) != 0 || key[n] != '/')
			return 0;
		if (suffix != NULL)
			*suffix = sfx[i];
		return 1;
	}
	return 0;
}

/* store_orphan - see store_impl.h */
int
store_orphan(struct store *st, const char *id)
{
	int64_t			since;
	enum index_status	is = index_node_since(st->ix, msgid_node(id), &since);

	if (is == INDEX_NOTFOUND)
		return 0;
	if (is != INDEX_OK)
		return -1;	/* unknown: neither moved aside nor added */
	return msgid_time_ms(id) >= since;
}

/* store_register_node - see store.h */
enum store_status
store_register_node(struct store *st, const char *node, int64_t now)
{
	if (index_node_register(st->ix, node, now) != INDEX_OK) {
		log_warnx("- reconcile register failed node=%s reason=\"%s\"", node,
		    index_error(st->ix));
		return STORE_TEMPFAIL;
	}
	return STORE_OK;
}

/* reconcile_collect - listing callback: keys of this node with no index row, old enough */
static void
reconcile_collect(const char *key, const struct objinfo *info, void *arg)
{
	struct reconcile_ctx	*rc = arg;
	char			 id[MSGID_MAX], **k;
	enum index_status	 is;

	if (rc->fail || !store_key_ours(rc->st, key, id, sizeof(id), NULL) ||
	    strcmp(msgid_node(id), rc->node) != 0)
		return;
	rc->res->objects++;
	if (info->mtime_ms <= 0 || info->mtime_ms >= rc->before_ms)
		return;			/* may be a commit in flight */
	if ((is = index_has_message(rc->st->ix, id)) == INDEX_OK)
		return;
	if (is != INDEX_NOTFOUND) {
		rc->fail = 1;
		return;
	}
	if (rc->nkeys == rc->cap) {
		if ((k = reallocarray(rc->keys, rc->cap ? rc->cap * 2 : 16, sizeof(*k))) == NULL) {
			rc->fail = 1;
			return;
		}
		rc->keys = k;
		rc->cap = rc->cap ? rc->cap * 2 : 16;
	}
	if ((rc->keys[rc->nkeys] = strdup(key)) == NULL)
		rc->fail = 1;
	else
		rc->nkeys++;
}

/* reconcile_aside - move key to "<prefix>/_orphaned/..." (copy, then delete) */
static enum objstore_status
reconcile_aside(struct store *st, const char *key, char *aside, size_t asidelen)
{
	struct objmeta		 meta;
	struct objinfo		 info;
	enum objstore_status	 s;
	size_t			 plen = strlen(st->prefix);
	FILE			*f;

	if (snprintf(aside, asidelen, "%s%s" RECONCILE_ASIDE "/%s", st->prefix, plen ? "/" : "",
	    key + plen + (plen ? 1 : 0)) >= (int)asidelen)
		return OBJ_PERMFAIL;		/* the key is at most OBJKEY_MAX - 11 */
	if ((f = tmpfile()) == NULL)
		return OBJ_TEMPFAIL;
	objmeta_init(&meta);
	s = objstore_get_fd(st->os, key, fileno(f), &meta, &info);
	if (s == OBJ_OK)
		s = objstore_put_fd(st->os, aside, fileno(f), info.size, &meta);
	if (s == OBJ_OK)
		s = objstore_delete(st->os, key);
	objmeta_free(&meta);
	fclose(f);
	return s;
}

/* reconcile_day - temp files and orphans under one date prefix of the node */
static int
reconcile_day(struct reconcile_ctx *rc, int64_t day_ms)
{
	struct store		*st = rc->st;
	struct tm		 tm;
	time_t			 t = (time_t)(day_ms / 1000);
	char			 prefix[OBJKEY_MAX], token[OBJSTORE_TOKEN_MAX] = "";
	char			 next[OBJSTORE_TOKEN_MAX], id[MSGID_MAX], aside[OBJKEY_MAX];
	int64_t			 swept = 0;
	size_t			 i;

	gmtime_r(&t, &tm);
	snprintf(prefix, sizeof(prefix), "%s%s%s/%04d/%02d/%02d/", st->prefix,
	    *st->prefix ? "/" : "", rc->node, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	if (objstore_sweep(st->os, prefix, rc->before_ms, &swept) != OBJ_OK)
		log_warnx("- reconcile sweep failed prefix=%s reason=\"%s\"", prefix,
		    objstore_error(st->os));
	rc->res->tmp += swept;
	do {
		if (objstore_list(st->os, prefix, token, 1000, reconcile_collect, rc, next,
		    sizeof(next)) != OBJ_OK) {
			log_warnx("- reconcile list failed prefix=%s reason=\"%s\"", prefix,
			    objstore_error(st->os));
			return -1;
		}
		memcpy(token, next, sizeof(token));
	} while (token[0] != '\0' && !rc->fail);
	if (rc->fail) {
		log_warnx("- reconcile failed prefix=%s reason=\"%s\"", prefix,
		    index_error(st->ix));
		return -1;
	}
	for (i = 0; i < rc->nkeys; i++) {
		store_key_ours(st, rc->keys[i], id, sizeof(id), NULL);
		switch (store_orphan(st, id)) {
		case 0:
			rc->res->predate++;
			continue;
		case -1:
			log_warnx("%s reconcile skipped key=%s reason=\"%s\"", id, rc->keys[i],
			    index_error(st->ix));
			rc->res->failed++;
			continue;
		}
		if (reconcile_aside(st, rc->keys[i], aside, sizeof(aside)) != OBJ_OK) {
			log_warnx("%s reconcile aside failed key=%s reason=\"%s\"", id, rc->keys[i],
			    objstore_error(st->os));
			rc->res->failed++;
			continue;
		}
		rc->res->orphans++;
		log_info("%s reconcile orphan key=%s moved=%s (never acknowledged: no index row)",
		    id, rc->keys[i], aside);
	}
	return 0;
}

/* store_reconcile - this node's recent orphans and temp files; see store.h */
enum store_status
store_reconcile(struct store *st, const char *node, int64_t now, struct reconcile_result *res)
{
	struct reconcile_ctx	 rc;
	int			 d, bad;
	size_t			 i;

	memset(res, 0, sizeof(*res));
	memset(&rc, 0, sizeof(rc));
	rc.st = st;
	rc.node = node;
	rc.res = res;
	rc.before_ms = now - st->orphan_age_ms;
	bad = store_register_node(st, node, now) != STORE_OK;
	if (!bad && !store_breaker_ok()) {
		/* a dead store would hold this thread (and the probe that closes the
		 * breaker) for every list's timeouts and retries: the next run does it */
		log_info("- reconcile deferred node=%s: the object store is down", node);
		return STORE_TEMPFAIL;
	}
	/* each request within the commit deadline, as the commits' own */
	objstore_set_deadline(st->os, st->commit_deadline_ms);
	for (d = 0; d < RECONCILE_DAYS && !bad; d++) {
		bad = reconcile_day(&rc, now - d * RECONCILE_DAY_MS) == -1;
		for (i = 0; i < rc.nkeys; i++)
			free(rc.keys[i]);
		rc.nkeys = 0;
	}
	free(rc.keys);
	objstore_set_deadline(st->os, 0);
	log_info("- reconcile done node=%s objects=%lld orphans=%lld tmp_removed=%lld"
	    " failed=%lld", node, (long long)res->objects, (long long)res->orphans,
	    (long long)res->tmp, (long long)res->failed);
	if (res->predate > 0)
		log_warnx("- reconcile unindexed=%lld node=%s: objects older than this index"
		    " (the node's first start with it) have no row: the index was lost or"
		    " replaced; nothing was moved; run mxspool-replay reindex --repair --node %s",
		    (long long)res->predate, node, node);
	return bad ? STORE_TEMPFAIL : STORE_OK;
}
