/*
 * test_store.c - the commit path with the file backend: store, fallback to
 * the spool when the object store fails, flush, spool full, reindex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "index.h"
#include "index_drill.h"
#include "log.h"
#include "msgid.h"
#include "objstore.h"
#include "store.h"
#include "sched_impl.h"
#include "store_impl.h"
#include "testlib.h"

static char	dir[300];

/* conf_full - a config for the current scratch directory: [storage] prefix and more lines */
static struct config *
conf_full(const char *spool_max, const char *prefix, const char *storage_more)
{
	char		 text[2048], err[256];
	struct config	*c;

	snprintf(text, sizeof(text), "[general]\nnode = mx1\ndata_dir = %s\n"
	    "[storage]\nurl = file://%s/store\nprefix = %s\n%s[spool]\nmax_size = %s\n",
	    dir, dir, prefix, storage_more, spool_max);
	c = config_from_string("test.conf", text, err, sizeof(err));
	assert_non_null(c);
	return c;
}

/* conf_more - prefix "mail" and more [storage] lines */
static struct config *
conf_more(const char *spool_max, const char *storage_more)
{
	return conf_full(spool_max, "mail", storage_more);
}

/* conf_prefix - another [storage] prefix */
static struct config *
conf_prefix(const char *spool_max, const char *prefix)
{
	return conf_full(spool_max, prefix, "");
}

/* conf - a config for the current scratch directory, prefix "mail" */
static struct config *
conf(const char *spool_max)
{
	return conf_full(spool_max, "mail", "");
}

static int
setup(void **state)
{
	testlib_top_next(dir, sizeof(dir), "");
	return mkdir(dir, 0700);
}

