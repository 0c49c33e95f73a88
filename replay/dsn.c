/*
 * dsn.c - delivery status notifications (RFC 3464, multipart/report RFC 6522) for
 * messages whose lifetime expired before the primary took them.
 *
 * Entry point: dsn_build() (dsn.h).  The DSN has CRLF line ends, as the delivery
 * client sends bytes as stored.  Parts: text/plain for people, message/delivery-status
 * (Action: failed, Status: 4.4.7 "delivery time expired", RFC 3463), then the
 * original header (text/rfc822-headers, RET=HDRS, the default) or the whole message
 * (message/rfc822, RET=FULL), streamed with pread.  Recipients whose NOTIFY has
 * neither FAILURE nor is absent (RFC 3461 4.1: NEVER, or SUCCESS/DELAY only) are left
 * out.  Peer text (last reply, ORCPT, ENVID) is reduced to printable ASCII.
 * Errors: -1 on a read/write error; 1 when nothing is to be sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "dsn.h"
#include "fdio.h"
#include "limits.h"

#define DSN_TEXT_MAX	400		/* diagnostic text kept per recipient */
#define DSN_CHUNK	(64 * 1024)
#define DSN_BUF_MAX	(4 * 1024 * 1024)

/* dsn_param - value of NAME= in a parameter list into out (xtext decoded, RFC 3461 4) */
static int
dsn_param(const char *params, const char *name, char *out, size_t outlen)
{
	const char	*p = params, *e;
	size_t		 n = strlen(name), o = 0;
	unsigned	 x;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " ");
		e = p + strcspn(p, " ");
		if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 && p[n] == '=') {
			for (p += n + 1; p < e && o + 1 < outlen; p++) {
				if (*p == '+' && e - p >= 3 && sscanf(p + 1, "%2x", &x) == 1) {
					out[o++] = (char)x;
					p += 2;
				} else
					out[o++] = *p;
			}
			out[o] = '\0';
			return 1;
		}
		p = e;
	}
	return 0;
}

/* dsn_ascii - s as printable ASCII on one line ('?' for anything else), bounded */
static void
dsn_ascii(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; s != NULL && *s != '\0' && o + 1 < outlen; s++)
		out[o++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	out[o] = '\0';
}

/* dsn_wanted - RFC 3461 4.1: a failure DSN unless NOTIFY says otherwise */
static int
dsn_wanted(const struct dsn_rcpt *r)
{
	char v[64];

	if (!dsn_param(r->params, "NOTIFY", v, sizeof(v)))
		return 1;
	return strcasestr(v, "FAILURE") != NULL && strcasestr(v, "NEVER") == NULL;
}

