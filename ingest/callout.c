/*
 * callout.c - blocking SMTP client for callouts and health probes.
 *
 * Entry points: callout_parse_url(), callout_rcpt(), callout_probe().
 * One connection per call, never reused; one deadline (CLOCK_MONOTONIC)
 * bounds the whole dialogue, so a primary that trickles bytes cannot hold a
 * session longer than callout_timeout.  Replies: multi-line replies are
 * accepted (RFC 5321 4.2.1) within SMTP_REPLYLINE_MAX per line, SMTP_REPLY_MAX
 * and SMTP_REPLY_LINES_MAX per reply; anything else is a protocol error and
 * the answer is CALLOUT_UNKNOWN.  Address bytes are never sent unless they
 * are free of controls (no command injection through CR/LF).  An address
 * with UTF-8 (SMTPUTF8 session) is asked about with "MAIL FROM:<> SMTPUTF8"
 * when the primary offers it (RFC 6531 3.4), and not at all when it does
 * not: CALLOUT_UNKNOWN, as the primary could not take that mail anyway.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "buf.h"
#include "callout.h"
#include "config.h"
#include "limits.h"
#include "log.h"
#include "mailaddr.h"
#include "route.h"

struct callout_conn {
	int		 fd;
	int64_t		 deadline;	/* monotonic ms */
	struct buf	 in;
	int		 code;		/* last reply */
	char		 text[SMTP_REPLYLINE_MAX];	/* its first line, escaped */
	int		 smtputf8;	/* a line of the last reply was "SMTPUTF8" (EHLO) */
};

/* callout_parse_url - "smtp://host[:port]", "smtp://[v6]:port": route_parse() restricted to SMTP */
int
callout_parse_url(const char *url, struct callout_target *t, char *err, size_t errlen)
{
	struct deliver_route r;

	if (strncmp(url, "smtp://", 7) != 0 || route_parse(url, &r) == -1 ||
	    strlen(r.host) >= sizeof(t->host)) {
		snprintf(err, errlen, "\"%s\": want smtp://host[:port] (port 1-65535)", url);
		return -1;
	}
	memcpy(t->host, r.host, strlen(r.host) + 1);
	snprintf(t->port, sizeof(t->port), "%d", r.port);
	return 0;
}

/* callout_wait - poll fd for events until the deadline; 0 ready, -1 timeout/error */
static int
callout_wait(struct callout_conn *c, short events)
{
	struct pollfd	pfd = { .fd = c->fd, .events = events };
	int64_t		left;
	int		rc;

	for (;;) {
		if ((left = c->deadline - mono_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc > 0)
			return 0;
		if (rc == -1 && errno != EINTR)
			return -1;
	}
}

/* callout_connect - first address of t that accepts before the deadline */
static int
callout_connect(struct callout_conn *c, const struct callout_target *t, char *why,
    size_t whylen)
{
	struct addrinfo	 hints, *res, *ai;
	socklen_t	 len;
	int		 rc, soerr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(t->host, t->port, &hints, &res)) != 0) {
		snprintf(why, whylen, "resolve %s: %s", t->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (c->fd == -1)
			continue;
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && callout_wait(c, POLLOUT) == 0 &&
		    (len = sizeof(soerr), getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &len)) == 0 && soerr == 0)) {
			freeaddrinfo(res);
			return 0;
		}
		if (soerr != 0)
			errno = soerr;
		snprintf(why, whylen, "%s:%s: %s", t->host, t->port, strerror(errno));
		close(c->fd);
		c->fd = -1;
	}
	if (res == NULL)
		snprintf(why, whylen, "%s:%s: no address", t->host, t->port);
	freeaddrinfo(res);
	return -1;
}

/* callout_line - length of the first complete line in c->in (with CRLF), 0 if none */
static size_t
callout_line(struct callout_conn *c)
{
	char *nl;

	if (c->in.len == 0)
		return 0;
	nl = memchr(c->in.data, '\n', c->in.len);
	return nl == NULL ? 0 : (size_t)(nl - c->in.data) + 1;
}

/*
 * callout_reply - read one (multi-line) reply into c->code and c->text;
 * 0 ok, -1 with why (timeout, closed, over a limit, malformed).
 */
