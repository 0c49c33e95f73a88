/*
 * health.c - the ingest health endpoint: GET /healthz on [ingest] health_listen.
 *
 * 200 "ok" only when a message can be taken: the object store was last seen
 * working (store_healthy reads the storage circuit breaker: no request to the
 * store is made here, so a hung store never delays the answer) or the
 * fallback spool has room, the staging and index file systems are not full,
 * and the index is writable (its lock waited for at most a second); else 503
 * with the reason as text, for load balancers and monitoring.  The check
 * itself is ingest_healthy() in main.c (it owns the health store handle).  libmicrohttpd runs its own thread; the socket is bound at start,
 * before privileges are dropped.  Other paths: 404; other methods: 405.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ingest.h"
#include "log.h"

static struct MHD_Daemon *health_daemon;

/* health_send - a small text/plain response */
static enum MHD_Result
health_send(struct MHD_Connection *c, unsigned int code, const char *text)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* health_handler - one request */
static enum MHD_Result
health_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *data, size_t *datalen, void **state)
{
	char why[256], text[320];

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return health_send(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/healthz") != 0)
		return health_send(c, MHD_HTTP_NOT_FOUND, "not found\n");
	why[0] = '\0';
	if (ingest_healthy(why, sizeof(why)))
		return health_send(c, MHD_HTTP_OK, "ok\n");
	snprintf(text, sizeof(text), "unhealthy: %s\n", why);
	return health_send(c, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

/* health_start - listen on "addr:port" (IPv4 or [IPv6]); "" disables */
int
health_start(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	char			 host[128], *p;
	long			 port;
	unsigned int		 flags = MHD_USE_INTERNAL_POLLING_THREAD;

	if (spec[0] == '\0')
		return 0;
	snprintf(host, sizeof(host), "%s", spec);
	if ((p = strrchr(host, ':')) == NULL)
		goto bad;
	*p++ = '\0';
	port = strtol(p, &p, 10);
	if (*p != '\0' || port < 1 || port > 65535)
		goto bad;
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = '\0';
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			goto bad;
		flags |= MHD_USE_IPv6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto bad;
	}
	health_daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, health_handler, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT, 64,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10, MHD_OPTION_END);
	if (health_daemon == NULL) {
		snprintf(err, errlen, "[ingest] health_listen %s: cannot listen", spec);
		return -1;
	}
	log_info("- ingest health_listen addr=%s", spec);
	return 0;
bad:
	snprintf(err, errlen, "[ingest] health_listen \"%s\": want addr:port", spec);
	return -1;
}

/* health_stop - stop the HTTP thread */
void
health_stop(void)
{
	if (health_daemon != NULL)
		MHD_stop_daemon(health_daemon);
	health_daemon = NULL;
}
