/*
 * objstore_s3_ops.c - the S3 operations: put (single or multipart), get,
 * head, delete, list (ListObjectsV2).
 *
 * A put at or above multipart_threshold is a multipart upload: initiate
 * (metadata goes there), then each part_size part is hashed by pread and
 * sent (so memory does not grow with the object), then completed; any
 * failure after initiate sends AbortMultipartUpload, and the object is
 * never visible half-written (S3 shows it only after Complete).
 * Query strings are written sorted and encoded, as SigV4 signs them verbatim.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "objstore.h"
#include "objstore_impl.h"

/* s3_put_single - one PUT of the whole object; if_none_match: only if the key is absent */
static enum objstore_status
s3_put_single(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta, int if_none_match)
{
	enum objstore_status	st;
	struct s3_req		r;

	objstore_s3_req_init(&r, "PUT", key, "");
	r.src = src;
	r.len = src->size;
	r.meta_out = meta;
	r.if_none_match = if_none_match;
	if (objstore_s3_hash(src, 0, src->size, &r) == -1) {
		objstore_s3_req_free(&r);
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 PUT %s: reading the source: %s", key,
		    strerror(errno));
	}
	st = objstore_s3_perform(o, &r);
	/* only a conditional PUT gets these */
	if (st != OBJ_OK && r.status == 412)
		st = objstore_fail(o, OBJ_EXISTS, "S3 PUT %s: exists (412 %s)", key,
		    *r.code ? r.code : "PreconditionFailed");
	else if (st != OBJ_OK && r.status == 409)
		st = objstore_fail(o, OBJ_TEMPFAIL, "S3 PUT %s: concurrent conditional write "
		    "(409 %s)", key, *r.code ? r.code : "Conflict");
	objstore_s3_req_free(&r);
	return st;
}

/*
 * s3_create - one PUT with If-None-Match: * (never multipart: a conditional
 * CompleteMultipartUpload is not as widely supported).  412 means the key
 * exists; 409 ConditionalRequestConflict (a concurrent conditional write on
 * AWS) is worth a retry later (both mapped in s3_put_single).
 */
static enum objstore_status
s3_create(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta)
{
	return s3_put_single(o, key, src, meta, 1);
}

/* s3_mp_abort - AbortMultipartUpload, keeping the reason of the failure that caused it */
static void
s3_mp_abort(struct objstore *o, const char *key, const char *qid)
{
	struct s3_req	r;
	char		saved[ERRSTR_MAX];

	snprintf(saved, sizeof(saved), "%s", o->err);
	objstore_s3_req_init(&r, "DELETE", key, qid);
	(void)objstore_s3_perform(o, &r);
	objstore_s3_req_free(&r);
	snprintf(o->err, sizeof(o->err), "%s", saved);
}

/* s3_mp_part - upload part n (1...) of src; its ETag (quoted) into etag */
static enum objstore_status
s3_mp_part(struct objstore *o, const char *key, const struct objstore_src *src, int n,
    off_t off, off_t len, const char *eid, char *etag, size_t etaglen)
{
	enum objstore_status	st;
	struct s3_req		r;
	char			q[OBJKEY_MAX * 3 + 64];

	if (snprintf(q, sizeof(q), "partNumber=%d&uploadId=%s", n, eid) >= (int)sizeof(q))
		return objstore_fail(o, OBJ_PERMFAIL, "S3 PUT %s: upload id too long", key);
	objstore_s3_req_init(&r, "PUT", key, q);
	r.src = src;
	r.off = off;
	r.len = len;
	if (objstore_s3_hash(src, off, len, &r) == -1) {
		objstore_s3_req_free(&r);
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 PUT %s part %d: reading the source: %s",
		    key, n, strerror(errno));
	}
	if ((st = objstore_s3_perform(o, &r)) == OBJ_OK && r.etag[0] == '\0')
		st = objstore_fail(o, OBJ_TEMPFAIL, "S3 PUT %s part %d: no ETag in the answer",
		    key, n);
	if (snprintf(etag, etaglen, "\"%s\"", r.etag) >= (int)etaglen && st == OBJ_OK)
		st = objstore_fail(o, OBJ_PERMFAIL, "S3 PUT %s part %d: ETag too long", key, n);
	objstore_s3_req_free(&r);
	return st;
}

