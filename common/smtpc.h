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
struct dns;

/* EHLO/LHLO keywords the clients act on (RFC 5321 4.1.1.1; smtpc_caps) */
#define SMTPC_CAP_SIZE		0x001	/* RFC 1870 */
#define SMTPC_CAP_8BITMIME	0x002	/* RFC 6152 */
#define SMTPC_CAP_SMTPUTF8	0x004	/* RFC 6531 */
#define SMTPC_CAP_DSN		0x008	/* RFC 3461 */
#define SMTPC_CAP_PIPELINING	0x010	/* RFC 2920 */
#define SMTPC_CAP_STARTTLS	0x020	/* RFC 3207 */
#define SMTPC_CAP_AUTH_PLAIN	0x040	/* RFC 4954, 4616 */
#define SMTPC_CAP_AUTH_LOGIN	0x080

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
	char		 in[2 * SMTP_REPLYLINE_MAX];	/* read-ahead: a line + slack */
	size_t		 inlen;
	long long	 deadline;	/* monotonic ms bounding every call; 0: none */
	unsigned	 caps;		/* SMTPC_CAP_* of the last EHLO/LHLO (0 after HELO) */
	char		 why[ERRSTR_MAX];
	char		 tls_info[128];
};

void	smtpc_init(struct smtpc *);
/* smtpc_resolver - the resolver for peer names from now on ([dns]: the program's dns_open(),
 * kept open while connects may run); unset, the system's (dns_open(NULL)) */
void	smtpc_resolver(struct dns *);
/* smtpc_connect - TCP (host:port, v4/v6, a name through the resolver within timeout_ms;
 * from source, an IP, if not NULL/"") or unix socket; 0 ok, -1 */
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

/*
 * Dialogue steps (smtpc_cmd.c).  Each fails with -1 and c->why "<what>: reason",
 * where a refusal reads "<what>: 550 5.1.1 text" and leaves that reply in r
 * (r->code is 0 when no whole reply came).
 */
/* smtpc_send - one command line (CRLF appended, at most SMTP_CMDLINE_MAX); 0 ok, -1 */
int	smtpc_send(struct smtpc *, const char *line, int timeout_ms);
/* smtpc_cmd - smtpc_send(line) unless NULL, then read the reply into r; 0 ok, -1 */
int	smtpc_cmd(struct smtpc *, struct smtpc_reply *r, const char *line, int timeout_ms,
	    const char *what);
/* smtpc_refused - c->why = "<what>: <code> <enhanced> <text>" of r; returns -1 */
int	smtpc_refused(struct smtpc *, const struct smtpc_reply *r, const char *what);
/* smtpc_quiet - -1 (why) if the peer sent bytes after the reply we asked for */
int	smtpc_quiet(struct smtpc *, const char *what);
/* smtpc_caps - the SMTPC_CAP_* keywords of a 2xx EHLO/LHLO reply */
unsigned smtpc_caps(const struct smtpc_reply *r);
/* smtpc_hello - EHLO name (HELO if refused with 5xx) or LHLO; name NULL/"": this host's */
int	smtpc_hello(struct smtpc *, struct smtpc_reply *r, const char *name, int lmtp,
	    int timeout_ms);
/* smtpc_open - connect, 220 greeting, smtpc_hello */
int	smtpc_open(struct smtpc *, struct smtpc_reply *r, const struct deliver_route *,
	    const char *source, const char *name, int connect_ms, int timeout_ms);
/* smtpc_starttls - STARTTLS, 220, handshake (RFC 3207); 0 ok, 1 refused (r, why), -1 failed.
 * The caller says EHLO again (RFC 3207 4.2) */
int	smtpc_starttls(struct smtpc *, struct smtpc_reply *r, const char *host, int verify,
	    const char *ca_file, int timeout_ms);
/* smtpc_quit - QUIT and its reply (best effort, when the connection is idle), close */
void	smtpc_quit(struct smtpc *, struct smtpc_reply *r, int timeout_ms);
/* smtpc_probe - is the peer answering SMTP?  connect, 220, EHLO, QUIT within timeout_ms;
 * 0 yes, -1 with why */
int	smtpc_probe(const struct deliver_route *, const char *helo, int timeout_ms, char *why,
	    size_t whylen);

#endif
