/*
 * objstore_s3_xml.c - the text side of S3: request URLs, AWS URI-encoding,
 * and a minimal bounded XML reader for error documents and listings.
 *
 * Entry points: objstore_s3_url(), objstore_s3_encode(), objstore_s3_xml_tag(),
 * objstore_s3_xml_block() (declared in objstore_impl.h).
 * SigV4 signs the path and query exactly as sent (libcurl 7.88 does not
 * normalise them), so keys are encoded here once, upper-case hex, keeping
 * only the unreserved set and '/'.  The XML reader never reads outside
 * [p, end), never allocates, and fails rather than truncating a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objstore.h"
#include "objstore_impl.h"

/* s3_unreserved - RFC 3986 2.3 unreserved characters, as AWS SigV4 uses them */
static int
s3_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* objstore_s3_encode - AWS URI-encoding, upper-case hex */
int
objstore_s3_encode(const char *s, int keep_slash, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = 0;
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (s3_unreserved(*p) || (keep_slash && *p == '/')) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = *p;
		} else {
			if (n + 3 >= outlen)
				return -1;
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (n >= outlen)
		return -1;
	out[n] = '\0';
	return 0;
}

/* objstore_s3_url - path-style or virtual-host URL for a request */
int
objstore_s3_url(const char *endpoint, const char *bucket, int path_style, const char *key,
    const char *query, char *out, size_t outlen)
{
	const char	*hs, *ps;
	char		 ekey[OBJKEY_MAX * 3 + 1];
	size_t		 slen;
	int		 n;

	if ((hs = strstr(endpoint, "://")) == NULL)
		return -1;
	hs += 3;
	slen = hs - endpoint;
	if ((ps = strchr(hs, '/')) == NULL)
		ps = hs + strlen(hs);
	if (ps == hs || objstore_s3_encode(key, 1, ekey, sizeof(ekey)) == -1)
		return -1;
	/* base path of the endpoint (rare: a gateway under a path), without its last '/' */
	if (path_style)
		n = snprintf(out, outlen, "%.*s%.*s%s/%s%s%s%s%s", (int)slen, endpoint,
		    (int)(ps - hs), hs, strcmp(ps, "/") == 0 ? "" : ps, bucket,
		    *key ? "/" : "", ekey, *query ? "?" : "", query);
	else
		n = snprintf(out, outlen, "%.*s%s.%.*s%s/%s%s%s", (int)slen, endpoint, bucket,
		    (int)(ps - hs), hs, strcmp(ps, "/") == 0 ? "" : ps, ekey,
		    *query ? "?" : "", query);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/*
 * s3_xml_char - an XML 1.0 Char (2.2) below 0x80: no control but tab, LF, CR.  A NUL
 * would cut the value short (a key "a\0b" read as "a"), so such a value is unreadable.
 */
static int
s3_xml_char(char c)
{
	return (unsigned char)c >= 0x20 || c == '\t' || c == '\n' || c == '\r';
}

/* s3_xml_decode - copy [s, e) into out decoding entities; 0 or -1 */
static int
s3_xml_decode(const char *s, const char *e, char *out, size_t outlen)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		{ "&apos;", '\'' },
	};
	size_t	 n = 0, i, l;
	long	 v;
	char	*end;

	while (s < e) {
		if (n + 1 >= outlen)
			return -1;
		if (*s != '&') {
			if (!s3_xml_char(*s))
				return -1;
			out[n++] = *s++;
			continue;
		}
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			l = strlen(ents[i].ent);
			if ((size_t)(e - s) >= l && memcmp(s, ents[i].ent, l) == 0)
				break;
		}
		if (i < sizeof(ents) / sizeof(ents[0])) {
			out[n++] = ents[i].c;
			s += l;
			continue;
		}
		/* &#NN; or &#xHH; - only ASCII is meaningful in our keys */
		if (e - s < 4 || s[1] != '#')
			return -1;
		v = s[2] == 'x' ? strtol(s + 3, &end, 16) : strtol(s + 2, &end, 10);
		if (end >= e || *end != ';' || v <= 0 || v > 0x7f || !s3_xml_char((char)v))
			return -1;
		out[n++] = (char)v;
		s = end + 1;
	}
	out[n] = '\0';
	return 0;
}

/* s3_memmem - bounded search for the NUL-terminated needle in [p, end) */
static const char *
s3_memmem(const char *p, const char *end, const char *needle)
{
	if (p >= end)
		return NULL;
	return memmem(p, end - p, needle, strlen(needle));
}

/* objstore_s3_xml_block - bounds of the next <tag> element */
const char *
objstore_s3_xml_block(const char *p, const char *end, const char *tag, const char **bs,
    const char **be)
{
	char		 open[80], close[80];
	const char	*s, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	if ((s = s3_memmem(p, end, open)) == NULL)
		return NULL;
	s += strlen(open);
	if ((e = s3_memmem(s, end, close)) == NULL)
		return NULL;
	*bs = s;
	*be = e;
	return e + strlen(close);
}

/* objstore_s3_xml_tag - decoded text of the next <tag> element */
const char *
objstore_s3_xml_tag(const char *p, const char *end, const char *tag, char *out,
    size_t outlen)
{
	const char *bs, *be, *next;

	if ((next = objstore_s3_xml_block(p, end, tag, &bs, &be)) == NULL)
		return NULL;
	if (s3_xml_decode(bs, be, out, outlen) == -1)
		return NULL;
	return next;
}