static int
callout_reply(struct callout_conn *c, char *why, size_t whylen)
{
	char	chunk[1024];
	size_t	n, lines = 0, total = 0;
	ssize_t	r;
	int	code;

	c->code = 0;
	c->text[0] = '\0';
	for (;;) {
		while ((n = callout_line(c)) == 0) {
			if (c->in.len >= SMTP_REPLYLINE_MAX) {
				snprintf(why, whylen, "reply line longer than %d bytes",
				    SMTP_REPLYLINE_MAX);
				return -1;
			}
			if (callout_wait(c, POLLIN) == -1) {
				snprintf(why, whylen, "read: %s", strerror(errno));
				return -1;
			}
			r = recv(c->fd, chunk, sizeof(chunk), 0);
			if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR)) {
				snprintf(why, whylen, "read: %s",
				    r == 0 ? "connection closed" : strerror(errno));
				return -1;
			}
			if (r > 0 && buf_add(&c->in, chunk, r) == -1) {
				snprintf(why, whylen, "reply longer than %d bytes",
				    SMTP_REPLY_MAX);
				return -1;
			}
		}
		/* RFC 5321 4.2: "ddd" SP/"-" text CRLF; a bare "ddd" CRLF is tolerated */
		if (n < 4 || n > SMTP_REPLYLINE_MAX || c->in.data[0] < '2' ||
		    c->in.data[0] > '5' || c->in.data[1] < '0' || c->in.data[1] > '9' ||
		    c->in.data[2] < '0' || c->in.data[2] > '9' ||
		    (n > 5 && c->in.data[3] != ' ' && c->in.data[3] != '-') ||
		    ++lines > SMTP_REPLY_LINES_MAX || (total += n) > SMTP_REPLY_MAX) {
			snprintf(why, whylen, "malformed reply \"%s\"",
			    log_escape(c->in.data, n > 80 ? 80 : n, chunk, 100));
			return -1;
		}
		code = (c->in.data[0] - '0') * 100 + (c->in.data[1] - '0') * 10 +
		    (c->in.data[2] - '0');
		if (c->code != 0 && code != c->code) {
			snprintf(why, whylen, "reply codes differ in a multi-line reply");
			return -1;
		}
		if (n >= 12 && strncasecmp(c->in.data + 4, "SMTPUTF8", 8) == 0 &&
		    (c->in.data[12] == '\r' || c->in.data[12] == '\n' || c->in.data[12] == ' '))
			c->smtputf8 = 1;
		if (c->code == 0) {
			c->code = code;
			log_escape(c->in.data, n - (n >= 2 && c->in.data[n - 2] == '\r' ? 2 : 1),
			    c->text, sizeof(c->text));
		}
		if (n <= 5 || c->in.data[3] == ' ') {
			buf_consume(&c->in, n);
			return 0;
		}
		buf_consume(&c->in, n);
	}
}

/* callout_send - write the whole command (CRLF appended) before the deadline */
static int
callout_send(struct callout_conn *c, const char *cmd, char *why, size_t whylen)
{
	char	line[SMTP_CMDLINE_MAX];
	size_t	off = 0;
	ssize_t	w;
	int	n;

	n = snprintf(line, sizeof(line), "%s\r\n", cmd);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		snprintf(why, whylen, "command too long");
		return -1;
	}
	while (off < (size_t)n) {
		if (callout_wait(c, POLLOUT) == -1)
			goto fail;
		w = send(c->fd, line + off, n - off, MSG_NOSIGNAL);
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			goto fail;
		if (w > 0)
			off += w;
	}
	return 0;
fail:
	snprintf(why, whylen, "write: %s", strerror(errno));
	return -1;
}

/* callout_cmd - send cmd (NULL: none, read the greeting), read the reply */
static int
callout_cmd(struct callout_conn *c, const char *cmd, char *why, size_t whylen)
{
	c->smtputf8 = 0;
	if ((cmd != NULL && callout_send(c, cmd, why, whylen) == -1) ||
	    callout_reply(c, why, whylen) == -1) {
		c->code = 0;	/* no usable reply: never half of a multi-line one */
		return -1;
	}
	return 0;
}

