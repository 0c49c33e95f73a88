/*
 * status.h - the HTTP status endpoint, metrics and dashboard of
 * `mxspool-replay serve` (libmicrohttpd).  It reads the index and writes
 * only the control table (pause, resume, rate) and quarantine releases; the
 * worker picks those up from the index.
 *
 * Config [http]: listen (default 127.0.0.1:8025), token (bearer for POST;
 * no token = control refused), timeout, max_connections, max_domains,
 * error_window, history.  Endpoints and fields: docs/status.md.
 */
#ifndef MXS_STATUS_H
#define MXS_STATUS_H
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct config;
struct fleet_node;
struct index_stats_replay;
struct status_server;

/* status_start - serve in libmicrohttpd's own threads; NULL + err on failure */
struct status_server	*status_start(const struct config *, char *err, size_t errlen);
void			 status_stop(struct status_server *);

/*
 * The "replay" and "storage" objects of /status (docs/status.md), shared
 * with `mxspool-replay status --json`: config_rate is [replay] rate in
 * msgs/s (-1 unparsable), errors the storage_errors counters' sum (-1: left out).
 */
json_t	*status_json_replay(const struct index_stats_replay *, double config_rate);
json_t	*status_json_storage(const struct index_stats_replay *, int64_t errors);
/*
 * status_fleet_json - the "fleet" object of /status (docs/status.md), shared
 * with `status --fleet --json`: the nodes of fleet_nodes() read at now, the
 * fleet's backlog (an adopted node's last count left out: its adopter has it).
 */
json_t	*status_fleet_json(const struct fleet_node *, size_t n, int64_t now, int64_t stale_ms);

#endif
