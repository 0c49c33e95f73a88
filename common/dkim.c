/*
 * dkim.c - header splitting, canonicalization, body hash and tag lists of
 * DKIM (RFC 6376) as ARC (RFC 8617) reuses them.  See dkim.h.
 *
 * Entry points: dkim_split(), dkim_canon_header(), dkim_body_*(), dkim_tag(),
 * dkim_strip_b().  Lines end in CRLF (ingest stores them so); a bare CR or LF
 * is an ordinary byte, as the RFC's canonical forms treat it.
 */
#include <string.h>
#include <strings.h>

#include "dkim.h"

#define DKIM_WSP(c)	((c) == ' ' || (c) == '\t')
/* body bytes canonicalized per digest update */
#define DKIM_OUTBUF	8192

int
dkim_split(const char *blk, size_t len, struct dkim_hdr *h, size_t max)
{
	const char	*p = blk, *end = blk + len, *nl, *colon;
	size_t		 n = 0, linelen;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		linelen = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		if (DKIM_WSP(*p)) {
			if (n == 0)
				return -1;	/* a continuation with no field before it */
			h[n - 1].len = (size_t)(p + linelen - h[n - 1].raw);
		} else {
			if ((colon = memchr(p, ':', linelen)) == NULL || colon == p || n == max)
				return -1;
			h[n].name = p;
			h[n].namelen = (size_t)(colon - p);
			while (h[n].namelen > 0 && DKIM_WSP(p[h[n].namelen - 1]))
				h[n].namelen--;
			h[n].raw = p;
			h[n].len = linelen;
			n++;
		}
		p += linelen;
	}
	for (size_t i = 0; i < n; i++) {	/* the field without its line end */
		if (h[i].len > 0 && h[i].raw[h[i].len - 1] == '\n')
			h[i].len--;
		if (h[i].len > 0 && h[i].raw[h[i].len - 1] == '\r')
			h[i].len--;
	}
	return (int)n;
}

int
dkim_hdr_is(const struct dkim_hdr *h, const char *name)
{
	return strlen(name) == h->namelen && strncasecmp(h->name, name, h->namelen) == 0;
}

const char *
dkim_hdr_value(const struct dkim_hdr *h, size_t *len)
{
	const char *colon = memchr(h->raw, ':', h->len);

	*len = h->len - (size_t)(colon + 1 - h->raw);
	return colon + 1;
}

/* dkim_canon_header - RFC 6376 3.4.1 (simple: unchanged) and 3.4.2 (relaxed) */
int
dkim_canon_header(struct buf *out, enum dkim_canon c, const char *raw, size_t len)
{
	const char	*colon, *p, *end = raw + len;
	size_t		 nl;
	int		 wsp = 0;
	char		 ch;

	if (c == DKIM_CANON_SIMPLE)
		return buf_add(out, raw, len);
	if ((colon = memchr(raw, ':', len)) == NULL)
		return -1;
	for (nl = (size_t)(colon - raw); nl > 0 && DKIM_WSP(raw[nl - 1]); nl--)
		;
	for (size_t i = 0; i < nl; i++) {
		ch = raw[i] >= 'A' && raw[i] <= 'Z' ? raw[i] - 'A' + 'a' : raw[i];
		if (buf_add(out, &ch, 1) == -1)
			return -1;
	}
	if (buf_add(out, ":", 1) == -1)
		return -1;
	p = colon + 1;
	while (p < end && (DKIM_WSP(*p) || *p == '\r' || *p == '\n'))
		p++;
	for (; p < end; p++) {
		if (*p == '\r' || *p == '\n')
			continue;	/* unfold */
		if (DKIM_WSP(*p)) {
			wsp = 1;
			continue;
		}
		if ((wsp && buf_add(out, " ", 1) == -1) || buf_add(out, p, 1) == -1)
			return -1;
		wsp = 0;
	}
	return 0;
}