/* s3_mp_complete - CompleteMultipartUpload with the parts' ETags */
static enum objstore_status
s3_mp_complete(struct objstore *o, const char *key, const char *qid, char (*etags)[96],
    int nparts)
{
	enum objstore_status	 st;
	struct s3_req		 r;
	struct buf		 xml;
	int			 i;

	buf_init(&xml, (size_t)nparts * 160 + 128);
	buf_addstr(&xml, "<CompleteMultipartUpload>");
	for (i = 0; i < nparts; i++)
		buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i + 1,
		    etags[i]);
	if (buf_addstr(&xml, "</CompleteMultipartUpload>") == -1) {
		buf_free(&xml);
		return objstore_fail(o, OBJ_TEMPFAIL, "out of memory");
	}
	objstore_s3_req_init(&r, "POST", key, qid);
	r.body = xml.data;
	r.bodylen = xml.len;
	r.body_errors = 1;
	{
		struct objstore_src body = { -1, xml.data, (off_t)xml.len };

		objstore_s3_hash(&body, 0, body.size, &r);
	}
	st = objstore_s3_perform(o, &r);
	objstore_s3_req_free(&r);
	buf_free(&xml);
	return st;
}

/* s3_put_multipart - initiate, parts, complete; abort on any failure after initiate */
static enum objstore_status
s3_put_multipart(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta)
{
	struct s3_store		*s = o->be;
	enum objstore_status	 st;
	struct s3_req		 r;
	char			 id[OBJKEY_MAX], eid[OBJKEY_MAX * 3], qid[OBJKEY_MAX * 3 + 16];
	char			(*etags)[96] = NULL;
	off_t			 ps = s->part_size, off;
	int			 n, nparts;

	while ((src->size + ps - 1) / ps > S3_PARTS_MAX)
		ps *= 2;
	nparts = src->size == 0 ? 1 : (int)((src->size + ps - 1) / ps);
	objstore_s3_req_init(&r, "POST", key, "uploads=");
	r.body = "";
	r.ctype = "application/octet-stream";	/* the object's type, as for a single PUT */
	r.meta_out = meta;
	st = objstore_s3_perform(o, &r);
	if (st == OBJ_OK && (objstore_s3_xml_tag(r.resp.data, r.resp.data + r.resp.len,
	    "UploadId", id, sizeof(id)) == NULL || *id == '\0' ||
	    objstore_s3_encode(id, 0, eid, sizeof(eid)) == -1))
		st = objstore_fail(o, OBJ_TEMPFAIL, "S3 POST %s?uploads: no usable UploadId in "
		    "the answer", key);
	objstore_s3_req_free(&r);
	if (st != OBJ_OK)
		return st;
	snprintf(qid, sizeof(qid), "uploadId=%s", eid);
	if ((etags = calloc(nparts, sizeof(*etags))) == NULL) {
		st = objstore_fail(o, OBJ_TEMPFAIL, "out of memory");
		goto abort;
	}
	for (n = 0, off = 0; n < nparts; n++, off += ps) {
		st = s3_mp_part(o, key, src, n + 1, off,
		    src->size - off < ps ? src->size - off : ps, eid, etags[n], sizeof(etags[n]));
		if (st != OBJ_OK) {
			char why[ERRSTR_MAX];

			snprintf(why, sizeof(why), "%s", o->err);
			objstore_fail(o, st, "%s (part %d of %d)", why, n + 1, nparts);
			goto abort;
		}
	}
	if ((st = s3_mp_complete(o, key, qid, etags, nparts)) != OBJ_OK)
		goto abort;
	free(etags);
	return OBJ_OK;
abort:
	free(etags);
	s3_mp_abort(o, key, qid);
	return st;
}

/* s3_put - multipart at or above the threshold, else one PUT */
static enum objstore_status
s3_put(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta)
{
	struct s3_store *s = o->be;

	if (src->size >= s->mp_threshold && src->size > 0)
		return s3_put_multipart(o, key, src, meta);
	return s3_put_single(o, key, src, meta, 0);
}

