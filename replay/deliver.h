/*
 * deliver.h - the SMTP/LMTP client that hands messages to the primary.
 *
 * Not libcurl: it must report one reply per recipient, and speak LMTP
 * (RFC 2033: one reply per accepted recipient after the data).  Every reply
 * is bounded (SMTP_REPLYLINE_MAX, SMTP_REPLY_MAX, SMTP_REPLY_LINES_MAX);
 * a reply over those bounds, without a valid code, or received before a
 * command was sent (injection around STARTTLS) ends the connection as a
 * temporary failure.  Plaintext read-ahead is discarded after STARTTLS.
 *
 * Routes ([routes] section, like Postfix transport_maps):
 *   example.test = smtp://10.0.0.5:25        (or lmtp://host:port, lmtp:unix:/path,
 *   *            = smtp://primary.internal     smtp:unix:/path)
 * [deliver] tls = none|opportunistic|required, tls_verify = yes, ca_file,
 *   auth_user, auth_password (env:NAME), helo_name, connect_timeout,
 *   command_timeout, data_timeout; [replay] source_address (the IP connections
 *   to the primary come from, so it can recognise the gateways).
 */
#ifndef MXS_DELIVER_H
#define MXS_DELIVER_H
#include <stddef.h>
#include <sys/types.h>

#include "route.h"	/* struct deliver_route, route_parse() */

struct config;

enum deliver_tls { DELIVER_TLS_NONE, DELIVER_TLS_OPPORTUNISTIC, DELIVER_TLS_REQUIRED };

struct deliver_opts {
	enum deliver_tls	 tls;
	int			 tls_verify;
	const char		*ca_file;
	const char		*auth_user;	/* NULL: no AUTH */
	const char		*auth_password;
	const char		*helo_name;
	int			 connect_timeout;	/* seconds */
	int			 command_timeout;
	int			 data_timeout;
	int			 auth_plaintext;	/* AUTH allowed without TLS (default 0) */
	const char		*source_address;	/* [replay] source_address: bind here */
};

/* one recipient in, its outcome out */
struct deliver_rcpt {
	const char	*addr;
	const char	*params;	/* NOTIFY=.. ORCPT=.. (sent only if the peer has DSN) */
	int		 code;		/* 0: no reply (connection-level failure) */
	char		 enhanced[16];	/* "2.1.5" or "" */
	char		 text[512];	/* reply text, escaped for logs/audit */
};

struct deliver_msg {
	const char		*mail_from;	/* "" for <> */
	const char		*mail_params;	/* SIZE= BODY= SMTPUTF8 RET= ENVID= */
	struct deliver_rcpt	*rcpts;
	size_t			 nrcpts;
	int			 fd;		/* message bytes, read with pread from 0 */
	off_t			 size;
	const char		*prefix;	/* header fields sent before them (ARC set), or NULL */
	size_t			 prefixlen;	/* CRLF lines, none starting with '.' */
};

enum deliver_status {
	DELIVER_OK = 0,		/* transaction ran: see each rcpt's code */
	DELIVER_TEMPFAIL,	/* connection/session failure: every rcpt without a code
				 * is to be retried; reason in err */
	DELIVER_PERMFAIL,	/* the message as a whole was refused with 5xx (MAIL FROM,
				 * DATA); each rcpt has that code */
};

/* deliver_opts_load - [deliver] section */
void	deliver_opts_load(const struct config *, struct deliver_opts *);
struct deliver_routes;	/* [routes], parsed once (deliver_route.c) */

/* deliver_routes_load - the [routes] table; NULL + err (naming file/key) if a line is bad */
struct deliver_routes *deliver_routes_load(const struct config *, char *err, size_t errlen);
void	deliver_routes_free(struct deliver_routes *);
/* deliver_route_lookup - the entry for domain (exact, then parent domains ".example.test",
 * then "*"); 0 found, -1 none */
int	deliver_route_lookup(const struct deliver_routes *, const char *domain,
	    struct deliver_route *);

struct deliver_conn;

/* deliver_connect - connect, greeting, EHLO/LHLO, STARTTLS, AUTH; NULL + err on failure;
 * *code gets the reply code that refused (0 for network errors, 421, 5xx ...) */
struct deliver_conn *deliver_connect(const struct deliver_route *, const struct deliver_opts *,
		    int *code, char *err, size_t errlen);
/* deliver_send - one transaction on an open connection (RSET between) */
enum deliver_status deliver_send(struct deliver_conn *, struct deliver_msg *, char *err,
		    size_t errlen);
/* deliver_usable - 1 if the connection may carry another transaction */
int	deliver_usable(struct deliver_conn *);
/* deliver_close - QUIT (best effort) and free */
void	deliver_close(struct deliver_conn *);
/* deliver_tls_info - "TLSv1.3 TLS_AES_256_GCM_SHA384" or "" */
const char *deliver_tls_info(struct deliver_conn *);

#endif
