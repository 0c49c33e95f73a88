/*
 * fuzz_smtpcmd.c - libFuzzer harness for the SMTP command parser
 * (ingest/smtp_cmd.c smtp_cmd_dispatch: verb table, HELO/EHLO argument,
 * MAIL/RCPT paths and ESMTP parameters, sequence, pipelining rule).
 *
 * The session layer under it (ingest/smtp_session.c: socket, TLS, line
 * reader, tarpit) is replaced by the few functions smtp_cmd.c calls, defined
 * here: replies and log lines are checked, not sent.  The policy it asks for
 * (recipient verification, rate limits, monitoring mode) is decided from the
 * address, so that each reply branch is reachable.  DATA ends the
 * transaction as the data phase would (ingest/datascan.c has its own harness)
 * after checking the envelope and its stored JSON form.
 *
 * Input: byte 0 sets the session (bit 0 require_tls, bits 1-2 max_recipients
 * 1/2/5/100, bit 3 already EHLO'd, bit 4 rate limits refuse), the rest is the
 * client's bytes: lines cut at LF (a CR before it dropped), each dispatched in
 * turn as the command loop does (lines with NUL or over 2048 bytes are
 * refused before dispatch, so skipped), with the bytes after it as pipelined
 * input.  Checks beyond "no crash, no sanitizer report":
 *   - exactly one reply per command; each reply one line of at most 510
 *     bytes, no control character, "[2-5][0-5][0-9] " and an RFC 3463
 *     enhanced code of the same class; log lines one line, no controls;
 *   - the session ends (-1) only after 221, 421 or 554;
 *   - MAIL: 250 creates the transaction, anything else leaves none; the
 *     sender re-parses; parameters are only the known ones, each once;
 *   - RCPT: 250 adds the recipient (or it was there), never above
 *     max_recipients; a refusal adds none; each recipient re-parses;
 *   - DATA reaches the data phase only with a sender and a recipient, and
 *     the envelope's JSON reads back the same.
 * Any violation abort()s.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailaddr.h"
#include "msgid.h"
#include "rcpt_verify.h"
#include "smtp.h"

#define FZ_NAME "fuzz_smtpcmd"
#include "fz.h"

struct ingest_global ingest;

static struct {
	int	replies;	/* replies to the current command */
	char	last[1024];	/* the last one */
	int	limited;	/* rate limits refuse */
	int	data;		/* the data phase was reached */
	int	hello;		/* the command is HELO or EHLO */
} fz;

/* fz_reply_line - one line of a reply: "NNN-" or "NNN " (last), at most 510 bytes, printable */
static void
fz_reply_line(const char *l, size_t n, int last)
{
	char	one[1024];

	fz_check(n + 2 <= 512, "reply line longer than 512 (RFC 5321 4.5.3.1.5)");
	memcpy(one, l, n);
	one[n] = '\0';
	fz_check(fz_printable(one), "control character in a reply");
	fz_check(n >= 4 && l[0] >= '2' && l[0] <= '5' && l[1] >= '0' && l[1] <= '5' &&
	    l[2] >= '0' && l[2] <= '9' && memcmp(l, fz.last, 3) == 0, "reply code");
	fz_check(l[3] == (last ? ' ' : '-'), "reply continuation mark");
}

/* smtp_reply - checked, not sent (lines separated by CRLF, as smtp_session.c takes them) */
int
smtp_reply(struct smtp_session *s, const char *fmt, ...)
{
	va_list		 ap;
	const char	*e, *l, *crlf;
	size_t		 d;
	int		 part;

	va_start(ap, fmt);
	vsnprintf(fz.last, sizeof(fz.last), fmt, ap);
	va_end(ap);
	fz.replies++;
	for (l = fz.last; (crlf = strstr(l, "\r\n")) != NULL; l = crlf + 2)
		fz_reply_line(l, crlf - l, 0);
	fz_reply_line(l, strlen(l), 1);
	if (fz.hello && strncmp(fz.last, "250", 3) == 0)
		return 0;	/* HELO/EHLO greeting: no enhanced code (RFC 2034 3) */
	/* RFC 3463 class.subject.detail, class as the reply's */
	fz_check(fz.last[4] == fz.last[0] && fz.last[5] == '.', "enhanced code class");
	for (e = fz.last + 6, part = 0; part < 2; part++) {
		for (d = 0; e[d] >= '0' && e[d] <= '9'; d++)
			;
		fz_check(d >= 1 && d <= 3 && e[d] == (part == 0 ? '.' : ' '),
		    "enhanced code syntax");
		e += d + 1;
	}
	return 0;
}

