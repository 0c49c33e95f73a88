/*
 * status.c - the HTTP server of `mxspool-replay serve` (libmicrohttpd):
 * GET /status (JSON), GET /metrics (Prometheus), GET / (dashboard, embedded
 * replay/assets/), POST /control/{pause,resume,rate,release}.
 *
 * Entry points: status_start(), status_stop(); the answer helpers of
 * status_impl.h (the POST handlers are in status_control.c).  One
 * libmicrohttpd thread serves every connection; the index handle is used
 * under srv->lock.  GET
 * never writes; POST needs "Authorization: Bearer <[http] token>" (compared
 * in constant time on SHA-256 digests) and is refused with 403 when no token
 * is configured.  Every error answer is a JSON object {"error": "..."} with
 * a 4xx/5xx status: unknown path 404, wrong method 405 (+ Allow), missing or
 * wrong token 401 (+ WWW-Authenticate, RFC 6750 3), body over HTTP_BODY_MAX
 * 413, bad JSON 400, index busy 503.  Control actions are logged with the
 * peer address; the token never is.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "clock.h"
#include "config.h"
#include "embed.h"
#include "index.h"
#include "log.h"
#include "rate.h"
#include "status.h"
#include "status_impl.h"

#define STATUS_M_GET	1	/* GET and HEAD */
#define STATUS_M_POST	2
#define METRICS_MAX	(64 * 1024 * 1024)

struct status_req {
	struct buf	body;
	int		too_large;
};

static enum MHD_Result	status_get_json(struct status_server *, struct MHD_Connection *,
			    const char *, json_t *);
static enum MHD_Result	status_get_metrics(struct status_server *, struct MHD_Connection *,
			    const char *, json_t *);
static enum MHD_Result	status_get_asset(struct status_server *, struct MHD_Connection *,
			    const char *, json_t *);

static const struct status_route {
	const char	*path;
	int		 methods;
	status_handler	 fn;
	const char	*arg;
} status_routes[] = {
	{ "/",			STATUS_M_GET,	status_get_asset,	"index.html" },
	{ "/index.html",	STATUS_M_GET,	status_get_asset,	"index.html" },
	{ "/app.js",		STATUS_M_GET,	status_get_asset,	"app.js" },
	{ "/style.css",		STATUS_M_GET,	status_get_asset,	"style.css" },
	{ "/status",		STATUS_M_GET,	status_get_json,	NULL },
	{ "/metrics",		STATUS_M_GET,	status_get_metrics,	NULL },
	{ "/control/pause",	STATUS_M_POST,	status_control_pause,	"1" },
	{ "/control/resume",	STATUS_M_POST,	status_control_pause,	"0" },
	{ "/control/rate",	STATUS_M_POST,	status_control_rate,	NULL },
	{ "/control/release",	STATUS_M_POST,	status_control_release,	NULL },
};

/* status_peer - the client's numeric address, for the log */
void
status_peer(struct MHD_Connection *c, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;

	snprintf(out, outlen, "-");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL)
		getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), out, outlen,
		    NULL, 0, NI_NUMERICHOST);
}

/* status_send - queue a response with the headers every answer carries */
static enum MHD_Result
status_send(struct MHD_Connection *c, unsigned code, struct MHD_Response *r,
    const char *ctype)
{
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rc = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return rc;
}

/* status_json_reply - j (reference stolen) as the JSON body */
enum MHD_Result
status_json_reply(struct MHD_Connection *c, unsigned code, json_t *j, const char *hname,
    const char *hval)
{
	struct MHD_Response	*r;
	char			*s;
	size_t			 len;

	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return MHD_NO;
	len = strlen(s);
	/* one more byte: the NUL becomes the final newline, curl output ends cleanly */
	s[len] = '\n';
	r = MHD_create_response_from_buffer(len + 1, s, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(s);
		return MHD_NO;
	}
	if (hname != NULL)
		MHD_add_response_header(r, hname, hval);
	return status_send(c, code, r, "application/json");
}

