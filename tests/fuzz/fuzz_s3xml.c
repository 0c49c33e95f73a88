/*
 * fuzz_s3xml.c - libFuzzer harness for the S3 XML reader (common/objstore_s3_xml.c)
 * and its readers in common/objstore_s3_ops.c / objstore_s3.c: what a broken
 * or hostile store (or something in between) answers.
 *
 * Input: byte 0 selects what the bytes are taken as, the rest is the HTTP body:
 *   0 a ListObjectsV2 page: the real s3_list_parse (objstore_s3_ops.c is
 *     included for it: it is static), each <Contents> handed to a callback;
 *   1 an error document: <Code>, <Message> into the sizes objstore_s3.c uses;
 *   2 an InitiateMultipartUpload answer: <UploadId>, then URI-encoded as
 *     the multipart upload does;
 *   3 any tag: up to the first NUL is the tag name, the rest the body.
 * The body is an exact-size copy without a terminating NUL (as curl gives
 * it), so a read past it is a sanitizer report.  Checks beyond "no crash":
 * a found element returns a pointer inside (p, end]; its value is
 * NUL-terminated, shorter than the buffer and no longer than the element;
 * without '&' it is the element's bytes (so no NUL cuts it short); listed
 * keys fit OBJKEY_MAX, sizes are non-negative, LastModified is 0 or a time
 * of years 0000-9999, ETags have no quote; a listing accepted says
 * IsTruncated false (or has none), or true with a non-empty continuation
 * token.  Any violation abort()s.
 */
#include <stdint.h>

#include "objstore_s3_ops.c"

#define FZ_NAME "fuzz_s3xml"
#include "fz.h"

/* fz_tag - objstore_s3_xml_tag and its checks */
static const char *
fz_tag(const char *p, const char *end, const char *tag, char *out, size_t outlen)
{
	const char	*next, *bs, *be;
	size_t		 n;

	next = objstore_s3_xml_tag(p, end, tag, out, outlen);
	if (next == NULL)
		return NULL;
	fz_check(next > p && next <= end, "end of element outside the body");
	fz_check(objstore_s3_xml_block(p, end, tag, &bs, &be) == next, "block and tag differ");
	fz_check(bs >= p && bs <= be && be < next, "block bounds");
	n = strnlen(out, outlen);
	fz_check(n < outlen, "value not NUL-terminated");
	fz_check(n <= (size_t)(be - bs), "value longer than the element");
	if (memchr(bs, '&', be - bs) == NULL)
		fz_check(n == (size_t)(be - bs) && memcmp(out, bs, n) == 0,
		    "value without entities differs from the element");
	return next;
}

/* fz_listed - the listing callback: what reindex and purge receive */
static void
fz_listed(const char *key, const struct objinfo *info, void *arg)
{
	int	*n = arg;

	fz_check(strnlen(key, OBJKEY_MAX) < OBJKEY_MAX, "key longer than OBJKEY_MAX");
	/* LastModified: 0 (unreadable) or a time of years 0000-9999 */
	fz_check(info->size >= 0 && info->mtime_ms >= -62167219200000LL &&
	    info->mtime_ms < 253402300800000LL, "size or mtime");
	fz_check(strnlen(info->etag, sizeof(info->etag)) < sizeof(info->etag) &&
	    strchr(info->etag, '"') == NULL, "etag");
	(*n)++;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - byte 0: listing, error, multipart, any tag */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct objstore	 o;
	struct buf	 b;
	char		 next[OBJKEY_MAX], code[64], msg[160], id[OBJKEY_MAX];
	char		 eid[OBJKEY_MAX * 3], tag[16];
	const char	*p, *end, *q, *bs, *be;
	size_t		 n;
	int		 count = 0;

	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	buf_init(&b, 0);
	b.len = size - 1;
	if ((b.data = malloc(b.len ? b.len : 1)) == NULL)
		return 0;
	memcpy(b.data, data + 1, b.len);
	p = b.data;
	end = b.data + b.len;
	switch (data[0] & 3) {
	case 0:
		/* each key as the listing reads it (fz_tag checks it against the element) */
		for (q = p; (q = objstore_s3_xml_block(q, end, "Contents", &bs, &be)) != NULL; )
			fz_tag(bs, be, "Key", id, sizeof(id));
		next[0] = '\0';
		if (s3_list_parse(&o, &b, fz_listed, &count, next, sizeof(next)) == OBJ_OK) {
			fz_check(strnlen(next, sizeof(next)) < sizeof(next), "token not terminated");
			/* a listing taken whole is one that says so (or has no IsTruncated) */
			if (fz_tag(p, end, "IsTruncated", code, sizeof(code)) != NULL)
				fz_check(strcmp(code, "false") == 0 || (strcmp(code, "true") == 0 &&
				    next[0] != '\0'), "truncated listing taken as complete");
			else
				fz_check(objstore_s3_xml_block(p, end, "IsTruncated", &q, &q) ==
				    NULL, "unreadable IsTruncated taken as false");
		} else
			fz_check(o.err[0] != '\0', "listing refused without a reason");
		break;
	case 1:
		fz_tag(p, end, "Code", code, sizeof(code));
		fz_tag(p, end, "Message", msg, sizeof(msg));
		break;
	case 2:
		if (fz_tag(p, end, "UploadId", id, sizeof(id)) != NULL && id[0] != '\0' &&
		    objstore_s3_encode(id, 0, eid, sizeof(eid)) == 0)
			fz_check(strlen(eid) == strspn(eid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
			    "klmnopqrstuvwxyz0123456789-._~%"), "encoded UploadId");
		break;
	default:
		n = strnlen(p, b.len);
		if (n == 0 || n >= sizeof(tag) || n == b.len)
			break;
		memcpy(tag, p, n + 1);
		/* every element of that name in turn, as the listing walks <Contents> */
		for (q = p + n + 1; q != NULL && q < end; q = fz_tag(q, end, tag, msg, sizeof(msg)))
			;
		break;
	}
	free(b.data);
	return 0;
}