/* message - a temp file of n bytes and its envelope with nr recipients */
static int
message(struct envelope *e, size_t n, int nr)
{
	char	path[400], a[64];
	FILE	*f;
	size_t	i;
	int	fd;

	snprintf(path, sizeof(path), "%s/msg.XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd != -1);
	unlink(path);
	f = fdopen(dup(fd), "w");
	fprintf(f, "Subject: test\r\n\r\n");
	for (i = 17; i < n; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	testlib_envelope_plain(e, "mx1", now_ms(), n, "SIZE=10");
	memset(e->sha256, 'b', 64);
	for (i = 0; i < (size_t)nr; i++) {
		snprintf(a, sizeof(a), "user%zu@example.test", i);
		envelope_add_rcpt(e, a, i % 2 ? "NOTIFY=NEVER ORCPT=rfc822;x@y" : "");
	}
	return fd;
}

/* where - location of id per the index */
static enum index_location
where(struct store *st, const char *id)
{
	struct envelope		e;
	enum index_location	loc;
	char			key[OBJKEY_MAX], sp[512];

	assert_int_equal(index_get_message(store_index(st), id, &e, key, sizeof(key), &loc, sp,
	    sizeof(sp)), INDEX_OK);
	envelope_free(&e);
	return loc;
}

/* opened - a store on c, which must open */
static struct store *
opened(struct config *c)
{
	char		 err[512];
	struct store	*st = store_open(c, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

/* store_on - a store on conf(spool_max), that config in *c */
static struct store *
store_on(struct config **c, const char *spool_max)
{
	*c = conf(spool_max);
	return opened(*c);
}

/* committed_on - a 3000-byte message of nr rcpts committed on c, store closed again; its fd */
static int
committed_on(struct config *c, struct envelope *e, int nr)
{
	struct store	*st = opened(c);
	char		 err[512];
	int		 fd = message(e, 3000, nr);

	assert_int_equal(store_commit(st, e, fd, 3000, err, sizeof(err)), STORE_OK);
	store_close(st);
	return fd;
}

/* store_break/mend - make the file store unusable (a file where its root was) */
static void
store_break(void)
{
	char	a[400], b[400];

	snprintf(a, sizeof(a), "%s/store", dir);
	snprintf(b, sizeof(b), "%s/store.away", dir);
	assert_int_equal(rename(a, b), 0);
	close(open(a, O_CREAT | O_WRONLY, 0600));
}

static void
store_mend(void)
{
	char	a[400], b[400];

	snprintf(a, sizeof(a), "%s/store", dir);
	snprintf(b, sizeof(b), "%s/store.away", dir);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(rename(b, a), 0);
}

static void
test_commit_spool_flush(void **state)
{
	struct config	*c = conf("1M");
	struct store	*st;
	struct envelope	 e1, e2;
	struct objinfo	 info;
	char		 err[512], key[OBJKEY_MAX], out[400], why[ERRSTR_MAX];
	int64_t		 bytes, count;
	int		 fd1, fd2, ofd;
	struct stat	 sb;

	st = store_open(c, err, sizeof(err));
	assert_non_null(st);
	fd1 = message(&e1, 5000, 2);
	assert_int_equal(store_commit(st, &e1, fd1, 5000, err, sizeof(err)), STORE_OK);
	assert_int_equal(where(st, e1.id), INDEX_LOC_STORE);
	msgid_key("mail", e1.id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, &info), OBJ_OK);
	assert_int_equal(info.size, 5000);

	store_break();
	fd2 = message(&e2, 7000, 1);
	assert_int_equal(store_commit(st, &e2, fd2, 7000, err, sizeof(err)), STORE_OK);
	assert_string_equal(err, "spooled");
	assert_int_equal(where(st, e2.id), INDEX_LOC_SPOOL);
	store_spool_usage(st, &bytes, &count);
	assert_int_equal(count, 1);
	assert_int_equal(bytes, 7000);
	/* readable from the spool while the store is down */
	snprintf(out, sizeof(out), "%s/fetched", dir);
	ofd = open(out, O_CREAT | O_RDWR | O_TRUNC, 0600);
	assert_int_equal(store_fetch(st, e2.id, ofd, why, sizeof(why)), STORE_OK);
	assert_int_equal(fstat(ofd, &sb), 0);
	assert_int_equal(sb.st_size, 7000);
	close(ofd);
	assert_int_equal(store_spool_flush(st), 1);	/* still down: stays */

	store_mend();
	assert_int_equal(store_spool_flush(st), 0);
	assert_int_equal(where(st, e2.id), INDEX_LOC_STORE);
	msgid_key("mail", e2.id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, &info), OBJ_OK);
	assert_int_equal(info.size, 7000);
	store_spool_usage(st, &bytes, &count);
	assert_int_equal(count, 0);
	ofd = open(out, O_CREAT | O_RDWR | O_TRUNC, 0600);
	assert_int_equal(store_fetch(st, e2.id, ofd, why, sizeof(why)), STORE_OK);
	assert_int_equal(fstat(ofd, &sb), 0);
	assert_int_equal(sb.st_size, 7000);
	close(ofd);
	assert_int_equal(store_fetch(st, "01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1", ofd, why, sizeof(why)), STORE_NOTFOUND);
	assert_int_equal(store_purge(st, e2.id), STORE_OK);
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_NOTFOUND);

	close(fd1);
	close(fd2);
	envelope_free(&e1);
	envelope_free(&e2);
	store_close(st);
	config_free(c);
}

static void
test_spool_full(void **state)
{
	struct config	*c;
	struct store	*st = store_on(&c, "4k");
	struct envelope	 e;
	char		 err[512];
	int		 fd;

	store_break();
	fd = message(&e, 8000, 1);
	assert_int_equal(store_commit(st, &e, fd, 8000, err, sizeof(err)), STORE_NOSPACE);
	assert_int_equal(index_has_message(store_index(st), e.id), INDEX_NOTFOUND);
	/* the last outcome was a failure and the spool is full: every message would be
	 * refused, and the reason names the spool's limit */
	assert_int_equal(store_healthy(st, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "full (max_size 4096"));
	store_mend();
	close(fd);
	envelope_free(&e);
	fd = message(&e, 100, 1);
	assert_int_equal(store_commit(st, &e, fd, 100, err, sizeof(err)), STORE_OK);
	assert_int_equal(store_healthy(st, err, sizeof(err)), 1);
	assert_string_equal(err, "object store reachable");
	close(fd);
	envelope_free(&e);
	store_close(st);
	config_free(c);
}

/* commit_loc - commit a small message and say where the index put it */
static enum index_location
commit_loc(struct store *st)
{
	struct envelope		 e;
	enum index_location	 loc;
	char			 key[OBJKEY_MAX], sp[1100], err[512];
	struct envelope		 got;
	int			 fd = message(&e, 100, 1);

	assert_int_equal(store_commit(st, &e, fd, 100, err, sizeof(err)), STORE_OK);
	assert_int_equal(index_get_message(store_index(st), e.id, &got, key, sizeof(key), &loc,
	    sp, sizeof(sp)), INDEX_OK);
	envelope_free(&got);
	envelope_free(&e);
	close(fd);
	return loc;
}

/*
 * test_breaker - after breaker_failures failures in a row commits skip the
 * store (a mended store is not tried) until a probe sees it answer
 */
static void
test_breaker(void **state)
{
	struct config	*c = conf_more("10M", "breaker_failures = 2\nprobe_interval = 1s\n");
	struct store	*st;
	char		 err[512];

	st = store_open(c, err, sizeof(err));
	assert_non_null(st);
	store_break();
	assert_int_equal(commit_loc(st), INDEX_LOC_SPOOL);
	assert_int_equal(store_healthy(st, err, sizeof(err)), 1);
	assert_null(strstr(err, "breaker open"));
	assert_int_equal(commit_loc(st), INDEX_LOC_SPOOL);
	assert_int_equal(store_healthy(st, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "breaker open"));
	store_mend();
	/* open: not even tried, although the store works again */
	assert_int_equal(commit_loc(st), INDEX_LOC_SPOOL);
	assert_int_equal(store_spool_flush(st), 3);
	sleep(2);	/* past probe_interval: the probe is due */
	assert_int_equal(store_probe(st), 1);
	assert_int_equal(commit_loc(st), INDEX_LOC_STORE);
	store_close(st);
	config_free(c);
}

struct snap {
	char	*json[3];
};

static void
count_line(const char *line, void *arg)
{
	(*(int *)arg)++;
}

/* show - the indexed envelope as JSON (what reindex must reproduce) */
static char *
show(struct store *st, const char *id)
{
	struct envelope		 e;
	enum index_location	 loc;
	char			 key[OBJKEY_MAX], sp[512], *j;

	if (index_get_message(store_index(st), id, &e, key, sizeof(key), &loc, sp,
	    sizeof(sp)) != INDEX_OK)
		return NULL;
	j = envelope_to_json(&e);
	envelope_free(&e);
	return j;
}

static void
test_reindex(void **state)
{
	struct config		*c = conf("1M");
	struct store		*st;
	struct envelope		 e[3], orphan;
	struct reindex_result	 r;
	struct snap		 s;
	char			 err[512], path[400], key[OBJKEY_MAX], *j;
	int			 fd[3], fdo, i, lines = 0;
	static const int	 nr[3] = { 1, 200, 3 };

	st = store_open(c, err, sizeof(err));
	assert_non_null(st);
	for (i = 0; i < 3; i++) {
		fd[i] = message(&e[i], 3000 + i, nr[i]);
		assert_int_equal(store_commit(st, &e[i], fd[i], 3000 + i, err, sizeof(err)),
		    STORE_OK);
		s.json[i] = show(st, e[i].id);
	}
	/* the 200-recipient envelope went to a sidecar */
	msgid_key("mail", e[1].id, ".env.json", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_OK);
	assert_int_equal(store_reindex(st, NULL, 0, NULL, NULL, &r), STORE_OK);
	assert_int_equal(r.objects, 3);
	assert_int_equal(r.ok, 3);
	assert_int_equal(r.added + r.missing + r.incomplete, 0);
	store_close(st);

	/* a new host: the index is gone, the bucket rebuilds it */
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/index.sqlite-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/index.sqlite-shm", dir);
	unlink(path);
	st = store_open(c, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_reindex(st, NULL, 0, count_line, &lines, &r), STORE_OK);
	assert_int_equal(r.added, 3);
	assert_int_equal(lines, 3);
	assert_int_equal(index_has_message(store_index(st), e[0].id), INDEX_NOTFOUND);
	assert_int_equal(store_reindex(st, "mx1", 1, NULL, NULL, &r), STORE_OK);
	assert_int_equal(r.added, 3);
	for (i = 0; i < 3; i++) {
		j = show(st, e[i].id);
		assert_non_null(j);
		assert_string_equal(j, s.json[i]);
		free(j);
		free(s.json[i]);
	}
	assert_int_equal(store_reindex(st, "other", 1, NULL, NULL, &r), STORE_OK);
	assert_int_equal(r.objects, 0);
	assert_int_equal(r.missing, 0);		/* rows of other nodes are not judged */

	/* orphans both ways: an object without a row, a row without object; mx1's ingest
	 * commits into this index from now on, so its unindexed objects are orphans */
	assert_int_equal(store_register_node(st, "mx1", now_ms()), STORE_OK);
	fdo = message(&orphan, 100, 2);
	j = envelope_to_json(&orphan);
	assert_int_equal(store_put_object(st, &orphan, j, fdo, 100), OBJ_OK);
	free(j);
	msgid_key("mail", e[0].id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_delete(store_objstore(st), key), OBJ_OK);
	assert_int_equal(store_reindex(st, NULL, 0, NULL, NULL, &r), STORE_OK);
	assert_int_equal(r.objects, 3);
	assert_int_equal(r.added, 0);		/* mx1 commits here: never acknowledged */
	assert_int_equal(r.orphans, 1);
	assert_int_equal(r.missing, 1);
	assert_int_equal(index_has_message(store_index(st), orphan.id), INDEX_NOTFOUND);
	assert_int_equal(store_reindex(st, NULL, 1, NULL, NULL, &r), STORE_OK);
	assert_int_equal(r.orphans, 1);
	assert_int_equal(index_has_message(store_index(st), orphan.id), INDEX_NOTFOUND);
	{
		enum queue_state qs;
		int64_t		 purged;

		assert_int_equal(index_get_state(store_index(st), e[0].id, &qs, &purged), INDEX_OK);
		assert_int_equal(qs, QUEUE_MISSING);
	}
	/* an object with unreadable envelope metadata is incomplete, not added */
	{
		struct objmeta	m;

		objmeta_init(&m);
		objmeta_set(&m, "envelope", "bm90IGpzb24=");	/* "not json" */
		msgid_key("mail", "01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1", ".eml", key, sizeof(key));
		assert_int_equal(objstore_put_buf(store_objstore(st), key, "x", 1, &m), OBJ_OK);
		objmeta_free(&m);
	}
	assert_int_equal(store_reindex(st, NULL, 1, NULL, NULL, &r), STORE_OK);
	assert_int_equal(r.incomplete, 1);
	assert_int_equal(r.added, 0);
	for (i = 0; i < 3; i++) {
		close(fd[i]);
		envelope_free(&e[i]);
	}
	close(fdo);
	envelope_free(&orphan);
	store_close(st);
	config_free(c);
}

/* put_orphan - the object of a message whose row was never committed, written age_s ago */
static void
put_orphan(struct store *st, struct envelope *e, int64_t id_ms, int age_s)
{
	struct timespec	 ts[2] = { { 0, 0 }, { 0, 0 } };
	char		 key[OBJKEY_MAX], path[OBJKEY_MAX * 2], *j;
	int		 fd = message(e, 100, 1);

	msgid_new("mx1", id_ms, e->id, sizeof(e->id));
	j = envelope_to_json(e);
	assert_int_equal(store_put_object(st, e, j, fd, 100), OBJ_OK);
	free(j);
	close(fd);
	msgid_key("mail", e->id, ".eml", key, sizeof(key));
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age_s;
	snprintf(path, sizeof(path), "%s/store/%s", dir, key);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* test_reconcile - old orphans moved aside; in-flight ones, indexed ones and ones older
 * than the node's registration in this index (a lost index) left in place */
static void
test_reconcile(void **state)
{
	struct config		*c = conf("1G");
	struct store		*st;
	struct envelope		 ok, old, fresh, lost, other;
	struct reconcile_result	 r;
	struct reindex_result	 rr;
	char			 err[256], key[OBJKEY_MAX], aside[OBJKEY_MAX + 16];
	int64_t			 since, again;
	char			*j;
	int			 fd;

	st = store_open(c, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(index_node_since(store_index(st), "mx1", &since), INDEX_NOTFOUND);
	assert_int_equal(store_register_node(st, "mx1", now_ms() - 5000), STORE_OK);
	assert_int_equal(index_node_since(store_index(st), "mx1", &since), INDEX_OK);
	assert_true(since > 0 && since <= now_ms() - 5000);
	assert_int_equal(store_register_node(st, "mx1", now_ms()), STORE_OK);
	assert_int_equal(index_node_since(store_index(st), "mx1", &again), INDEX_OK);
	assert_int_equal(again, since);	/* first stays */
	fd = message(&ok, 100, 1);
	assert_int_equal(store_commit(st, &ok, fd, 100, err, sizeof(err)), STORE_OK);
	close(fd);
	put_orphan(st, &old, now_ms(), 7200);		/* never committed, long ago */
	put_orphan(st, &fresh, now_ms(), 0);		/* may be in flight */
	put_orphan(st, &lost, since - 1000, 7200);	/* older than the registration */
	assert_int_equal(store_reconcile(st, "mx1", now_ms(), &r), STORE_OK);
	assert_int_equal(r.objects, 4);
	assert_int_equal(r.orphans, 1);
	assert_int_equal(r.predate, 1);
	assert_int_equal(r.failed, 0);
	msgid_key("mail", old.id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_NOTFOUND);
	snprintf(aside, sizeof(aside), "mail/_orphaned/%s", key + 5);
	assert_int_equal(objstore_head(store_objstore(st), aside, NULL, NULL), OBJ_OK);
	msgid_key("mail", fresh.id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_OK);
	msgid_key("mail", lost.id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_OK);
	msgid_key("mail", ok.id, ".eml", key, sizeof(key));
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_OK);
	/* the moved orphan is no message for reindex; the lost one is added by --repair */
	assert_int_equal(store_reindex(st, NULL, 1, NULL, NULL, &rr), STORE_OK);
	assert_int_equal(rr.objects, 3);
	assert_int_equal(rr.ok, 1);
	assert_int_equal(rr.orphans, 1);			/* fresh: not added */
	assert_int_equal(rr.added, 1);				/* lost: added */
	assert_int_equal(index_has_message(store_index(st), lost.id), INDEX_OK);
	assert_int_equal(index_has_message(store_index(st), fresh.id), INDEX_NOTFOUND);
	/* a node that never committed here (a lost host's, being adopted): added, not orphan */
	fd = message(&other, 100, 1);
	msgid_new("mx2", now_ms(), other.id, sizeof(other.id));
	snprintf(other.node, sizeof(other.node), "mx2");
	j = envelope_to_json(&other);
	assert_int_equal(store_put_object(st, &other, j, fd, 100), OBJ_OK);
	free(j);
	close(fd);
	assert_int_equal(store_reindex(st, "mx2", 1, NULL, NULL, &rr), STORE_OK);
	assert_int_equal(rr.orphans, 0);
	assert_int_equal(rr.added, 1);
	envelope_free(&other);
	/* another node's keys are not this node's business */
	assert_int_equal(store_reconcile(st, "mx3", now_ms(), &r), STORE_OK);
	assert_int_equal(r.objects + r.orphans + r.predate, 0);
	envelope_free(&ok);
	envelope_free(&old);
	envelope_free(&fresh);
	envelope_free(&lost);
	store_close(st);
	config_free(c);
}

/* suite_setup - log lines named test_store, and the scratch directory */
static int
suite_setup(void **state)
{
	log_init("test_store");
	return testlib_top_make(state);
}

/*
 * store_purge deletes the object by the key its row holds, as store_fetch
 * reads it: the [storage] prefix changed between ingest and purge (it rebuilt
 * the key from the current prefix and left the object behind).
 */
static void
test_purge_stored_key(void **state)
{
	struct config	*c = conf("1M"), *c2 = conf_prefix("1M", "other");
	struct store	*st;
	struct envelope	 e;
	char		 key[OBJKEY_MAX], side[OBJKEY_MAX];
	int		 fd = committed_on(c, &e, 1);

	msgid_key("mail", e.id, ".eml", key, sizeof(key));
	msgid_key("mail", e.id, ".env.json", side, sizeof(side));

	st = opened(c2);
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_OK);
	assert_int_equal(store_purge(st, e.id), STORE_OK);
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_NOTFOUND);
	assert_int_equal(objstore_head(store_objstore(st), side, NULL, NULL), OBJ_NOTFOUND);
	store_close(st);
	close(fd);
	envelope_free(&e);
	config_free(c);
	config_free(c2);
}

