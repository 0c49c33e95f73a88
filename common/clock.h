/*
 * clock.h - the two clocks of mxspool, in milliseconds.
 *
 * now_ms() is the wall clock: times stored in the index, ids, ages shown to
 * people.  mono_ms() is CLOCK_MONOTONIC: deadlines, back-off and rates, which
 * a wall-clock step must never move.  One pair here instead of a private copy
 * per module.
 */
#ifndef MXS_CLOCK_H
#define MXS_CLOCK_H
#include <stdint.h>
#include <time.h>

/* now_ms - wall clock in milliseconds since the epoch */
int64_t	now_ms(void);
/* mono_ms - monotonic clock in milliseconds (deadlines, intervals) */
int64_t	mono_ms(void);

/* clock_after - clk's now + ms as a timespec, for pthread_*_timed* and deadlines */
void	clock_after(clockid_t clk, int64_t ms, struct timespec *ts);

#endif
