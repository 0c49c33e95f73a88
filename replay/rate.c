/*
 * rate.c - token bucket, concurrency cap, slow start and AIMD (see rate.h).
 *
 * Pure arithmetic on a caller-supplied clock: no sleeping, no locking (the
 * scheduler owns the struct).  Additive increase is by time (cap/ramp per
 * second), multiplicative decrease by event, so a burst of failures from
 * concurrent deliveries counts once per RATE_HOLDOFF_MS.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rate.h"

int
rate_parse(const char *s, double *out)
{
	return config_parse_rate(s, out);
}

/* rate_floor - the lowest cur backpressure may reach */
static double
rate_floor(const struct rate *r)
{
	double f = r->cap * RATE_FLOOR_FRACTION;

	if (f < RATE_FLOOR_MIN)
		f = RATE_FLOOR_MIN;
	return f > r->cap ? r->cap : f;
}

/* rate_burst - tokens the bucket holds at most */
static double
rate_burst(const struct rate *r)
{
	double b = r->cur * RATE_BURST_S;

	return b < 1.0 ? 1.0 : b;
}

/* rate_advance - grow cur and the bucket up to now */
static void
rate_advance(struct rate *r, int64_t now)
{
	double dt;

	if (now <= r->last_ms)
		return;
	dt = (double)(now - r->last_ms) / 1000.0;
	r->last_ms = now;
	if (r->cap <= 0)
		return;
	r->cur += r->cap / r->ramp_s * dt;
	if (r->cur > r->cap)
		r->cur = r->cap;
	r->tokens += r->cur * dt;
	if (r->tokens > rate_burst(r))
		r->tokens = rate_burst(r);
}

void
rate_init(struct rate *r, double cap, int concurrency, double ramp_s, int64_t now)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap > 0 ? cap : 0;
	r->concurrency = concurrency > 0 ? concurrency : 1;
	r->ramp_s = ramp_s > 0 ? ramp_s : 1;
	rate_restart(r, now);
}

void
rate_restart(struct rate *r, int64_t now)
{
	r->cur = r->cap * RATE_START_FRACTION;
	if (r->cur < rate_floor(r))
		r->cur = rate_floor(r);
	r->tokens = 1.0;
	r->last_ms = now;
}

void
rate_set_cap(struct rate *r, double cap, int64_t now)
{
	int was_unlimited = r->cap <= 0;

	rate_advance(r, now);
	r->cap = cap > 0 ? cap : 0;
	if (was_unlimited && r->cap > 0) {
		rate_restart(r, now);
		return;
	}
	if (r->cur > r->cap)
		r->cur = r->cap;
	if (r->cur < rate_floor(r))
		r->cur = rate_floor(r);
}

int
rate_acquire(struct rate *r, int64_t now, int64_t *wait_ms)
{
	*wait_ms = 0;
	if (r->inflight >= r->concurrency)
		return 0;
	rate_advance(r, now);
	if (r->cap > 0) {
		if (r->tokens < 1.0) {
			*wait_ms = (int64_t)((1.0 - r->tokens) / r->cur * 1000.0) + 1;
			return 0;
		}
		r->tokens -= 1.0;
	}
	r->inflight++;
	return 1;
}

void
rate_cancel(struct rate *r)
{
	if (r->inflight > 0)
		r->inflight--;
	if (r->cap > 0)
		r->tokens += 1.0;
}

/* rate_count - one completion in the achieved-rate window */
static void
rate_count(struct rate *r, int64_t now)
{
	int64_t	sec = now / 1000;
	int	i = (int)(sec % RATE_WINDOW_S);

	if (r->win_sec[i] != sec) {
		r->win_sec[i] = sec;
		r->win_count[i] = 0;
	}
	r->win_count[i]++;
}

void
rate_congested(struct rate *r, int64_t now)
{
	rate_advance(r, now);
	if (r->cap <= 0)
		return;
	if (r->congest_ms != 0 && now - r->congest_ms < RATE_HOLDOFF_MS)
		return;
	r->congest_ms = now;
	r->cur *= RATE_DECREASE;
	if (r->cur < rate_floor(r))
		r->cur = rate_floor(r);
	if (r->tokens > rate_burst(r))
		r->tokens = rate_burst(r);
}

void
rate_release(struct rate *r, int64_t now, enum rate_outcome o)
{
	if (r->inflight > 0)
		r->inflight--;
	rate_count(r, now);
	if (o == RATE_CONGESTED)
		rate_congested(r, now);
}

double
rate_current(struct rate *r, int64_t now)
{
	rate_advance(r, now);
	return r->cap > 0 ? r->cur : 0;
}

double
rate_achieved(struct rate *r, int64_t now)
{
	int64_t	sec = now / 1000;
	int	n = 0;

	for (int i = 0; i < RATE_WINDOW_S; i++)
		if (r->win_sec[i] > sec - RATE_WINDOW_S && r->win_sec[i] <= sec)
			n += r->win_count[i];
	return (double)n / RATE_WINDOW_S;
}
