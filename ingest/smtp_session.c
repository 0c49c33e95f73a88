/*
 * smtp_session.c - one SMTP client connection, from banner to close.
 *
 * Runs on its own thread (listen.c) with a small stack: buffers live in the
 * heap-allocated session.  The socket is non-blocking; every wait is a poll()
 * on the socket plus the daemon's shutdown descriptors, bounded by the
 * command or data timeout.  TLS (STARTTLS, RFC 3207) is OpenSSL on the same
 * descriptor.  Entry point smtp_session_run(); helpers for the command and
 * data modules: smtp_fill (read), smtp_write/smtp_reply (write), smtp_error
 * (error counting and tarpit), smtp_starttls.
 * DNSBL screening (common/dnsbl.c) runs before the greeting, its lookups in
 * parallel with the greet_delay wait, as postscreen does.
 * Errors: I/O failures end the session quietly (logged once); timeouts and
 * shutdown send a 421 first.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "clock.h"
#include "dnsbl.h"
#include "log.h"
#include "rcpt_verify.h"
#include "smtp.h"

static unsigned int	 session_seq;

static int	smtp_fill_until(struct smtp_session *, int64_t deadline);

/* smtp_log - "<id> ingest <event> key=value..." */
void
smtp_log(struct smtp_session *s, const char *event, const char *fmt, ...)
{
	char	 text[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_info("%s ingest %s %s", s->id, event, text);
}

/*
 * smtp_wait - wait for events on the socket until deadline_ms.  Returns 1
 * ready, 0 timeout, -1 shutdown.  The soft shutdown descriptor only counts
 * outside a transaction: a transaction in progress may finish during the
 * grace period (the hard descriptor ends it).
 */
static int
smtp_wait(struct smtp_session *s, short ev, int64_t deadline_ms)
{
	struct pollfd	pfd[3];
	int		n = 0, r;
	int64_t		left;

	for (;;) {
		n = 0;
		pfd[n].fd = s->fd; pfd[n].events = ev; pfd[n++].revents = 0;
		pfd[n].fd = ingest.hard_fd; pfd[n].events = POLLIN; pfd[n++].revents = 0;
		if (s->tx == NULL) {
			pfd[n].fd = ingest.stop_fd; pfd[n].events = POLLIN; pfd[n++].revents = 0;
		}
		left = deadline_ms - mono_ms();
		if (left <= 0)
			return 0;
		r = poll(pfd, n, left > 60000 ? 60000 : (int)left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		if (pfd[1].revents != 0 || (n == 3 && pfd[2].revents != 0))
			return -1;
		if (pfd[0].revents != 0)
			return 1;
	}
}

/* smtp_gone - say 421 for a timeout (why 0) or shutdown (1) before closing */
void
smtp_gone(struct smtp_session *s, int why)
{
	if (why == 0) {
		counters_inc(COUNTERS_REJ_TIMEOUT);
		smtp_log(s, "timeout", "addr=%s", s->addr);
		smtp_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->ic->hostname);
	} else {
		smtp_log(s, "shutdown", "addr=%s", s->addr);
		smtp_reply(s, "421 4.3.2 %s Service shutting down, closing connection",
		    s->ic->hostname);
	}
}

/* smtp_fill - read what is available into in[], waiting at most timeout seconds */
int
smtp_fill(struct smtp_session *s, int timeout)
{
	return smtp_fill_until(s, mono_ms() + (int64_t)timeout * 1000);
}

/*
 * smtp_ssl_event - after an SSL_read/SSL_write that returned n <= 0: the
 * poll event TLS waits for (either way round: a renegotiation or a
 * post-handshake message can make a read wait to write), 0 when it failed
 */
static short
smtp_ssl_event(struct smtp_session *s, int n)
{
	int e = SSL_get_error(s->ssl, n);

	return e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
}

/* smtp_fill_until - read what is available into in[], waiting until deadline (monotonic ms) */
static int
smtp_fill_until(struct smtp_session *s, int64_t deadline)
{
	ssize_t	n;
	short	ev;
	int	w;

	if (s->inpos == s->inlen)
		s->inpos = s->inlen = 0;
	else if (s->inpos > 0) {
		memmove(s->in, s->in + s->inpos, s->inlen - s->inpos);
		s->inlen -= s->inpos;
		s->inpos = 0;
	}
	if (s->inlen == sizeof(s->in))
		return 1;
	for (;;) {
		if (s->ssl != NULL) {
			ERR_clear_error();
			n = SSL_read(s->ssl, s->in + s->inlen, sizeof(s->in) - s->inlen);
			if (n > 0) {
				s->inlen += n;
				return 1;
			}
			if ((ev = smtp_ssl_event(s, n)) == 0)
				return 0;
		} else {
			n = recv(s->fd, s->in + s->inlen, sizeof(s->in) - s->inlen, 0);
			if (n > 0) {
				s->inlen += n;
				return 1;
			}
			if (n == 0)
				return 0;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return 0;
			ev = POLLIN;
		}
		if ((w = smtp_wait(s, ev, deadline)) <= 0) {
			smtp_gone(s, w);
			return -1;
		}
	}
}

/* smtp_write - write all of p, bounded by the command timeout */
int
smtp_write(struct smtp_session *s, const void *p, size_t len)
{
	const char	*b = p;
	int64_t		 deadline = mono_ms() + (int64_t)s->ic->cmd_timeout * 1000;
	ssize_t		 n;
	short		 ev = POLLOUT;

	while (len > 0) {
		if (s->ssl != NULL) {
			ERR_clear_error();
			n = SSL_write(s->ssl, b, len);
			if (n <= 0) {
				if ((ev = smtp_ssl_event(s, n)) == 0)
					return -1;
				n = 0;
			}
		} else {
			n = send(s->fd, b, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK)
					return -1;
				ev = POLLOUT;
				n = 0;
			}
		}
		if (n > 0) {
			b += n;
			len -= n;
			continue;
		}
		if (smtp_wait(s, ev, deadline) <= 0)
			return -1;
	}
	return 0;
}

