/*
 * periodic.c - a thread running one duty every interval (periodic.h).
 *
 * Entry points: periodic_start(), periodic_wake(), periodic_stop(),
 * periodic_stopping(), periodic_stop_flag().
 * Invariants: the thread holds mu only while it waits, never during a tick,
 * so wake and stop never wait for a tick (stop then waits for it in join);
 * the stop flag is set under mu (the wait sees it) and atomically (a tick
 * reads it without the lock).  No logging: a start that fails returns errno
 * for its caller to report in its own words.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "clock.h"
#include "periodic.h"

/* periodic_main - wait (first_ms, then interval_ms) unless woken or stopped, tick, again */
static void *
periodic_main(void *arg)
{
	struct periodic	*p = arg;
	struct timespec	 until;
	int64_t		 ms = p->first_ms;
	int		 woken;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		clock_after(CLOCK_MONOTONIC, ms, &until);
		while (!p->stop && !p->woken &&
		    pthread_cond_timedwait(&p->cv, &p->mu, &until) != ETIMEDOUT)
			;
		if (p->stop)
			break;
		woken = p->woken;
		p->woken = 0;
		pthread_mutex_unlock(&p->mu);
		p->fn(p->arg, woken);
		pthread_mutex_lock(&p->mu);
		ms = p->interval_ms;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* periodic_start - see periodic.h */
int
periodic_start(struct periodic *p, int64_t first_ms, int64_t interval_ms, periodic_fn *fn,
    void *arg)
{
	pthread_condattr_t	ca;
	int			rc;

	p->fn = fn;
	p->arg = arg;
	p->first_ms = first_ms > 0 ? first_ms : 0;
	p->interval_ms = interval_ms > 0 ? interval_ms : 0;
	p->woken = 0;
	p->stop = 0;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&p->t, NULL, periodic_main, p)) != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		errno = rc;
		return -1;
	}
	p->running = 1;
	return 0;
}

/* periodic_wake - see periodic.h */
void
periodic_wake(struct periodic *p)
{
	pthread_mutex_lock(&p->mu);
	p->woken = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* periodic_stop - see periodic.h */
void
periodic_stop(struct periodic *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->mu);
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->t, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	p->running = 0;
}

/* periodic_stopping - see periodic.h */
int
periodic_stopping(const struct periodic *p)
{
	return __atomic_load_n(&p->stop, __ATOMIC_RELAXED) != 0;
}

/* periodic_stop_flag - see periodic.h */
const int *
periodic_stop_flag(const struct periodic *p)
{
	return &p->stop;
}
