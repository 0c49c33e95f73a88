/*
 * worker.h - deliver one leased message: fetch its bytes, group its pending
 * recipients by route, run the SMTP/LMTP transactions, record the outcome.
 *
 * A struct worker belongs to one thread: its own store (object store and
 * index handles) and a small cache of open connections per target.  The
 * shared struct worker_conf is read-only while workers run.
 *
 * Outcomes per recipient: 2xx delivered; 4xx, no reply, connection failures
 * pending (retry after backoff with jitter); 5xx quarantine (never a bounce).
 * Past its deadline a message expires: DSN through dsn_relay, none for <>,
 * held for the operator when no relay is configured.
 */
#ifndef MXS_WORKER_H
#define MXS_WORKER_H
#include <stddef.h>
#include <stdint.h>

#include "deliver.h"
#include "limits.h"

struct arc_conf;
struct config;
struct route_rate;

struct worker_conf {
	const struct config	*cfg;
	struct deliver_routes	*routes;	/* [routes], read-only while workers run */
	struct deliver_opts	 dopts;
	int			 has_override;	/* drain --to */
	struct deliver_route	 override;
	int			 has_dsn_relay;
	struct deliver_route	 dsn_relay;
	char			 owner[128];	/* lease owner "host:pid" */
	char			 reporting_mta[256];
	const char		*only_domain;	/* drain filters on recipients */
	const char		*only_rcpt;
	struct route_rate	*route_rates;	/* [route_rates]; NULL if none */
	struct arc_conf		*arc;		/* [arc] sealing; NULL when off */
	int64_t			 min_backoff_ms;
	int64_t			 max_backoff_ms;
	int64_t			 lifetime_ms;
	int64_t			 lease_ms;
};

/* what one message's attempt came to (for the scheduler and drain's progress) */
struct worker_result {
	int	delivered;	/* recipients */
	int	deferred;
	int	quarantined;
	int	expired;
	int	congested;	/* 421/4xx, timeouts, connection failures: slow down */
	int	final;		/* left the queue: delivered, quarantine, expired */
	int	lost;		/* our lease was gone: nothing done */
};

struct worker;

/* worker_open - per-thread handles; NULL + err */
struct worker	*worker_open(const struct worker_conf *, int n, char *err, size_t errlen);
void		 worker_close(struct worker *);
/* worker_run - deliver leased message id */
void		 worker_run(struct worker *, const char *id, struct worker_result *);
/* worker_idle - close cached connections (nothing to do for a while) */
void		 worker_idle(struct worker *);
/* worker_backoff_ms - retry delay after attempts attempts (exponential, jittered) */
int64_t		 worker_backoff_ms(const struct worker_conf *, int attempts, uint32_t rnd);

#endif
