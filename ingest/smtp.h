/*
 * smtp.h - the SMTP session shared by smtp_session.c, smtp_cmd.c, smtp_data.c.
 *
 * struct smtp_session is the connection (socket, TLS, HELO, error count,
 * input buffer); struct smtp_tx is one transaction, created by MAIL and
 * freed by RSET, HELO/EHLO, STARTTLS, end of data (DATA, BDAT LAST) and
 * disconnect.
 * Replies go through smtp_reply(); every reply carries an enhanced status
 * code (RFC 2034).  I/O helpers return -1 when the session must end (peer
 * gone, timeout, shutdown), after having sent the final 421 when possible.
 */
#ifndef MXS_SMTP_H
#define MXS_SMTP_H
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "envelope.h"
#include "ingest.h"

#define SMTP_INBUF	4096

enum smtp_helo {
	SMTP_HELO_NONE = 0,
	SMTP_HELO_HELO,
	SMTP_HELO_EHLO,
};

struct smtp_msg;	/* the message being received (smtp_data.c) */

struct smtp_tx {
	struct envelope	 env;
	int		 utf8;		/* SMTPUTF8 given at MAIL */
	int		 binarymime;	/* BODY=BINARYMIME: BDAT only (RFC 3030 3) */
	struct smtp_msg	*msg;		/* BDAT chunks so far; NULL before the first */
	int		 chunks;	/* BDAT commands in this transaction */
	time_t		 bdat_start;	/* monotonic s of the first chunk: min_data_rate */
	long long	 bdat_got;	/* chunk octets so far, counted against it */
	char		 bdat_fail[128];	/* "": ok; else the refusal repeated to the rest
					 * of the transaction's chunks */
	int		 rcpt_tried;	/* any RCPT attempted */
	int		 rcpt_over;	/* RCPTs refused for max_recipients */
	long long	 size_decl;	/* SIZE= or 0 */
};

struct smtp_session {
	int			 fd;
	SSL			*ssl;
	struct ingest_rt	*rt;
	const struct ingest_conf *ic;
	char			 id[20];
	char			 addr[64];
	char			 client[LIMITS_CLIENT_MAX];	/* addr's net: client_limits.c */
	int			 port;
	enum smtp_helo		 helo_kind;
	char			 helo[256];
	char			 tls_desc[128];	/* "TLSv1.3 TLS_AES_..." or "" */
	int			 errors;
	int			 junk;		/* non-mail commands since the last message */
	int			 quit;
	int			 limits_counted;
	char			 blocked[DNS_NAME_MAX + 128];	/* "": not screened out; else
							 * the 554 said to all but QUIT */
	struct smtp_tx		*tx;
	/* input: bytes read but not consumed are in[inpos..inlen) */
	unsigned char		 in[SMTP_INBUF];
	size_t			 inpos, inlen;
	char			*line;		/* current command line, max_line_length */
};

/* smtp_session.c */
int	smtp_reply(struct smtp_session *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	smtp_write(struct smtp_session *, const void *, size_t);
/* smtp_fill - read more input into in[]; 1 got bytes, 0 EOF, -1 error/timeout (reply sent) */
int	smtp_fill(struct smtp_session *, int timeout);
int	smtp_starttls(struct smtp_session *);
/* smtp_gone - 421 for a timeout (why 0) or a shutdown (why 1); the session ends */
void	smtp_gone(struct smtp_session *, int why);
void	smtp_tx_free(struct smtp_session *);
/* smtp_error - count a protocol error; tarpit; 1 if the hard limit closed the session */
int	smtp_error(struct smtp_session *);
/* smtp_junk - count a non-mail command; 1 if junk_command_limit closed the session */
int	smtp_junk(struct smtp_session *);
void	smtp_log(struct smtp_session *, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* smtp_cmd.c - returns 0 to go on, -1 to end the session */
int	smtp_cmd_dispatch(struct smtp_session *, char *line, size_t len);

/* smtp_data.c */
int	smtp_data_run(struct smtp_session *);
struct smtp_msg *smtp_msg_open(struct smtp_session *, int chunked);
size_t	smtp_msg_feed(struct smtp_msg *, const unsigned char *, size_t);
int	smtp_msg_wait(struct smtp_session *, time_t start, long long got);
long long smtp_msg_left(struct smtp_session *, time_t start, long long got);
int	smtp_msg_check(struct smtp_session *, struct smtp_msg *, char *text, size_t len);
void	smtp_msg_finish(struct smtp_msg *);
long long smtp_msg_body(const struct smtp_msg *);
int	smtp_msg_end(struct smtp_session *, struct smtp_msg *);
void	smtp_msg_free(struct smtp_session *, struct smtp_msg *);

/* smtp_bdat.c - BDAT (RFC 3030); returns 0 to go on, -1 to end the session */
int	smtp_bdat_run(struct smtp_session *, char *args);

#endif
