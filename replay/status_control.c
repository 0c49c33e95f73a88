/*
 * status_control.c - the control API of the status server: POST
 * /control/pause, /control/resume, /control/rate and /control/release.
 *
 * Entry points: status_control_pause/rate/release, called by status.c once
 * the request passed its checks (POST, token, body size) and its body parsed
 * as a JSON object.  They write only the control table (index_kv_set) and
 * quarantine releases through ops.c (the CLI's operations too), under srv->lock,
 * and log one line per action with the peer address.  Bad values get 400,
 * unknown messages 404, nothing to release 409, a busy index 503.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <math.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "index.h"
#include "index_replay.h"
#include "log.h"
#include "ops.h"
#include "rate.h"
#include "status_impl.h"

/* status_control_log - one line per control action */
static void
status_control_log(struct MHD_Connection *c, const char *action, const char *detail)
{
	char peer[NI_MAXHOST];

	status_peer(c, peer, sizeof(peer));
	log_info("- status control action=%s%s%s peer=%s", action, *detail ? " " : "",
	    detail, peer);
}

/* status_control_pause - POST /control/pause and /control/resume (arg "1"/"0") */
enum MHD_Result
status_control_pause(struct status_server *srv, struct MHD_Connection *c, const char *arg,
    json_t *body)
{
	enum index_status st;

	pthread_mutex_lock(&srv->lock);
	st = ops_pause(srv->idx, *arg == '1');
	if (st != INDEX_OK)
		log_warnx("- status control failed: %s", index_error(srv->idx));
	pthread_mutex_unlock(&srv->lock);
	if (st != INDEX_OK)
		return status_index_error(c, st);
	status_control_log(c, *arg == '1' ? "pause" : "resume", "");
	return status_json_reply(c, MHD_HTTP_OK, json_pack("{s:b}", "paused", *arg == '1'),
	    NULL, NULL);
}

/*
 * status_control_rate - POST /control/rate {"rate": N}: messages/s as a number
 * (10, 0.5; 0 = unlimited) or a string as the CLI takes it ("600/m").  Stored
 * as the CLI stores it, so serve reads either the same way (rate_parse).
 */
enum MHD_Result
status_control_rate(struct status_server *srv, struct MHD_Connection *c, const char *arg,
    json_t *body)
{
	json_t			*v = json_object_get(body, "rate");
	enum index_status	 st;
	char			 val[64];
	double			 rate;
	int			 bad;

	if (json_is_number(v)) {
		snprintf(val, sizeof(val), "%.17g", json_number_value(v));
		bad = rate_parse(val, &rate);
	} else
		bad = json_is_string(v) ? rate_parse(json_string_value(v), &rate) : -1;
	if (bad) {
		snprintf(val, sizeof(val), "%.0f", RATE_MAX);
		return status_json_reply(c, MHD_HTTP_BAD_REQUEST, json_pack("{s:s++}", "error",
		    "\"rate\" must be messages/s from 0 (unlimited) to ", val,
		    ", a number or a string like \"600/m\""), NULL, NULL);
	}
	pthread_mutex_lock(&srv->lock);
	st = ops_rate(srv->idx, rate);
	if (st != INDEX_OK)
		log_warnx("- status control failed: %s", index_error(srv->idx));
	pthread_mutex_unlock(&srv->lock);
	if (st != INDEX_OK)
		return status_index_error(c, st);
	snprintf(val, sizeof(val), "rate=%.6g", rate);
	status_control_log(c, "rate", val);
	return status_json_reply(c, MHD_HTTP_OK, json_pack("{s:o}", "rate", rate == floor(rate) ?
	    json_integer((json_int_t)rate) : json_real(rate)), NULL, NULL);
}

/* status_control_release_all - release every quarantined message; the ids go into out */
static enum index_status
status_control_release_all(struct status_server *srv, json_t *out)
{
	struct index_filter	 f;
	char			(*ids)[MSGID_MAX] = NULL;
	enum index_status	 st;
	int64_t			 now = now_ms();
	size_t			 i, n = 0;
	int			 changed;

	memset(&f, 0, sizeof(f));
	f.state = QS_QUARANTINE;
	st = ops_ids(srv->idx, &f, &ids, &n);
	for (i = 0; st == INDEX_OK && i < n; i++) {
		st = ops_apply(srv->idx, OPS_QRELEASE, ids[i], now, 0, &changed);
		if (st == INDEX_NOTFOUND)
			st = INDEX_OK;		/* deleted meanwhile */
		else if (st == INDEX_OK && changed)
			json_array_append_new(out, json_string(ids[i]));
	}
	free(ids);
	return st;
}

/* status_control_release - POST /control/release {"id": ID} or {"all": true} */
enum MHD_Result
status_control_release(struct status_server *srv, struct MHD_Connection *c, const char *arg,
    json_t *body)
{
	json_t			*id = json_object_get(body, "id");
	json_t			*all = json_object_get(body, "all"), *ids;
	enum index_status	 st;
	char			 esc[MSGID_MAX * 4], detail[sizeof(esc) + 32];
	int			 changed = 0;

	if ((id == NULL) == (all == NULL) || (all != NULL && !json_is_true(all)) ||
	    (id != NULL && (!json_is_string(id) || json_string_length(id) == 0 ||
	    json_string_length(id) >= MSGID_MAX)))
		return status_error(c, MHD_HTTP_BAD_REQUEST, "expected {\"id\": \"<message id>\"}"
		    " or {\"all\": true}", NULL, NULL);
	ids = json_array();
	pthread_mutex_lock(&srv->lock);
	if (all != NULL)
		st = status_control_release_all(srv, ids);
	else {
		st = ops_apply(srv->idx, OPS_QRELEASE, json_string_value(id), now_ms(), 0,
		    &changed);
		if (st == INDEX_OK && changed)
			json_array_append_new(ids, json_copy(id));
	}
	pthread_mutex_unlock(&srv->lock);
	if (st == INDEX_NOTFOUND) {
		json_decref(ids);
		return status_error(c, MHD_HTTP_NOT_FOUND, "no such message", NULL, NULL);
	}
	if (st != INDEX_OK) {
		log_warnx("- status control release failed");
		json_decref(ids);
		return status_index_error(c, st);
	}
	if (id != NULL && !changed) {
		json_decref(ids);
		return status_error(c, MHD_HTTP_CONFLICT, "message has no quarantined recipient",
		    NULL, NULL);
	}
	/* the id came from the peer: escaped for the log */
	if (id != NULL)
		log_escape(json_string_value(id), json_string_length(id), esc, sizeof(esc));
	snprintf(detail, sizeof(detail), "released=%zu%s%s", json_array_size(ids),
	    id != NULL ? " id=" : "", id != NULL ? esc : "");
	status_control_log(c, "release", detail);
	return status_json_reply(c, MHD_HTTP_OK, json_pack("{s:I,s:o}", "released",
	    (json_int_t)json_array_size(ids), "ids", ids), NULL, NULL);
}
