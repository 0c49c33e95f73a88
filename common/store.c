/*
 * store.c - the durable commit path: object store, fallback spool, index.
 *
 * Entry points: store_open/close, store_commit, store_fetch,
 * store_spool_flush, store_spool_usage, store_healthy, store_purge/_key (and
 * store_reindex in reindex.c).
 * Commit order: sidecar envelope (if the envelope does not fit in metadata)
 * -> message object -> index row.  A crash before the index commit leaves an
 * unindexed object, never acknowledged (an orphan: reconcile.c); the index
 * never points at bytes that are not durable.  When the object store fails, the
 * bytes go to the local spool (envelope file first, then the message, each
 * fsync'd, then the directory) and the row says INDEX_LOC_SPOOL.
 * Hung or dead storage: one message's object store attempts end within
 * [storage] commit_deadline (objstore_set_deadline), then the spool takes it.
 * The circuit breaker (store_breaker, one per process) counts consecutive
 * failures of commits, flushes and probes; once open, commits skip the object
 * store and the flush waits; only store_probe() closes it (or an in-flight
 * commit that succeeds).  Transitions are logged once each.
 * Errors: the cause of a commit's storage failure is logged once here
 * ("<id> store tempfail reason=..."); callers map the status to SMTP.  A fetch
 * logs nothing: it returns why, and its caller (worker, CLI, drill) reports
 * the cause once with what it does about it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "clock.h"
#include "config.h"
#include "index.h"
#include "index_drill.h"
#include "log.h"
#include "msgid.h"
#include "objstore.h"
#include "spool.h"
#include "b64.h"
#include "store.h"
#include "store_impl.h"

/* an unindexed spool file younger than this may be a commit in progress */
#define STORE_SPOOL_ADOPT_MS	(60 * 1000)
/* the flush has no sender waiting: a spooled message's upload gets this many commit
 * deadlines (a large message over a thin uplink that the commit could not fit) */
#define STORE_FLUSH_DEADLINES	10

/*
 * store_breaker - the circuit breaker, shared by every handle of the process
 * (the commit workers, the housekeeping and health threads).  Times are
 * mono_ms().
 */
static struct {
	pthread_mutex_t	 lock;
	int		 open;
	int		 failures;		/* consecutive */
	int		 threshold;		/* [storage] breaker_failures */
	int64_t		 probe_interval_ms;	/* [storage] probe_interval */
	int64_t		 last_ms;		/* last outcome (commit, flush or probe) */
	int64_t		 next_probe_ms;
	char		 why[ERRSTR_MAX];	/* the last failure */
} store_breaker = { .lock = PTHREAD_MUTEX_INITIALIZER, .threshold = 1 };

/* store_breaker_closed - 1 if commits may try the object store */
static int
store_breaker_closed(void)
{
	int closed;

	pthread_mutex_lock(&store_breaker.lock);
	closed = !store_breaker.open;
	pthread_mutex_unlock(&store_breaker.lock);
	return closed;
}

/* store_breaker_record - one outcome; opens after threshold failures in a row */
static void
store_breaker_record(int ok, const char *why)
{
	int64_t now = mono_ms();

	pthread_mutex_lock(&store_breaker.lock);
	store_breaker.last_ms = now;
	if (ok) {
		store_breaker.failures = 0;
		if (store_breaker.open) {
			store_breaker.open = 0;
			log_info("- store breaker closed");
		}
	} else {
		store_breaker.failures++;
		snprintf(store_breaker.why, sizeof(store_breaker.why), "%s", why);
		if (!store_breaker.open && store_breaker.failures >= store_breaker.threshold) {
			store_breaker.open = 1;
			store_breaker.next_probe_ms = now + store_breaker.probe_interval_ms;
			log_warnx("- store breaker open reason=\"%s\" failures=%d", why,
			    store_breaker.failures);
		}
	}
	pthread_mutex_unlock(&store_breaker.lock);
}