/* smtp_reply - one reply (lines separated by "\r\n" in fmt), CRLF appended */
int
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	char	 out[2048], esc[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n > sizeof(out) - 3)
		n = sizeof(out) - 3;
	log_debug("%s ingest reply text=\"%s\"", s->id, log_escape(out, n, esc, sizeof(esc)));
	out[n++] = '\r';
	out[n++] = '\n';
	return smtp_write(s, out, n);
}

/* smtp_tx_free - end the transaction */
void
smtp_tx_free(struct smtp_session *s)
{
	if (s->tx == NULL)
		return;
	smtp_msg_free(s, s->tx->msg);
	envelope_free(&s->tx->env);
	free(s->tx);
	s->tx = NULL;
}

/*
 * smtp_error - count an error reply about to be sent.  Past the soft limit
 * each further error is delayed (error_sleep_time, growing, capped); at the
 * hard limit the session gets 421 and ends (Postfix smtpd_*_error_limit).
 */
int
smtp_error(struct smtp_session *s)
{
	struct pollfd	pfd;
	long long	delay;

	s->errors++;
	if (s->errors >= s->ic->hard_error_limit) {
		counters_inc(COUNTERS_REJ_ERRORS);
		smtp_log(s, "too_many_errors", "addr=%s errors=%d", s->addr, s->errors);
		smtp_reply(s, "421 4.7.0 %s Error: too many errors", s->ic->hostname);
		s->quit = 1;
		return 1;
	}
	if (s->errors >= s->ic->soft_error_limit && s->ic->error_sleep > 0) {
		delay = (long long)s->ic->error_sleep * (s->errors - s->ic->soft_error_limit + 1);
		if (delay > s->ic->error_sleep_max)
			delay = s->ic->error_sleep_max;
		pfd.fd = ingest.hard_fd;
		pfd.events = POLLIN;
		(void)poll(&pfd, 1, (int)(delay * 1000));
	}
	return 0;
}