/* status_error - {"error": msg} with an optional extra header */
enum MHD_Result
status_error(struct MHD_Connection *c, unsigned code, const char *msg, const char *hname,
    const char *hval)
{
	json_t *j = json_object();

	/* msg may quote the peer's bytes (a JSON parse error): status_jstr keeps it UTF-8 */
	json_object_set_new(j, "error", status_jstr(msg));
	return status_json_reply(c, code, j, hname, hval);
}

/* status_index_error - 503 for a busy index (retry), 500 otherwise */
enum MHD_Result
status_index_error(struct MHD_Connection *c, enum index_status st)
{
	if (st == INDEX_TEMPFAIL)
		return status_error(c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "index temporarily unavailable, retry", MHD_HTTP_HEADER_RETRY_AFTER, "5");
	return status_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "index error", NULL, NULL);
}

/* status_get_json - GET /status */
static enum MHD_Result
status_get_json(struct status_server *srv, struct MHD_Connection *c, const char *arg,
    json_t *body)
{
	json_t *doc;

	pthread_mutex_lock(&srv->lock);
	doc = status_json_build(srv, now_ms());
	pthread_mutex_unlock(&srv->lock);
	if (doc == NULL)
		return status_index_error(c, INDEX_TEMPFAIL);
	return status_json_reply(c, MHD_HTTP_OK, doc, NULL, NULL);
}

/* status_get_metrics - GET /metrics */
static enum MHD_Result
status_get_metrics(struct status_server *srv, struct MHD_Connection *c, const char *arg,
    json_t *body)
{
	struct MHD_Response	*r;
	struct buf		 out;
	int			 rc;

	buf_init(&out, METRICS_MAX);
	pthread_mutex_lock(&srv->lock);
	rc = metrics_render(srv, now_ms(), &out);
	pthread_mutex_unlock(&srv->lock);
	if (rc != 0) {
		buf_free(&out);
		return status_index_error(c, INDEX_TEMPFAIL);
	}
	/* the buffer is handed over to libmicrohttpd, which frees it */
	r = MHD_create_response_from_buffer(out.len, out.data, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		buf_free(&out);
		return MHD_NO;
	}
	return status_send(c, MHD_HTTP_OK, r, "text/plain; version=0.0.4; charset=utf-8");
}

/* status_get_asset - the dashboard's files, compiled into the binary */
static enum MHD_Result
status_get_asset(struct status_server *srv, struct MHD_Connection *c, const char *arg,
    json_t *body)
{
	const struct embed_file	*e;
	struct MHD_Response	*r;
	const char		*ctype, *dot;
	char			 path[64];

	snprintf(path, sizeof(path), "replay/assets/%s", arg);
	if ((e = embed_find(path)) == NULL)
		return status_error(c, MHD_HTTP_NOT_FOUND, "not found", NULL, NULL);
	dot = strrchr(arg, '.');
	ctype = strcmp(dot, ".html") == 0 ? "text/html; charset=utf-8" :
	    strcmp(dot, ".js") == 0 ? "text/javascript; charset=utf-8" :
	    "text/css; charset=utf-8";
	r = MHD_create_response_from_buffer(e->len, (void *)e->data, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	/* everything comes from this server: no CDN, no inline script, no framing */
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none';"
	    " script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';"
	    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	return status_send(c, MHD_HTTP_OK, r, ctype);
}

/* status_route_find - the route of path, or NULL */
static const struct status_route *
status_route_find(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(status_routes) / sizeof(status_routes[0]); i++)
		if (strcmp(status_routes[i].path, path) == 0)
			return &status_routes[i];
	return NULL;
}

/*
 * status_authorized - 1 if the request carries "Bearer <token>".  Both sides
 * are hashed first, so the comparison takes the same time whatever the
 * length or the first differing byte of the candidate.
 */
static int
status_authorized(struct status_server *srv, struct MHD_Connection *c)
{
	unsigned char	 sha[SHA256_DIGEST_LENGTH];
	const char	*h;

	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	/* RFC 7235 2.1: the scheme is case-insensitive */
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	for (h += 7; *h == ' '; h++)
		;
	SHA256((const unsigned char *)h, strlen(h), sha);
	return CRYPTO_memcmp(sha, srv->token_sha, sizeof(sha)) == 0;
}

/*
 * status_check - the checks answered from the headers alone, before any body
 * is read: method (405), token configured (403), token (401), Content-Length
 * (413).  Returns -1 if nothing was queued, else the queue result.
 */
