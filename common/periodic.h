/*
 * periodic.h - a background thread that runs one duty every interval: the
 * ingest's primary monitor, the fleet agent, and serve's fleet view and
 * scheduled check share its start / wake / stop instead of each writing the
 * mutex, condition variable and stop flag again.
 *
 * The pause before each tick is on CLOCK_MONOTONIC (a wall-clock step neither
 * skips nor repeats a tick) and is counted from the end of the previous tick,
 * so a slow tick is never followed by another at once.  periodic_wake() ends
 * the pause now; periodic_stop() ends it too and waits for a tick in
 * progress, which may watch periodic_stopping() (or hand periodic_stop_flag()
 * to a long operation, e.g. check_run) to end early.
 *
 * The struct is its owner's, zeroed before use (calloc or = { 0 }).  The
 * owner calls start and stop, never both at once; periodic_wake may come
 * from any thread between start and stop.  Stop on a struct never started,
 * or stopped already, does nothing.
 */
#ifndef MXS_PERIODIC_H
#define MXS_PERIODIC_H
#include <pthread.h>
#include <stdint.h>

/* a tick: woken is 1 when periodic_wake() ended the pause, 0 when it ran out */
typedef void	periodic_fn(void *arg, int woken);

struct periodic {
	pthread_t	 t;
	pthread_mutex_t	 mu;		/* guards woken, stop (the thread's wait) */
	pthread_cond_t	 cv;		/* CLOCK_MONOTONIC */
	periodic_fn	*fn;
	void		*arg;
	int64_t		 first_ms, interval_ms;
	int		 woken;
	int		 stop;		/* written under mu, atomically: a tick reads it */
	int		 running;	/* the owner's: a thread to join */
};

/*
 * periodic_start - a thread that calls fn(arg, woken) first_ms from now (0: at
 * once), then interval_ms after each tick ends.  0, or -1 with errno
 * (pthread_create's) and nothing started.
 */
int		 periodic_start(struct periodic *, int64_t first_ms, int64_t interval_ms,
		    periodic_fn *fn, void *arg);
/* periodic_wake - run the next tick now (with woken = 1); once if woken twice before it */
void		 periodic_wake(struct periodic *);
/* periodic_stop - end the pause at once, wait for a tick in progress; no tick after it */
void		 periodic_stop(struct periodic *);
/* periodic_stopping - 1 once periodic_stop() was called: a tick in progress should end */
int		 periodic_stopping(const struct periodic *);
/* periodic_stop_flag - the flag itself (nonzero: stopping; read it atomically) */
const int	*periodic_stop_flag(const struct periodic *);

#endif
