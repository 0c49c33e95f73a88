/*
 * callout.h - recipient callouts: ask the primary whether an address exists
 * (used by rcpt_verify.c), over the one SMTP client (common/smtpc.h).
 *
 * One deadline bounds the whole dialogue (connect, greeting, every
 * command); replies are bounded by smtpc (SMTP_REPLYLINE_MAX per line,
 * SMTP_REPLY_MAX and SMTP_REPLY_LINES_MAX per reply) and a connection is
 * never reused.  Nothing here logs: the caller knows which domain/address
 * it was for and logs once.  Targets are "smtp://host[:port]"
 * (route_parse_smtp, port 25 by default).
 */
#ifndef MXS_CALLOUT_H
#define MXS_CALLOUT_H
#include <stddef.h>

#include "route.h"

enum callout_result {
	CALLOUT_EXISTS = 0,	/* RCPT got 2xx */
	CALLOUT_NOUSER,		/* RCPT got 550/551/553 with 5.1.x (or no enhanced code) */
	CALLOUT_UNKNOWN,	/* 4xx, other 5xx, timeout, connection or protocol error */
};

/*
 * callout_rcpt - connect, expect 220, EHLO helo (HELO if EHLO is refused),
 * MAIL FROM:<sender>, RCPT TO:<addr>, RSET, QUIT.  code/text get the reply
 * that decided (RCPT's, or the failing step's; code 0 without a reply);
 * text is printable ASCII, e.g. "RCPT: 550 5.1.1 <x@y>: User unknown".
 */
enum callout_result callout_rcpt(const struct deliver_route *, const char *helo,
	    const char *sender, const char *addr, int timeout_ms,
	    int *code, char *text, size_t textlen);

#endif
