/*
 * callout.h - a small blocking SMTP client for recipient callouts and the
 * primary-health probe (used by rcpt_verify.c and monitor.c only).
 *
 * Every call is bounded by one deadline for the whole dialogue (connect,
 * greeting, every command), replies are read into bounded buffers
 * (SMTP_REPLYLINE_MAX per line, SMTP_REPLY_MAX and SMTP_REPLY_LINES_MAX per
 * reply) and a connection is never reused.  Nothing here logs: the caller
 * knows which domain/address it was for and logs once.
 */
#ifndef MXS_CALLOUT_H
#define MXS_CALLOUT_H
#include <stddef.h>

#define CALLOUT_HOST_MAX	256
#define CALLOUT_PORT_MAX	8

enum callout_result {
	CALLOUT_EXISTS = 0,	/* RCPT got 2xx */
	CALLOUT_NOUSER,		/* RCPT got 550/551/553 with 5.1.x (or no enhanced code) */
	CALLOUT_UNKNOWN,	/* 4xx, other 5xx, timeout, connection or protocol error */
};

struct callout_target {
	char	host[CALLOUT_HOST_MAX];	/* name, IPv4 or IPv6 (without brackets) */
	char	port[CALLOUT_PORT_MAX];
};

/* callout_parse_url - "smtp://host[:port]" (port 25 by default); 0 ok, -1 + err */
int	callout_parse_url(const char *url, struct callout_target *, char *err, size_t errlen);

/*
 * callout_rcpt - connect, expect 220, EHLO helo (HELO if EHLO is refused),
 * MAIL FROM:<sender>, RCPT TO:<addr>, QUIT.  code/text get the reply that
 * decided (RCPT's, or the failing step's; code 0 without a reply); text is
 * printable ASCII, e.g. "RCPT: 550 5.1.1 <x@y>: User unknown".
 */
enum callout_result callout_rcpt(const struct callout_target *, const char *helo,
	    const char *sender, const char *addr, int timeout_ms,
	    int *code, char *text, size_t textlen);

/* callout_probe - connect, expect 220, EHLO, QUIT; 0 healthy, -1 with why */
int	callout_probe(const struct callout_target *, const char *helo, int timeout_ms,
	    char *why, size_t whylen);

#endif
