/*
 * test_dsn.c - DSN structure (RFC 3464 / RFC 6522): the DSN is parsed back into its
 * header and MIME parts; status 4.4.7, ORCPT, NOTIFY=NEVER, RET=HDRS/FULL, null sender.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dsn.h"
#include "testlib.h"

static const char msg[] = "From: Alice <alice@example.test>\r\nTo: bob@y.test\r\n"
    "Subject: hello\r\n\tfolded\r\nMessage-ID: <m1@example.test>\r\n\r\n"
    "body line 1\r\n--=_not_our_boundary\r\nlast";

/* mem_fd - a memory file with bytes */
static int
mem_fd(const char *bytes, size_t n)
{
	int fd = memfd_create("t", 0);

	assert_int_not_equal(fd, -1);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	return fd;
}

/* slurp - the whole of fd as a NUL-terminated malloc'd string */
static char *
slurp(int fd, size_t *len)
{
	off_t	 n = lseek(fd, 0, SEEK_END);
	char	*p = malloc(n + 1);

	assert_non_null(p);
	assert_int_equal(pread(fd, p, n, 0), n);
	p[n] = '\0';
	*len = n;
	return p;
}

static void
env_fill(struct envelope *e, const char *params)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx1");
	e->received_ms = 1763880000000LL;
	e->mail_from = (char *)"sender@example.test";
	e->mail_params = (char *)params;
}

/* parts - split at "--boundary" lines; fills part starts/lengths; returns count */
static int
parts(const char *dsn, const char *boundary, const char **p, size_t *plen, int max)
{
	char		 delim[128];
	const char	*s, *next;
	int		 n = 0;

	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	s = strstr(dsn, delim);
	while (s != NULL && n < max) {
		s += strlen(delim);
		if (strncmp(s, "--", 2) == 0)
			break;			/* closing delimiter */
		assert_memory_equal(s, "\r\n", 2);
		s += 2;
		next = strstr(s, delim);
		assert_non_null(next);
		p[n] = s;
		plen[n++] = next - s;
		s = next;
	}
	return n;
}

/* has - the part contains the string */
static int
has(const char *p, size_t n, const char *what)
{
	return memmem(p, n, what, strlen(what)) != NULL;
}

/* a DSN built from msg, and its MIME parts */
struct built {
	char		*dsn;
	size_t		 len;
	char		 boundary[100];
	const char	*p[8];		/* the parts, each plen[i] octets */
	size_t		 plen[8];
	int		 nparts;
	int		 in, out;
};

/* build - the DSN of an envelope with params for the recipients r: built, read back, split */
static void
build(struct built *b, const char *params, const struct dsn_rcpt *r, size_t nr)
{
	struct envelope	 e;
	const char	*bp;

	env_fill(&e, params);
	b->in = mem_fd(msg, sizeof(msg) - 1);
	b->out = mem_fd("", 0);
	assert_int_equal(dsn_build(&e, r, nr, b->in, "mx1.example.test", 1763900000000LL, b->out),
	    0);
	b->dsn = slurp(b->out, &b->len);
	assert_non_null(bp = strstr(b->dsn, "boundary=\""));
	bp += 10;
	snprintf(b->boundary, sizeof(b->boundary), "%.*s", (int)(strchr(bp, '"') - bp), bp);
	b->nparts = parts(b->dsn, b->boundary, b->p, b->plen, 8);
}

/* built_free - what build made */
static void
built_free(struct built *b)
{
	free(b->dsn);
	close(b->in);
	close(b->out);
}

