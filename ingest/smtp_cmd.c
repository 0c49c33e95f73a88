/*
 * smtp_cmd.c - the SMTP command table and the envelope commands (RFC 5321 4.1).
 *
 * Dispatch: verb -> table entry -> require_tls gate -> handler.  Handlers
 * check sequence and syntax first, then policy (rates, monitoring mode, disk
 * space, recipient verification), and reply themselves.  Every rejection goes
 * through cmd_reject(), which counts the error (tarpit, hard limit) before the
 * reply.  Entry point: smtp_cmd_dispatch(); returns -1 to end the session.
 * Commands that must end a pipeline group (RFC 2920 3.1) and are followed by
 * more input are refused: DATA (554 and close) and STARTTLS (input dropped);
 * BDAT may be pipelined (RFC 3030 4.1: smtp_bdat.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>

#include "buf.h"
#include "log.h"
#include "mailaddr.h"
#include "rcpt_verify.h"
#include "smtp.h"

#define CMD_PRETLS	0x01	/* allowed before STARTTLS when require_tls */
#define CMD_JUNK	0x02	/* not mail: counts against junk_command_limit */

struct smtp_cmd {
	const char	*verb;
	int		 flags;
	int		(*proceed)(struct smtp_session *, char *args);
};

/* cmd_reject - count the error (tarpit), reply; -1 when the hard limit ended the session */
static int
cmd_reject(struct smtp_session *s, enum counters_id cid, const char *fmt, ...)
{
	char	text[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if ((int)cid >= 0)
		counters_inc(cid);
	if (smtp_error(s))
		return -1;
	return smtp_reply(s, "%s", text) == 0 ? 0 : -1;
}

/* cmd_helo_valid - printable ASCII without spaces, so it is safe in Received: */
static int
cmd_helo_valid(const char *a)
{
	size_t n = strlen(a), i;

	if (n == 0 || n >= 256)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x21 || (unsigned char)a[i] > 0x7e ||
		    a[i] == '(' || a[i] == ')' || a[i] == '\\')
			return 0;
	return 1;
}

/* cmd_hello - HELO and EHLO (RFC 5321 4.1.1.1): a reset, then the greeting */
static int
cmd_hello(struct smtp_session *s, char *args, int ehlo)
{
	struct buf	b;
	int		r;

	if (*args == '\0')
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: %s hostname",
		    ehlo ? "EHLO" : "HELO");
	if (!cmd_helo_valid(args))
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Error: invalid hostname");
	smtp_tx_free(s);
	snprintf(s->helo, sizeof(s->helo), "%s", args);
	s->helo_kind = ehlo ? SMTP_HELO_EHLO : SMTP_HELO_HELO;
	smtp_log(s, "helo", "verb=%s name=%s tls=%d", ehlo ? "EHLO" : "HELO", s->helo,
	    s->ssl != NULL);
	if (!ehlo)
		return smtp_reply(s, "250 %s", s->ic->hostname) == 0 ? 0 : -1;
	buf_init(&b, 4096);
	buf_printf(&b, "250-%s\r\n250-PIPELINING\r\n250-SIZE %lld\r\n", s->ic->hostname,
	    s->ic->max_message_size);
	if (s->rt->tls != NULL && s->ssl == NULL)
		buf_printf(&b, "250-STARTTLS\r\n");
	buf_printf(&b, "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-BINARYMIME\r\n"
	    "250-CHUNKING\r\n250-DSN\r\n250 SMTPUTF8");
	r = smtp_reply(s, "%s", b.data);
	buf_free(&b);
	return r == 0 ? 0 : -1;
}

static int cmd_ehlo(struct smtp_session *s, char *a) { return cmd_hello(s, a, 1); }
static int cmd_helo(struct smtp_session *s, char *a) { return cmd_hello(s, a, 0); }

/* cmd_prefix - "FROM:" / "TO:" (case-insensitive), spaces after the colon tolerated */
static char *
cmd_prefix(char *args, const char *pfx)
{
	size_t n = strlen(pfx);

	if (strncasecmp(args, pfx, n) != 0)
		return NULL;
	args += n;
	while (*args == ' ')
		args++;
	return args;
}

/*
 * cmd_param_bad - refuse a MAIL/RCPT parameter: key NULL, bad syntax (501); key one of
 * known, bad or repeated (501); else unsupported (555).  1 replied, -1 session ended
 */
