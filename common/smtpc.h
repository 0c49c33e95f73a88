/*
 * smtpc.h - the one SMTP/LMTP client connection of both programs: the
 * replay's delivery (deliver.c), its probe and `check`, and the ingest's
 * recipient callout and primary monitor (callout.c, monitor.c).
 *
 * A struct smtpc is a socket (TCP or unix, from route.h), optionally TLS,
 * and a read-ahead buffer of at most one reply line.  Every call takes a
 * timeout in milliseconds; c->deadline (monotonic ms, 0 for none) bounds
 * all of them at once, for callers with one budget for the whole dialogue.
 * Every reply is bounded (SMTP_REPLYLINE_MAX per line, SMTP_REPLY_LINES_MAX
 * lines, SMTP_REPLY_MAX bytes) and must carry one valid code on every line.
 * Errors: -1 and a one-line reason in c->why (peer bytes escaped); after a
 * failure the caller ends the connection (smtpc_close).  Nothing logs here.
 */
#ifndef MXS_SMTPC_H
#define MXS_SMTPC_H
#include <stddef.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "limits.h"

struct deliver_route;

/* one reply: code, enhanced code of its first line, text of each line ('\n'-separated) */
struct smtpc_reply {
	int		code;
	char		enhanced[16];
	int		nlines;
	size_t		total;
	struct buf	text;
};

struct smtpc {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 in[2 * SMTP_REPLYLINE_MAX];	/* read-ahead, at most one line + slack */
	size_t		 inlen;
	long long	 deadline;	/* monotonic ms bounding every call; 0: none */
	char		 why[ERRSTR_MAX];
	char		 tls_info[128];
};

void	smtpc_init(struct smtpc *);
/* smtpc_connect - TCP (host:port, v4/v6; from source, an IP, if not NULL/"") or unix
 * socket; 0 ok, -1 */
int	smtpc_connect(struct smtpc *, const struct deliver_route *, const char *source,
	    int timeout_ms);
/* smtpc_write - all of p; 0 ok, -1 */
int	smtpc_write(struct smtpc *, const void *p, size_t n, int timeout_ms);
/* smtpc_read_reply - read one whole bounded reply into r; 0 ok, -1 */
int	smtpc_read_reply(struct smtpc *, struct smtpc_reply *r, int timeout_ms);
/* smtpc_pending - bytes read ahead beyond the last reply (0 when none) */
size_t	smtpc_pending(const struct smtpc *);
/* smtpc_tls - TLS handshake; host ("" for none) is sent as SNI and checked when verify */
int	smtpc_tls(struct smtpc *, const char *host, int verify, const char *ca_file,
	    int timeout_ms);
/* smtpc_idle - 1 if the peer sent nothing (no data, no EOF) since the last reply */
int	smtpc_idle(struct smtpc *);
/* smtpc_close - close without a word (TLS close_notify only when clean) */
void	smtpc_close(struct smtpc *, int clean);

void	smtpc_reply_init(struct smtpc_reply *);
void	smtpc_reply_free(struct smtpc_reply *);
/* smtpc_reply_text - the reply's lines joined by " ", enhanced codes stripped, escaped */
void	smtpc_reply_text(const struct smtpc_reply *, char *out, size_t outlen);

#endif
