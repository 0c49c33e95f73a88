/*
 * status_impl.h - what the status modules share (not a public contract):
 * the server's settings and index handle, the answer helpers (status.c),
 * the control handlers (status_control.c), the /status document builder
 * (status_json.c) and the Prometheus renderer (metrics.c).
 *
 * Both builders run under srv->lock (one index handle, one thread at a time)
 * and return NULL / -1 when the index failed; the failure is logged by
 * index_stats and the caller answers 503.
 */
#ifndef MXS_STATUS_IMPL_H
#define MXS_STATUS_IMPL_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "buf.h"
#include "index.h"
#include "limits.h"

struct config;
struct status_fleet;

struct status_server {
	struct MHD_Daemon	*mhd;
	pthread_mutex_t		 lock;		/* guards idx */
	struct index		*idx;
	int			 has_token;	/* 0: the control API is refused (403) */
	unsigned char		 token_sha[32];	/* SHA-256 of [http] token, not the token */
	char			 node[MSGID_NODE_MAX + 1];
	char			 listen[128];
	int64_t			 error_window_ms;	/* [http] error_window */
	int64_t			 history_ms;		/* [http] history */
	size_t			 max_domains;		/* [http] max_domains */
	double			 config_rate;	/* [replay] rate, msgs/s; -1 if unparsable */
	struct status_fleet	*fleet;		/* the bucket's heartbeats, read on a schedule */
};

/* status_jstr - a JSON string of s; bytes that are not UTF-8 become '?' */
json_t	*status_jstr(const char *s);
/* status_json_class - "2xx" "4xx" "5xx", "none" (code 0) or "other": a reply code's class */
const char	*status_json_class(int code);

/* a route's handler: arg from the route table, body the parsed JSON object (POST) */
typedef enum MHD_Result (*status_handler)(struct status_server *, struct MHD_Connection *,
    const char *arg, json_t *body);

/* status.c: answers (each queues the response; the JSON reference is stolen) */
void		 status_peer(struct MHD_Connection *, char *out, size_t outlen);
enum MHD_Result	 status_json_reply(struct MHD_Connection *, unsigned code, json_t *,
		    const char *hname, const char *hval);
enum MHD_Result	 status_error(struct MHD_Connection *, unsigned code, const char *msg,
		    const char *hname, const char *hval);
enum MHD_Result	 status_index_error(struct MHD_Connection *, enum index_status);

/* status_control.c: POST /control/pause|resume (arg "1"/"0"), /rate, /release */
enum MHD_Result	 status_control_pause(struct status_server *, struct MHD_Connection *,
		    const char *, json_t *);
enum MHD_Result	 status_control_rate(struct status_server *, struct MHD_Connection *,
		    const char *, json_t *);
enum MHD_Result	 status_control_release(struct status_server *, struct MHD_Connection *,
		    const char *, json_t *);

/*
 * status_fleet.c: a thread reads the fleet's heartbeats every [fleet]
 * heartbeat_interval; start gives NULL when [fleet] enabled = no (or the
 * store cannot be opened: logged); get: a copy of the last view, JSON null
 * before the first read or for a NULL handle.
 */
struct status_fleet	*status_fleet_start(const struct config *);
json_t			*status_fleet_get(struct status_fleet *);
void			 status_fleet_stop(struct status_fleet *);

/* status_json_build - the /status document, or NULL when the index failed */
json_t	*status_json_build(struct status_server *, int64_t now_ms);
/* metrics_render - the /metrics text (format 0.0.4) into out; -1 on index failure */
int	 metrics_render(struct status_server *, int64_t now_ms, struct buf *out);

#endif