/*
 * test_drill_commit_reason - a drill canary whose mark fails is refused with
 * the index's reason (index_error(), the one channel); the mark logged it
 * itself and the commit's 4xx reason was an empty or stale index_error()
 */
static void
test_drill_commit_reason(void **state)
{
	struct config	*c;
	struct store	*st = store_on(&c, "1M");
	struct envelope	 e;
	char		 err[512];
	int		 fd;

	assert_int_equal(sqlite3_exec(index_db(store_index(st)), "DROP TABLE control", NULL,
	    NULL, NULL), SQLITE_OK);
	fd = message(&e, 3000, 1);
	free(e.mail_params);
	e.mail_params = strdup("ENVID=" DRILL_ENVID_PREFIX "0123456789abcdef0123456789abcdef");
	err[0] = '\0';
	assert_int_equal(store_commit(st, &e, fd, 3000, err, sizeof(err)), STORE_TEMPFAIL);
	assert_non_null(strstr(err, "drill_add: no such table: control"));
	store_close(st);
	close(fd);
	envelope_free(&e);
	config_free(c);
}

/* count_row_reads - SQLITE_TRACE_STMT: statements that read one message's row or recipients */
static int
count_row_reads(unsigned type, void *arg, void *p, void *x)
{
	const char *sql = x;

	if (strstr(sql, "FROM messages WHERE id") || strstr(sql, "FROM recipients WHERE"))
		(*(int *)arg)++;
	return 0;
}

