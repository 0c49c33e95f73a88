/*
 * test_periodic.c - the periodic worker (common/periodic.c) behind the
 * monitor, the fleet agent, serve's fleet view and scheduled check.
 *
 *   ticks      a short interval ticks again and again (woken = 0)
 *   interval   a 1-hour interval gives the first tick and no second one
 *   wake       a 1-hour pause ends at periodic_wake(); the tick says woken
 *   stop       stop in the middle of a 1-hour pause returns; stop during a
 *              tick is seen by the tick (periodic_stopping and the flag)
 *              and waited for; stop twice and stop before start do nothing
 * Nothing is timed: a test that hangs is ended by alarm() (TEST_GUARD_S)
 * and fails with "hung".  A few short sleeps give the thread time to reach
 * its wait, so that a mutant is caught; the assertions never depend on them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "periodic.h"

#define TEST_GUARD_S	60		/* a hang ends the test after this, as a failure */
#define HOUR_MS		(3600 * 1000LL)

/* what the ticks saw, shared with the test's thread */
struct ticks {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct periodic	 p;		/* the worker under test, zeroed by guard() */
	int		 n, woken;	/* ticks so far, of them woken */
	int		 block;		/* a tick waits until stopping */
	int		 saw_stop;	/* a blocked tick saw stopping and the flag */
};

/* on_alarm - a test hung: fail loudly (write(2) is async-signal-safe) */
static void
on_alarm(int sig)
{
	static const char msg[] = "test_periodic: hung (alarm): a wait did not end\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* guard - arm the alarm, t and its worker zeroed */
static int
guard(void **state)
{
	struct ticks *t = *state;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	signal(SIGALRM, on_alarm);
	alarm(TEST_GUARD_S);
	return 0;
}

/* unguard - disarm the alarm */
static int
unguard(void **state)
{
	struct ticks *t = *state;

	alarm(0);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	return 0;
}

/* tick - count; with block, wait for stop as a long operation would */
static void
tick(void *arg, int woken)
{
	struct ticks		*t = arg;
	struct timespec		 ms = { 0, 1000000 };

	pthread_mutex_lock(&t->mu);
	t->n++;
	t->woken += woken;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (!t->block)
		return;
	while (!periodic_stopping(&t->p))
		nanosleep(&ms, NULL);
	t->saw_stop = __atomic_load_n(periodic_stop_flag(&t->p), __ATOMIC_RELAXED) != 0;
}

/* wait_ticks - until n ticks happened (the alarm ends a hang) */
static void
wait_ticks(struct ticks *t, int n)
{
	pthread_mutex_lock(&t->mu);
	while (t->n < n)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

/* start_hourly - start t's worker: the first tick after first_ms, then one an hour */
static void
start_hourly(struct ticks *t, int64_t first_ms)
{
	assert_int_equal(periodic_start(&t->p, first_ms, HOUR_MS, tick, t), 0);
}

/* test_ticks - a 5 ms interval keeps ticking, none of them woken */
static void
test_ticks(void **state)
{
	struct ticks *t = *state;

	assert_int_equal(periodic_start(&t->p, 0, 5, tick, t), 0);
	wait_ticks(t, 5);
	periodic_stop(&t->p);
	assert_true(t->n >= 5);
	assert_int_equal(t->woken, 0);
	assert_false(t->p.running);
}

/*
 * test_interval - the first tick at once, then a 1-hour pause: still one tick
 * after a while (a pause that does not wait, e.g. a deadline read on the
 * wrong clock, ticks again and again)
 */
static void
test_interval(void **state)
{
	struct ticks	*t = *state;
	struct timespec	 pause = { 0, 200 * 1000000 };

	start_hourly(t, 0);
	wait_ticks(t, 1);
	nanosleep(&pause, NULL);
	periodic_stop(&t->p);
	assert_int_equal(t->n, 1);
	assert_int_equal(t->woken, 0);
}

/*
 * test_wake - nothing for an hour, but a wake runs a tick now, which knows it
 * was woken.  The short sleeps let the thread reach its wait first (a wake
 * before the wait is seen too; this is the case a wake that does not signal
 * misses): they time nothing, the assertions hold however long the wait.
 */
static void
test_wake(void **state)
{
	struct ticks	*t = *state;
	struct timespec	 pause = { 0, 100 * 1000000 };

	start_hourly(t, HOUR_MS);
	for (int i = 1; i <= 2; i++) {		/* the first pause, and the next */
		nanosleep(&pause, NULL);
		periodic_wake(&t->p);
		wait_ticks(t, i);
		assert_int_equal(t->woken, i);
	}
	periodic_stop(&t->p);
	assert_int_equal(t->n, 2);
}

/* test_stop_in_pause - stop in a 1-hour pause returns (else the alarm), the first one too */
static void
test_stop_in_pause(void **state)
{
	struct ticks *t = *state;

	start_hourly(t, 0);
	wait_ticks(t, 1);
	periodic_stop(&t->p);
	assert_int_equal(t->n, 1);
	start_hourly(t, HOUR_MS);
	periodic_stop(&t->p);
	assert_int_equal(t->n, 1);
	assert_true(periodic_stopping(&t->p));	/* the flag stays up after stop */
}

/* test_stop_in_tick - a tick in progress sees stopping, and stop waits for it to end */
static void
test_stop_in_tick(void **state)
{
	struct ticks *t = *state;

	t->block = 1;
	start_hourly(t, 0);
	wait_ticks(t, 1);
	assert_false(periodic_stopping(&t->p));
	periodic_stop(&t->p);
	assert_true(t->saw_stop);	/* set by the tick before it returned: stop joined it */
	assert_int_equal(t->n, 1);
}

/* test_stop_safe - stop before start, and stop twice, do nothing; a stopped worker restarts */
static void
test_stop_safe(void **state)
{
	struct ticks *t = *state;

	periodic_stop(&t->p);		/* never started */
	assert_false(t->p.running);
	for (int i = 1; i <= 2; i++) {
		start_hourly(t, 0);
		wait_ticks(t, i);
		assert_false(periodic_stopping(&t->p));
		periodic_stop(&t->p);
		periodic_stop(&t->p);	/* stopped already */
		assert_false(t->p.running);
	}
	assert_int_equal(t->n, 2);
}

int
main(void)
{
	static struct ticks	t;
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test_prestate_setup_teardown(test_ticks, guard, unguard, &t),
		cmocka_unit_test_prestate_setup_teardown(test_interval, guard, unguard, &t),
		cmocka_unit_test_prestate_setup_teardown(test_wake, guard, unguard, &t),
		cmocka_unit_test_prestate_setup_teardown(test_stop_in_pause, guard, unguard, &t),
		cmocka_unit_test_prestate_setup_teardown(test_stop_in_tick, guard, unguard, &t),
		cmocka_unit_test_prestate_setup_teardown(test_stop_safe, guard, unguard, &t),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
