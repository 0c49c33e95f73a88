/*
 * callout.c - recipient callouts over the one SMTP client (common/smtpc.h).
 *
 * Entry point: callout_rcpt().  One connection per call, never reused; one
 * deadline (smtpc's c.deadline) bounds the whole dialogue, so a primary that
 * trickles bytes cannot hold a session longer than callout_timeout.  Replies
 * are smtpc's bounded ones; anything malformed is a protocol error and the
 * answer is CALLOUT_UNKNOWN.  Address bytes are never sent unless they
 * are free of controls (no command injection through CR/LF).  An address
 * with UTF-8 (SMTPUTF8 session) is asked about with "MAIL FROM:<> SMTPUTF8"
 * when the primary offers it (RFC 6531 3.4), and not at all when it does
 * not: CALLOUT_UNKNOWN, as the primary could not take that mail anyway.
 */
#include <stdio.h>
#include <string.h>

#include "callout.h"
#include "clock.h"
#include "config.h"
#include "limits.h"
#include "mailaddr.h"
#include "smtpc.h"

/* callout_path - "<addr>" with the local part quoted when it is not a dot-atom */
static int
callout_path(const char *addr, char *out, size_t outlen)
{
	static const char atext[] = "!#$%&'*+-/=?^_`{|}~";
	const char	*at = strrchr(addr, '@'), *p;
	size_t		 o = 0;
	int		 dotatom = 1, n;

	if (at == NULL || at == addr)
		return -1;
	for (p = addr; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	for (p = addr; p < at; p++)
		if (!((unsigned char)*p >= 0x80 || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr(atext, *p) != NULL ||
		    (*p == '.' && p != addr && p + 1 != at && p[1] != '.')))
			dotatom = 0;
	if (dotatom) {
		n = snprintf(out, outlen, "<%s>", addr);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	/* RFC 5321 4.1.2 Quoted-string: backslash before '"' and '\' */
	if (outlen < 4)
		return -1;
	out[o++] = '<';
	out[o++] = '"';
	for (p = addr; p < at; p++) {
		if (o + 4 >= outlen)
			return -1;
		if (*p == '"' || *p == '\\')
			out[o++] = '\\';
		out[o++] = *p;
	}
	n = snprintf(out + o, outlen - o, "\"%s>", at);
	return n < 0 || (size_t)n >= outlen - o ? -1 : 0;
}

/*
 * callout_verdict - what a RCPT reply says about the address: 2xx exists;
 * 550/551/553 with enhanced code 5.1.x (RFC 3463: addressing status), or
 * without an enhanced code (older servers), does not; anything else (4xx,
 * 5.7.x policy, 554 relay denied by the primary) proves nothing.
 */
static enum callout_result
callout_verdict(int code, const char *enhanced)
{
	if (code / 100 == 2)
		return CALLOUT_EXISTS;
	if ((code == 550 || code == 551 || code == 553) &&
	    (enhanced[0] == '\0' || strncmp(enhanced, "5.1.", 4) == 0))
		return CALLOUT_NOUSER;
	return CALLOUT_UNKNOWN;
}

/* callout_step - send cmd, want a 2xx reply; 0 ok, -1 with c->why (the refusal, if any) */
static int
callout_step(struct smtpc *c, struct smtpc_reply *r, const char *cmd, int timeout_ms,
    const char *what)
{
	if (smtpc_cmd(c, r, cmd, timeout_ms, what) == -1)
		return -1;
	return r->code / 100 == 2 ? 0 : smtpc_refused(c, r, what);
}

/* callout_rcpt - ask the primary whether addr exists */
enum callout_result
callout_rcpt(const struct deliver_route *t, const char *helo, const char *sender,
    const char *addr, int timeout_ms, int *code, char *text, size_t textlen)
{
	struct smtpc		 c;
	struct smtpc_reply	 r;
	enum callout_result	 res = CALLOUT_UNKNOWN;
	char			 cmd[SMTP_CMDLINE_MAX];
	char			 path[MXS_PATH_MAX + 16], from[MXS_PATH_MAX + 16];
	int			 utf8;

	*code = 0;
	if (callout_path(addr, path, sizeof(path)) == -1 ||
	    (*sender != '\0' && callout_path(sender, from, sizeof(from)) == -1)) {
		snprintf(text, textlen, "address not safe to send");
		return CALLOUT_UNKNOWN;
	}
	if (*sender == '\0')
		snprintf(from, sizeof(from), "<>");
	smtpc_init(&c);
	smtpc_reply_init(&r);
	c.deadline = mono_ms() + timeout_ms;
	if (smtpc_open(&c, &r, t, NULL, helo, timeout_ms, timeout_ms) == -1)
		goto done;
	utf8 = mailaddr_8bit(path) || mailaddr_8bit(from);
	if (utf8 && !(c.caps & SMTPC_CAP_SMTPUTF8)) {
		snprintf(text, textlen, "MAIL: primary does not offer SMTPUTF8");
		goto quit;
	}
	snprintf(cmd, sizeof(cmd), "MAIL FROM:%s%s", from, utf8 ? " SMTPUTF8" : "");
	if (callout_step(&c, &r, cmd, timeout_ms, "MAIL") == -1)
		goto done;
	snprintf(cmd, sizeof(cmd), "RCPT TO:%s", path);
	if (smtpc_cmd(&c, &r, cmd, timeout_ms, "RCPT") == -1)
		goto done;
	res = callout_verdict(r.code, r.enhanced);
	smtpc_refused(&c, &r, "RCPT");	/* the deciding reply, whatever it says */
	*code = r.code;
	snprintf(text, textlen, "%s", c.why);
	(void)smtpc_cmd(&c, &r, "RSET", timeout_ms, "RSET");
quit:
	smtpc_quit(&c, &r, timeout_ms);
	smtpc_reply_free(&r);
	return res;
done:
	*code = r.code;
	snprintf(text, textlen, "%s", c.why);
	if (r.code != 0)	/* a primary that answered is told goodbye */
		smtpc_quit(&c, &r, timeout_ms);
	else
		smtpc_close(&c, 0);
	smtpc_reply_free(&r);
	return res;
}
