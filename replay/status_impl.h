/*
 * status_impl.h - what the status modules share (not a public contract):
 * the server's settings and index handle, the /status document builder
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

#include "buf.h"
#include "limits.h"

struct index;
struct MHD_Daemon;

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
};

/* the states a message can be in (schema/001_init.sql), zeros included in output */
extern const char *const status_states[];

int64_t	 status_now_ms(void);
/* status_jstr - a JSON string of s; bytes that are not UTF-8 become '?' */
json_t	*status_jstr(const char *s);

/* status_json_build - the /status document, or NULL when the index failed */
json_t	*status_json_build(struct status_server *, int64_t now_ms);
/* metrics_render - the /metrics text (format 0.0.4) into out; -1 on index failure */
int	 metrics_render(struct status_server *, int64_t now_ms, struct buf *out);

#endif
