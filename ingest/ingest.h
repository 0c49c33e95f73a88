/*
 * ingest.h - shared declarations of the mxspool-ingest daemon modules.
 *
 *   ingest_conf.c   [ingest] keys -> struct ingest_conf; the runtime snapshot
 *                   (conf + verify + TLS context) that SIGHUP swaps
 *   listen.c        listening sockets, accept thread, session threads
 *   client_limits.c per-client concurrency, connection/message/recipient rates
 *   smtp_session.c  one client connection: I/O, TLS, timeouts, replies
 *   smtp_cmd.c      command table and the envelope commands
 *   smtp_data.c     DATA: staging, dot-unstuffing, bare CR/LF policy, commit
 *   auth.c          SPF, DKIM, DMARC of a staged message (auth.h); auth_hdr.c its
 *                   header scan and our Authentication-Results:
 *   commit.c        commit worker threads, each with its own struct store
 *   counters.c      accepted/rejected counters, flushed to the index
 *   health.c        HTTP GET /healthz
 * Invariant: a session holds one reference on the snapshot it started with;
 * a reload never changes a snapshot in place.
 */
#ifndef MXS_INGEST_H
#define MXS_INGEST_H
#include <linux/limits.h>	/* PATH_MAX */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct config;
struct dnsbl;
struct verify;
struct monitor;
struct ssl_ctx_st;

enum ingest_bare_policy {
	INGEST_BARE_REJECT = 0,	/* 550 5.6.0 after the terminating dot */
	INGEST_BARE_KEEP,	/* store as received; only CRLF.CRLF ends the data */
};

struct ingest_conf {
	char		 hostname[256];
	char		 listen[1024];
	char		 health_listen[128];
	char		 tls_cert[PATH_MAX];
	char		 tls_key[PATH_MAX];
	char		 staging_dir[PATH_MAX];
	char		 user[64];
	int		 require_tls;
	long long	 max_message_size;
	int		 max_recipients;
	int		 rcpt_overshoot;	/* RCPTs over max_recipients before they are errors */
	int		 max_line_length;	/* command line incl. CRLF */
	int		 max_data_line;		/* DATA text line incl. CRLF */
	int		 cmd_timeout;		/* seconds */
	int		 cmd_deadline;		/* seconds from a command's first byte to its end */
	int		 data_timeout;
	int		 min_data_rate;		/* bytes/s after the first data_rate_grace s */
	int		 greet_delay;		/* seconds; 0: no pre-greeting check */
	int		 max_sessions;
	int		 conn_limit;		/* per client (see v4_prefix/v6_prefix); 0 off */
	int		 v4_prefix, v6_prefix;	/* a "client" of the limits: the network of this length */
	int		 conn_rate;		/* per client per minute; 0 off */
	int		 msg_rate;
	int		 rcpt_rate;
	int		 soft_error_limit;
	int		 hard_error_limit;
	int		 junk_limit;		/* non-mail commands per transaction */
	int		 error_sleep;		/* seconds, per error over the soft limit */
	int		 error_sleep_max;
	long long	 min_free_space;	/* bytes free on the staging file system */
	enum ingest_bare_policy bare_newline;
	enum ingest_bare_policy nul_policy;
	int		 commit_workers;
	int		 shutdown_grace;
	int		 flush_interval;
	int		 counters_interval;
	int		 stack_size;		/* session thread stack, bytes */
};

/* a consistent set of everything a reload may replace */
struct ingest_rt {
	int			 refs;
	struct ingest_conf	*conf;
	struct verify		*verify;
	struct ssl_ctx_st	*tls;		/* NULL: no STARTTLS */
	struct dnsbl		*dnsbl;		/* NULL: no [dnsbl] sites */
};

/* global daemon state (main.c) */
struct ingest_global {
	struct config	*config;		/* start-up config: node, storage, index */
	struct monitor	*monitor;
	int		 stop_fd;		/* readable once shutdown began */
	int		 hard_fd;		/* readable once the grace period is over */
	volatile int	 stopping;
};
extern struct ingest_global ingest;

/* ingest_conf.c */
struct ingest_rt *ingest_conf_read(const char *path, struct config **,
		    void (*fn)(const char *line, void *), void *arg);
void		 ingest_conf_load(const struct config *, struct ingest_conf *);
struct ingest_rt *ingest_rt_build(const struct config *, char *err, size_t errlen);
void		 ingest_rt_install(struct ingest_rt *);
struct ingest_rt *ingest_rt_get(void);
void		 ingest_rt_put(struct ingest_rt *);
void		 ingest_rt_clear(void);

/* listen.c */
int		 listen_open(const char *spec, char *err, size_t errlen);
int		 listen_start(void);
void		 listen_stop(void);
int		 listen_sessions(void);

/* client_limits.c (named apart from common/limits.h, which holds the *_MAX bounds) */
enum limits_result {
	LIMITS_OK = 0,
	LIMITS_CONCURRENCY,
	LIMITS_RATE,
};
#define LIMITS_CLIENT_MAX	64
void		 limits_client(const char *addr, const struct ingest_conf *, char *out, size_t outlen);
enum limits_result limits_connect(const char *client, const struct ingest_conf *);
void		 limits_disconnect(const char *client);
enum limits_result limits_message(const char *client, const struct ingest_conf *);
enum limits_result limits_rcpt(const char *client, const struct ingest_conf *);

/* smtp_session.c */
void		 smtp_session_run(int fd, const char *addr, const char *client, int port);

/* commit.c */
int		 commit_start(const struct config *, int workers, char *err, size_t errlen);
enum store_status commit_submit(const struct envelope *, int fd, off_t size,
		    char *reason, size_t reasonlen);
void		 commit_stop(void);

/* staging.c */
int		 staging_get(const char *dir);
void		 staging_put(int fd, const char *dir);
void		 staging_drain(void);

/* counters.c */
enum counters_id {
	COUNTERS_ACCEPTED = 0,
	COUNTERS_REJ_RELAY,
	COUNTERS_REJ_UNKNOWN_USER,
	COUNTERS_REJ_VERIFY_TEMPFAIL,
	COUNTERS_REJ_SIZE,
	COUNTERS_REJ_RCPT_LIMIT,
	COUNTERS_REJ_SYNTAX,
	COUNTERS_REJ_PIPELINING,
	COUNTERS_REJ_PREGREET,
	COUNTERS_REJ_BARE_NEWLINE,
	COUNTERS_REJ_NUL,
	COUNTERS_REJ_LONG_LINE,
	COUNTERS_REJ_STORE_TEMPFAIL,
	COUNTERS_REJ_STORE_NOSPACE,
	COUNTERS_REJ_DISK,
	COUNTERS_REJ_RATE,
	COUNTERS_REJ_CONCURRENCY,
	COUNTERS_REJ_MONITOR,
	COUNTERS_REJ_TLS_REQUIRED,
	COUNTERS_REJ_HTTP,
	COUNTERS_REJ_ERRORS,
	COUNTERS_REJ_TIMEOUT,
	COUNTERS_REJ_BINARY,
	COUNTERS_REJ_JUNK,
	COUNTERS_REJ_DNSBL,
	COUNTERS_REJ_DMARC,
	COUNTERS_N
};
void		 counters_inc(enum counters_id);
void		 counters_auth(int method, const char *result);
struct index;
int		 counters_flush(struct index *);

/* health.c */
int		 health_start(const char *spec, char *err, size_t errlen);
void		 health_stop(void);
/* main.c: 1 when the store can take a message and the index is writable */
int		 ingest_healthy(char *why, size_t whylen);

#endif