/*
 * smtp_junk - count a command that moves no mail (NOOP RSET VRFY HELP HELO EHLO, an empty
 * or refused BDAT chunk); past junk_command_limit since the last accepted message: 421
 * 4.7.0, 1 (the session ends).  Postfix smtpd_junk_command_limit; Postfix then counts
 * errors, we just end it.
 */
int
smtp_junk(struct smtp_session *s)
{
	if (++s->junk <= s->ic->junk_limit)
		return 0;
	counters_inc(COUNTERS_REJ_JUNK);
	smtp_log(s, "too_many_junk_commands", "addr=%s count=%d", s->addr, s->junk);
	smtp_reply(s, "421 4.7.0 %s Error: too many non-mail commands", s->ic->hostname);
	s->quit = 1;
	return 1;
}

/* smtp_starttls - RFC 3207: handshake, then forget all plaintext state */
int
smtp_starttls(struct smtp_session *s)
{
	int64_t	deadline = mono_ms() + (int64_t)s->ic->cmd_timeout * 1000;
	short	ev;
	int	r, e;

	/* 4.2: anything the client sent after STARTTLS in plaintext is discarded */
	if (s->inpos < s->inlen) {
		counters_inc(COUNTERS_REJ_PIPELINING);
		smtp_log(s, "starttls_injection", "addr=%s discarded=%zu", s->addr,
		    s->inlen - s->inpos);
	}
	s->inpos = s->inlen = 0;
	if (smtp_reply(s, "220 2.0.0 Ready to start TLS") != 0)
		return -1;
	if ((s->ssl = SSL_new(s->rt->tls)) == NULL || SSL_set_fd(s->ssl, s->fd) != 1)
		return -1;
	for (;;) {
		ERR_clear_error();
		if ((r = SSL_accept(s->ssl)) == 1)
			break;
		e = SSL_get_error(s->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else {
			smtp_log(s, "tls_failed", "addr=%s error=%s", s->addr,
			    ERR_reason_error_string(ERR_peek_last_error()) ?
			    ERR_reason_error_string(ERR_peek_last_error()) : "handshake");
			SSL_free(s->ssl);
			s->ssl = NULL;
			return -1;
		}
		if (smtp_wait(s, ev, deadline) <= 0) {
			SSL_free(s->ssl);
			s->ssl = NULL;
			return -1;
		}
	}
	snprintf(s->tls_desc, sizeof(s->tls_desc), "%s %s", SSL_get_version(s->ssl),
	    SSL_get_cipher_name(s->ssl));
	smtp_log(s, "starttls", "addr=%s tls=\"%s\"", s->addr, s->tls_desc);
	s->helo_kind = SMTP_HELO_NONE;
	s->helo[0] = '\0';
	smtp_tx_free(s);
	return 0;
}

/*
 * smtp_binary - c cannot start an SMTP command: a control character other than
 * CR/LF, DEL or a byte >= 0x80.  A TLS ClientHello (0x16 0x03), an SSLv2 hello
 * (0x80) or other binary on the plain port: such a peer never speaks SMTP and
 * may never send an LF, so it is not read to a line end (Postfix closes on
 * commands not starting with a letter: smtpd_forbidden_commands).  A command
 * always starts with an ASCII verb, SMTPUTF8 included (RFC 6531 3.2).
 */
static int
smtp_binary(unsigned char c)
{
	return (c < 0x20 && c != '\r' && c != '\n') || c >= 0x7f;
}

/*
 * smtp_getline - next command line into s->line (CR LF or LF ends it; the
 * CR is dropped; *bare tells a bare LF or CR for the bare_newline policy).  A line longer than max_line_length is consumed to its end
 * and reported with *toolong so the session stays in sync.  A line whose first
 * byte is binary (smtp_binary) is returned at once with *binary set.
 * Waits: the idle timeout before the first byte and between reads; from the
 * first byte on, the whole line must arrive within command_deadline (Postfix
 * smtpd_per_request_deadline), so one byte every few seconds cannot hold a
 * session for minutes.  Past it: 421 4.4.2 (smtp_fill_until).
 */
static int
smtp_getline(struct smtp_session *s, size_t *len, int *toolong, int *binary, int *bare)
{
	size_t		max = s->ic->max_line_length, n = 0;
	int64_t		deadline = 0, idle;
	int		r;
	unsigned char	prev = 0;

	*toolong = *binary = *bare = 0;
	for (;;) {
		if (deadline == 0 && s->inpos < s->inlen)
			deadline = mono_ms() + (int64_t)s->ic->cmd_deadline * 1000;
		while (s->inpos < s->inlen) {
			unsigned char c = s->in[s->inpos++];

			if (n == 0 && !*toolong && smtp_binary(c)) {
				*binary = 1;
				*len = 0;
				s->inpos--;
				return 1;
			}
			if ((c == '\n') != (prev == '\r') && (c == '\n' || prev == '\r'))
				*bare = 1;	/* a bare LF, or a CR not before an LF */
			prev = c;
			if (c == '\n') {
				if (n > 0 && s->line[n - 1] == '\r')
					n--;
				s->line[n] = '\0';
				*len = n;
				return 1;
			}
			if (n + 1 < max)
				s->line[n++] = c;
			else
				*toolong = 1;
		}
		idle = mono_ms() + (int64_t)s->ic->cmd_timeout * 1000;
		if ((r = smtp_fill_until(s, deadline != 0 && deadline < idle ? deadline : idle)) <= 0)
			return r;
	}
}

/* smtp_pregreet - RFC 5321 4.3.1: the client must wait for the banner */
static int
smtp_pregreet(struct smtp_session *s)
{
	struct pollfd	pfd;
	char		c;

	if (s->ic->greet_delay <= 0)
		return 0;
	pfd.fd = s->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, s->ic->greet_delay * 1000) <= 0)
		return 0;
	if (recv(s->fd, &c, 1, MSG_PEEK) <= 0)
		return -1;
	counters_inc(COUNTERS_REJ_PREGREET);
	smtp_log(s, "pregreet", "addr=%s", s->addr);
	smtp_reply(s, "554 5.5.1 %s Error: client spoke before the greeting", s->ic->hostname);
	return -1;
}