static int
cmd_param_bad(struct smtp_session *s, const char *key, const char *const *known)
{
	if (key == NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "501 5.5.4 Error: bad parameter syntax") ? -1 : 1;
	for (; *known != NULL; known++)
		if (strcmp(key, *known) == 0)
			return cmd_reject(s, COUNTERS_REJ_SYNTAX,
			    "501 5.5.4 Error: bad or repeated %s parameter", key) ? -1 : 1;
	return cmd_reject(s, COUNTERS_REJ_SYNTAX,
	    "555 5.5.4 Error: unsupported parameter %s", key) ? -1 : 1;
}

/* cmd_mail_params - RFC 1870 SIZE, 6152 BODY, 6531 SMTPUTF8, 3461 RET/ENVID */
static int
cmd_mail_params(struct smtp_session *s, const char *p, struct smtp_tx *tx, struct buf *out)
{
	static const char *const known[] = { "SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", NULL };
	char	key[32], val[512];
	int	hasval, r, seen = 0;

	while ((r = mailaddr_next_param(&p, key, sizeof(key), val, sizeof(val), &hasval)) == 1) {
		if (s->helo_kind != SMTP_HELO_EHLO)
			return cmd_reject(s, COUNTERS_REJ_SYNTAX,
			    "555 5.5.4 Error: parameters need EHLO") ? -1 : 1;
		if (strcmp(key, "SIZE") == 0 && hasval && !(seen & 1)) {
			seen |= 1;
			r = mailaddr_size_parse(val, s->ic->max_message_size, &tx->size_decl);
			if (r < 0)
				return cmd_reject(s, COUNTERS_REJ_SYNTAX,
				    "501 5.5.4 Error: bad SIZE value") ? -1 : 1;
			if (r == 0)
				return cmd_reject(s, COUNTERS_REJ_SIZE,
				    "552 5.3.4 Error: message size exceeds fixed limit") ? -1 : 1;
			buf_printf(out, "%sSIZE=%lld", out->len ? " " : "", tx->size_decl);
		} else if (strcmp(key, "BODY") == 0 && hasval && !(seen & 2) &&
		    (strcasecmp(val, "7BIT") == 0 || strcasecmp(val, "8BITMIME") == 0 ||
		    strcasecmp(val, "BINARYMIME") == 0)) {
			seen |= 2;
			tx->binarymime = strcasecmp(val, "BINARYMIME") == 0;
			buf_printf(out, "%sBODY=%s", out->len ? " " : "",
			    strcasecmp(val, "7BIT") == 0 ? "7BIT" :
			    tx->binarymime ? "BINARYMIME" : "8BITMIME");
		} else if (strcmp(key, "SMTPUTF8") == 0 && !hasval && !(seen & 4)) {
			seen |= 4;
			tx->utf8 = 1;
			buf_printf(out, "%sSMTPUTF8", out->len ? " " : "");
		} else if (strcmp(key, "RET") == 0 && hasval && !(seen & 8) &&
		    (strcasecmp(val, "FULL") == 0 || strcasecmp(val, "HDRS") == 0)) {
			seen |= 8;
			buf_printf(out, "%sRET=%s", out->len ? " " : "",
			    strcasecmp(val, "FULL") == 0 ? "FULL" : "HDRS");
		} else if (strcmp(key, "ENVID") == 0 && hasval && !(seen & 16) &&
		    strlen(val) <= DSN_ENVID_MAX && mailaddr_xtext_valid(val)) {
			seen |= 16;
			buf_printf(out, "%sENVID=%s", out->len ? " " : "", val);
		} else
			return cmd_param_bad(s, key, known);
	}
	return r < 0 ? cmd_param_bad(s, NULL, NULL) : 0;
}

/* cmd_disk_ok - enough room in the staging directory for one more message */
static int
cmd_disk_ok(struct smtp_session *s)
{
	struct statvfs sv;

	if (statvfs(s->ic->staging_dir, &sv) != 0)
		return 0;
	return (long long)sv.f_bavail * (long long)sv.f_frsize >=
	    s->ic->min_free_space + (s->tx ? s->tx->size_decl : 0);
}