/* store_prefix_valid - [storage] prefix: [A-Za-z0-9/._-], no leading or trailing '/' */
int
store_prefix_valid(const char *prefix)
{
	size_t n = strlen(prefix);

	return n <= OBJKEY_PREFIX_MAX && strspn(prefix,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") == n &&
	    prefix[0] != '/' && (n == 0 || prefix[n - 1] != '/');
}

/* store_conf_prefix - [storage] prefix, with its one default */
const char *
store_conf_prefix(const struct config *cf)
{
	return config_str(cf, "storage", "prefix", STORE_PREFIX_DEFAULT);
}

/* store_open - objstore + index + spool from the configuration */
struct store *
store_open(const struct config *cf, char *err, size_t errlen)
{
	struct store	*st;
	char		 path[CONFIG_PATH_MAX + 1];
	const char	*prefix;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(err, errlen, "store: out of memory");
		return NULL;
	}
	prefix = store_conf_prefix(cf);
	if (!store_prefix_valid(prefix)) {
		snprintf(err, errlen, "%s: [storage] prefix: want [A-Za-z0-9/._-], at most %d,"
		    " no leading or trailing '/'", config_path(cf), OBJKEY_PREFIX_MAX);
		goto fail;
	}
	snprintf(st->prefix, sizeof(st->prefix), "%s", prefix);
	st->spool_max = config_size(cf, "spool", "max_size", STORE_SPOOL_MAX_DEFAULT, 0,
	    1LL << 50);
	st->orphan_age_ms = 1000 * config_duration(cf, "storage", "orphan_age",
	    ORPHAN_AGE_DEFAULT, 1, ORPHAN_AGE_MAX);
	st->commit_deadline_ms = 1000 * config_duration(cf, "storage", "commit_deadline",
	    STORE_COMMIT_DEADLINE_DEFAULT, 1, STORE_COMMIT_DEADLINE_MAX);
	st->probe_timeout_ms = 1000 * config_duration(cf, "storage", "probe_timeout",
	    STORE_PROBE_TIMEOUT_DEFAULT, 1, 600);
	pthread_mutex_lock(&store_breaker.lock);
	store_breaker.threshold = config_num(cf, "storage", "breaker_failures",
	    STORE_BREAKER_FAILURES_DEFAULT, 1, 1000);
	store_breaker.probe_interval_ms = 1000 * config_duration(cf, "storage", "probe_interval",
	    STORE_PROBE_INTERVAL_DEFAULT, 1, 3600);
	pthread_mutex_unlock(&store_breaker.lock);
	if ((st->os = objstore_open(cf, err, errlen)) == NULL)
		goto fail;
	config_index_path(cf, st->index_path, sizeof(st->index_path));
	if ((st->ix = index_open(st->index_path, err, errlen)) == NULL)
		goto fail;
	config_data_path(cf, "spool", "dir", "spool", path, sizeof(path));
	if ((st->sp = spool_open(path, st->spool_max, err, errlen)) == NULL)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->sp)
		spool_close(st->sp);
	if (st->ix)
		index_close(st->ix);
	if (st->os)
		objstore_close(st->os);
	free(st);
}

struct objstore *
store_objstore(struct store *st)
{
	return st->os;
}

struct index *
store_index(struct store *st)
{
	return st->ix;
}

const char *
store_prefix(const struct store *st)
{
	return st->prefix;
}