/* s3_bucket_check - after a bodiless 404: is it the bucket that is missing? */
static enum objstore_status
s3_bucket_check(struct objstore *o, const char *key)
{
	struct s3_store		*s = o->be;
	enum objstore_status	 st;
	struct s3_req		 r;

	if (s->bucket_ok)
		return objstore_fail(o, OBJ_NOTFOUND, "S3: no such key %s", key);
	objstore_s3_req_init(&r, "HEAD", "", "");
	st = objstore_s3_perform(o, &r);
	objstore_s3_req_free(&r);
	if (st == OBJ_OK) {
		s->bucket_ok = 1;
		return objstore_fail(o, OBJ_NOTFOUND, "S3: no such key %s", key);
	}
	if (st == OBJ_NOTFOUND)
		return objstore_fail(o, OBJ_PERMFAIL, "S3: bucket %s does not exist at %s",
		    s->bucket, s->endpoint);
	return st;
}

/* s3_head - HEAD; a bodiless 404 is checked against the bucket */
static enum objstore_status
s3_head(struct objstore *o, const char *key, struct objmeta *meta, struct objinfo *info)
{
	enum objstore_status	st;
	struct s3_req		r;

	objstore_s3_req_init(&r, "HEAD", key, "");
	r.meta_in = meta;
	r.info = info;
	st = objstore_s3_perform(o, &r);
	objstore_s3_req_free(&r);
	if (st == OBJ_NOTFOUND)
		st = s3_bucket_check(o, key);
	if (st != OBJ_OK && meta != NULL)
		objmeta_free(meta);
	return st;
}

/* s3_get - GET streamed into fd */
static enum objstore_status
s3_get(struct objstore *o, const char *key, int fd, struct objmeta *meta, struct objinfo *info)
{
	struct s3_store		*s = o->be;
	enum objstore_status	 st;
	struct s3_req		 r;
	struct objinfo		 tmp;

	objstore_s3_req_init(&r, "GET", key, "");
	r.out_fd = fd;
	r.meta_in = meta;
	r.info = info != NULL ? info : &tmp;
	memset(&tmp, 0, sizeof(tmp));
	st = objstore_s3_perform(o, &r);
	if (st == OBJ_OK && r.have_len && r.written != r.info->size)
		st = objstore_fail(o, OBJ_TEMPFAIL, "S3 GET %s: got %lld bytes of %lld", key,
		    (long long)r.written, (long long)r.info->size);
	if (st == OBJ_OK)
		s->bucket_ok = 1;
	objstore_s3_req_free(&r);
	if (st != OBJ_OK && meta != NULL)
		objmeta_free(meta);
	return st;
}

/* s3_del - DELETE; a missing key is success */
static enum objstore_status
s3_del(struct objstore *o, const char *key)
{
	enum objstore_status	st;
	struct s3_req		r;

	objstore_s3_req_init(&r, "DELETE", key, "");
	st = objstore_s3_perform(o, &r);
	objstore_s3_req_free(&r);
	return st == OBJ_NOTFOUND ? OBJ_OK : st;
}

/* s3_time - "2026-11-23T07:00:00.000Z" to ms, 0 if unparsable */
static int64_t
s3_time(const char *v)
{
	static const char	 shape[] = "dddd-dd-ddTdd:dd:dd";
	struct tm		 tm;
	int			 ms = 0;
	size_t			 i;

	/* digits where digits belong: sscanf alone takes signs and spaces ("-026-12-03") */
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != shape[i])
			return 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	    &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60 || ms < 0)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* s3_list_parse - call fn for each <Contents>; next token if truncated */