/* smtp_error - the hard error limit ends the session with 421 (as smtp_session.c) */
int
smtp_error(struct smtp_session *s)
{
	if (++s->errors >= s->ic->hard_error_limit) {
		smtp_reply(s, "421 4.7.0 %s Error: too many errors", s->ic->hostname);
		s->quit = 1;
		return 1;
	}
	return 0;
}

/* smtp_log - one line, no controls */
void
smtp_log(struct smtp_session *s, const char *event, const char *fmt, ...)
{
	char	line[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fz_check(fz_printable(event) && fz_printable(line), "control character in a log line");
}

/* smtp_tx_free - end the transaction, as smtp_session.c does (the harness stands in for it) */
void
smtp_tx_free(struct smtp_session *s)
{
	if (s->tx == NULL)
		return;
	envelope_free(&s->tx->env);
	free(s->tx);
	s->tx = NULL;
}

/* smtp_junk - junk_command_limit, as smtp_session.c (without the counters) */
int
smtp_junk(struct smtp_session *s)
{
	if (++s->junk <= s->ic->junk_limit)
		return 0;
	smtp_reply(s, "421 4.7.0 %s Error: too many non-mail commands", s->ic->hostname);
	s->quit = 1;
	return 1;
}

/* smtp_bdat_run - chunk bytes come from a socket this harness does not have (the
 * datascan harness covers BDAT's byte handling): a plain refusal, session goes on */
int
smtp_bdat_run(struct smtp_session *s, char *args)
{
	smtp_reply(s, "502 5.5.1 Error: BDAT is not driven by this harness");
	return 0;
}

/* smtp_starttls - never reached: no TLS context */
int
smtp_starttls(struct smtp_session *s)
{
	fz_check(0, "STARTTLS without a TLS context");
	return -1;
}

/* fz_path_ok - "<addr>" parses again to addr */
static void
fz_path_ok(const char *addr, int null_ok, int utf8)
{
	struct mailaddr	 m;
	const char	*end, *why;
	char		 again[MXS_PATH_MAX + 8];

	snprintf(again, sizeof(again), "<%s>", addr);
	fz_check(mailaddr_parse_path(again, null_ok, utf8, &m, &end, &why) == MAILADDR_OK &&
	    *end == '\0' && strcmp(m.addr, addr) == 0, "accepted address does not re-parse");
}

/* smtp_data_run - the data phase: check the envelope and its JSON, end the transaction */
int
smtp_data_run(struct smtp_session *s)
{
	struct envelope	 g;
	char		*j, err[ERRSTR_MAX];
	size_t		 i;

	fz_check(s->tx != NULL && s->tx->env.mail_from != NULL && s->tx->env.nrcpts > 0,
	    "data phase without sender or recipients");
	fz_check(s->tx->env.nrcpts <= (size_t)s->ic->max_recipients, "over max_recipients");
	fz.data = 1;
	snprintf(s->tx->env.id, sizeof(s->tx->env.id), "01JB0000000000000000000000.mx1");
	snprintf(s->tx->env.node, sizeof(s->tx->env.node), "mx1");
	memset(s->tx->env.sha256, 'a', 64);
	s->tx->env.sha256[64] = '\0';
	fz_check((j = envelope_to_json(&s->tx->env)) != NULL, "envelope_to_json");
	fz_check(envelope_from_json(j, strlen(j), &g, err, sizeof(err)) == 0,
	    "the stored envelope does not read back");
	fz_check(strcmp(g.mail_from, s->tx->env.mail_from) == 0 &&
	    strcmp(g.mail_params, s->tx->env.mail_params) == 0 &&
	    g.nrcpts == s->tx->env.nrcpts, "the stored envelope reads back different");
	for (i = 0; i < g.nrcpts; i++)
		fz_check(strcmp(g.rcpts[i].addr, s->tx->env.rcpts[i].addr) == 0 &&
		    strcmp(g.rcpts[i].params, s->tx->env.rcpts[i].params) == 0,
		    "a stored recipient reads back different");
	envelope_free(&g);
	free(j);
	smtp_tx_free(s);
	return smtp_reply(s, "250 2.0.0 Ok: queued as 01JB0000000000000000000000.mx1");
}

/* counters_inc - only checked: a known counter */
void
counters_inc(enum counters_id id)
{
	fz_check(id < COUNTERS_N, "counter id");
}

/* limits_message - rate limits as byte 0 says */
enum limits_result
limits_message(const char *client, const struct ingest_conf *ic)
{
	return fz.limited ? LIMITS_RATE : LIMITS_OK;
}

/* limits_rcpt - rate limits as byte 0 says */
enum limits_result
limits_rcpt(const char *client, const struct ingest_conf *ic)
{
	return fz.limited ? LIMITS_RATE : LIMITS_OK;
}

/* monitor_primary_healthy - never called: no monitor (ingest.monitor NULL) */
int
monitor_primary_healthy(struct monitor *m)
{
	return 0;
}

/* verify_rcpt - by the local part, so that every outcome is reachable */
enum verify_result
verify_rcpt(struct verify *v, const char *addr, char *text, size_t textlen)
{
	fz_check(strchr(addr, '@') != NULL && fz_printable(addr), "address given to verify");
	if (strncmp(addr, "nouser", 6) == 0)
		return VERIFY_NO_USER;
	if (strncmp(addr, "relay", 5) == 0)
		return VERIFY_NO_DOMAIN;
	if (strncmp(addr, "later", 5) == 0) {
		snprintf(text, textlen, "Recipient address verification: callout timed out");
		return VERIFY_TEMPFAIL;
	}
	return VERIFY_OK;
}

/* fz_params_ok - only known keywords, each once, in their canonical form */
static void
fz_params_ok(const char *p, const char *const *known)
{
	char	 w[1100], *save = NULL, *t;
	int	 seen = 0, i;

	fz_check(strlen(p) < sizeof(w), "parameters too long");
	snprintf(w, sizeof(w), "%s", p);
	for (t = strtok_r(w, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		for (i = 0; known[i] != NULL; i++)
			if (strncmp(t, known[i], strlen(known[i])) == 0 &&
			    (t[strlen(known[i])] == '=' || t[strlen(known[i])] == '\0'))
				break;
		fz_check(known[i] != NULL, "unknown parameter kept");
		fz_check(!(seen & (1 << i)), "parameter kept twice");
		seen |= 1 << i;
	}
}

/* fz_command - dispatch one line and check the outcome */
static int
fz_command(struct smtp_session *s, char *line, size_t len)
{
	static const char *const mailk[] = { "SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", NULL };
	static const char *const rcptk[] = { "NOTIFY", "ORCPT", NULL };
	int	 r, had_tx = s->tx != NULL, data = fz.data, utf8 = s->tx ? s->tx->utf8 : 0;
	size_t	 nr = s->tx ? s->tx->env.nrcpts : 0, i;
	char	 verb[5];

	snprintf(verb, sizeof(verb), "%.4s", line);
	if (len > 4 && line[4] != ' ')
		verb[0] = '\0';
	fz.replies = 0;
	fz.hello = strcasecmp(verb, "HELO") == 0 || strcasecmp(verb, "EHLO") == 0;
	r = smtp_cmd_dispatch(s, line, len);
	fz_check(fz.replies == 1, "not exactly one reply to a command");
	if (r == -1) {
		fz_check(strncmp(fz.last, "221", 3) == 0 || strncmp(fz.last, "421", 3) == 0 ||
		    strncmp(fz.last, "554", 3) == 0, "session ended without 221/421/554");
		return -1;
	}
	fz_check(r == 0, "dispatch result");
	if (fz.data != data)
		return 0;
	if (strcasecmp(verb, "MAIL") == 0 && !had_tx) {
		fz_check((s->tx != NULL) == (strncmp(fz.last, "250", 3) == 0),
		    "MAIL: transaction without 250, or 250 without one");
		if (s->tx != NULL) {
			if (s->tx->env.mail_from[0] != '\0')
				fz_path_ok(s->tx->env.mail_from, 1, s->tx->utf8);
			fz_params_ok(s->tx->env.mail_params, mailk);
		}
	} else if (strcasecmp(verb, "RCPT") == 0 && had_tx && s->tx != NULL) {
		if (strncmp(fz.last, "250", 3) == 0)
			fz_check(s->tx->env.nrcpts == nr || s->tx->env.nrcpts == nr + 1,
			    "RCPT 250: recipients not added once");
		else
			fz_check(s->tx->env.nrcpts == nr, "RCPT refused but a recipient added");
		fz_check(s->tx->env.nrcpts <= (size_t)s->ic->max_recipients, "max_recipients");
		for (i = nr; i < s->tx->env.nrcpts; i++) {
			fz_path_ok(s->tx->env.rcpts[i].addr, 0, utf8);
			fz_params_ok(s->tx->env.rcpts[i].params, rcptk);
		}
	}
	return 0;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - byte 0 the session settings, then the client's lines */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int	 maxr[] = { 1, 2, 5, 100 };
	static char		 line[SMTP_CMDLINE_MAX + 1];
	struct ingest_conf	 ic;
	struct ingest_rt	 rt;
	struct smtp_session	 s;
	const uint8_t		*p, *end, *nl;
	size_t			 n;

	if (size < 1)
		return 0;
	memset(&fz, 0, sizeof(fz));
	fz_context = fz.last;	/* a failure shows the last reply */
	memset(&ic, 0, sizeof(ic));
	memset(&rt, 0, sizeof(rt));
	memset(&s, 0, sizeof(s));
	snprintf(ic.hostname, sizeof(ic.hostname), "mx.test");
	snprintf(ic.staging_dir, sizeof(ic.staging_dir), "/");
	ic.require_tls = data[0] & 1;
	ic.max_recipients = maxr[(data[0] >> 1) & 3];
	ic.max_message_size = 10485760;
	ic.max_line_length = SMTP_CMDLINE_MAX;
	ic.soft_error_limit = 3;
	ic.hard_error_limit = 20;
	rt.conf = &ic;
	s.fd = -1;
	s.rt = &rt;
	s.ic = &ic;
	snprintf(s.id, sizeof(s.id), "fz");
	snprintf(s.addr, sizeof(s.addr), "192.0.2.1");
	snprintf(s.client, sizeof(s.client), "192.0.2.1");
	if (data[0] & 8) {
		s.helo_kind = SMTP_HELO_EHLO;
		snprintf(s.helo, sizeof(s.helo), "client.test");
	}
	fz.limited = (data[0] & 16) != 0;
	for (p = data + 1, end = data + size; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			nl = end;
		n = nl - p;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n + 2 > SMTP_CMDLINE_MAX || memchr(p, '\0', n) != NULL)
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		/* pipelined input: what follows this line (DATA's RFC 2920 3.1 check) */
		s.inpos = 0;
		s.inlen = nl < end ? (size_t)(end - nl - 1) : 0;
		if (s.inlen > SMTP_INBUF)
			s.inlen = SMTP_INBUF;
		if (fz_command(&s, line, n) == -1)
			break;
	}
	smtp_tx_free(&s);
	return 0;
}
