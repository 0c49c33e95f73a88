/*
 * dkim.h - the text forms DKIM (RFC 6376) and ARC (RFC 8617) share: header
 * fields split out of a header block, relaxed/simple canonicalization of a
 * header field (3.4.1, 3.4.2), a streamed body hash (3.4.3, 3.4.4, 3.7) and
 * tag=value lists (3.2).
 *
 * The body hasher never holds the body: it is fed chunks and keeps only a
 * few bytes of state (pending CRLFs and whitespace), so a 50 MB message
 * costs one SHA-256 pass and no memory.  Header fields point into the
 * caller's header block (no copies).  Errors: -1 (out of memory or over a
 * bound), never logged here.
 */
#ifndef MXS_DKIM_H
#define MXS_DKIM_H
#include <stddef.h>

#include <openssl/evp.h>

#include "buf.h"

enum dkim_canon { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };

/* one header field of a header block: name, and the whole field without its final CRLF */
struct dkim_hdr {
	const char	*name;
	size_t		 namelen;
	const char	*raw;
	size_t		 len;
};

/* the body hash state (a few bytes besides the digest context) */
struct dkim_body {
	EVP_MD_CTX	*md;
	enum dkim_canon	 canon;
	size_t		 crlfs;		/* line ends seen but not yet hashed (trailing empty lines) */
	int		 wsp;		/* relaxed: whitespace seen but not yet hashed */
	int		 cr;		/* a CR waiting for its LF */
	int		 any;		/* some content was hashed */
};

/*
 * dkim_split - the header fields of blk (the header block up to, not including, the empty
 * line); fills at most max entries.  Returns the count, or -1 when there are more than max
 * or a line is neither a field nor a continuation.
 */
int	dkim_split(const char *blk, size_t len, struct dkim_hdr *h, size_t max);
/* dkim_hdr_is - 1 if the field is named name (case-insensitive) */
int	dkim_hdr_is(const struct dkim_hdr *, const char *name);
/* dkim_hdr_value - start of the value (after the colon) and its length */
const char *dkim_hdr_value(const struct dkim_hdr *, size_t *len);
/* dkim_canon_header - append field raw[0..len) canonicalized, without a CRLF */
int	dkim_canon_header(struct buf *out, enum dkim_canon, const char *raw, size_t len);

/* dkim_body_init - SHA-256 body hash in canonicalization c; -1 out of memory */
int	dkim_body_init(struct dkim_body *, enum dkim_canon c);
/* dkim_body_feed - hash n more body bytes */
int	dkim_body_feed(struct dkim_body *, const char *p, size_t n);
/* dkim_body_final - the digest (32 bytes) into out; frees the context */
int	dkim_body_final(struct dkim_body *, unsigned char out[32]);
void	dkim_body_free(struct dkim_body *);

/*
 * dkim_tag - value of tag in a tag-list (RFC 6376 3.2) into out, folding whitespace removed
 * when strip is set (b=, bh=, p=); 1 found, 0 absent, -1 too long for out.
 */
int	dkim_tag(const char *list, size_t len, const char *tag, char *out, size_t outlen,
	    int strip);
/* dkim_strip_b - copy raw to out with the value of its b= tag removed (signing input) */
int	dkim_strip_b(struct buf *out, const char *raw, size_t len);

#endif
