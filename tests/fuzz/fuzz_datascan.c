/*
 * fuzz_datascan.c - libFuzzer harness for the DATA state machine (ingest/datascan.c).
 *
 * Input: byte 0 picks the line limit (3..258), byte 1 seeds the read splits and
 * by its low bit picks the mode: DATA (0) or BDAT (1, chunked); the rest is
 * message text.  DATA: "\r\n.\r\n" is appended so the data always ends.
 * BDAT (RFC 3030): nothing ends the data, the output is the input exactly, a CR
 * at the very end is bare (datascan_finish), the flags are as for DATA.
 * Checks, against a naive reference written from RFC 5321 alone (4.1.1.4
 * end of data, 4.5.2 transparency, 2.3.8 bare CR/LF):
 *   - the end is the first CR LF "." CR LF, counting the 354 as a CR LF;
 *   - the output is the input before that dot line with one leading dot
 *     removed from every line;
 *   - the bare, nul and longline flags;
 *   - none of it depends on how the input is split across reads: every
 *     two-way split (inputs up to 300 bytes) and a pseudo-random chunking.
 * Any difference abort()s, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datascan.h"

struct fz_out {
	unsigned char	*p;
	size_t		 n;
};

struct fz_result {
	struct fz_out	 out;
	size_t		 consumed;
	int		 end, bare, nul, longline;
};

/* fz_put - datascan output callback: append */
static void
fz_put(void *arg, const void *p, size_t n)
{
	struct fz_out *o = arg;

	memcpy(o->p + o->n, p, n);
	o->n += n;
}

/* fz_fail - report a mismatch and abort so libFuzzer keeps the input */
static void
fz_fail(const char *what, size_t split)
{
	fprintf(stderr, "fuzz_datascan: %s differs (split %zu)\n", what, split);
	abort();
}

/* fz_bol - is position i at the start of a line (after CR LF, or at 0) */
static int
fz_bol(const unsigned char *b, size_t i)
{
	return i == 0 || (i >= 2 && b[i - 2] == '\r' && b[i - 1] == '\n');
}

/* fz_reference - the naive model; b ends with "\r\n.\r\n" so an end exists */
static void
fz_reference(const unsigned char *b, size_t n, size_t maxline, struct fz_result *r)
{
	size_t i, dot = 0, j, line = 0;

	for (i = 0; i + 2 < n; i++)
		if (fz_bol(b, i) && b[i] == '.' && b[i + 1] == '\r' && b[i + 2] == '\n') {
			dot = i;
			break;
		}
	if (i + 2 >= n)
		abort();	/* cannot happen: the suffix ends the data */
	r->end = 1;
	r->consumed = dot + 3;
	for (j = 0; j < dot; j++) {
		if (b[j] == '\r' && b[j + 1] != '\n')
			r->bare = 1;
		if (b[j] == '\n' && (j == 0 || b[j - 1] != '\r'))
			r->bare = 1;
		if (b[j] == '\0')
			r->nul = 1;
		if (b[j] == '\r' && b[j + 1] == '\n') {
			/* CR LF ends the line: its length excludes the CR LF */
			if (line + 2 > maxline)
				r->longline = 1;
			line = 0;
			r->out.p[r->out.n++] = '\r';
			r->out.p[r->out.n++] = '\n';
			j++;
			continue;
		}
		line++;
		if (!(fz_bol(b, j) && b[j] == '.'))
			r->out.p[r->out.n++] = b[j];
	}
	/* the final "." line itself counts one octet (the machine checks it too) */
	if (1 + 2 > maxline)
		r->longline = 1;
}

/* fz_reference_chunked - the naive model of a BDAT message: bytes as they are */
static void
fz_reference_chunked(const unsigned char *b, size_t n, size_t maxline, struct fz_result *r)
{
	size_t j, line = 0;

	memcpy(r->out.p, b, n);
	r->out.n = n;
	r->consumed = n;
	for (j = 0; j < n; j++) {
		if (b[j] == '\r' && (j + 1 == n || b[j + 1] != '\n'))
			r->bare = 1;
		if (b[j] == '\n' && (j == 0 || b[j - 1] != '\r'))
			r->bare = 1;
		if (b[j] == '\0')
			r->nul = 1;
		if (b[j] == '\r' && j + 1 < n && b[j + 1] == '\n') {
			line = 0;
			j++;
			continue;
		}
		if (++line + 2 > maxline)
			r->longline = 1;
	}
}

