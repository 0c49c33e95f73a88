/*
 * route_rate.h - optional per-route rate caps ([route_rates]), shared by the
 * worker threads: a token bucket with slow start and AIMD (rate.h) per target.
 *
 *   [route_rates]
 *   example.com = 2        ; the route used for example.com: at most 2 msgs/s
 *
 * Keys are [routes] keys (domain, .parent or *); the cap applies to the target
 * that key routes to, whatever domain uses it.  A worker waits (sleeps) for a
 * token before each transaction to a capped target; the global rate and
 * concurrency caps still apply on top.
 */
#ifndef MXS_ROUTE_RATE_H
#define MXS_ROUTE_RATE_H
#include <stddef.h>

struct config;
struct deliver_routes;
struct route_rate;

/* route_rate_load - the [route_rates] section; NULL with err "" when empty, NULL + err if bad */
struct route_rate *route_rate_load(const struct config *, const struct deliver_routes *,
		    double ramp_s, char *err, size_t errlen);
void	route_rate_free(struct route_rate *);
/* route_rate_wait - block until target may start a transaction (no cap: at once) */
void	route_rate_wait(struct route_rate *, const char *target);
/* route_rate_done - the transaction ended; congested: 4xx, timeout, connection failure */
void	route_rate_done(struct route_rate *, const char *target, int congested);

#endif
