/*
 * auth.h - sender authentication at ingest: SPF, DKIM, DMARC and the
 * Authentication-Results: header (RFC 7208, 6376, 7489, 8601).
 *
 * Entry points: auth_init() once at start-up ([auth], [dns], [domain NAME]
 * auth_policy), auth_enabled(), auth_enforce() (the policy of a message's
 * recipients), auth_verify() on a staged message after end-of-data,
 * auth_verdict_free(), auth_shutdown().
 * Invariants: every lookup goes through common/dns.c within the [auth]
 * timeout of the message; the message bytes are only read.
 * Error contract: a DNS temporary error is a temperror verdict, never a
 * rejection; auth_verify() returns -1 only when the staged file cannot be
 * read (the caller says 451).
 */
#ifndef MXS_AUTH_H
#define MXS_AUTH_H
#include <sys/types.h>

#include "limits.h"
#include "spf.h"

struct config;
struct envelope;

/* what mxspool does with a message after verification */
enum auth_action {
	AUTH_ACCEPT = 0,
	AUTH_QUARANTINE,	/* enforce + DMARC p=quarantine failure: stored, held at replay */
	AUTH_REJECT,		/* enforce + DMARC p=reject failure: 550 5.7.1 */
};

struct auth_request {
	const char	*id;		/* message id, for logs */
	const char	*addr;		/* client IP address, text */
	const char	*helo;
	const char	*mail_from;	/* "" for <> */
	int		 enforce;	/* auth_enforce() of the recipients */
};

struct auth_dkim_sig {
	const char	*result;	/* RFC 8601 word: pass fail neutral temperror permerror */
	char		 domain[DNS_NAME_MAX + 1];
	char		 selector[DNS_LABEL_MAX + 1];
	char		 b[12];		/* header.b: the first 8 characters of b= */
	char		 why[64];	/* "" or a reason for the comment */
};

struct auth_verdict {
	enum spf_result		 spf;
	int			 spf_helo;	/* the HELO identity was checked (MAIL FROM <>) */
	char			 spf_id[320];	/* smtp.mailfrom / smtp.helo value */
	struct auth_dkim_sig	 sig[AUTH_DKIM_MAX];
	int			 nsig;
	const char		*dkim;		/* summary: pass if any passed, else the first */
	const char		*dmarc;		/* none pass fail temperror permerror */
	char			 dmarc_p[12];	/* the published policy applied: none quarantine reject */
	char			 from_domain[DNS_NAME_MAX + 1];
	enum auth_action	 action;
	off_t			*forged;	/* message offsets of incoming A-R with our authserv-id */
	size_t			 nforged;
	char			 header[AUTH_HEADER_MAX];	/* "Authentication-Results: ...\r\n" */
	size_t			 headerlen;
};

/* auth_init - read [auth] and the domains' auth_policy, open the resolver; -1 with err */
int		 auth_init(const struct config *, const char *hostname, char *err, size_t errlen);
void		 auth_shutdown(void);
/* auth_enabled - [auth] verify */
int		 auth_enabled(void);
/* auth_enforce - 1 when every recipient's domain has auth_policy = enforce */
int		 auth_enforce(const struct envelope *);
/* auth_verify - verify the message at [start, end) of fd; 0 with *v filled, -1 read error */
int		 auth_verify(int fd, off_t start, off_t end, const struct auth_request *,
		    struct auth_verdict *v);
void		 auth_verdict_free(struct auth_verdict *);

#endif
