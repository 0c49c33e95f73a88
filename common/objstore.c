/*
 * objstore.c - object store front: backend dispatch, argument checks,
 * metadata helpers, status names; see objstore.h.
 *
 * Entry points: objstore_open() picks the backend by the [storage] url scheme
 * (file:// -> objstore_file.c, http:// or https:// -> objstore_s3.c); every
 * operation checks its key and arguments here, so backends may rely on a
 * non-empty key of at most OBJKEY_MAX-1 printable ASCII bytes.
 * Invariant: after a failed call, o->err holds a one-line reason that never
 * contains a secret (backends only put keys, hosts and server codes in it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "objstore.h"
#include "objstore_impl.h"

/* objstore_open - backend by url scheme; see objstore.h */
struct objstore *
objstore_open(const struct config *cf, char *err, size_t errlen)
{
	struct objstore	*o;
	const char	*url = config_str(cf, "storage", "url", NULL);
	int		 rc;

	if (url == NULL || *url == '\0') {
		snprintf(err, errlen, "%s: [storage] url is not set (file:///path or https://host)",
		    config_path(cf));
		return NULL;
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (strncmp(url, "file://", 7) == 0)
		rc = objstore_file_init(o, cf, url, err, errlen);
	else if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0)
		rc = objstore_s3_init(o, cf, url, err, errlen);
	else {
		snprintf(err, errlen, "%s: [storage] url = \"%s\": want file:///path, http:// or "
		    "https://", config_path(cf), url);
		rc = -1;
	}
	if (rc == -1) {
		free(o);
		return NULL;
	}
	return o;
}

/* objstore_close - backend cleanup, then the handle */
void
objstore_close(struct objstore *o)
{
	if (o == NULL)
		return;
	o->ops->close(o);
	free(o);
}

/* objstore_describe - "file:///path" or "s3://bucket@endpoint" */
const char *
objstore_describe(const struct objstore *o)
{
	return o->desc;
}

/* objstore_error - reason for the last failure */
const char *
objstore_error(const struct objstore *o)
{
	return o->err;
}

/* objstore_set_deadline - see objstore.h */
void
objstore_set_deadline(struct objstore *o, int64_t budget_ms)
{
	o->deadline_ms = budget_ms > 0 ? mono_ms() + budget_ms : 0;
}

/* objstore_left_ms - what is left of the deadline (may be <= 0) */
int64_t
objstore_left_ms(const struct objstore *o)
{
	return o->deadline_ms == 0 ? INT64_MAX : o->deadline_ms - mono_ms();
}

/* objstore_fail - record the reason and return st */
enum objstore_status
objstore_fail(struct objstore *o, enum objstore_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->err, sizeof(o->err), fmt, ap);
	va_end(ap);
	return st;
}