static int
status_check(struct status_server *srv, struct MHD_Connection *c,
    const struct status_route *rt, const char *method, const char *url)
{
	const char	*cl;
	long long	 len;
	char		 peer[NI_MAXHOST], esc[128];
	int		 get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
			    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	if (rt->methods == STATUS_M_GET && !get)
		return status_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
		    MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (rt->methods == STATUS_M_POST && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
		return status_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed",
		    MHD_HTTP_HEADER_ALLOW, "POST");
	if (rt->methods != STATUS_M_POST)
		return -1;
	if (!srv->has_token)
		return status_error(c, MHD_HTTP_FORBIDDEN, "control API disabled:"
		    " no [http] token configured", NULL, NULL);
	if (!status_authorized(srv, c)) {
		status_peer(c, peer, sizeof(peer));
		log_warnx("- status auth-failed path=%s peer=%s",
		    log_escape(url, strlen(url), esc, sizeof(esc)), peer);
		return status_error(c, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token",
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, MHD_lookup_connection_value(c,
		    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) == NULL ?
		    "Bearer realm=\"mxspool\"" :
		    "Bearer realm=\"mxspool\", error=\"invalid_token\"");
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && (config_parse_num(cl, 0, HTTP_BODY_MAX, &len) != 0))
		return status_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large",
		    NULL, NULL);
	return -1;
}

/* status_body - the request body as a JSON object; NULL for an empty body */
static int
status_body(struct MHD_Connection *c, const struct status_req *req, json_t **out)
{
	json_error_t	 e;
	char		 msg[sizeof(e.text) + 64];

	*out = NULL;
	if (req->body.len == 0)
		return -1;
	*out = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &e);
	if (*out == NULL) {
		snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", e.line,
		    e.column, e.text);
		return status_error(c, MHD_HTTP_BAD_REQUEST, msg, NULL, NULL);
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return status_error(c, MHD_HTTP_BAD_REQUEST, "expected a JSON object", NULL, NULL);
	}
	return -1;
}

/* status_access - libmicrohttpd's request callback: route, check, read body, answer */
static enum MHD_Result
status_access(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct status_server		*srv = cls;
	const struct status_route	*rt;
	struct status_req		*req = *con_cls;
	json_t				*body = NULL;
	enum MHD_Result			 rc;
	int				 r;

	rt = status_route_find(url);
	if (req == NULL) {
		/* first call: headers only */
		if ((req = calloc(1, sizeof(*req))) == NULL)
			return MHD_NO;
		buf_init(&req->body, HTTP_BODY_MAX);
		*con_cls = req;
		if (rt == NULL)
			return status_error(c, MHD_HTTP_NOT_FOUND, "not found", NULL, NULL);
		if ((r = status_check(srv, c, rt, method, url)) >= 0)
			return (enum MHD_Result)r;
		if (rt->methods == STATUS_M_GET)
			return rt->fn(srv, c, rt->arg, NULL);
		return MHD_YES;
	}
	if (*upload_size != 0) {
		/* chunked bodies have no Content-Length: the cap applies as they come */
		if (!req->too_large && buf_add(&req->body, upload, *upload_size) != 0)
			req->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rt == NULL || rt->methods != STATUS_M_POST)
		return MHD_YES;		/* already answered */
	if (req->too_large)
		return status_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large",
		    NULL, NULL);
	if ((r = status_body(c, req, &body)) >= 0)
		return (enum MHD_Result)r;
	if (body == NULL)
		body = json_object();
	rc = rt->fn(srv, c, rt->arg, body);
	json_decref(body);
	return rc;
}

