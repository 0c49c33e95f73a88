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

struct config;
struct status_server;

/* status_start - serve in libmicrohttpd's own threads; NULL + err on failure */
struct status_server	*status_start(const struct config *, char *err, size_t errlen);
void			 status_stop(struct status_server *);

#endif