/* fz_run - feed b in pieces: cuts[] are the piece ends (ascending, the last is b's length) */
static void
fz_run(const unsigned char *b, size_t maxline, const size_t *cuts, size_t ncuts,
    int chunked, struct fz_result *r)
{
	struct datascan	d;
	size_t		k, from = 0, used;

	if (chunked)
		datascan_init_chunked(&d, maxline);
	else
		datascan_init(&d, maxline);
	for (k = 0; k < ncuts && !d.end; k++) {
		used = datascan_run(&d, b + from, cuts[k] - from, fz_put, &r->out);
		if (used > cuts[k] - from)
			abort();
		if (!d.end && used != cuts[k] - from)
			fz_fail("partial consumption without end", from);
		r->consumed = from + used;
		from = cuts[k];
	}
	if (chunked)
		datascan_finish(&d, fz_put, &r->out);
	r->end = d.end;
	r->bare = d.bare;
	r->nul = d.nul;
	r->longline = d.longline;
}

/* fz_compare - same result as the reference */
static void
fz_compare(const struct fz_result *want, const struct fz_result *got, size_t split)
{
	if (got->end != want->end)
		fz_fail("end", split);
	if (got->consumed != want->consumed)
		fz_fail("consumed", split);
	if (got->out.n != want->out.n || memcmp(got->out.p, want->out.p, want->out.n) != 0)
		fz_fail("content", split);
	if (got->bare != want->bare)
		fz_fail("bare", split);
	if (got->nul != want->nul)
		fz_fail("nul", split);
	if (got->longline != want->longline)
		fz_fail("longline", split);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input: reference, one read, every 2-split, random chunks */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 tail[] = "\r\n.\r\n";
	struct fz_result	 want, got;
	unsigned char		*b;
	size_t			 n, maxline, k, cuts[2], *many, nmany = 0, pos = 0;
	unsigned int		 seed;
	int			 chunked;

	if (size < 2)
		return 0;
	maxline = 3 + data[0];
	seed = data[1] * 2654435761u + 1;
	chunked = data[1] & 1;
	n = size - 2 + (chunked ? 0 : 5);
	if ((b = malloc(n + 1)) == NULL)
		return 0;
	memcpy(b, data + 2, size - 2);
	if (!chunked)
		memcpy(b + size - 2, tail, 5);

	memset(&want, 0, sizeof(want));
	want.out.p = malloc(n + 1);
	if (chunked)
		fz_reference_chunked(b, n, maxline, &want);
	else
		fz_reference(b, n, maxline, &want);

	memset(&got, 0, sizeof(got));
	got.out.p = malloc(n + 1);
	cuts[0] = n;
	fz_run(b, maxline, cuts, 1, chunked, &got);
	fz_compare(&want, &got, 0);

	/* every two-way split: the terminator split over two reads at each offset */
	for (k = 1; k < n && n <= 300; k++) {
		got.out.n = 0;
		cuts[0] = k;
		cuts[1] = n;
		fz_run(b, maxline, cuts, 2, chunked, &got);
		fz_compare(&want, &got, k);
	}

	/* pseudo-random chunks of 1..8 bytes */
	many = malloc((n + 1) * sizeof(*many));
	while (pos < n) {
		seed = seed * 1103515245u + 12345u;
		pos += 1 + (seed >> 16) % 8;
		many[nmany++] = pos < n ? pos : n;
	}
	got.out.n = 0;
	fz_run(b, maxline, many, nmany, chunked, &got);
	fz_compare(&want, &got, (size_t)-1);

	free(many);
	free(got.out.p);
	free(want.out.p);
	free(b);
	return 0;
}