/* status_done - a request is over: free its state */
static void
status_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct status_req *req = *con_cls;

	if (req != NULL) {
		buf_free(&req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* status_mhd_log - libmicrohttpd's own errors, one line each */
static void
status_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	msg[512];
	size_t	n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warnx("- status httpd %s", msg);
}

/* status_listen_addr - "host:port" or "[v6]:port" into ss */
static int
status_listen_addr(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res;
	char		 host[128];
	const char	*port;
	size_t		 hl;
	int		 rc;

	if (spec[0] == '[') {
		port = strstr(spec, "]:");
		hl = port != NULL ? (size_t)(port - spec - 1) : 0;
		spec++;
		port = port != NULL ? port + 2 : NULL;
	} else {
		port = strrchr(spec, ':');
		hl = port != NULL ? (size_t)(port - spec) : 0;
		port = port != NULL ? port + 1 : NULL;
	}
	if (port == NULL || *port == '\0' || hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "[http] listen: expected host:port or [v6addr]:port");
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "[http] listen %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

/* status_loopback - 1 if ss is 127.0.0.0/8 or ::1 */
static int
status_loopback(const struct sockaddr_storage *ss)
{
	static const unsigned char	 lo6[16] = { [15] = 1 };
	const struct sockaddr_in	*s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6	*s6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 && memcmp(&s6->sin6_addr, lo6, 16) == 0;
}

/* status_start - serve in libmicrohttpd's own thread; NULL + err on failure */
struct status_server *
status_start(const struct config *cfg, char *err, size_t errlen)
{
	struct status_server	*srv;
	struct sockaddr_storage	 ss;
	const char		*listen, *token;
	char			 ipath[1024];
	unsigned		 timeout, conns;

	listen = config_str(cfg, "http", "listen", "127.0.0.1:8025");
	token = config_str(cfg, "http", "token", NULL);
	if (token != NULL && strlen(token) > HTTP_TOKEN_MAX) {
		snprintf(err, errlen, "%s: [http] token: longer than %d bytes", config_path(cfg),
		    HTTP_TOKEN_MAX);
		return NULL;
	}
	if (status_listen_addr(listen, &ss, err, errlen) != 0)
		return NULL;
	timeout = (unsigned)config_duration(cfg, "http", "timeout", HTTP_TIMEOUT_DEFAULT, 1,
	    3600);
	conns = (unsigned)config_num(cfg, "http", "max_connections", HTTP_CONN_DEFAULT, 1,
	    HTTP_CONN_MAX);
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&srv->lock, NULL);
	snprintf(srv->listen, sizeof(srv->listen), "%s", listen);
	snprintf(srv->node, sizeof(srv->node), "%s", config_node(cfg));
	srv->max_domains = (size_t)config_num(cfg, "http", "max_domains", HTTP_DOMAINS_DEFAULT,
	    1, HTTP_DOMAINS_MAX);
	srv->error_window_ms = 1000 * config_duration(cfg, "http", "error_window",
	    HTTP_ERRWINDOW_DEFAULT, 60, 30 * 86400);
	srv->history_ms = 1000 * config_duration(cfg, "http", "history", HTTP_HISTORY_DEFAULT,
	    600, 30 * 86400);
	/* what serve uses while the control table has no "rate" */
	if (rate_parse(config_str(cfg, "replay", "rate", "10"), &srv->config_rate) != 0)
		srv->config_rate = -1;
	if (token != NULL && *token != '\0') {
		/* only the digest is kept: requests are compared digest to digest */
		SHA256((const unsigned char *)token, strlen(token), srv->token_sha);
		srv->has_token = 1;
	}
	config_index_path(cfg, ipath, sizeof(ipath));
	if ((srv->idx = index_open(ipath, err, errlen)) == NULL)
		goto fail;
	srv->mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	    (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, status_access, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, status_mhd_log, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, status_done, srv,
	    MHD_OPTION_END);
	if (srv->mhd == NULL) {
		snprintf(err, errlen, "[http] listen %s: cannot listen (address in use or"
		    " not local?)", listen);
		goto fail;
	}
	srv->fleet = status_fleet_start(cfg);
	log_info("- status listening addr=%s control=%s", listen,
	    srv->has_token ? "token" : "disabled");
	if (!status_loopback(&ss))
		log_warnx("- status listen=%s is not loopback: /status and /metrics need no"
		    " token; restrict access with a firewall or a proxy", listen);
	return srv;
fail:
	if (srv->idx != NULL)
		index_close(srv->idx);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return NULL;
}

/* status_stop - stop serving (waits for the handler thread) and close the index */
void
status_stop(struct status_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->mhd);
	status_fleet_stop(srv->fleet);
	index_close(srv->idx);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