/* store_b64 - base64 of len bytes, malloc'd (no line breaks) */
static char *
store_b64(const char *in, size_t len)
{
	char	*out;

	if ((out = malloc(4 * ((len + 2) / 3) + 1)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
	return out;
}

/* store_unb64 - decode base64 into a malloc'd NUL-terminated string, or NULL */
char *
store_unb64(const char *in, size_t *lenp)
{
	size_t	 len = strlen(in);
	char	*out;
	int	 n;

	if ((out = malloc(len / 4 * 3 + 1)) == NULL)
		return NULL;
	if ((n = b64_decode(in, len, (unsigned char *)out, len / 4 * 3)) < 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	if (lenp)
		*lenp = (size_t)n;
	return out;
}

/*
 * store_put_object - sidecar (if needed) then the object with its metadata.
 * Returns the objstore status; the reason stays in objstore_error().
 */
enum objstore_status
store_put_object(struct store *st, const struct envelope *e, const char *json, int fd,
    off_t size)
{
	struct objmeta		 meta;
	enum objstore_status	 s;
	char			 key[OBJKEY_MAX], *b64;

	if ((b64 = store_b64(json, strlen(json))) == NULL)
		return OBJ_TEMPFAIL;
	objmeta_init(&meta);
	if (strlen(b64) > S3_META_INLINE_MAX) {
		if (msgid_key(st->prefix, e->id, ".env.json", key, sizeof(key)) == -1) {
			s = OBJ_PERMFAIL;
			goto done;
		}
		s = objstore_put_buf(st->os, key, json, strlen(json), NULL);
		if (s != OBJ_OK)
			goto done;
		objmeta_set(&meta, "envelope", "sidecar");
	} else
		objmeta_set(&meta, "envelope", b64);
	objmeta_set(&meta, "id", e->id);
	objmeta_set(&meta, "sha256", e->sha256);
	if (msgid_key(st->prefix, e->id, ".eml", key, sizeof(key)) == -1) {
		s = OBJ_PERMFAIL;
		goto done;
	}
	s = objstore_put_fd(st->os, key, fd, size, &meta);
done:
	objmeta_free(&meta);
	free(b64);
	return s;
}

/*
 * store_put_timed - store_put_object within [storage] commit_deadline, its
 * outcome counted by the breaker.  The deadline is set for this call only:
 * fetches and purges on the same handle keep the plain timeouts.
 */
static enum objstore_status
store_put_timed(struct store *st, const struct envelope *e, const char *json, int fd,
    off_t size, int64_t budget_ms)
{
	enum objstore_status s;

	objstore_set_deadline(st->os, budget_ms);
	s = store_put_object(st, e, json, fd, size);
	objstore_set_deadline(st->os, 0);
	store_breaker_record(s == OBJ_OK, s == OBJ_OK ? "" : objstore_error(st->os));
	return s;
}

/* store_commit - bytes durable (store or spool), then the index row */
enum store_status
store_commit(struct store *st, const struct envelope *e, int fd, off_t size, char *reason,
    size_t reasonlen)
{
	return store_commit_since(st, e, fd, size, mono_ms(), reason, reasonlen);
}

/* store_commit_since - store_commit within commit_deadline counted from t0 */
enum store_status
store_commit_since(struct store *st, const struct envelope *e, int fd, off_t size, int64_t t0,
    char *reason, size_t reasonlen)
{
	enum objstore_status	 os;
	enum spool_status	 ss;
	enum index_status	 is;
	enum index_location	 loc = INDEX_LOC_STORE;
	char			 key[OBJKEY_MAX], spath[SPOOL_PATH_MAX], why[ERRSTR_MAX], *json;
	char			 tag[DRILL_TAG_LEN + 1];
	int64_t			 budget;
	int			 marked = 0;

	snprintf(reason, reasonlen, "ok");
	if (msgid_key(st->prefix, e->id, ".eml", key, sizeof(key)) == -1 || e->nrcpts == 0) {
		snprintf(reason, reasonlen, "bad envelope (id or recipients)");
		log_warnx("%s store tempfail reason=\"%s\"", e->id, reason);
		return STORE_TEMPFAIL;
	}
	if ((json = envelope_to_json(e)) == NULL) {
		snprintf(reason, reasonlen, "out of memory");
		log_warnx("%s store tempfail reason=\"%s\"", e->id, reason);
		return STORE_TEMPFAIL;
	}
	budget = st->commit_deadline_ms - (mono_ms() - t0) -
	    (st->commit_deadline_ms / 10 < STORE_SPOOL_ALLOWANCE_MS ?
	    st->commit_deadline_ms / 10 : STORE_SPOOL_ALLOWANCE_MS);
	if (!store_breaker_closed() || budget <= 0) {
		/* the store is known down, or the deadline went by in the queue: the spool */
		os = OBJ_TEMPFAIL;
		log_info("%s store fallback=spool reason=\"%s\"", e->id, budget <= 0 ?
		    "commit deadline spent waiting for a worker" : "breaker open");
	} else if ((os = store_put_timed(st, e, json, fd, size, budget)) != OBJ_OK)
		log_warnx("%s store tempfail reason=\"objstore %s: %s\" fallback=spool", e->id,
		    objstore_strstatus(os), objstore_error(st->os));
	if (os != OBJ_OK) {
		ss = spool_put(st->sp, e->id, fd, size, json, why, sizeof(why));
		if (ss != SPOOL_OK) {
			snprintf(reason, reasonlen, "object store %s; %s", objstore_strstatus(os),
			    why);
			log_warnx("%s store %s reason=\"%s\"", e->id, ss == SPOOL_NOSPACE ?
			    "nospace" : "tempfail", why);
			free(json);
			return ss == SPOOL_NOSPACE ? STORE_NOSPACE : STORE_TEMPFAIL;
		}
		loc = INDEX_LOC_SPOOL;
		spool_path(st->sp, e->id, ".eml", spath, sizeof(spath));
	}
	free(json);
	/* a drill's canary is marked and held in the insert's own transaction (index_drill.h) */
	if (index_drill_tag(e->mail_params, tag)) {
		is = index_drill_add(st->ix, e, tag, key, loc, loc == INDEX_LOC_SPOOL ? spath :
		    NULL, now_ms(), &marked);
		if (is == INDEX_OK && marked)
			log_info("%s store drill-canary tag=%s state=hold", e->id, tag);
	} else
		is = index_add_message(st->ix, e, key, loc, loc == INDEX_LOC_SPOOL ? spath : NULL);
	if (is != INDEX_OK) {
		snprintf(reason, reasonlen, "index: %s", index_error(st->ix));
		log_warnx("%s store tempfail reason=\"%s\"", e->id, reason);
		/* a spooled copy nobody indexed would be adopted later: drop it, the
		 * sender retries after our 4xx */
		if (loc == INDEX_LOC_SPOOL)
			spool_remove(st->sp, e->id);
		return STORE_TEMPFAIL;
	}
	if (loc == INDEX_LOC_SPOOL)
		snprintf(reason, reasonlen, "spooled");
	return STORE_OK;
}

/* store_fetch_spool - copy the spooled file to fd: 0 ok, -1 not there, -2 failed midway */
static int
store_fetch_spool(struct store *st, const char *path, int fd)
{
	struct stat	sb;
	int		in, rc;

	if ((in = open(path, O_RDONLY)) == -1)
		return -1;
	rc = fstat(in, &sb) == -1 || spool_copy_fd(in, fd, sb.st_size) == -1 ? -2 : 0;
	close(in);
	return rc;
}

/* store_fetch - the message bytes, wherever they are now */
enum store_status
store_fetch(struct store *st, const char *id, int fd, char *why, size_t whylen)
{
	struct envelope		 e;
	enum index_location	 loc;
	enum index_status	 is;
	char			 key[OBJKEY_MAX], spath[SPOOL_PATH_MAX];

	is = index_get_message(st->ix, id, &e, key, sizeof(key), &loc, spath, sizeof(spath));
	envelope_free(&e);
	if (is == INDEX_NOTFOUND) {
		snprintf(why, whylen, "no index row");
		return STORE_NOTFOUND;
	}
	if (is != INDEX_OK) {
		snprintf(why, whylen, "index: %s", index_error(st->ix));
		return STORE_TEMPFAIL;
	}
	return store_fetch_at(st, key, loc, spath, fd, why, whylen);
}

/* store_fetch_at - the message bytes at the location the caller read from the index */
enum store_status
store_fetch_at(struct store *st, const char *key, int loc, const char *spath, int fd,
    char *why, size_t whylen)
{
	enum objstore_status	 os;

	if (loc == INDEX_LOC_SPOOL) {
		switch (store_fetch_spool(st, spath, fd)) {
		case 0:
			return STORE_OK;
		case -2:
			snprintf(why, whylen, "spool %s: %s", spath, strerror(errno));
			return STORE_TEMPFAIL;
		}
		/* flushed meanwhile: the object is in the store now */
	}
	os = objstore_get_fd(st->os, key, fd, NULL, NULL);
	if (os == OBJ_OK)
		return STORE_OK;
	snprintf(why, whylen, "objstore %s: %s", objstore_strstatus(os), objstore_error(st->os));
	return os == OBJ_NOTFOUND ? STORE_NOTFOUND : STORE_TEMPFAIL;
}

struct flush_ctx {
	struct store	*st;
	int		 remaining;
	int		 index_error;
	int		 store_down;
	int64_t		 now;
};

/* store_flush_one - upload one spooled message, then move its row, then unlink */
static int
store_flush_one(const char *id, int64_t mtime_ms, void *arg)
{
	struct flush_ctx	*fc = arg;
	struct store		*st = fc->st;
	struct envelope		 e;
	enum index_status	 is;
	enum objstore_status	 os;
	char			 path[SPOOL_PATH_MAX], key[OBJKEY_MAX], err[ERRSTR_MAX], *json;
	struct stat		 sb;
	int			 fd, rc = 0;

	/* the store failed on an earlier message of this pass: no index read per file */
	if (fc->store_down) {
		fc->remaining++;
		return 0;
	}
	is = index_has_message(st->ix, id);
	if (is != INDEX_OK && is != INDEX_NOTFOUND) {
		fc->index_error = 1;
		return 1;
	}
	/* unindexed and recent: a commit may be between spool and index */
	if (is == INDEX_NOTFOUND && fc->now - mtime_ms < STORE_SPOOL_ADOPT_MS) {
		fc->remaining++;
		return 0;
	}
	spool_path(st->sp, id, ".env.json", path, sizeof(path));
	if ((json = spool_read_file(path, 1 << 22, NULL)) == NULL ||
	    envelope_from_json(json, strlen(json), &e, err, sizeof(err)) == -1) {
		log_warnx("%s store spool-flush skipped reason=\"envelope %s: %s\"", id, path,
		    json ? err : strerror(errno));
		free(json);
		fc->remaining++;
		return 0;
	}
	spool_path(st->sp, id, ".eml", path, sizeof(path));
	if ((fd = open(path, O_RDONLY)) == -1 || fstat(fd, &sb) == -1) {
		if (fd != -1)
			close(fd);
		goto out;	/* removed meanwhile (another flusher) */
	}
	os = store_put_timed(st, &e, json, fd, sb.st_size,
	    STORE_FLUSH_DEADLINES * st->commit_deadline_ms);
	close(fd);
	if (os != OBJ_OK) {
		log_warnx("%s store spool-flush tempfail reason=\"objstore %s: %s\"", id,
		    objstore_strstatus(os), objstore_error(st->os));
		fc->store_down = 1;
		fc->remaining++;
		goto out;
	}
	msgid_key(st->prefix, id, ".eml", key, sizeof(key));
	if (is == INDEX_OK)
		is = index_set_location(st->ix, id, INDEX_LOC_STORE, key, NULL);
	else {
		is = index_add_message(st->ix, &e, key, INDEX_LOC_STORE, NULL);
		if (is == INDEX_OK)
			log_info("%s store spool-adopt key=%s", id, key);
	}
	if (is != INDEX_OK && is != INDEX_EXISTS) {
		log_warnx("%s store spool-flush tempfail reason=\"%s\"", id, index_error(st->ix));
		fc->index_error = 1;
		rc = 1;
		goto out;
	}
	spool_remove(st->sp, id);
	log_info("%s store spool-flush key=%s size=%lld", id, key, (long long)sb.st_size);
out:
	envelope_free(&e);
	free(json);
	return rc;
}

/* store_spool_flush - upload every spooled message; how many remain, -1 on index error */
int
store_spool_flush(struct store *st)
{
	struct flush_ctx	fc;
	int64_t			count;

	memset(&fc, 0, sizeof(fc));
	fc.st = st;
	fc.now = now_ms();
	/* the breaker is open: the probe, not the flush, finds out when it is back; and
	 * nothing is read (an index look-up per spooled message would compete with
	 * the commits that fill the spool) */
	if (!store_breaker_closed()) {
		spool_usage(st->sp, NULL, &count);
		return (int)count;
	}
	if (spool_foreach(st->sp, store_flush_one, &fc) == -1) {
		log_warn("store spool-flush: %s", spool_dir(st->sp));
		return -1;
	}
	return fc.index_error ? -1 : fc.remaining;
}

void
store_spool_usage(struct store *st, int64_t *bytes, int64_t *count)
{
	spool_usage(st->sp, bytes, count);
}

/* store_breaker_ok - see store_impl.h */
int
store_breaker_ok(void)
{
	return store_breaker_closed();
}

/* store_healthy - see store.h: breaker state, spool room, index file system; no I/O wait */
int
store_healthy(struct store *st, char *why, size_t whylen)
{
	struct statvfs	vfs;
	char		sw[ERRSTR_MAX], last[ERRSTR_MAX];
	int		down, open;

	if (statvfs(st->index_path, &vfs) == 0 &&
	    (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize < STORE_INDEX_FS_MIN) {
		snprintf(why, whylen, "index %s: file system full", st->index_path);
		return 0;
	}
	pthread_mutex_lock(&store_breaker.lock);
	open = store_breaker.open;
	down = open || store_breaker.failures > 0;
	snprintf(last, sizeof(last), "%s", store_breaker.why);
	pthread_mutex_unlock(&store_breaker.lock);
	if (!down) {
		snprintf(why, whylen, "object store reachable");
		return 1;
	}
	if (spool_room(st->sp, 1 << 20, sw, sizeof(sw))) {
		snprintf(why, whylen, "object store down%s (%s); spool has room",
		    open ? ", breaker open" : "", last);
		return 1;
	}
	snprintf(why, whylen, "object store down (%s) and %s", last, sw);
	return 0;
}

/* store_probe - see store.h; one HEAD within probe_timeout when due */
int
store_probe(struct store *st)
{
	enum objstore_status	s;
	char			key[OBJKEY_MAX];
	int64_t			now = mono_ms();
	int			due, ok;

	pthread_mutex_lock(&store_breaker.lock);
	due = store_breaker.open ? now >= store_breaker.next_probe_ms :
	    store_breaker.last_ms == 0 || now - store_breaker.last_ms >=
	    store_breaker.probe_interval_ms;
	pthread_mutex_unlock(&store_breaker.lock);
	if (!due)
		return store_breaker_closed();
	snprintf(key, sizeof(key), "%s%shealthcheck", st->prefix, *st->prefix ? "/" : "");
	objstore_set_deadline(st->os, st->probe_timeout_ms);
	s = objstore_head(st->os, key, NULL, NULL);
	objstore_set_deadline(st->os, 0);
	ok = s == OBJ_OK || s == OBJ_NOTFOUND;
	if (!ok)
		log_debug("- store probe failed reason=\"%s\"", objstore_error(st->os));
	store_breaker_record(ok, ok ? "" : objstore_error(st->os));
	pthread_mutex_lock(&store_breaker.lock);
	store_breaker.next_probe_ms = now + store_breaker.probe_interval_ms;
	pthread_mutex_unlock(&store_breaker.lock);
	return ok;
}

/* store_purge - the key from the index row, then store_purge_key */
enum store_status
store_purge(struct store *st, const char *id)
{
	struct envelope		e;
	enum index_location	loc;
	char			key[OBJKEY_MAX], sp[SPOOL_PATH_MAX];

	if (index_get_message(st->ix, id, &e, key, sizeof(key), &loc, sp, sizeof(sp)) != INDEX_OK)
		key[0] = '\0';
	envelope_free(&e);
	return store_purge_key(st, id, key);
}

/* store_purge_key - delete the object, then its sidecar (and a spooled copy) */
enum store_status
store_purge_key(struct store *st, const char *id, const char *stored)
{
	enum objstore_status	s;
	char			key[OBJKEY_MAX], side[OBJKEY_MAX];
	size_t			n = strlen(stored);

	/* the key the row holds, as store_fetch uses it (the [storage] prefix may
	 * have changed since); the current prefix only for a row without one */
	if (n > 4 && n < sizeof(key) && strcmp(stored + n - 4, ".eml") == 0) {
		snprintf(key, sizeof(key), "%s", stored);
		snprintf(side, sizeof(side), "%.*s.env.json", (int)(n - 4), stored);
	} else if (msgid_key(st->prefix, id, ".eml", key, sizeof(key)) == -1 ||
	    msgid_key(st->prefix, id, ".env.json", side, sizeof(side)) == -1)
		return STORE_NOTFOUND;
	/* object first: a crash in between leaves a stray sidecar, never an
	 * object whose envelope is gone */
	if ((s = objstore_delete(st->os, key)) == OBJ_OK)
		s = objstore_delete(st->os, side);
	if (s != OBJ_OK) {
		log_warnx("%s store purge reason=\"objstore %s: %s\"", id, objstore_strstatus(s),
		    objstore_error(st->os));
		return STORE_TEMPFAIL;
	}
	spool_remove(st->sp, id);
	return STORE_OK;
}