/* row_seen - sqlite3_exec callback: count rows */
static int
row_seen(void *arg, int n, char **v, char **names)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * test_purge_retention_one_read - the retention purge deletes by the key the
 * list of purgeable rows returned, under another [storage] prefix too, and
 * reads no message row or recipient list again (it read both per message)
 */
static void
test_purge_retention_one_read(void **state)
{
	struct config	*c = conf("1M"), *c2 = conf_prefix("1M", "other");
	struct sched_conf sc = { .retention_ms = 1000 };
	struct sched	 s = { .conf = &sc };
	struct store	*st;
	struct envelope	 e;
	char		 key[OBJKEY_MAX], sql[256];
	int		 fd = committed_on(c, &e, 3), reads = 0;
	int64_t		 now = now_ms();
	sqlite3		*db;

	msgid_key("mail", e.id, ".eml", key, sizeof(key));

	st = opened(c2);
	db = index_db(store_index(st));
	snprintf(sql, sizeof(sql), "UPDATE messages SET state = 'delivered', state_ms = %lld"
	    " WHERE id = '%s'", (long long)(now - 5000), e.id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_trace_v2(db, SQLITE_TRACE_STMT, count_row_reads, &reads);
	sched_housekeeping(&s, st, now);
	sqlite3_trace_v2(db, 0, NULL, NULL);
	assert_int_equal(objstore_head(store_objstore(st), key, NULL, NULL), OBJ_NOTFOUND);
	assert_int_equal(reads, 0);
	snprintf(sql, sizeof(sql), "SELECT 1 FROM messages WHERE id = '%s' AND purged_ms = %lld",
	    e.id, (long long)now);
	reads = 0;
	assert_int_equal(sqlite3_exec(db, sql, row_seen, &reads, NULL), SQLITE_OK);
	assert_int_equal(reads, 1);	/* marked purged at now */
	store_close(st);
	close(fd);
	envelope_free(&e);
	config_free(c);
	config_free(c2);
}

TESTLIB_MAIN(suite_setup, testlib_top_remove,
	cmocka_unit_test_setup(test_commit_spool_flush, setup),
	cmocka_unit_test_setup(test_spool_full, setup),
	cmocka_unit_test_setup(test_breaker, setup),
	cmocka_unit_test_setup(test_reindex, setup),
	cmocka_unit_test_setup(test_reconcile, setup),
	cmocka_unit_test_setup(test_purge_stored_key, setup),
	cmocka_unit_test_setup(test_purge_retention_one_read, setup),
	cmocka_unit_test_setup(test_drill_commit_reason, setup),
)
