/*
 * datascan.c - the DATA text state machine (see datascan.h).
 *
 * States: bol (at the start of a line: after CR LF or the 354), dot (the line
 * so far is exactly the '.' at its start, which was dropped: RFC 5321 4.5.2;
 * any further byte clears it), cr (the last byte was a CR whose meaning
 * depends on the next byte).  CR LF with dot set ends the data.  A CR not
 * followed by LF and an LF not preceded by CR are content and set bare; the
 * policy (reject or keep) is the caller's.  linelen counts wire octets since
 * the last CR LF (a dropped dot and bare CR/LF included, the CR LF not).
 * Chunked mode (BDAT, RFC 3030) has no dot state: dot is never set, so nothing
 * ends the data and a leading dot is content.
 * Entry points: datascan_init(), datascan_init_chunked(), datascan_run(),
 * datascan_finish().
 */
#include <string.h>

#include "datascan.h"

/* datascan_init - see datascan.h */
void
datascan_init(struct datascan *d, size_t maxline)
{
	memset(d, 0, sizeof(*d));
	d->maxline = maxline;
	d->bol = 1;
}

/* datascan_init_chunked - see datascan.h */
void
datascan_init_chunked(struct datascan *d, size_t maxline)
{
	datascan_init(d, maxline);
	d->chunked = 1;
}

/* datascan_len - account n octets of the current line */
static void
datascan_len(struct datascan *d, size_t n)
{
	d->linelen += n;
	if (d->linelen + 2 > d->maxline)
		d->longline = 1;
}

/* datascan_finish - see datascan.h */
void
datascan_finish(struct datascan *d, void (*put)(void *, const void *, size_t), void *arg)
{
	if (d->cr) {
		d->cr = 0;
		d->bare = 1;
		put(arg, "\r", 1);
		datascan_len(d, 1);
	}
}

/* datascan_run - see datascan.h */
size_t
datascan_run(struct datascan *d, const unsigned char *p0, size_t n,
    void (*put)(void *, const void *, size_t), void *arg)
{
	const unsigned char	*p = p0, *e = p0 + n, *q;
	unsigned char		 c;

	while (p < e && !d->end) {
		if (!d->cr && !d->bol) {
			/* the common case: a run of ordinary text within a line */
			for (q = p; q < e && *q != '\r' && *q != '\n' && *q != '\0'; q++)
				;
			if (q > p) {
				d->dot = 0;
				put(arg, p, q - p);
				datascan_len(d, q - p);
				p = q;
				continue;
			}
		}
		c = *p++;
		if (d->cr) {
			d->cr = 0;
			if (c == '\n') {
				if (d->dot) {
					d->end = 1;
					break;
				}
				put(arg, "\r\n", 2);
				d->bol = 1;
				d->dot = 0;
				d->linelen = 0;
				continue;
			}
			d->bare = 1;		/* bare CR: content, never a line end */
			d->dot = 0;
			put(arg, "\r", 1);
			datascan_len(d, 1);
		}
		if (c == '\r') {
			d->cr = 1;
			d->bol = 0;
			continue;
		}
		if (c == '\n') {
			d->bare = 1;		/* bare LF: content, not a line start */
			d->bol = 0;
			d->dot = 0;
			put(arg, "\n", 1);
			datascan_len(d, 1);
			continue;
		}
		if (c == '\0')
			d->nul = 1;
		d->dot = 0;
		if (d->bol) {
			d->bol = 0;
			if (c == '.' && !d->chunked) {
				d->dot = 1;
				datascan_len(d, 1);
				continue;
			}
		}
		put(arg, &c, 1);
		datascan_len(d, 1);
	}
	return p - p0;
}
