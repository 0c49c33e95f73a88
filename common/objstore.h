/*
 * objstore.h - object storage: one contract, two backends.
 *
 *   objstore_s3.c    S3-compatible (AWS, MinIO, Ceph RGW, R2, Garage) over
 *                    libcurl with CURLOPT_AWS_SIGV4
 *   objstore_file.c  a directory tree (file:///path), same contract and the
 *                    same durability: temp file, fsync, rename, fsync dir
 *
 * Only this module moves message bytes to and from storage.  Every call
 * returns an enum objstore_status; a failure also leaves a one-line reason in
 * the handle (objstore_error()), without secrets, that the caller may log.
 * The module logs nothing itself except retries at debug level.
 *
 * A handle is used by one thread at a time; open one per thread (cheap; S3
 * handles reuse their connection between calls).
 *
 * Configuration ([storage] section):
 *   url          file:///var/lib/mxspool/store  or  https://s3.example.com
 *   bucket       bucket name (S3)
 *   region       SigV4 region (default us-east-1)
 *   path_style   yes (http://host/bucket/key, default) or no (http://bucket.host/key)
 *   access_key, secret_key   or env MXSPOOL_S3_ACCESS_KEY / MXSPOOL_S3_SECRET_KEY
 *   ca_file      PEM bundle for a private CA
 *   connect_timeout, timeout   durations
 *   retries      attempts after the first on 5xx/timeout/connection errors
 *   multipart_threshold, part_size   sizes (part_size >= 5M)
 *   max_upload_rate   bytes/s per upload, 0 = unlimited (default)
 * A handle may carry a deadline (objstore_set_deadline): every request it
 * sends, retry and backoff of an S3 handle then ends by that time; the file
 * backend ignores it (local writes are not interruptible).
 * See docs/storage.md.  Backend internals: objstore_impl.h.
 */
#ifndef MXS_OBJSTORE_H
#define MXS_OBJSTORE_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "limits.h"

struct config;

enum objstore_status {
	OBJ_OK = 0,
	OBJ_NOTFOUND,		/* no such key (get/head/delete of a missing key) */
	OBJ_TEMPFAIL,		/* retry later: network, 5xx, timeout, throttling */
	OBJ_PERMFAIL,		/* will not work by retrying: auth, bad request, no bucket */
	OBJ_EXISTS,		/* objstore_create_buf: the key exists already */
};

/* user metadata: names are lower-case [a-z0-9-]; values printable ASCII */
struct objmeta {
	size_t	n;
	struct {
		char	 name[OBJMETA_NAME_MAX];
		char	*value;			/* malloc'd */
	} kv[OBJMETA_MAX];
};

struct objinfo {
	off_t		size;
	int64_t		mtime_ms;
	char		etag[80];
};

struct objstore;

/* objstore_open - backend chosen by the [storage] url scheme; NULL + err on bad config */
struct objstore	*objstore_open(const struct config *, char *err, size_t errlen);
void		 objstore_close(struct objstore *);
/* objstore_describe - "file:///path" or "s3://bucket@endpoint" for logs */
const char	*objstore_describe(const struct objstore *);
/* objstore_error - reason for the last failure on this handle */
const char	*objstore_error(const struct objstore *);
/*
 * objstore_set_deadline - calls on this handle end within budget_ms from now
 * (monotonic clock): each request's timeouts are clamped to what is left, no
 * retry or backoff starts past it, and a call made after it fails at once
 * with OBJ_TEMPFAIL ("deadline reached").  budget_ms 0 removes the deadline.
 */
void		 objstore_set_deadline(struct objstore *, int64_t budget_ms);

/*
 * objstore_put_fd - store size bytes read from fd (from its current offset
 * is NOT assumed: reads with pread from offset 0) under key, replacing any
 * object there.  OBJ_OK means durable: S3 acknowledged it, or the file and
 * its directory were fsync'd.  Streams: memory use does not grow with size.
 */
enum objstore_status objstore_put_fd(struct objstore *, const char *key, int fd, off_t size,
		    const struct objmeta *);
enum objstore_status objstore_put_buf(struct objstore *, const char *key, const void *, size_t,
		    const struct objmeta *);
/*
 * objstore_create_buf - store buf under key only if no object is there: the
 * one write two writers cannot both win.  OBJ_OK: created (durable as a
 * put); OBJ_EXISTS: an object was there, nothing written.  S3: one PUT with
 * "If-None-Match: *" (412 Precondition Failed -> OBJ_EXISTS; 409
 * ConditionalRequestConflict, a concurrent conditional write -> OBJ_TEMPFAIL);
 * never multipart.  File store: the fsync'd temp file is link()ed to the key
 * (EEXIST -> OBJ_EXISTS), so creation is atomic on one file system.
 * A retry after a lost reply can see OBJ_EXISTS for its own write: callers
 * that must know read the object back (fleet_claim_create does).  A store
 * that ignores the header (some S3 servers) overwrites: fleet_probe_conditional
 * detects it.  meta is written after the data (file store) and may be NULL.
 */
enum objstore_status objstore_create_buf(struct objstore *, const char *key, const void *,
		    size_t, const struct objmeta *);
/*
 * objstore_get_fd - write the object's bytes to fd; meta and info may be NULL.
 * get and head (re)initialise meta: the caller frees it with objmeta_free().
 * On failure fd may hold part of the object (S3 retries restart from the fd's
 * starting offset when fd is seekable): discard it.
 */
enum objstore_status objstore_get_fd(struct objstore *, const char *key, int fd,
		    struct objmeta *meta, struct objinfo *info);
enum objstore_status objstore_head(struct objstore *, const char *key, struct objmeta *meta,
		    struct objinfo *info);
/* objstore_delete - OBJ_OK also when the key did not exist (S3 semantics) */
enum objstore_status objstore_delete(struct objstore *, const char *key);
/* size of a next/token buffer for objstore_list (S3 tokens may exceed a key) */
#define OBJSTORE_TOKEN_MAX	1024
/*
 * objstore_list - one page of keys under prefix, in lexicographic order,
 * after the opaque token (NULL or "" for the first page).  fn is called for
 * each key; next receives the token for the following page, or "" when this
 * was the last.  max_keys bounds the page (1..1000).
 */
enum objstore_status objstore_list(struct objstore *, const char *prefix, const char *token,
		    int max_keys, void (*fn)(const char *key, const struct objinfo *, void *),
		    void *arg, char *next, size_t nextlen);

/*
 * objstore_sweep - remove what interrupted puts left under prefix (file store:
 * ".tmp-*" files, up to a message in size, after a kill -9) if last written
 * before before_ms; *removed counts them.  A put in progress rewrites its
 * temp file continuously, so only a before_ms older than any put can take is
 * safe (another process may be writing).  Backends with atomic puts: no-op.
 */
enum objstore_status objstore_sweep(struct objstore *, const char *prefix, int64_t before_ms,
		    int64_t *removed);

/* metadata helpers */
void		 objmeta_init(struct objmeta *);
int		 objmeta_set(struct objmeta *, const char *name, const char *value);
const char	*objmeta_get(const struct objmeta *, const char *name);
void		 objmeta_free(struct objmeta *);

/* objstore_strstatus - "ok", "not found", "temporary failure", "permanent failure",
 * "exists" */
const char	*objstore_strstatus(enum objstore_status);

#endif