/* cmd_mail - MAIL FROM:<path> [params] */
static int
cmd_mail(struct smtp_session *s, char *args)
{
	struct mailaddr	 m;
	struct smtp_tx	*tx;
	struct buf	 params;
	const char	*end, *why;
	char		*p, esc[600];
	int		 r;

	if (s->helo_kind == SMTP_HELO_NONE)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "503 5.5.1 Error: send HELO/EHLO first");
	if (s->tx != NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "503 5.5.1 Error: nested MAIL command");
	if ((p = cmd_prefix(args, "FROM:")) == NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: MAIL FROM:<address>");
	if (mailaddr_parse_path(p, 1, 1, &m, &end, &why) != MAILADDR_OK ||
	    (*end != '\0' && *end != ' '))
		return cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "501 5.1.7 Bad sender address syntax");
	if ((tx = calloc(1, sizeof(*tx))) == NULL)
		return cmd_reject(s, -1, "451 4.3.0 Error: out of memory");
	envelope_init(&tx->env);
	buf_init(&params, 1024);
	if ((r = cmd_mail_params(s, end, tx, &params)) != 0)
		goto out;
	r = -1;
	if (!tx->utf8 && mailaddr_8bit(m.addr)) {
		r = cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "553 5.6.7 Error: non-ASCII address needs SMTPUTF8");
		goto out;
	}
	if (ingest.monitor != NULL && monitor_primary_healthy(ingest.monitor)) {
		r = cmd_reject(s, COUNTERS_REJ_MONITOR,
		    "451 4.3.0 %s: primary MX is up, deliver there", s->ic->hostname);
		goto out;
	}
	if (limits_message(s->client, s->ic) != LIMITS_OK) {
		smtp_log(s, "rate_limited", "addr=%s client=%s what=messages", s->addr, s->client);
		r = cmd_reject(s, COUNTERS_REJ_RATE, "450 4.7.1 Error: too much mail from %s",
		    s->addr);
		goto out;
	}
	s->tx = tx;
	if (!cmd_disk_ok(s)) {
		s->tx = NULL;
		smtp_log(s, "low_disk", "dir=%s", s->ic->staging_dir);
		r = cmd_reject(s, COUNTERS_REJ_DISK, "452 4.3.1 Insufficient system storage");
		goto out;
	}
	if ((tx->env.mail_from = strdup(m.null ? "" : m.addr)) == NULL ||
	    (tx->env.mail_params = strdup(params.len ? params.data : "")) == NULL) {
		s->tx = NULL;
		r = cmd_reject(s, -1, "451 4.3.0 Error: out of memory");
		goto out;
	}
	buf_free(&params);
	smtp_log(s, "mail", "from=<%s> params=\"%s\"", log_escape(m.addr, strlen(m.addr), esc,
	    sizeof(esc)), tx->env.mail_params);
	return smtp_reply(s, "250 2.1.0 Ok") == 0 ? 0 : -1;
out:
	buf_free(&params);
	envelope_free(&tx->env);
	free(tx);
	return r < 0 ? -1 : 0;
}

/* cmd_rcpt_params - RFC 3461 NOTIFY and ORCPT; 0 ok, 1 rejected, -1 end */
static int
cmd_rcpt_params(struct smtp_session *s, const char *p, struct buf *out)
{
	static const char *const known[] = { "NOTIFY", "ORCPT", NULL };
	char	key[32], val[DSN_ORCPT_MAX + 2];
	int	hasval, r, seen = 0;

	while ((r = mailaddr_next_param(&p, key, sizeof(key), val, sizeof(val), &hasval)) == 1) {
		if (s->helo_kind != SMTP_HELO_EHLO)
			return cmd_reject(s, COUNTERS_REJ_SYNTAX,
			    "555 5.5.4 Error: parameters need EHLO") ? -1 : 1;
		if (strcmp(key, "NOTIFY") == 0 && hasval && !(seen & 1) &&
		    mailaddr_notify_valid(val)) {
			seen |= 1;
			buf_printf(out, "%sNOTIFY=%s", out->len ? " " : "", val);
		} else if (strcmp(key, "ORCPT") == 0 && hasval && !(seen & 2) &&
		    mailaddr_orcpt_valid(val)) {
			seen |= 2;
			buf_printf(out, "%sORCPT=%s", out->len ? " " : "", val);
		} else
			return cmd_param_bad(s, key, known);
	}
	return r < 0 ? cmd_param_bad(s, NULL, NULL) : 0;
}