/* dsn_date - RFC 5322 3.3 date-time in UTC */
static void
dsn_date(int64_t ms, char *out, size_t outlen)
{
	static const char	*day[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char	*mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t			 t = (time_t)(ms / 1000);
	struct tm		 tm;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%s, %d %s %d %02d:%02d:%02d +0000", day[tm.tm_wday], tm.tm_mday,
	    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* dsn_8bit_addr - 1 if the address needs the utf-8 address type (RFC 6533 3) */
static int
dsn_8bit_addr(const char *a)
{
	for (; *a != '\0'; a++)
		if ((unsigned char)*a > 0x7f)
			return 1;
	return 0;
}

/* dsn_head - the message header and the human-readable part */
static int
dsn_head(struct buf *b, const struct envelope *env, const struct dsn_rcpt *r, size_t n,
    const char *mta, int64_t now, const char *boundary)
{
	char	date[64], text[DSN_TEXT_MAX + 1], addr[MXS_PATH_MAX * 2];
	size_t	i;
	int	rc = 0;

	dsn_date(now, date, sizeof(date));
	rc |= buf_printf(b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\nSubject: Undelivered Mail Returned to Sender\r\nDate: %s\r\n"
	    "Message-ID: <%s.dsn.%lld@%s>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	    "This is a MIME-encapsulated message.\r\n\r\n", mta, env->mail_from, date, env->id,
	    (long long)now, mta, boundary);
	rc |= buf_printf(b, "--%s\r\nContent-Description: Notification\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is the mail system at host %s.\r\n\r\n"
	    "Your message could not be delivered to the recipients below. It was\r\n"
	    "accepted by this backup mail exchanger while the primary mail server was\r\n"
	    "unavailable, and the primary did not take it before its lifetime expired.\r\n\r\n",
	    boundary, mta);
	for (i = 0; i < n; i++) {
		if (!dsn_wanted(&r[i]))
			continue;
		dsn_ascii(r[i].addr, addr, sizeof(addr));
		dsn_ascii(r[i].last_text, text, sizeof(text));
		if (r[i].last_code > 0)
			rc |= buf_printf(b, "<%s>: last reply from the primary: %d %s\r\n", addr,
			    r[i].last_code, text);
		else
			rc |= buf_printf(b, "<%s>: the primary could not be reached%s%s\r\n", addr,
			    text[0] ? ": " : "", text);
	}
	return rc;
}

/* dsn_report - the message/delivery-status part (RFC 3464 2.2, 2.3) */
static int
dsn_report(struct buf *b, const struct envelope *env, const struct dsn_rcpt *r, size_t n,
    const char *mta, const char *boundary)
{
	char	date[64], v[DSN_ORCPT_MAX + 1], clean[DSN_ORCPT_MAX + 1];
	char	text[DSN_TEXT_MAX + 1], addr[MXS_PATH_MAX * 2];
	size_t	i;
	int	rc = 0;

	dsn_date(env->received_ms, date, sizeof(date));
	rc |= buf_printf(b, "\r\n--%s\r\nContent-Description: Delivery report\r\n"
	    "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; %s\r\n"
	    "X-Mxspool-Queue-ID: %s\r\n", boundary, mta, env->id);
	if (dsn_param(env->mail_params, "ENVID", v, sizeof(v))) {
		dsn_ascii(v, clean, sizeof(clean));
		rc |= buf_printf(b, "Original-Envelope-Id: %s\r\n", clean);
	}
	rc |= buf_printf(b, "Arrival-Date: %s\r\n", date);
	for (i = 0; i < n; i++) {
		if (!dsn_wanted(&r[i]))
			continue;
		dsn_ascii(r[i].addr, addr, sizeof(addr));
		rc |= buf_printf(b, "\r\nFinal-Recipient: %s; %s\r\n",
		    dsn_8bit_addr(r[i].addr) ? "utf-8" : "rfc822", addr);
		if (dsn_param(r[i].params, "ORCPT", v, sizeof(v))) {
			dsn_ascii(v, clean, sizeof(clean));
			rc |= buf_printf(b, "Original-Recipient: %s\r\n", clean);
		}
		rc |= buf_printf(b, "Action: failed\r\nStatus: 4.4.7\r\n");
		if (r[i].last_code > 0) {
			dsn_ascii(r[i].last_text, text, sizeof(text));
			rc |= buf_printf(b, "Diagnostic-Code: smtp; %d %s\r\n", r[i].last_code,
			    text);
		}
	}
	return rc;
}

/* dsn_header_len - bytes of the header section with its last CRLF (RFC 5322 2.1) */
static int
dsn_header_len(int fd, char *in, off_t *len)
{
	off_t	off = 0;
	ssize_t	n, i;
	char	p1 = 0, p2 = 0, p3 = 0;

	for (;;) {
		if ((n = pread(fd, in, DSN_CHUNK, off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (in[i] == '\n' && p1 == '\r' && off + i == 1) {
				*len = 0;		/* empty header */
				return 0;
			}
			if (in[i] == '\n' && p1 == '\r' && p2 == '\n' && p3 == '\r') {
				*len = off + i - 1;	/* up to the first CRLF of CRLF CRLF */
				return 0;
			}
			p3 = p2;
			p2 = p1;
			p1 = in[i];
		}
		off += n;
	}
	*len = off;				/* no body: all of it is header */
	return 0;
}

/* dsn_original - the header (RET=HDRS) or the whole message (RET=FULL), streamed */
static int
dsn_original(int msg_fd, int full, int out_fd)
{
	char	*in;
	off_t	 off = 0, len = -1;
	ssize_t	 n;
	char	 last = '\n';
	int	 rc = -1;

	if ((in = malloc(DSN_CHUNK)) == NULL)
		return -1;
	if (!full && dsn_header_len(msg_fd, in, &len) == -1)
		goto out;
	while (len == -1 || off < len) {
		n = pread(msg_fd, in, len == -1 || len - off > DSN_CHUNK ? DSN_CHUNK : len - off,
		    off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		if (fdio_write_all(out_fd, in, n) == -1)
			goto out;
		last = in[n - 1];
		off += n;
	}
	if (last != '\n' && fdio_write_all(out_fd, "\r\n", 2) == -1)
		goto out;
	rc = 0;
out:
	free(in);
	return rc;
}

int
dsn_build(const struct envelope *env, const struct dsn_rcpt *r, size_t n, int msg_fd,
    const char *reporting_mta, int64_t now_ms, int out_fd)
{
	struct buf	b;
	unsigned char	rnd[8];
	char		boundary[80], ret[16];
	size_t		i, wanted = 0;
	int		full, rc = -1;

	if (env->mail_from == NULL || env->mail_from[0] == '\0')
		return 1;	/* never to the null sender (RFC 5321 4.5.5) */
	for (i = 0; i < n; i++)
		wanted += dsn_wanted(&r[i]);
	if (wanted == 0)
		return 1;
	full = dsn_param(env->mail_params, "RET", ret, sizeof(ret)) && strcasecmp(ret, "FULL") == 0;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		memset(rnd, 0x5a, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "=_mxspool_%lld_%02x%02x%02x%02x%02x%02x%02x%02x",
	    (long long)now_ms, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	buf_init(&b, DSN_BUF_MAX);
	if (dsn_head(&b, env, r, n, reporting_mta, now_ms, boundary) != 0 ||
	    dsn_report(&b, env, r, n, reporting_mta, boundary) != 0 ||
	    buf_printf(&b, "\r\n--%s\r\nContent-Description: Undelivered Message%s\r\n"
	    "Content-Type: %s\r\n\r\n", boundary, full ? "" : " Headers",
	    full ? "message/rfc822" : "text/rfc822-headers") != 0)
		goto out;
	if (fdio_write_all(out_fd, b.data, b.len) == -1 || dsn_original(msg_fd, full, out_fd) == -1)
		goto out;
	buf_reset(&b);
	if (buf_printf(&b, "\r\n--%s--\r\n", boundary) != 0 ||
	    fdio_write_all(out_fd, b.data, b.len) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}
