/*
 * deliver_io.h - private to deliver*.c: the connection under the SMTP/LMTP
 * client (socket, TLS, bounded reply reader).
 *
 * Every call takes a timeout in seconds and fails with a one-line reason in
 * io->why; after a failure the caller ends the connection (deliver_io_close).
 */
#ifndef MXS_DELIVER_IO_H
#define MXS_DELIVER_IO_H
#include <stddef.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "limits.h"

struct deliver_route;
struct deliver_opts;

/* one reply: code, enhanced code of its first line, text of each line ('\n'-separated) */
struct deliver_reply {
	int		code;
	char		enhanced[16];
	int		nlines;
	size_t		total;
	struct buf	text;
};

struct deliver_io {
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 in[2 * SMTP_REPLYLINE_MAX];	/* read-ahead, at most one line + slack */
	size_t		 inlen;
	char		 why[ERRSTR_MAX];
	char		 tls_info[128];
};

void	deliver_io_init(struct deliver_io *);
/* deliver_io_connect - TCP (host:port, v4/v6; from source, an IP, if not NULL/"") or unix
 * socket; 0 ok, -1 */
int	deliver_io_connect(struct deliver_io *, const struct deliver_route *, const char *source,
	    int timeout);
/* deliver_io_write - all of p; 0 ok, -1 */
int	deliver_io_write(struct deliver_io *, const void *p, size_t n, int timeout);
/* deliver_io_reply - read one whole bounded reply into r; 0 ok, -1 */
int	deliver_io_reply(struct deliver_io *, struct deliver_reply *r, int timeout);
/* deliver_io_pending - bytes read ahead beyond the last reply (0 when none) */
size_t	deliver_io_pending(const struct deliver_io *);
/* deliver_io_starttls - TLS handshake; host ("" for none) is checked when verifying */
int	deliver_io_starttls(struct deliver_io *, const char *host, const struct deliver_opts *,
	    int timeout);
/* deliver_io_idle - 1 if the peer sent nothing (no data, no EOF) since the last reply */
int	deliver_io_idle(struct deliver_io *);
/* deliver_io_close - close without a word (TLS close_notify only when clean) */
void	deliver_io_close(struct deliver_io *, int clean);

void	deliver_reply_init(struct deliver_reply *);
void	deliver_reply_free(struct deliver_reply *);
/* deliver_reply_text - the reply's lines joined by " ", enhanced codes stripped, escaped */
void	deliver_reply_text(const struct deliver_reply *, char *out, size_t outlen);

#endif