/* cmd_rcpt_verify - map verify_rcpt() to a reply */
static int
cmd_rcpt_verify(struct smtp_session *s, const struct mailaddr *m, const char *params)
{
	char			 text[256], esc[600];
	enum verify_result	 v;

	text[0] = '\0';
	v = verify_rcpt(s->rt->verify, m->unquoted, text, sizeof(text));
	/* replies carry the parsed address as is: no CR, LF or controls by construction */
	log_escape(m->addr, strlen(m->addr), esc, sizeof(esc));
	switch (v) {
	case VERIFY_OK:
		break;
	case VERIFY_NO_DOMAIN:
		smtp_log(s, "reject", "reason=relay to=<%s>", esc);
		return cmd_reject(s, COUNTERS_REJ_RELAY, "554 5.7.1 <%s>: %s", m->addr,
		    text[0] ? text : "Relay access denied");
	case VERIFY_NO_USER:
		smtp_log(s, "reject", "reason=unknown_user to=<%s>", esc);
		return cmd_reject(s, COUNTERS_REJ_UNKNOWN_USER, "550 5.1.1 <%s>: %s", m->addr,
		    text[0] ? text : "Recipient address rejected: User unknown");
	default:
		smtp_log(s, "reject", "reason=verify_tempfail to=<%s>", esc);
		return cmd_reject(s, COUNTERS_REJ_VERIFY_TEMPFAIL, "450 4.1.1 <%s>: %s", m->addr,
		    text[0] ? text : "Recipient address verification unavailable, try later");
	}
	if (envelope_add_rcpt(&s->tx->env, m->addr, params) != 0)
		return cmd_reject(s, -1, "452 4.3.0 Error: out of memory");
	smtp_log(s, "rcpt", "to=<%s> params=\"%s\"", esc, params);
	return smtp_reply(s, "250 2.1.5 Ok") == 0 ? 0 : -1;
}

/*
 * cmd_rcpt_dup - addr is already a recipient of the transaction.  RFC 5321
 * 2.4: the local part is case-sensitive (only the domain is not), so
 * "Alice@" and "alice@" stay two recipients: merging them could drop one.
 */
static int
cmd_rcpt_dup(const struct smtp_tx *tx, const char *addr)
{
	const char	*at = strrchr(addr, '@'), *oat;
	size_t		 i;

	for (i = 0; i < tx->env.nrcpts; i++) {
		oat = strrchr(tx->env.rcpts[i].addr, '@');
		if (at != NULL && oat != NULL && oat - tx->env.rcpts[i].addr == at - addr &&
		    strncmp(tx->env.rcpts[i].addr, addr, at - addr) == 0 &&
		    strcasecmp(oat, at) == 0)
			return 1;
	}
	return 0;
}

/*
 * cmd_rcpt_over - a recipient over max_recipients: 452 4.5.3, not an error.
 * RFC 5321 4.5.3.1.10: the client sends the rest in another transaction, so
 * counting them as errors would disconnect a sender with many recipients
 * before it could.  Only past recipient_overshoot_limit of them in one
 * transaction does each count (Postfix smtpd_recipient_overshoot_limit).
 */
static int
cmd_rcpt_over(struct smtp_session *s)
{
	static const char text[] = "452 4.5.3 Error: too many recipients";

	if (++s->tx->rcpt_over > s->ic->rcpt_overshoot)
		return cmd_reject(s, COUNTERS_REJ_RCPT_LIMIT, text);
	counters_inc(COUNTERS_REJ_RCPT_LIMIT);
	return smtp_reply(s, text) == 0 ? 0 : -1;
}