/* objstore_key_check - non-empty, bounded, printable ASCII without spaces */
static int
objstore_key_check(struct objstore *o, const char *key)
{
	size_t i, n;

	if (key == NULL || (n = strlen(key)) == 0 || n >= OBJKEY_MAX) {
		objstore_fail(o, OBJ_PERMFAIL, "invalid object key: empty or longer than %d",
		    OBJKEY_MAX - 1);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (key[i] <= 0x20 || key[i] >= 0x7f) {
			objstore_fail(o, OBJ_PERMFAIL, "invalid object key: byte 0x%02x at %zu",
			    (unsigned char)key[i], i);
			return -1;
		}
	return 0;
}

/* objstore_src_read - pread from the fd, or copy from the buffer */
ssize_t
objstore_src_read(const struct objstore_src *s, off_t off, void *p, size_t n)
{
	ssize_t r;

	if (off >= s->size)
		return 0;
	if ((off_t)n > s->size - off)
		n = s->size - off;
	if (s->fd == -1) {
		memcpy(p, s->buf + off, n);
		return n;
	}
	do
		r = pread(s->fd, p, n, off);
	while (r == -1 && errno == EINTR);
	return r;
}

/* objstore_put_fd - check, then the backend put reading fd with pread */
enum objstore_status
objstore_put_fd(struct objstore *o, const char *key, int fd, off_t size,
    const struct objmeta *meta)
{
	struct objstore_src s = { fd, NULL, size };

	if (objstore_key_check(o, key) == -1)
		return OBJ_PERMFAIL;
	if (fd < 0 || size < 0)
		return objstore_fail(o, OBJ_PERMFAIL, "put %s: bad fd or size", key);
	return o->ops->put(o, key, &s, meta);
}

/* objstore_buf - check key and buffer, then op (the backend's put or create) on it */
static enum objstore_status
objstore_buf(struct objstore *o, const char *key, const void *buf, size_t len,
    const struct objmeta *meta, enum objstore_status (*op)(struct objstore *, const char *,
    const struct objstore_src *, const struct objmeta *))
{
	struct objstore_src s = { -1, buf, (off_t)len };

	if (objstore_key_check(o, key) == -1)
		return OBJ_PERMFAIL;
	if (buf == NULL && len > 0)
		return objstore_fail(o, OBJ_PERMFAIL, "put %s: NULL buffer", key);
	if (buf == NULL)
		s.buf = "";
	return op(o, key, &s, meta);
}

/* objstore_put_buf - check, then the backend put reading the buffer */
enum objstore_status
objstore_put_buf(struct objstore *o, const char *key, const void *buf, size_t len,
    const struct objmeta *meta)
{
	return objstore_buf(o, key, buf, len, meta, o->ops->put);
}

/* objstore_create_buf - check, then the backend's conditional create */
enum objstore_status
objstore_create_buf(struct objstore *o, const char *key, const void *buf, size_t len,
    const struct objmeta *meta)
{
	return objstore_buf(o, key, buf, len, meta, o->ops->create);
}

/* objstore_read_check - reset meta/info (those given), then check key; -1 if it is bad */
static int
objstore_read_check(struct objstore *o, const char *key, struct objmeta *meta,
    struct objinfo *info)
{
	if (meta != NULL)
		objmeta_init(meta);
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	return objstore_key_check(o, key);
}

/* objstore_get_fd - reset meta/info, check, then the backend get */
enum objstore_status
objstore_get_fd(struct objstore *o, const char *key, int fd, struct objmeta *meta,
    struct objinfo *info)
{
	if (objstore_read_check(o, key, meta, info) == -1)
		return OBJ_PERMFAIL;
	return o->ops->get(o, key, fd, meta, info);
}

/* objstore_head - reset meta/info, check, then the backend head */
enum objstore_status
objstore_head(struct objstore *o, const char *key, struct objmeta *meta, struct objinfo *info)
{
	if (objstore_read_check(o, key, meta, info) == -1)
		return OBJ_PERMFAIL;
	return o->ops->head(o, key, meta, info);
}

/* objstore_delete - check, then the backend delete */
enum objstore_status
objstore_delete(struct objstore *o, const char *key)
{
	if (objstore_key_check(o, key) == -1)
		return OBJ_PERMFAIL;
	return o->ops->del(o, key);
}

/* objstore_list - bound the arguments, then the backend list */
enum objstore_status
objstore_list(struct objstore *o, const char *prefix, const char *token, int max_keys,
    void (*fn)(const char *, const struct objinfo *, void *), void *arg, char *next,
    size_t nextlen)
{
	if (prefix == NULL)
		prefix = "";
	if (token == NULL)
		token = "";
	if (nextlen > 0)
		next[0] = '\0';
	if (max_keys < 1 || max_keys > 1000 || nextlen < OBJKEY_MAX || fn == NULL)
		return objstore_fail(o, OBJ_PERMFAIL, "list: bad arguments (max_keys %d)",
		    max_keys);
	if (strlen(prefix) >= OBJKEY_MAX || strlen(token) >= nextlen)
		return objstore_fail(o, OBJ_PERMFAIL, "list: prefix or token too long");
	return o->ops->list(o, prefix, token, max_keys, fn, arg, next, nextlen);
}

/* objstore_sweep - the backend's sweep, if it has one; see objstore.h */
enum objstore_status
objstore_sweep(struct objstore *o, const char *prefix, int64_t before_ms, int64_t *removed)
{
	*removed = 0;
	if (strlen(prefix) >= OBJKEY_MAX)
		return objstore_fail(o, OBJ_PERMFAIL, "sweep: prefix too long");
	return o->ops->sweep != NULL ? o->ops->sweep(o, prefix, before_ms, removed) : OBJ_OK;
}

/* objmeta_init - empty set */
void
objmeta_init(struct objmeta *m)
{
	m->n = 0;
}

/* objmeta_name_ok - lower-case [a-z0-9-], 1..OBJMETA_NAME_MAX-1 */
static int
objmeta_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < OBJMETA_NAME_MAX &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* objmeta_set - add or replace; -1 on a bad name/value or a full set */
int
objmeta_set(struct objmeta *m, const char *name, const char *value)
{
	size_t	 i, n;
	char	*v;

	if (!objmeta_name_ok(name) || (n = strlen(value)) > OBJMETA_VALUE_MAX)
		return -1;
	for (i = 0; i < n; i++)
		if (value[i] < 0x20 || value[i] > 0x7e)
			return -1;
	if ((v = strdup(value)) == NULL)
		return -1;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].name, name) == 0) {
			free(m->kv[i].value);
			m->kv[i].value = v;
			return 0;
		}
	if (m->n == OBJMETA_MAX) {
		free(v);
		return -1;
	}
	snprintf(m->kv[m->n].name, sizeof(m->kv[m->n].name), "%s", name);
	m->kv[m->n++].value = v;
	return 0;
}

/* objmeta_get - value of name, or NULL */
const char *
objmeta_get(const struct objmeta *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].name, name) == 0)
			return m->kv[i].value;
	return NULL;
}

/* objmeta_free - free the values; the set is empty again */
void
objmeta_free(struct objmeta *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->kv[i].value);
	m->n = 0;
}

/* objstore_strstatus - a status for humans */
const char *
objstore_strstatus(enum objstore_status st)
{
	switch (st) {
	case OBJ_OK:
		return "ok";
	case OBJ_NOTFOUND:
		return "not found";
	case OBJ_TEMPFAIL:
		return "temporary failure";
	case OBJ_PERMFAIL:
		return "permanent failure";
	case OBJ_EXISTS:
		return "exists";
	}
	return "unknown";
}