/*
 * smtp_screen - wait for the DNSBL verdict (one log line per decision).  Over
 * the threshold the greeting is a 554 and so is every reply but QUIT's: RFC
 * 5321 3.1 lets a server refuse with a 554 greeting, after which it waits for
 * QUIT; the repeated 554 tells a client that ignores the greeting why, and
 * the error limits end a client that keeps talking.
 */
static void
smtp_screen(struct smtp_session *s, struct dnsbl_query *q)
{
	struct dnsbl_result r;

	dnsbl_finish(q, &r);
	smtp_log(s, "dnsbl", "addr=%s action=%s score=%d threshold=%d listings=\"%s\" "
	    "errors=\"%s\" cached=%s ms=%lld%s%s", s->addr, r.allowlisted ? "allowlisted" :
	    r.listed ? "reject" : "pass", r.score, r.threshold, r.listings, r.errors,
	    r.cached ? "yes" : "no", r.ms, r.allowlisted ? " allowed_by=" : "",
	    r.allowlisted ? r.allowed_by : "");
	if (!r.listed)
		return;
	counters_inc(COUNTERS_REJ_DNSBL);
	snprintf(s->blocked, sizeof(s->blocked),
	    "554 5.7.1 Service unavailable; client [%s] blocked using %s", s->addr, r.top);
}

/* smtp_is_quit - the line is a QUIT command (RFC 5321 4.1.1.10: no parameters) */
static int
smtp_is_quit(const char *line, size_t len)
{
	return len == 4 && strncasecmp(line, "QUIT", 4) == 0;
}