static void
test_dsn_hdrs(void **state)
{
	struct dsn_rcpt	 r[3] = {
		{ "a@y.test", "", 451, "4.3.0 try again later" },
		{ "b@y.test", "NOTIFY=NEVER", 550, "x" },
		{ "c@y.test", "NOTIFY=FAILURE,DELAY ORCPT=rfc822;C+2Bx@y.test", 0,
		    "smtp://10.0.0.5:25: connect: Connection refused\r\nInjected: x" },
	};
	struct built	 b;
	const char	*dsn, *hend, *bp, **p = b.p;
	size_t		*plen = b.plen, len, i;

	build(&b, "BODY=8BITMIME ENVID=env+2B1", r, 3);
	dsn = b.dsn;
	len = b.len;
	/* every line ends in CRLF */
	for (i = 0; i < len; i++)
		if (dsn[i] == '\n')
			assert_true(i > 0 && dsn[i - 1] == '\r');
	/* the message header */
	assert_non_null(hend = strstr(dsn, "\r\n\r\n"));
	assert_true(strncmp(dsn, "From: Mail Delivery System <MAILER-DAEMON@mx1.example.test>\r\n",
	    61) == 0);
	assert_true(has(dsn, hend - dsn, "\r\nTo: <sender@example.test>\r\n"));
	assert_true(has(dsn, hend - dsn, "\r\nSubject: "));
	assert_true(has(dsn, hend - dsn, "\r\nDate: Sun, 23 Nov 2025 12:13:20 +0000\r\n"));
	assert_true(has(dsn, hend - dsn, "\r\nMessage-ID: <01JDAB3K8QW2E5R7T9Y1U3I5O7.mx1.dsn."));
	assert_true(has(dsn, hend - dsn, "\r\nAuto-Submitted: auto-replied\r\n"));
	assert_true(has(dsn, hend - dsn, "\r\nMIME-Version: 1.0\r\n"));
	assert_true(has(dsn, hend - dsn, "Content-Type: multipart/report; "
	    "report-type=delivery-status;"));
	/* three parts: text, delivery-status, headers */
	assert_int_equal(b.nparts, 3);
	assert_true(has(p[0], plen[0], "Content-Type: text/plain"));
	assert_true(has(p[0], plen[0], "<a@y.test>: last reply from the primary: 451 4.3.0"));
	assert_false(has(p[0], plen[0], "b@y.test"));
	assert_true(has(p[1], plen[1], "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx1.example.test\r\n"));
	assert_true(has(p[1], plen[1], "\r\nOriginal-Envelope-Id: env+1\r\n"));
	assert_true(has(p[1], plen[1], "\r\nArrival-Date: Sun, 23 Nov 2025 06:40:00 +0000\r\n"));
	assert_true(has(p[1], plen[1], "\r\n\r\nFinal-Recipient: rfc822; a@y.test\r\n"
	    "Action: failed\r\nStatus: 4.4.7\r\n"
	    "Diagnostic-Code: smtp; 451 4.3.0 try again later\r\n"));
	assert_true(has(p[1], plen[1], "\r\n\r\nFinal-Recipient: rfc822; c@y.test\r\n"
	    "Original-Recipient: rfc822;C+x@y.test\r\nAction: failed\r\nStatus: 4.4.7\r\n"));
	assert_false(has(p[1], plen[1], "b@y.test"));	/* NOTIFY=NEVER */
	assert_false(has(dsn, len, "\r\nInjected: x"));	/* peer text cannot add fields */
	/* RET=HDRS (default): exactly the original header section */
	assert_true(has(p[2], plen[2], "Content-Type: text/rfc822-headers\r\n\r\n"));
	bp = strstr(p[2], "\r\n\r\n") + 4;
	assert_int_equal(plen[2] - (bp - p[2]), strstr(msg, "\r\n\r\n") + 2 - msg);
	assert_memory_equal(bp, msg, strstr(msg, "\r\n\r\n") + 2 - msg);
	assert_true(strstr(dsn + len - strlen(b.boundary) - 8, "--\r\n") != NULL);
	built_free(&b);
}

static void
test_dsn_full(void **state)
{
	struct dsn_rcpt	 r[1] = { { "a@y.test", "", 421, "4.4.2 bye" } };
	struct built	 b;
	const char	*bp;

	build(&b, "RET=FULL", r, 1);
	assert_int_equal(b.nparts, 3);
	assert_true(has(b.p[2], b.plen[2], "Content-Type: message/rfc822\r\n\r\n"));
	bp = strstr(b.p[2], "\r\n\r\n") + 4;
	/* the whole message, with CRLF added after the unterminated last line */
	assert_int_equal(b.plen[2] - (bp - b.p[2]), sizeof(msg) - 1 + 2);
	assert_memory_equal(bp, msg, sizeof(msg) - 1);
	built_free(&b);
}

static void
test_dsn_nothing(void **state)
{
	struct dsn_rcpt	 never[2] = { { "a@y.test", "NOTIFY=NEVER", 451, "x" },
	    { "b@y.test", "NOTIFY=SUCCESS,DELAY", 451, "x" } };
	struct dsn_rcpt	 one[1] = { { "a@y.test", "", 451, "x" } };
	struct envelope	 e;
	size_t		 len;
	char		*dsn;
	int		 in, out;

	in = mem_fd(msg, sizeof(msg) - 1);
	out = mem_fd("", 0);
	env_fill(&e, "");
	e.mail_from = (char *)"";
	assert_int_equal(dsn_build(&e, one, 1, in, "mx1", 0, out), 1);	/* never to <> */
	env_fill(&e, "");
	assert_int_equal(dsn_build(&e, never, 2, in, "mx1", 0, out), 1);
	dsn = slurp(out, &len);
	assert_int_equal(len, 0);
	free(dsn);
	assert_int_equal(dsn_build(&e, one, 1, in, "mx1", 0, -1), -1);	/* write error */
	close(in);
	close(out);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_dsn_hdrs),
	cmocka_unit_test(test_dsn_full),
	cmocka_unit_test(test_dsn_nothing),
)
