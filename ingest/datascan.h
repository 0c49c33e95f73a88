/*
 * datascan.h - the DATA text state machine: end-of-data, dot-unstuffing and
 * the bare CR/LF, NUL and line-length checks (RFC 5321 4.1.1.4, 4.5.2, 2.3.8).
 *
 * Pure: no I/O, no allocation.  smtp_data.c feeds it each read; the fuzz
 * harness tests/fuzz/fuzz_datascan.c feeds it random splits.  Invariant: only
 * CR LF "." CR LF ends the data (the first CR LF may be the 354 reply, i.e.
 * the data may start with ".\r\n"); a bare CR or LF never starts a line, so no
 * smuggling variant ends it.  In chunked mode (BDAT) nothing ends it.  The result does not depend on how the input is
 * split across calls.
 */
#ifndef MXS_DATASCAN_H
#define MXS_DATASCAN_H
#include <stddef.h>

struct datascan {
	size_t	maxline;	/* longest text line allowed, CR LF included */
	size_t	linelen;	/* wire octets of the current line so far */
	int	bol, cr, dot;	/* at line start; last byte CR; line is "." so far */
	int	end;		/* the terminating CR LF . CR LF was consumed */
	int	bare, nul, longline;	/* a bare CR or LF; a NUL; a line over maxline */
	int	chunked;	/* BDAT (RFC 3030): no dot handling, no end of data */
};

/* datascan_init - state right after the 354 reply */
void	datascan_init(struct datascan *, size_t maxline);

/*
 * datascan_init_chunked - state for a BDAT transaction: the bytes are taken as
 * they are (no dot-unstuffing, nothing ends the data: the chunk sizes do), only
 * the bare CR/LF, NUL and line-length checks apply.  Chunks are fed in order.
 */
void	datascan_init_chunked(struct datascan *, size_t maxline);

/* datascan_finish - end of a BDAT message: a CR still pending is a bare CR */
void	datascan_finish(struct datascan *, void (*put)(void *, const void *, size_t), void *arg);

/*
 * datascan_run - scan p[0..n): message bytes (unstuffed, CR LF kept) go to
 * put(arg, bytes, len) in order; returns how many input bytes were consumed
 * (all of them unless the end was reached: then the bytes after the final
 * LF are left for the command loop).
 */
size_t	datascan_run(struct datascan *, const unsigned char *p, size_t n,
	    void (*put)(void *, const void *, size_t), void *arg);

#endif