/* cmd_rcpt - RCPT TO:<path> [params] */
static int
cmd_rcpt(struct smtp_session *s, char *args)
{
	struct mailaddr	 m;
	struct buf	 params;
	const char	*end, *why;
	char		*p;
	int		 r;

	if (s->tx == NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "503 5.5.1 Error: need MAIL command");
	if ((p = cmd_prefix(args, "TO:")) == NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: RCPT TO:<address>");
	s->tx->rcpt_tried = 1;
	if (mailaddr_parse_path(p, 0, 1, &m, &end, &why) != MAILADDR_OK ||
	    (*end != '\0' && *end != ' '))
		return cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "501 5.1.3 Bad recipient address syntax");
	/* RFC 6531 3.5, 3.7.4.1: a valid UTF-8 address without SMTPUTF8 is 553 5.6.7 */
	if (!s->tx->utf8 && mailaddr_8bit(m.addr))
		return cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "553 5.6.7 Error: non-ASCII address needs SMTPUTF8");
	buf_init(&params, 1024);
	if ((r = cmd_rcpt_params(s, end, &params)) != 0) {
		buf_free(&params);
		return r < 0 ? -1 : 0;
	}
	/* a repeated recipient counts once (keeps its first parameters), even at the limit */
	if (cmd_rcpt_dup(s->tx, m.addr))
		r = smtp_reply(s, "250 2.1.5 Ok") == 0 ? 0 : -1;
	else if (s->tx->env.nrcpts >= (size_t)s->ic->max_recipients)
		r = cmd_rcpt_over(s);
	else if (ingest.monitor != NULL && monitor_primary_healthy(ingest.monitor))
		r = cmd_reject(s, COUNTERS_REJ_MONITOR,
		    "451 4.3.0 %s: primary MX is up, deliver there", s->ic->hostname);
	else if (limits_rcpt(s->client, s->ic) != LIMITS_OK)
		r = cmd_reject(s, COUNTERS_REJ_RATE, "450 4.7.1 Error: too many recipients from %s",
		    s->addr);
	else
		r = cmd_rcpt_verify(s, &m, params.len ? params.data : "");
	buf_free(&params);
	return r;
}

/* cmd_data - DATA: sequence checks, RFC 2920 3.1 pipelining rule, then the data phase */
static int
cmd_data(struct smtp_session *s, char *args)
{
	if (*args != '\0')
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: DATA");
	if (s->tx == NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "503 5.5.1 Error: need MAIL command");
	if (s->tx->env.nrcpts == 0)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, s->tx->rcpt_tried ?
		    "554 5.5.1 Error: no valid recipients" : "503 5.5.1 Error: need RCPT command");
	/* RFC 3030 3: BINARYMIME only with BDAT; DATA and BDAT never in one transaction */
	if (s->tx->binarymime || s->tx->msg != NULL || s->tx->bdat_fail[0] != '\0')
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, s->tx->binarymime ?
		    "503 5.5.1 Error: BODY=BINARYMIME needs BDAT" :
		    "503 5.5.1 Error: DATA after BDAT");
	if (s->inpos < s->inlen || (s->ssl != NULL && SSL_pending(s->ssl) > 0)) {
		counters_inc(COUNTERS_REJ_PIPELINING);
		smtp_log(s, "pipelining", "addr=%s after=DATA", s->addr);
		smtp_reply(s, "554 5.5.0 Error: improper command pipelining after DATA");
		return -1;
	}
	return smtp_data_run(s);
}

/* cmd_rset - RSET */
static int
cmd_rset(struct smtp_session *s, char *args)
{
	if (*args != '\0')
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: RSET");
	smtp_tx_free(s);
	return smtp_reply(s, "250 2.0.0 Ok") == 0 ? 0 : -1;
}

static int
cmd_noop(struct smtp_session *s, char *args)
{
	return smtp_reply(s, "250 2.0.0 Ok") == 0 ? 0 : -1;
}

static int
cmd_quit(struct smtp_session *s, char *args)
{
	smtp_reply(s, "221 2.0.0 Bye");
	s->quit = 1;
	return -1;
}

/* cmd_vrfy - never a directory oracle (RFC 5321 3.5.3) */
static int
cmd_vrfy(struct smtp_session *s, char *args)
{
	if (*args == '\0')
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: VRFY address");
	return smtp_reply(s, "252 2.0.0 Cannot VRFY user, but will accept message and attempt "
	    "delivery") == 0 ? 0 : -1;
}

static int
cmd_help(struct smtp_session *s, char *args)
{
	return smtp_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT "
	    "VRFY HELP STARTTLS") == 0 ? 0 : -1;
}

/* cmd_bdat - RFC 3030; allowed before STARTTLS so that its chunk is always read */
static int
cmd_bdat(struct smtp_session *s, char *args)
{
	return smtp_bdat_run(s, args);
}

/* cmd_starttls - RFC 3207 */
static int
cmd_starttls(struct smtp_session *s, char *args)
{
	if (s->rt->tls == NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "502 5.5.1 Error: command not implemented");
	if (s->ssl != NULL)
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "554 5.5.1 Error: TLS already active");
	if (*args != '\0')
		return cmd_reject(s, COUNTERS_REJ_SYNTAX, "501 5.5.4 Syntax: STARTTLS");
	return smtp_starttls(s);
}