/* smtp_loop - banner, then commands until QUIT, error or shutdown */
static void
smtp_loop(struct smtp_session *s)
{
	struct dnsbl_query	*q = NULL;
	size_t			 len;
	int			 toolong, binary, bare, early;
	char			 esc[128];

	if (s->rt->dnsbl != NULL)
		q = dnsbl_start(s->rt->dnsbl, s->addr);
	early = smtp_pregreet(s);
	if (s->rt->dnsbl != NULL)
		smtp_screen(s, q);
	if (early != 0)
		return;
	if (s->blocked[0] != '\0') {
		if (smtp_reply(s, "%s", s->blocked) != 0)
			return;
	} else if (smtp_reply(s, "220 %s ESMTP mxspool", s->ic->hostname) != 0)
		return;
	while (!s->quit) {
		if (ingest.stopping && s->tx == NULL) {
			smtp_gone(s, 1);
			return;
		}
		if (smtp_getline(s, &len, &toolong, &binary, &bare) <= 0)
			return;
		/*
		 * RFC 5321 2.3.8: lines end with CR LF only.  One policy for commands and
		 * DATA (bare_newline): reject ends the session here (as Postfix
		 * smtpd_forbid_bare_newline = yes; the peer's framing cannot be trusted);
		 * keep takes the LF as the line end as before.
		 */
		if (bare && s->ic->bare_newline == INGEST_BARE_REJECT) {
			counters_inc(COUNTERS_REJ_BARE_NEWLINE);
			smtp_log(s, "bare_newline", "addr=%s phase=command start=\"%s\"", s->addr,
			    log_escape(s->line, len < 40 ? len : 40, esc, sizeof(esc)));
			smtp_reply(s, "521 5.5.2 %s Error: bare CR or LF in command "
			    "(RFC 5321 2.3.8)", s->ic->hostname);
			return;
		}
		if (binary) {
			counters_inc(COUNTERS_REJ_BINARY);
			smtp_log(s, "binary_command", "addr=%s start=\"%s\"", s->addr,
			    log_escape((char *)s->in + s->inpos, s->inlen - s->inpos < 16 ?
			    s->inlen - s->inpos : 16, esc, sizeof(esc)));
			smtp_reply(s, "554 5.7.0 Error: binary data or TLS on the SMTP port "
			    "(use STARTTLS)");
			return;
		}
		if (toolong) {
			counters_inc(COUNTERS_REJ_LONG_LINE);
			smtp_log(s, "line_too_long", "addr=%s start=\"%s\"", s->addr,
			    log_escape(s->line, 40, esc, sizeof(esc)));
			if (smtp_error(s))
				return;
			smtp_reply(s, "500 5.5.2 Error: line too long");
			continue;
		}
		if (memchr(s->line, '\0', len) != NULL) {
			counters_inc(COUNTERS_REJ_NUL);
			if (smtp_error(s))
				return;
			smtp_reply(s, "500 5.5.2 Error: NUL character in command");
			continue;
		}
		if (s->blocked[0] != '\0' && !smtp_is_quit(s->line, len)) {
			if (smtp_error(s))
				return;
			smtp_reply(s, "%s", s->blocked);
			continue;
		}
		if (smtp_cmd_dispatch(s, s->line, len) != 0)
			return;
	}
}

/* smtp_session_run - serve one accepted connection; closes fd */
void
smtp_session_run(int fd, const char *addr, const char *client, int port)
{
	struct smtp_session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		limits_disconnect(client);
		return;
	}
	s->fd = fd;
	s->rt = ingest_rt_get();
	s->ic = s->rt->conf;
	s->port = port;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	snprintf(s->client, sizeof(s->client), "%s", client);
	snprintf(s->id, sizeof(s->id), "S%08lx%04x", (unsigned long)time(NULL) & 0xffffffffUL,
	    __atomic_add_fetch(&session_seq, 1, __ATOMIC_RELAXED) & 0xffff);
	if ((s->line = malloc(s->ic->max_line_length + 1)) != NULL) {
		smtp_log(s, "connect", "addr=%s port=%d", s->addr, port);
		smtp_loop(s);
		smtp_log(s, "disconnect", "addr=%s errors=%d", s->addr, s->errors);
	}
	if (s->ssl != NULL) {
		SSL_set_quiet_shutdown(s->ssl, 1);
		SSL_free(s->ssl);
	}
	close(fd);
	limits_disconnect(client);
	smtp_tx_free(s);
	ingest_rt_put(s->rt);
	free(s->line);
	free(s);
}