int
dkim_body_init(struct dkim_body *b, enum dkim_canon c)
{
	memset(b, 0, sizeof(*b));
	b->canon = c;
	if ((b->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(b->md, EVP_sha256(),
	    NULL) != 1) {
		dkim_body_free(b);
		return -1;
	}
	return 0;
}

/* dkim_body_pending - the line ends and whitespace held back, now that content follows */
static size_t
dkim_body_pending(struct dkim_body *b, char *out, size_t o)
{
	for (; b->crlfs > 0; b->crlfs--) {
		if (o + 2 > DKIM_OUTBUF) {
			EVP_DigestUpdate(b->md, out, o);
			o = 0;
		}
		out[o++] = '\r';
		out[o++] = '\n';
	}
	if (b->wsp)
		out[o++] = ' ';
	b->wsp = 0;
	b->any = 1;
	return o;
}

/*
 * dkim_body_feed - the canonical body, streamed: empty lines at the end are ignored
 * (both forms), so line ends are counted and hashed only when content follows;
 * relaxed also drops whitespace before a line end and turns runs into one SP (3.4.4).
 */
int
dkim_body_feed(struct dkim_body *b, const char *p, size_t n)
{
	char	out[DKIM_OUTBUF + 8];
	size_t	o = 0, i;
	char	ch;

	for (i = 0; i < n; i++) {
		ch = p[i];
		if (o + 4 > DKIM_OUTBUF) {
			if (EVP_DigestUpdate(b->md, out, o) != 1)
				return -1;
			o = 0;
		}
		if (b->cr) {
			b->cr = 0;
			if (ch == '\n') {
				b->crlfs++;
				b->wsp = 0;
				continue;
			}
			o = dkim_body_pending(b, out, o);	/* a bare CR is content */
			out[o++] = '\r';
		}
		if (ch == '\r') {
			b->cr = 1;
			continue;
		}
		if (b->canon == DKIM_CANON_RELAXED && DKIM_WSP(ch)) {
			b->wsp = 1;
			continue;
		}
		o = dkim_body_pending(b, out, o);
		out[o++] = ch;
	}
	return o == 0 || EVP_DigestUpdate(b->md, out, o) == 1 ? 0 : -1;
}

int
dkim_body_final(struct dkim_body *b, unsigned char out[32])
{
	unsigned int	n = 0;
	int		rc;
	char		tail[DKIM_OUTBUF + 8];
	size_t		o;

	if (b->cr) {	/* a CR as the very last byte is content */
		o = dkim_body_pending(b, tail, 0);
		tail[o++] = '\r';
		EVP_DigestUpdate(b->md, tail, o);
		b->cr = 0;
	}
	/* a non-empty body ends in exactly one CRLF; an empty one is CRLF (simple) or "" */
	if (b->any || b->canon == DKIM_CANON_SIMPLE)
		EVP_DigestUpdate(b->md, "\r\n", 2);
	rc = EVP_DigestFinal_ex(b->md, out, &n) == 1 && n == 32 ? 0 : -1;
	dkim_body_free(b);
	return rc;
}

void
dkim_body_free(struct dkim_body *b)
{
	EVP_MD_CTX_free(b->md);
	b->md = NULL;
}

/* dkim_tag_next - the next tag of a list: name [n0,n1), value [v0,v1) trimmed; 0 at the end */
static int
dkim_tag_next(const char **pp, const char *end, const char **n0, const char **n1,
    const char **v0, const char **v1)
{
	const char *p = *pp, *semi;

	if (p >= end)
		return 0;
	semi = memchr(p, ';', end - p);
	if (semi == NULL)
		semi = end;
	while (p < semi && (DKIM_WSP(*p) || *p == '\r' || *p == '\n'))
		p++;
	*n0 = p;
	while (p < semi && *p != '=' && !DKIM_WSP(*p) && *p != '\r' && *p != '\n')
		p++;
	*n1 = p;
	while (p < semi && *p != '=')
		p++;
	if (p < semi)
		p++;
	while (p < semi && (DKIM_WSP(*p) || *p == '\r' || *p == '\n'))
		p++;
	*v0 = p;
	*v1 = semi;
	while (*v1 > *v0 && (DKIM_WSP((*v1)[-1]) || (*v1)[-1] == '\r' || (*v1)[-1] == '\n'))
		(*v1)--;
	*pp = semi < end ? semi + 1 : end;
	return 1;
}

int
dkim_tag(const char *list, size_t len, const char *tag, char *out, size_t outlen, int strip)
{
	const char	*p = list, *end = list + len, *n0, *n1, *v0, *v1;
	size_t		 o = 0, tl = strlen(tag);

	while (dkim_tag_next(&p, end, &n0, &n1, &v0, &v1)) {
		if ((size_t)(n1 - n0) != tl || strncmp(n0, tag, tl) != 0)
			continue;
		for (; v0 < v1; v0++) {
			if (strip && (DKIM_WSP(*v0) || *v0 == '\r' || *v0 == '\n'))
				continue;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = *v0;
		}
		out[o] = '\0';
		return 1;
	}
	return 0;
}

/* dkim_strip_b - RFC 6376 3.7: the b= value, with the whitespace around it, becomes "" */
int
dkim_strip_b(struct buf *out, const char *raw, size_t len)
{
	const char	*colon = memchr(raw, ':', len), *end = raw + len, *p, *n0, *n1, *v0,
			*v1, *seg;

	if (colon == NULL)
		return -1;
	p = colon + 1;
	for (seg = p; dkim_tag_next(&p, end, &n0, &n1, &v0, &v1); seg = p) {
		if (n1 - n0 != 1 || *n0 != 'b')
			continue;
		/* keep up to and including '=', drop the value, keep what follows */
		while (v0 > seg && v0[-1] != '=')
			v0--;
		v1 = memchr(v0, ';', end - v0);
		if (v1 == NULL)
			v1 = end;
		return buf_add(out, raw, (size_t)(v0 - raw)) == -1 ||
		    buf_add(out, v1, (size_t)(end - v1)) == -1 ? -1 : 0;
	}
	return -1;
}
