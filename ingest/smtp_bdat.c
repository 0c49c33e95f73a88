/*
 * smtp_bdat.c - BDAT (CHUNKING, RFC 3030), also the only way to send a
 * BODY=BINARYMIME message.
 *
 * "BDAT <size> [LAST]" is followed by exactly <size> octets, taken as they
 * are: no dot-stuffing and no end-of-data scanning (the sizes frame the
 * message), so there is nothing to smuggle an end of data with.  The message,
 * the chunks in order, gets what DATA gives it (smtp_data.c): the staging file
 * behind our Received: header, max_message_size, data_timeout and
 * min_data_rate (per chunk), the bare CR/LF, NUL and line-length checks (the
 * replay forwards every message with DATA, BINARYMIME as 8BITMIME, so its
 * lines must be CR LF lines: docs/deliver.md), and 250 after BDAT LAST only
 * once the store and the index committed (smtp_msg_end).
 * Every chunk is read to its end whatever the reply, so the session stays in
 * sync.  A refused chunk fails the transaction: the rest of its chunks are
 * read and get the same refusal (counted once as an error, then as junk
 * commands like an empty chunk), and BDAT LAST or RSET ends it.  BDAT may be pipelined (RFC 3030 4.1).  A chunk size that is
 * not a number cannot be skipped: 501 and the session ends.
 * Entry point: smtp_bdat_run(); -1 ends the session.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "limits.h"
#include "log.h"
#include "mailaddr.h"
#include "smtp.h"

/* bdat_parse - "<size>" or "<size> LAST" (RFC 3030 3); 0 ok, -1 syntax */
static int
bdat_parse(char *args, long long *size, int *last)
{
	char *sp = strchr(args, ' ');

	*last = 0;
	if (sp != NULL) {
		*sp++ = '\0';
		if (strcasecmp(sp, "LAST") != 0)
			return -1;
		*last = 1;
	}
	return mailaddr_size_parse(args, SMTP_BDAT_CHUNK_MAX, size) == 1 ? 0 : -1;
}

/*
 * bdat_read - consume the size octets of a chunk into m (NULL: discard); 0 done,
 * -1 over.  The data rate is the message's, as for DATA: from the first chunk
 * of the transaction (tx->bdat_start) over all its octets, so a client cannot
 * restart the clock with every small chunk.  A chunk read outside a
 * transaction is timed on its own.
 */
static int
bdat_read(struct smtp_session *s, struct smtp_msg *m, long long size)
{
	struct smtp_tx	*tx = s->tx;
	time_t		 start = (time_t)(mono_ms() / 1000);
	long long	 got = 0, base = 0;
	size_t		 k;

	if (tx != NULL) {
		if (tx->bdat_start == 0)
			tx->bdat_start = start;
		start = tx->bdat_start;
		base = tx->bdat_got;
		/* chunks that each arrive whole, but slowly one after the other */
		if (smtp_msg_left(s, start, base) <= 0) {
			smtp_gone(s, 0);
			smtp_log(s, "data_aborted", "addr=%s bdat=%lld got=%lld", s->addr, size,
			    base);
			return -1;
		}
	}
	for (;;) {
		k = s->inlen - s->inpos;
		if ((long long)k > size - got)
			k = size - got;
		if (m != NULL)
			(void)smtp_msg_feed(m, s->in + s->inpos, k);	/* chunked: takes all */
		s->inpos += k;
		got += k;
		if (tx != NULL)
			tx->bdat_got = base + got;
		if (got == size)
			return 0;
		if (smtp_msg_wait(s, start, base + got) <= 0) {
			smtp_log(s, "data_aborted", "addr=%s bdat=%lld got=%lld", s->addr, size, got);
			return -1;
		}
	}
}

/* bdat_refuse - a sequence error (no MAIL/RCPT): an error (tarpit, hard limit), then text */
static int
bdat_refuse(struct smtp_session *s, const char *text)
{
	if (smtp_error(s))
		return -1;
	return smtp_reply(s, "%s", text) == 0 ? 0 : -1;
}

/* smtp_bdat_run - one BDAT command and its chunk */
int
smtp_bdat_run(struct smtp_session *s, char *args)
{
	struct smtp_tx	*tx = s->tx;
	long long	 size;
	int		 last, r;

	if (tx != NULL)
		tx->chunks++;
	if (bdat_parse(args, &size, &last) != 0) {
		counters_inc(COUNTERS_REJ_SYNTAX);
		smtp_log(s, "bdat_syntax", "addr=%s", s->addr);
		smtp_reply(s, "501 5.5.4 Syntax: BDAT chunk-size [LAST]; closing: the chunk "
		    "cannot be skipped");
		return -1;
	}
	/* the sequence checks of DATA; the chunk is read all the same (RFC 3030 3) */
	if (tx == NULL || tx->env.nrcpts == 0) {
		if (bdat_read(s, NULL, size) != 0)
			return -1;
		counters_inc(COUNTERS_REJ_SYNTAX);
		return bdat_refuse(s, tx == NULL ? "503 5.5.1 Error: need MAIL command" :
		    tx->rcpt_tried ? "554 5.5.1 Error: no valid recipients" :
		    "503 5.5.1 Error: need RCPT command");
	}
	if (tx->bdat_fail[0] != '\0') {
		/* the transaction failed at an earlier chunk: read, refuse again (junk, not error) */
		if (bdat_read(s, NULL, size) != 0 || smtp_junk(s))
			return -1;
		r = smtp_reply(s, "%s", tx->bdat_fail);
		if (last)
			smtp_tx_free(s);
		return r == 0 ? 0 : -1;
	}
	if (tx->msg == NULL && (tx->msg = smtp_msg_open(s, 1)) == NULL) {
		counters_inc(COUNTERS_REJ_STORE_TEMPFAIL);
		snprintf(tx->bdat_fail, sizeof(tx->bdat_fail),
		    "451 4.3.0 Error: local error in processing");
	}
	if (bdat_read(s, tx->msg, size) != 0)
		return -1;
	if (tx->msg != NULL && last)
		smtp_msg_finish(tx->msg);
	if (tx->bdat_fail[0] != '\0' ||
	    smtp_msg_check(s, tx->msg, tx->bdat_fail, sizeof(tx->bdat_fail))) {
		/* a local failure or the content's limits: a reply, as DATA gives, not a
		 * protocol error of the client's (no tarpit, no hard error limit) */
		r = smtp_reply(s, "%s", tx->bdat_fail) == 0 ? 0 : -1;
		if (last)
			smtp_tx_free(s);
		return r;
	}
	/* an empty chunk moves no mail: endless "BDAT 0" is junk like NOOP */
	if (!last && size == 0 && smtp_junk(s))
		return -1;
	if (!last)
		return smtp_reply(s, "250 2.0.0 Ok: %lld octets received", size) == 0 ? 0 : -1;
	smtp_log(s, "bdat_last", "chunks=%d bytes=%lld", tx->chunks, smtp_msg_body(tx->msg));
	r = smtp_msg_end(s, tx->msg);
	smtp_tx_free(s);
	return r;
}
