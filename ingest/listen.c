/*
 * listen.c - listening sockets, the accept thread, one thread per session.
 *
 * listen_open() binds every "addr:port" of [ingest] listen ("[::1]:2525" for
 * IPv6, comma separated) before privileges are dropped.  listen_start() runs
 * the accept thread: it applies the connection limits that need no protocol
 * (max_sessions, per-client concurrency and connection rate: 421 and close,
 * written from the accept thread without blocking) and starts a detached
 * session thread with a small stack ([ingest] thread_stack_size), so a
 * thousand idle clients cost little memory and never delay accept().
 * listen_stop() closes the sockets; sessions are ended by main.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "ingest.h"
#include "log.h"

#define LISTEN_MAX	16

struct listen_arg {
	int	fd;
	int	port;
	char	addr[64];
	char	client[LIMITS_CLIENT_MAX];	/* addr's network: the key of client_limits.c */
};

static int		 listen_fds[LISTEN_MAX];
static int		 listen_n;
static int		 listen_wake[2] = { -1, -1 };
static pthread_t	 listen_thread;
static int		 listen_running;
static int		 listen_nsessions;

/* listen_one - bind one "host:port" / "[v6]:port" (config_parse_listen's syntax); -1 with err */
static int
listen_one(const char *spec, char *err, size_t errlen)
{
	char		 host[256], port[8], why[256];
	struct addrinfo	 hints, *res = NULL;
	int		 fd, on = 1, r, portnum;

	if (config_parse_listen(spec, CONFIG_LISTEN_ANY, host, sizeof(host), &portnum, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "[ingest] listen: %s", why);
		return -1;
	}
	snprintf(port, sizeof(port), "%d", portnum);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "[ingest] listen: \"%s\": %s", spec, gai_strerror(r));
		return -1;
	}
	if (listen_n == LISTEN_MAX ||
	    (fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		snprintf(err, errlen, "[ingest] listen: \"%s\": too many or socket: %s", spec,
		    strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 511) != 0) {
		snprintf(err, errlen, "[ingest] listen: \"%s\": %s", spec, strerror(errno));
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	listen_fds[listen_n++] = fd;
	log_info("- ingest listen addr=%s", spec);
	return 0;
}

/* listen_open - bind every comma-separated address of spec */
int
listen_open(const char *spec, char *err, size_t errlen)
{
	char	copy[1024], *p, *e;

	snprintf(copy, sizeof(copy), "%s", spec);
	for (p = copy; p != NULL; p = e) {
		if ((e = strchr(p, ',')) != NULL)
			*e++ = '\0';
		while (*p == ' ')
			p++;
		if (*p == '\0')
			continue;
		if (listen_one(p, err, errlen) != 0)
			return -1;
	}
	if (listen_n == 0) {
		snprintf(err, errlen, "[ingest] listen: no address");
		return -1;
	}
	return 0;
}

/* listen_session - session thread body */
static void *
listen_session(void *arg)
{
	struct listen_arg *a = arg;

	smtp_session_run(a->fd, a->addr, a->client, a->port);
	free(a);
	__atomic_sub_fetch(&listen_nsessions, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* listen_refuse - one-line 421 on a fresh socket (the buffer is empty: no block) */
static void
listen_refuse(int fd, const char *msg)
{
	(void)!send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* listen_addr - numeric client address, IPv4-mapped IPv6 shown as IPv4 */
static void
listen_addr(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t outlen,
    int *port)
{
	char serv[16];

	if (getnameinfo((const struct sockaddr *)ss, len, out, outlen, serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, outlen, "unknown");
	if (strncmp(out, "::ffff:", 7) == 0 && strchr(out + 7, '.') != NULL)
		memmove(out, out + 7, strlen(out + 7) + 1);
	*port = (int)strtol(serv, NULL, 10);
}

/* listen_accept - one connection from lfd */
static void
listen_accept(int lfd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct listen_arg	*a;
	struct ingest_rt	*rt;
	pthread_attr_t		 attr;
	pthread_t		 t;
	enum limits_result	 lr;
	char			 msg[512];
	int			 fd, stack;

	if ((fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0) {
		if (errno == EMFILE || errno == ENFILE)
			usleep(100000);
		return;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		close(fd);
		return;
	}
	a->fd = fd;
	listen_addr(&ss, len, a->addr, sizeof(a->addr), &a->port);
	rt = ingest_rt_get();
	limits_client(a->addr, rt->conf, a->client, sizeof(a->client));
	stack = rt->conf->stack_size;
	if (__atomic_load_n(&listen_nsessions, __ATOMIC_SEQ_CST) >= rt->conf->max_sessions) {
		counters_inc(COUNTERS_REJ_CONCURRENCY);
		log_info("- ingest refuse addr=%s reason=max_sessions", a->addr);
		snprintf(msg, sizeof(msg), "421 4.3.2 %s Service busy, try later\r\n",
		    rt->conf->hostname);
		lr = LIMITS_CONCURRENCY;
	} else if ((lr = limits_connect(a->client, rt->conf)) != LIMITS_OK) {
		counters_inc(lr == LIMITS_RATE ? COUNTERS_REJ_RATE : COUNTERS_REJ_CONCURRENCY);
		log_info("- ingest refuse addr=%s client=%s reason=%s", a->addr, a->client,
		    lr == LIMITS_RATE ? "connection_rate" : "connection_count");
		snprintf(msg, sizeof(msg), "421 4.7.0 %s Error: too many connections from %s\r\n",
		    rt->conf->hostname, a->addr);
	}
	ingest_rt_put(rt);
	if (lr != LIMITS_OK) {
		listen_refuse(fd, msg);
		free(a);
		return;
	}
	__atomic_add_fetch(&listen_nsessions, 1, __ATOMIC_SEQ_CST);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, stack);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, listen_session, a) != 0) {
		__atomic_sub_fetch(&listen_nsessions, 1, __ATOMIC_SEQ_CST);
		log_warnx("- ingest refuse addr=%s reason=thread", a->addr);
		limits_disconnect(a->client);
		listen_refuse(fd, "421 4.3.2 Service busy, try later\r\n");
		free(a);
	}
	pthread_attr_destroy(&attr);
}

/* listen_main - poll the listening sockets and the wake pipe */
static void *
listen_main(void *arg)
{
	struct pollfd	pfd[LISTEN_MAX + 1];
	int		i;

	for (;;) {
		for (i = 0; i < listen_n; i++) {
			pfd[i].fd = listen_fds[i];
			pfd[i].events = POLLIN;
		}
		pfd[listen_n].fd = listen_wake[0];
		pfd[listen_n].events = POLLIN;
		if (poll(pfd, listen_n + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("listen: poll");
		}
		if (pfd[listen_n].revents != 0)
			return NULL;
		for (i = 0; i < listen_n; i++)
			if (pfd[i].revents != 0)
				listen_accept(listen_fds[i]);
	}
}

/* listen_start - start the accept thread */
int
listen_start(void)
{
	if (pipe2(listen_wake, O_CLOEXEC) != 0 ||
	    pthread_create(&listen_thread, NULL, listen_main, NULL) != 0)
		return -1;
	listen_running = 1;
	return 0;
}

/* listen_stop - stop accepting and close the listening sockets */
void
listen_stop(void)
{
	int i;

	if (listen_running) {
		(void)!write(listen_wake[1], "x", 1);
		pthread_join(listen_thread, NULL);
		listen_running = 0;
	}
	for (i = 0; i < listen_n; i++)
		close(listen_fds[i]);
	listen_n = 0;
}

/* listen_sessions - sessions running now */
int
listen_sessions(void)
{
	return __atomic_load_n(&listen_nsessions, __ATOMIC_SEQ_CST);
}
