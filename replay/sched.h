/*
 * sched.h - the replay scheduler shared by `serve` (the daemon) and `drain`
 * (foreground delivery): leases due messages oldest first under the rate
 * control (rate.h) and hands them to a pool of worker threads (worker.h).
 *
 * serve mode (use_control): obeys the control table (paused, rate), writes
 * achieved_rate, target_rate, primary_health, a backlog sample a minute,
 * purges delivered objects past retention, probes the primary and resumes
 * a start-paused worker after autostart_probes healthy probes.
 * drain mode (exit_when_empty): a filter, flush_before (attempted before the
 * drain began counts as due), a message limit; returns when nothing is left.
 *
 * Stopping (*stop set by a signal): no new leases; in-flight messages finish;
 * leased but unstarted messages are given back.
 */
#ifndef MXS_SCHED_H
#define MXS_SCHED_H
#include <signal.h>
#include <stdint.h>

#include "index_replay.h"
#include "worker.h"

struct sched_stats {
	int64_t	leased;		/* messages handed to workers */
	int64_t	done;		/* attempts finished */
	int64_t	final;		/* messages that left the queue */
	int64_t	delivered;	/* recipients */
	int64_t	deferred;
	int64_t	quarantined;
	int64_t	expired;
	int64_t	lost;
	double	achieved;	/* messages/s over the last window */
	double	target;		/* allowed messages/s now (0: unlimited) */
	int	inflight;
	char	blocked[256];	/* why a claim on this node stops delivery ("" if not) */
};

struct sched_conf {
	struct worker_conf	 wc;
	int			 concurrency;
	double			 rate;		/* messages/s cap; 0 unlimited */
	double			 ramp_s;	/* slow start: seconds to reach the cap */
	int			 use_control;	/* serve */
	int			 exit_when_empty;	/* drain */
	struct index_filter	 filter;
	int64_t			 flush_before;
	int64_t			 limit;		/* lease at most this many; 0 = all */
	int64_t			 poll_ms;	/* look for due messages this often */
	int64_t			 retention_ms;
	int64_t			 forget_ms;	/* history kept after the purge; 0: forever */
	int64_t			 probe_ms;	/* 0: no probes */
	int			 storage_timeout_s;	/* one storage probe at most (serve) */
	int			 start_paused;
	int			 autostart_probes;	/* 0: off */
	/* called after each finished attempt and once a second (may be NULL) */
	void			(*progress)(const struct sched_stats *, const char *id,
				    const struct worker_result *, void *);
	void			*progress_arg;
};

/* sched_owner - this process's lease owner name "host:pid" */
void	sched_owner(char *out, size_t outlen);
/* sched_reclaim - give back leases of dead processes of this host; returns how many */
int	sched_reclaim(struct index *);
/* sched_run - run until *stop or (drain) nothing is left; 0 ok, -1 start-up failure (logged) */
int	sched_run(struct sched_conf *, volatile sig_atomic_t *stop, struct sched_stats *);

#endif