/* callout_open - connect and read the greeting and EHLO (HELO) replies */
static int
callout_open(struct callout_conn *c, const struct callout_target *t, const char *helo,
    int timeout_ms, char *why, size_t whylen)
{
	char cmd[300];

	c->fd = -1;
	c->deadline = mono_ms() + timeout_ms;
	buf_init(&c->in, SMTP_REPLY_MAX);
	c->code = 0;
	c->text[0] = '\0';
	if (callout_connect(c, t, why, whylen) == -1 || callout_cmd(c, NULL, why, whylen) == -1)
		return -1;
	if (c->code != 220) {
		snprintf(why, whylen, "greeting: %s", c->text);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "EHLO %s", helo);
	if (callout_cmd(c, cmd, why, whylen) == -1)
		return -1;
	if (c->code / 100 == 5) {
		snprintf(cmd, sizeof(cmd), "HELO %s", helo);
		if (callout_cmd(c, cmd, why, whylen) == -1)
			return -1;
	}
	if (c->code / 100 != 2) {
		snprintf(why, whylen, "EHLO: %s", c->text);
		return -1;
	}
	return 0;
}

/* callout_close - polite QUIT (best effort, reply awaited briefly) and close */
static void
callout_close(struct callout_conn *c, int quit)
{
	char why[64];

	if (c->fd != -1 && quit && callout_send(c, "QUIT", why, sizeof(why)) == 0)
		(void)callout_reply(c, why, sizeof(why));
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->in);
}

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
callout_verdict(int code, const char *text)
{
	int enhanced = strlen(text) >= 9 && text[4] >= '2' && text[4] <= '5' && text[5] == '.';

	if (code / 100 == 2)
		return CALLOUT_EXISTS;
	if ((code == 550 || code == 551 || code == 553) &&
	    (!enhanced || strncmp(text + 4, "5.1.", 4) == 0))
		return CALLOUT_NOUSER;
	return CALLOUT_UNKNOWN;
}

/* callout_rcpt - ask the primary whether addr exists */
enum callout_result
callout_rcpt(const struct callout_target *t, const char *helo, const char *sender,
    const char *addr, int timeout_ms, int *code, char *text, size_t textlen)
{
	struct callout_conn	 c;
	enum callout_result	 res = CALLOUT_UNKNOWN;
	char			 why[SMTP_REPLYLINE_MAX + 64], cmd[SMTP_CMDLINE_MAX];
	char			 path[MXS_PATH_MAX + 16], from[MXS_PATH_MAX + 16];
	const char		*step = "connect";
	int			 utf8;

	*code = 0;
	if (callout_path(addr, path, sizeof(path)) == -1 ||
	    (*sender != '\0' && callout_path(sender, from, sizeof(from)) == -1)) {
		snprintf(text, textlen, "address not safe to send");
		return CALLOUT_UNKNOWN;
	}
	if (*sender == '\0')
		snprintf(from, sizeof(from), "<>");
	if (callout_open(&c, t, helo, timeout_ms, why, sizeof(why)) == -1)
		goto done;
	step = "MAIL";
	utf8 = mailaddr_8bit(path) || mailaddr_8bit(from);
	if (utf8 && !c.smtputf8) {
		snprintf(text, textlen, "%s: primary does not offer SMTPUTF8", step);
		callout_close(&c, 1);
		return CALLOUT_UNKNOWN;
	}
	snprintf(cmd, sizeof(cmd), "MAIL FROM:%s%s", from, utf8 ? " SMTPUTF8" : "");
	if (callout_cmd(&c, cmd, why, sizeof(why)) == -1)
		goto done;
	if (c.code / 100 != 2) {
		snprintf(why, sizeof(why), "%s", c.text);
		goto done;
	}
	step = "RCPT";
	snprintf(cmd, sizeof(cmd), "RCPT TO:%s", path);
	if (callout_cmd(&c, cmd, why, sizeof(why)) == -1)
		goto done;
	snprintf(why, sizeof(why), "%s", c.text);
	res = callout_verdict(c.code, c.text);
	*code = c.code;
	(void)callout_cmd(&c, "RSET", cmd, sizeof(cmd));
	snprintf(text, textlen, "%s: %s", step, why);
	callout_close(&c, 1);
	return res;
done:
	*code = c.code;
	snprintf(text, textlen, "%s: %s", step, why);
	callout_close(&c, c.code != 0);
	return res;
}

/* callout_probe - is the primary answering SMTP? */
int
callout_probe(const struct callout_target *t, const char *helo, int timeout_ms, char *why,
    size_t whylen)
{
	struct callout_conn	c;
	int			rc;

	rc = callout_open(&c, t, helo, timeout_ms, why, whylen);
	callout_close(&c, rc == 0);
	return rc;
}
