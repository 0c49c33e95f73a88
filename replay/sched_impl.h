/*
 * sched_impl.h - what the scheduler's role files share (sched.h is the
 * interface; nothing else includes this):
 *   sched.c            lease loop: sched_run, sched_tick, sched_lease, sched_periodic
 *   sched_pool.c       worker pool: threads, the queue of leased ids, their results
 *   sched_probe.c      probe threads: the primary (SMTP connect), the object store
 *   sched_control.c    control table: paused, rate, published figures, autostart
 *   sched_housekeep.c  backlog sample, retention purge (deletes objects), forget,
 *                      reclaim of dead processes' leases, limits hit (sched_cap_hit)
 * struct sched: mu guards the queue, the results and the probes' findings;
 * the rest belongs to the scheduler thread.
 */
#ifndef MXS_SCHED_IMPL_H
#define MXS_SCHED_IMPL_H
#include <pthread.h>
#include <stdint.h>

#include "limits.h"
#include "msgid.h"
#include "rate.h"
#include "sched.h"
#include "store.h"

#define SCHED_SAMPLE_MS		60000
#define SCHED_PURGE_MS		60000
#define SCHED_PURGE_BATCH	100
#define SCHED_FORGET_BATCH	1000	/* messages' history dropped per minute */
#define SCHED_CONTROL_MS	1000
#define SCHED_IDLE_CLOSE_S	5	/* idle workers close cached connections after */
#define SCHED_LEASE_BATCH	16	/* messages leased in one transaction at most */
#define SCHED_RECLAIM_MAX	16	/* dead lease owners given back per pass */
#define SCHED_CAP_LOG_MS	60000	/* a limit that keeps being hit: one log line a minute */

struct sched_done {
	char			id[MSGID_MAX];
	struct worker_result	r;
};

struct sched {
	struct sched_conf	*conf;
	pthread_mutex_t		 mu;
	pthread_cond_t		 work_cv;	/* workers wait for ids */
	pthread_cond_t		 done_cv;	/* the scheduler waits for results */
	pthread_cond_t		 probe_cv;	/* the probe thread sleeps on it */
	char			(*q)[MSGID_MAX];
	int			 qhead, qlen, qcap;
	struct sched_done	*done;
	int			 ndone, donecap;
	int			 dropped;	/* results lost to a full done queue, not yet counted */
	int			 stopping;
	struct worker		**workers;
	pthread_t		*threads;
	/* probe thread */
	pthread_t		 probe;
	int			 probing;
	int			 health;	/* 1 up, 0 down, -1 unknown */
	int			 healthy_run;	/* consecutive healthy probes */
	int64_t			 health_ms;	/* when the last probe ended; 0 never */
	char			 health_why[ERRSTR_MAX];
	/* storage probe thread */
	pthread_t		 sprobe;
	int			 sprobing;
	int			 storage;	/* 1 ok, 0 failing, -1 unknown */
	int64_t			 storage_ms;	/* when the last storage probe ended */
	char			 storage_why[ERRSTR_MAX];
	/* what the scheduler thread last wrote to the control table */
	char			 last_ach[32], last_tgt[32], last_health[16];
	char			 last_storage[16];
	int64_t			 pub_health_ms, pub_storage_ms;
	/* scheduler thread only */
	struct fleet_agent	*fleet;		/* heartbeat, ledger, claims (NULL: fleet off) */
	int			 paused;
	int			 failed;	/* start-up failed */
	int64_t			 last_ctl, last_sample;
	int64_t			 auto_ms;	/* when we paused at start (-1: not read yet) */
	int64_t			 idle_ms;	/* nothing due before this */
	int64_t			 cap_log_ms;	/* last log line of a full done queue */
};

struct sched_paused_at {
	const char	*value;
	int64_t		 updated_ms;
};

/* sched_wait - wait on cv for at most ms (mu held) */
void	 sched_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms);

/* sched_pool.c */
int	 sched_start(struct sched *);
void	 sched_stop(struct sched *, struct index *, struct rate *, struct sched_stats *);
void	 sched_collect(struct sched *, struct index *, struct rate *, struct sched_stats *);

/* sched_probe.c: thread bodies, arg is the struct sched */
void	*sched_probe(void *);
void	*sched_sprobe(void *);

/* sched_control.c */
int	 sched_control(struct sched *, struct index *, struct rate *, int64_t now,
	    struct sched_stats *, int64_t *auto_ms, int was_paused);
int	 sched_paused_cb(const char *key, const char *value, int64_t updated_ms, void *arg);
void	 sched_setf(struct index *, const char *key, double v, char *last, size_t lastlen);

/* sched_housekeep.c */
void	 sched_housekeeping(struct sched *, struct store *, int64_t now);
/*
 * sched_cap_hit - a limit dropped or postponed n things: counted in the
 * counters table (replay_cap_hits{cap}, in /metrics) and logged, at most once
 * per SCHED_CAP_LOG_MS per *last_log_ms (NULL: every time).
 */
void	 sched_cap_hit(struct index *, const char *cap, int n, const char *what,
	    int64_t *last_log_ms);

#endif
