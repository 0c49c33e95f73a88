/*
 * test_rate.c - replay/rate.c: token bucket, concurrency cap, slow start, AIMD,
 * achieved rate.  The clock is injected: no sleeps, no timing assertions.
 * Only the public API of rate.h is used (linked from libmxreplay.a).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rate.h"
#include "testlib.h"

/* count_starts - messages started over [from, to) ms, stepping 1 ms, each ending at once */
static int
count_starts(struct rate *r, int64_t from, int64_t to)
{
	int64_t	t, wait;
	int	n = 0;

	for (t = from; t < to; t++)
		while (rate_acquire(r, t, &wait)) {
			rate_release(r, t, RATE_OK);
			n++;
		}
	return n;
}

static void
test_bucket_steady(void **state)
{
	struct rate	r;
	int		n;

	rate_init(&r, 10, 100, 0.001, 0);	/* near-instant ramp */
	count_starts(&r, 0, 1000);		/* reach the cap */
	n = count_starts(&r, 1000, 11000);	/* 10 s at 10/s */
	assert_in_range(n, 99, 102);
}

static void
test_bucket_fractional(void **state)
{
	struct rate	r;
	int64_t		wait;
	int		n;

	rate_init(&r, 0.5, 4, 0.001, 0);
	count_starts(&r, 0, 100);
	n = count_starts(&r, 100, 20100);	/* 20 s at one per 2 s */
	assert_in_range(n, 9, 11);
	/* wait_ms says when the next token comes, roughly 2 s after the last */
	assert_int_equal(rate_acquire(&r, 20100, &wait), 0);
	assert_in_range(wait, 1, 2001);
}

static void
test_concurrency_cap(void **state)
{
	struct rate	r;
	int64_t		wait;

	rate_init(&r, 0, 3, 1, 0);		/* unlimited rate */
	assert_int_equal(rate_acquire(&r, 0, &wait), 1);
	assert_int_equal(rate_acquire(&r, 0, &wait), 1);
	assert_int_equal(rate_acquire(&r, 0, &wait), 1);
	assert_int_equal(rate_acquire(&r, 0, &wait), 0);
	assert_int_equal(wait, 0);		/* waiting for a slot, not a token */
	rate_release(&r, 1, RATE_OK);
	assert_int_equal(rate_acquire(&r, 1, &wait), 1);
	assert_true(rate_current(&r, 1) == 0);
}

static void
test_slow_start(void **state)
{
	static const struct { int64_t t; double want; } steps[] = {
		{ 0, 10 }, { 1000, 20 }, { 5000, 60 }, { 9000, 100 }, { 20000, 100 },
	};
	struct rate	r;

	rate_init(&r, 100, 8, 10, 0);		/* 10/s at start, +10/s each second */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		double got = rate_current(&r, steps[i].t);

		if (got < steps[i].want - 0.01 || got > steps[i].want + 0.01)
			fail_msg("t=%lld: got %.3f, want %.3f", (long long)steps[i].t, got,
			    steps[i].want);
	}
}

static void
test_aimd(void **state)
{
	struct rate	r;
	double		c;

	rate_init(&r, 100, 8, 1000, 0);		/* slope 0.1/s: growth small */
	r.cur = 100;				/* as if ramped up */
	rate_congested(&r, 1000);
	c = rate_current(&r, 1000);
	assert_true(c > 49.9 && c < 50.1);
	rate_congested(&r, 1500);		/* within the holdoff: counts once */
	c = rate_current(&r, 1500);
	assert_true(c > 49.9 && c < 50.2);
	rate_congested(&r, 2100);		/* after: halves again */
	c = rate_current(&r, 2100);
	assert_true(c > 24.9 && c < 25.2);
	/* then climbs additively: 100 s later +10 */
	c = rate_current(&r, 102100);
	assert_true(c > 34.9 && c < 35.2);
	/* never below the floor (2% of the cap) */
	for (int i = 0; i < 50; i++)
		rate_congested(&r, 200000 + i * 2000);
	c = rate_current(&r, 200000 + 49 * 2000);
	assert_true(c >= 2.0 && c < 2.5);
}

static void
test_release_congested(void **state)
{
	struct rate	r;
	int64_t		wait;

	rate_init(&r, 40, 2, 1000, 0);
	r.cur = 40;
	assert_int_equal(rate_acquire(&r, 0, &wait), 1);
	rate_release(&r, 10, RATE_CONGESTED);
	assert_int_equal(r.inflight, 0);
	assert_true(rate_current(&r, 10) < 20.1);
}

static void
test_set_cap_and_achieved(void **state)
{
	struct rate	r;

	rate_init(&r, 100, 8, 1, 0);
	assert_true(rate_current(&r, 5000) > 99.9);
	rate_set_cap(&r, 5, 5000);
	assert_true(rate_current(&r, 5000) <= 5.0);
	for (int i = 0; i < 30; i++) {
		r.inflight = 1;
		rate_release(&r, 6000 + i, RATE_OK);
	}
	assert_true(rate_achieved(&r, 6500) > 2.99 && rate_achieved(&r, 6500) < 3.01);
	assert_true(rate_achieved(&r, 30000) == 0);	/* window passed */
	rate_set_cap(&r, 0, 31000);			/* unlimited: no pacing */
	assert_true(rate_current(&r, 31000) == 0);
	rate_set_cap(&r, 10, 32000);			/* limited again: slow start */
	assert_true(rate_current(&r, 32000) < 1.01);
}

static void
test_rate_parse(void **state)
{
	static const struct { const char *in; int rc; double want; } t[] = {
		{ "10", 0, 10 }, { "0.5", 0, 0.5 }, { "0", 0, 0 }, { "10/s", 0, 10 },
		{ "600/m", 0, 10 }, { "3600/h", 0, 1 }, { "", -1, 0 }, { "-1", -1, 0 },
		{ "fast", -1, 0 }, { "10/d", -1, 0 }, { "inf", -1, 0 }, { "nan", -1, 0 },
		{ "1e9", -1, 0 }, { " 5", -1, 0 }, { "5 ", -1, 0 },
	};
	double v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = -1;
		if (rate_parse(t[i].in, &v) != t[i].rc)
			fail_msg("\"%s\": got rc %d, want %d", t[i].in, -t[i].rc - 1, t[i].rc);
		if (t[i].rc == 0 && (v < t[i].want - 1e-9 || v > t[i].want + 1e-9))
			fail_msg("\"%s\": got %f, want %f", t[i].in, v, t[i].want);
	}
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_bucket_steady),
	cmocka_unit_test(test_bucket_fractional),
	cmocka_unit_test(test_concurrency_cap),
	cmocka_unit_test(test_slow_start),
	cmocka_unit_test(test_aimd),
	cmocka_unit_test(test_release_congested),
	cmocka_unit_test(test_set_cap_and_achieved),
	cmocka_unit_test(test_rate_parse),
)