static enum objstore_status
s3_list_parse(struct objstore *o, const struct buf *b, void (*fn)(const char *,
    const struct objinfo *, void *), void *arg, char *next, size_t nextlen)
{
	const char	*p = b->data, *end = b->data + b->len, *bs, *be;
	char		 key[OBJKEY_MAX], v[128], trunc[16] = "";
	struct objinfo	 info;
	long long	 size;

	if (b->len == 0 || memmem(p, b->len, "<ListBucketResult", 17) == NULL)
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 list: not a ListBucketResult answer");
	while ((p = objstore_s3_xml_block(p, end, "Contents", &bs, &be)) != NULL) {
		memset(&info, 0, sizeof(info));
		if (objstore_s3_xml_tag(bs, be, "Key", key, sizeof(key)) == NULL)
			return objstore_fail(o, OBJ_PERMFAIL, "S3 list: a key is unreadable or "
			    "longer than %d", OBJKEY_MAX - 1);
		if (objstore_s3_xml_tag(bs, be, "Size", v, sizeof(v)) != NULL &&
		    config_parse_num(v, 0, __LONG_LONG_MAX__, &size) == 0)
			info.size = size;
		if (objstore_s3_xml_tag(bs, be, "LastModified", v, sizeof(v)) != NULL)
			info.mtime_ms = s3_time(v);
		if (objstore_s3_xml_tag(bs, be, "ETag", v, sizeof(v)) != NULL)
			snprintf(info.etag, sizeof(info.etag), "%.*s",
			    (int)strcspn(v[0] == '"' ? v + 1 : v, "\""), v[0] == '"' ? v + 1 : v);
		fn(key, &info, arg);
	}
	/* an unreadable IsTruncated is no "false": the rest of the listing would be lost */
	if (objstore_s3_xml_block(b->data, end, "IsTruncated", &bs, &be) != NULL &&
	    (objstore_s3_xml_tag(b->data, end, "IsTruncated", trunc, sizeof(trunc)) == NULL ||
	    (strcmp(trunc, "true") != 0 && strcmp(trunc, "false") != 0)))
		return objstore_fail(o, OBJ_PERMFAIL, "S3 list: IsTruncated is neither true nor "
		    "false");
	if (strcmp(trunc, "true") == 0 &&
	    (objstore_s3_xml_tag(b->data, end, "NextContinuationToken", next, nextlen) == NULL ||
	    *next == '\0')) {
		*next = '\0';
		return objstore_fail(o, OBJ_PERMFAIL, "S3 list: truncated listing without a "
		    "usable NextContinuationToken");
	}
	return OBJ_OK;
}

/* s3_list - one ListObjectsV2 page */
static enum objstore_status
s3_list(struct objstore *o, const char *prefix, const char *token, int max_keys,
    void (*fn)(const char *, const struct objinfo *, void *), void *arg, char *next,
    size_t nextlen)
{
	struct s3_store		*s = o->be;
	enum objstore_status	 st;
	struct s3_req		 r;
	char			 q[OBJKEY_MAX * 7], ep[OBJKEY_MAX * 3], et[OBJKEY_MAX * 3];
	int			 n;

	if (objstore_s3_encode(prefix, 0, ep, sizeof(ep)) == -1 ||
	    objstore_s3_encode(token, 0, et, sizeof(et)) == -1)
		return objstore_fail(o, OBJ_PERMFAIL, "S3 list: prefix or token too long");
	/* sorted by name: continuation-token, list-type, max-keys, prefix */
	n = snprintf(q, sizeof(q), "%s%s%slist-type=2&max-keys=%d&prefix=%s",
	    *et ? "continuation-token=" : "", et, *et ? "&" : "", max_keys, ep);
	if (n < 0 || (size_t)n >= sizeof(q))
		return objstore_fail(o, OBJ_PERMFAIL, "S3 list: query too long");
	objstore_s3_req_init(&r, "GET", "", q);
	st = objstore_s3_perform(o, &r);
	if (st == OBJ_NOTFOUND)
		st = objstore_fail(o, OBJ_PERMFAIL, "S3: bucket %s does not exist at %s",
		    s->bucket, s->endpoint);
	if (st == OBJ_OK)
		st = s3_list_parse(o, &r.resp, fn, arg, next, nextlen);
	objstore_s3_req_free(&r);
	return st;
}

const struct objstore_ops objstore_s3_ops = {
	s3_put, s3_get, s3_head, s3_del, s3_list, objstore_s3_close, NULL, s3_create,
};