static int
cmd_notimpl(struct smtp_session *s, char *args)
{
	return cmd_reject(s, COUNTERS_REJ_SYNTAX, "502 5.5.1 Error: command not implemented");
}

/* cmd_http - a web client or proxy scan talking to the SMTP port: end it */
static int
cmd_http(struct smtp_session *s, char *args)
{
	counters_inc(COUNTERS_REJ_HTTP);
	smtp_log(s, "http_command", "addr=%s", s->addr);
	smtp_reply(s, "554 5.7.0 Error: HTTP or proxy request on the SMTP port");
	return -1;
}

static const struct smtp_cmd smtp_cmds[] = {
	{ "EHLO",	CMD_PRETLS | CMD_JUNK,	cmd_ehlo },
	{ "HELO",	CMD_PRETLS | CMD_JUNK,	cmd_helo },
	{ "MAIL",	0,		cmd_mail },
	{ "RCPT",	0,		cmd_rcpt },
	{ "DATA",	0,		cmd_data },
	{ "RSET",	CMD_PRETLS | CMD_JUNK,	cmd_rset },
	{ "NOOP",	CMD_PRETLS | CMD_JUNK,	cmd_noop },
	{ "QUIT",	CMD_PRETLS,	cmd_quit },
	{ "VRFY",	CMD_JUNK,	cmd_vrfy },
	{ "HELP",	CMD_PRETLS | CMD_JUNK,	cmd_help },
	{ "STARTTLS",	CMD_PRETLS,	cmd_starttls },
	{ "AUTH",	CMD_PRETLS,	cmd_notimpl },
	{ "EXPN",	CMD_PRETLS,	cmd_notimpl },
	{ "ETRN",	CMD_PRETLS,	cmd_notimpl },
	{ "TURN",	CMD_PRETLS,	cmd_notimpl },
	{ "ATRN",	CMD_PRETLS,	cmd_notimpl },
	{ "BDAT",	CMD_PRETLS,	cmd_bdat },
	{ "GET",	CMD_PRETLS,	cmd_http },
	{ "POST",	CMD_PRETLS,	cmd_http },
	{ "HEAD",	CMD_PRETLS,	cmd_http },
	{ "PUT",	CMD_PRETLS,	cmd_http },
	{ "DELETE",	CMD_PRETLS,	cmd_http },
	{ "OPTIONS",	CMD_PRETLS,	cmd_http },
	{ "TRACE",	CMD_PRETLS,	cmd_http },
	{ "PATCH",	CMD_PRETLS,	cmd_http },
	{ "CONNECT",	CMD_PRETLS,	cmd_http },
	{ "USER-AGENT:", CMD_PRETLS,	cmd_http },
	{ "HOST:",	CMD_PRETLS,	cmd_http },
	{ NULL, 0, NULL }
};

/* smtp_cmd_dispatch - one command line (no CRLF, no NUL) */
int
smtp_cmd_dispatch(struct smtp_session *s, char *line, size_t len)
{
	const struct smtp_cmd	*c;
	char			*args, esc[128];
	size_t			 vlen;

	for (vlen = 0; vlen < len && line[vlen] != ' '; vlen++)
		;
	args = line + vlen;
	while (*args == ' ')
		args++;
	while (len > 0 && line[len - 1] == ' ' && line + len > args)
		line[--len] = '\0';
	for (c = smtp_cmds; c->verb != NULL; c++)
		if (strlen(c->verb) == vlen && strncasecmp(line, c->verb, vlen) == 0)
			break;
	if (c->verb == NULL) {
		smtp_log(s, "unknown_command", "addr=%s verb=\"%s\"", s->addr,
		    log_escape(line, vlen, esc, sizeof(esc)));
		return cmd_reject(s, COUNTERS_REJ_SYNTAX,
		    "500 5.5.2 Error: command not recognized");
	}
	if ((c->flags & CMD_JUNK) && smtp_junk(s))
		return -1;
	if (s->ic->require_tls && s->ssl == NULL && !(c->flags & CMD_PRETLS))
		return cmd_reject(s, COUNTERS_REJ_TLS_REQUIRED,
		    "530 5.7.0 Must issue a STARTTLS command first");
	return c->proceed(s, args);
}
