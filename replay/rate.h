/*
 * rate.h - delivery rate control: token bucket, concurrency cap, slow start
 * and AIMD backpressure, with an injected clock (unit-testable).
 *
 * The allowed rate cur starts low (slow start at cap * RATE_START_FRACTION)
 * and climbs additively by cap/ramp per second to cap.  On congestion (421,
 * other 4xx, timeouts, connection failures) cur is multiplied by
 * RATE_DECREASE, at most once per RATE_HOLDOFF_MS, never below a floor.  A
 * token bucket at cur (burst: RATE_BURST_S seconds' worth, at least 1) paces
 * message starts; inflight is bounded by the concurrency cap.  cap 0 means
 * unlimited: no pacing and no AIMD, only the concurrency cap.
 */
#ifndef MXS_RATE_H
#define MXS_RATE_H
#include <stdint.h>

#include "limits.h"	/* RATE_MAX */

#define RATE_START_FRACTION	0.1
#define RATE_DECREASE		0.5
#define RATE_HOLDOFF_MS		1000
#define RATE_BURST_S		0.1
#define RATE_FLOOR_FRACTION	0.02
#define RATE_FLOOR_MIN		0.01
#define RATE_WINDOW_S		10	/* achieved rate is averaged over this window */

enum rate_outcome { RATE_OK, RATE_CONGESTED };

struct rate {
	double	cap;		/* msgs/s ceiling; 0 unlimited */
	double	cur;		/* allowed msgs/s now */
	double	ramp_s;		/* seconds from 0 to cap */
	double	tokens;
	int	concurrency;
	int	inflight;
	int64_t	last_ms;	/* tokens and cur updated until here */
	int64_t	congest_ms;	/* last decrease; 0 never */
	int64_t	win_sec[RATE_WINDOW_S];	/* which second each bucket counts */
	int	win_count[RATE_WINDOW_S];
};

/* rate_parse - "10", "0.5", "10/s", "600/m", "3600/h" -> messages/s; 0 ok, -1 bad */
int	rate_parse(const char *, double *);

/* rate_init - cap msgs/s (0 unlimited), concurrency >= 1, ramp seconds > 0 */
void	rate_init(struct rate *, double cap, int concurrency, double ramp_s, int64_t now);
/* rate_set_cap - new ceiling (operator); cur is clamped, the climb continues */
void	rate_set_cap(struct rate *, double cap, int64_t now);
/* rate_restart - slow start again (after a pause) */
void	rate_restart(struct rate *, int64_t now);
/*
 * rate_acquire - 1 if a message may start now (a token and a slot are taken);
 * else 0 and *wait_ms is how long until a token (0 when waiting for a slot).
 */
int	rate_acquire(struct rate *, int64_t now, int64_t *wait_ms);
/* rate_cancel - give back what rate_acquire took (nothing was due after all) */
void	rate_cancel(struct rate *);
/* rate_release - a message started by rate_acquire ended with this outcome */
void	rate_release(struct rate *, int64_t now, enum rate_outcome);
/* rate_congested - backpressure without a slot (e.g. a failed probe) */
void	rate_congested(struct rate *, int64_t now);
/* rate_current - allowed msgs/s now (cap 0: 0) */
double	rate_current(struct rate *, int64_t now);
/* rate_achieved - messages completed per second over the last RATE_WINDOW_S */
double	rate_achieved(struct rate *, int64_t now);

#endif
