/*
 * fz.h - the checks the harnesses share (included by tests/fuzz/fuzz_*.c, which
 * define FZ_NAME first).  fz_check(ok, what) abort()s with "FZ_NAME: what" and,
 * when a harness set fz_context, that text: libFuzzer keeps the input.
 */
#ifndef MXS_FZ_H
#define MXS_FZ_H
#include <stdio.h>
#include <stdlib.h>

static const char *fz_context;	/* e.g. the last reply, printed with a failure */

/* fz_check - abort with a reason */
static void
fz_check(int ok, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "%s: %s%s%s%s\n", FZ_NAME, what, fz_context ? " (\"" : "",
	    fz_context ? fz_context : "", fz_context ? "\")" : "");
	abort();
}

/* fz_printable - no control character (CR, LF, NUL, DEL...): one safe line */
static inline int
fz_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

#endif
