/*
 * test_smtpc.c - the one SMTP/LMTP client (common/smtpc*.c, route.c): the
 * smtp:// URL subset of routes (route_parse itself: test_deliver.c), the bounded
 * reply reader (codes, multi-line, enhanced codes,
 * the line/lines/bytes limits, a stalled peer), EHLO capability parsing, the
 * dialogue steps over a socketpair (greeting, EHLO with HELO fallback, bytes
 * after a reply, the whole-dialogue deadline) and the probe-health hysteresis.
 * Whole sessions against scripted and real peers: test_deliver.c,
 * test_rcpt_verify.c (callout), tests/e2e/deliver_*.sh, ingest_verify.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "route.h"
#include "smtpc.h"
#include "smtpc_health.h"
#include "testlib.h"

/* test_route_parse_smtp - the callout/monitor subset: smtp:// over TCP only */
static void
test_route_parse_smtp(void **state)
{
	static const char *const good[] = { "smtp://127.0.0.1:2525", "smtp://primary.example",
	    "smtp://[::1]:25" };
	static const char *const bad[] = { "lmtp://primary.example", "smtp:unix:/run/s",
	    "smtp://h:0", "smtp://h:70000", "http://h", "" };
	struct deliver_route	r;
	size_t			i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (route_parse_smtp(good[i], &r) != 0)
			fail_msg("%s: refused, want accepted", good[i]);
		assert_true(r.proto == DELIVER_SMTP && r.unix_path[0] == '\0' && r.port > 0);
	}
	assert_int_equal(r.port, 25);	/* the default */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (route_parse_smtp(bad[i], &r) != -1)
			fail_msg("%s: accepted, want refused", bad[i]);
}

/* reply_of - feed bytes through a socketpair and read one reply; returns rc */
static int
reply_of(const char *bytes, size_t n, int close_after, struct smtpc *io,
    struct smtpc_reply *r)
{
	int	sv[2];
	int	rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	smtpc_init(io);
	io->fd = sv[0];
	assert_int_equal(write(sv[1], bytes, n), (ssize_t)n);
	if (close_after)
		close(sv[1]);
	rc = smtpc_read_reply(io, r, 1000);
	smtpc_close(io, 0);
	if (!close_after)
		close(sv[1]);
	return rc;
}

static void
test_reply_parser(void **state)
{
	static const struct {
		const char *in; int rc; int code; const char *enh; const char *text;
		const char *why;
	} t[] = {
		{ "250 ok\r\n", 0, 250, "", "ok", "" },
		{ "250-first\r\n250-second\r\n250 third\r\n", 0, 250, "", "first second third",
		    "" },
		{ "550 5.1.1 <u@x>: no such user\r\n", 0, 550, "5.1.1", "<u@x>: no such user", "" },
		{ "250-2.0.0 a\r\n250 2.0.0 b\r\n", 0, 250, "2.0.0", "a b", "" },
		{ "451 5.1.1 class mismatch\r\n", 0, 451, "", "5.1.1 class mismatch", "" },
		{ "250\r\n", 0, 250, "", "", "" },
		{ "220 lf only\n", 0, 220, "", "lf only", "" },
		{ "hello there\r\n", -1, 0, "", "", "malformed reply line" },
		{ "25 short\r\n", -1, 0, "", "", "malformed" },
		{ "650 bad class\r\n", -1, 0, "", "", "malformed" },
		{ "250x\r\n", -1, 0, "", "", "malformed" },
		{ "250-a\r\n251 b\r\n", -1, 0, "", "", "inconsistent reply codes" },
		{ "250-a\r\n\r\n", -1, 0, "", "", "malformed" },
		{ "250-a\r\n250-b", -1, 0, "", "", "connection closed" },
		{ "", -1, 0, "", "", "connection closed" },
	};
	struct smtpc	io;
	struct smtpc_reply	r;
	char			text[512];
	size_t			i;

	smtpc_reply_init(&r);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int rc = reply_of(t[i].in, strlen(t[i].in), 1, &io, &r);

		if (rc != t[i].rc)
			fail_msg("%zu: got rc %d, want %d (%s)", i, rc, t[i].rc, io.why);
		if (rc == 0) {
			assert_int_equal(r.code, t[i].code);
			assert_string_equal(r.enhanced, t[i].enh);
			smtpc_reply_text(&r, text, sizeof(text));
			assert_string_equal(text, t[i].text);
		} else if (strstr(io.why, t[i].why) == NULL)
			fail_msg("%zu: got why \"%s\", want \"%s\"", i, io.why, t[i].why);
	}
	smtpc_reply_free(&r);
}

static void
test_reply_bounds(void **state)
{
	struct smtpc	 io;
	struct smtpc_reply	 r;
	struct buf		 b;
	int			 i;

	smtpc_reply_init(&r);
	buf_init(&b, 1 << 20);
	/* endless continuation: more lines than SMTP_REPLY_LINES_MAX, never a last line */
	for (i = 0; i < SMTP_REPLY_LINES_MAX + 10; i++)
		buf_addstr(&b, "250-more\r\n");
	assert_int_equal(reply_of(b.data, b.len, 0, &io, &r), -1);
	assert_non_null(strstr(io.why, "more than"));
	/* one line over SMTP_REPLYLINE_MAX, no newline at all */
	buf_reset(&b);
	buf_addstr(&b, "250 ");
	for (i = 0; i < SMTP_REPLYLINE_MAX + 100; i++)
		buf_add(&b, "x", 1);
	assert_int_equal(reply_of(b.data, b.len, 0, &io, &r), -1);
	assert_non_null(strstr(io.why, "reply line longer than"));
	/* many long lines: over SMTP_REPLY_MAX in total */
	buf_reset(&b);
	for (i = 0; i < 20; i++) {	/* 20 x 3990 > SMTP_REPLY_MAX */
		buf_addstr(&b, "250-");
		while (b.len % 4000 != 3990)
			buf_add(&b, "y", 1);
		buf_addstr(&b, "\r\n");
	}
	assert_int_equal(reply_of(b.data, b.len, 0, &io, &r), -1);
	assert_non_null(strstr(io.why, "reply longer than"));
	/* a stalled reply: timeout, not a hang */
	assert_int_equal(reply_of("250-wait", 8, 0, &io, &r), -1);
	assert_non_null(strstr(io.why, "timeout"));
	buf_free(&b);
	smtpc_reply_free(&r);
}

/* caps_of - the capabilities of one EHLO reply given as bytes */
static unsigned
caps_of(const char *bytes)
{
	struct smtpc		c;
	struct smtpc_reply	r;
	unsigned		caps;

	smtpc_reply_init(&r);
	assert_int_equal(reply_of(bytes, strlen(bytes), 1, &c, &r), 0);
	caps = smtpc_caps(&r);
	smtpc_reply_free(&r);
	return caps;
}

static void
test_caps(void **state)
{
	static const struct { const char *in; unsigned want; } t[] = {
		{ "250 mx.example\r\n", 0 },
		{ "250\r\n", 0 },
		/* the first line is the greeting, never a keyword */
		{ "250-STARTTLS\r\n250 SIZE\r\n", SMTPC_CAP_SIZE },
		{ "250-mx\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n"
		    "250-DSN\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n", SMTPC_CAP_PIPELINING |
		    SMTPC_CAP_SIZE | SMTPC_CAP_8BITMIME | SMTPC_CAP_DSN | SMTPC_CAP_SMTPUTF8 |
		    SMTPC_CAP_STARTTLS },
		/* keywords are case-blind (RFC 5321 2.4) and whole */
		{ "250-mx\r\n250-smtputf8\r\n250 starttls\r\n", SMTPC_CAP_SMTPUTF8 |
		    SMTPC_CAP_STARTTLS },
		{ "250-mx\r\n250-X-SMTPUTF8\r\n250-STARTTLSX\r\n250-SIZEX\r\n250 DSN2\r\n",
		    0 },
		{ "250-mx\r\n250 AUTH LOGIN PLAIN\r\n", SMTPC_CAP_AUTH_PLAIN |
		    SMTPC_CAP_AUTH_LOGIN },
		{ "250-mx\r\n250 AUTH=LOGIN\r\n", SMTPC_CAP_AUTH_LOGIN },
		{ "250-mx\r\n250 AUTH CRAM-MD5\r\n", 0 },
		{ "250-mx\r\n250 AUTHPLAIN\r\n", 0 },
		{ "250-mx\r\n250 AUTHX PLAIN\r\n", 0 },	/* another keyword */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (caps_of(t[i].in) != t[i].want)
			fail_msg("%zu: got caps 0x%x, want 0x%x", i, caps_of(t[i].in), t[i].want);
}

/* peer - a connection whose peer already said `says` (then stays open, or closes) */
static int
peer(struct smtpc *c, const char *says, int close_after)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	smtpc_init(c);
	c->fd = sv[0];
	assert_int_equal(write(sv[1], says, strlen(says)), (ssize_t)strlen(says));
	if (close_after) {
		close(sv[1]);
		return -1;
	}
	return sv[1];
}

/* heard - what the client wrote to the peer side */
static void
heard(int fd, char *out, size_t outlen)
{
	ssize_t n = recv(fd, out, outlen - 1, MSG_DONTWAIT);

	out[n > 0 ? n : 0] = '\0';
}

/* test_hello - EHLO/HELO/LHLO as the peer answers: rc, code, caps, reason, what it heard */
static void
test_hello(void **state)
{
	static const struct {
		const char *says; int lmtp, rc, code; unsigned caps; const char *why, *heard;
	} t[] = {
		{ "502 5.5.1 no EHLO\r\n250 mx\r\n", 0, 0, 250, 0, "",
		    "EHLO gw.example\r\nHELO gw.example\r\n" },	/* RFC 5321 4.1.4 */
		{ "550 5.7.1 go away\r\n", 1, -1, 550, 0, "LHLO: 550 5.7.1 go away",
		    "LHLO gw.example\r\n" },			/* LMTP has no HELO */
		{ "421 4.3.2 bye\r\n", 0, -1, 421, 0, "EHLO/HELO: 421 4.3.2 bye",
		    "EHLO gw.example\r\n" },			/* 4xx: no HELO either */
		{ "250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n", 0, 0, 250,
		    SMTPC_CAP_PIPELINING | SMTPC_CAP_STARTTLS, "", "EHLO gw.example\r\n" },
		{ "250-mx\r\n250 STARTTLS\r\nINJECTED\r\n", 0, -1, 250, SMTPC_CAP_STARTTLS,
		    "EHLO: peer sent 10 unexpected bytes", "EHLO gw.example\r\n" },
	};
	struct smtpc		c;
	struct smtpc_reply	r;
	char			got[512];
	size_t			i;
	int			fd, rc;

	smtpc_reply_init(&r);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fd = peer(&c, t[i].says, 0);
		rc = smtpc_hello(&c, &r, "gw.example", t[i].lmtp, 1000);
		heard(fd, got, sizeof(got));
		if (rc != t[i].rc || r.code != t[i].code || c.caps != t[i].caps ||
		    strstr(c.why, t[i].why) == NULL || strcmp(got, t[i].heard) != 0)
			fail_msg("%zu: got rc %d code %d caps 0x%x why \"%s\" heard \"%s\"", i, rc,
			    r.code, c.caps, c.why, got);
		smtpc_close(&c, 0);
		close(fd);
	}
	smtpc_reply_free(&r);
}

/* test_steps - greeting with bytes after it, a half reply, an over-long command */
static void
test_steps(void **state)
{
	struct smtpc		c;
	struct smtpc_reply	r;
	char			big[SMTP_CMDLINE_MAX + 8];
	int			fd;

	smtpc_reply_init(&r);
	fd = peer(&c, "220 mx ready\r\n250 early\r\n", 0);
	assert_int_equal(smtpc_cmd(&c, &r, NULL, 1000, "greeting"), 0);
	assert_int_equal(r.code, 220);
	assert_int_equal(smtpc_quiet(&c, "greeting"), -1);	/* the rest is already here */
	assert_non_null(strstr(c.why, "greeting: peer sent 11 unexpected bytes"));
	smtpc_close(&c, 0);
	close(fd);
	/* a half reply then EOF: no code, the step named */
	peer(&c, "250-mx\r\n", 1);
	assert_int_equal(smtpc_cmd(&c, &r, NULL, 1000, "greeting"), -1);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(c.why, "greeting: connection closed"));
	smtpc_close(&c, 0);
	/* a command over SMTP_CMDLINE_MAX is never sent */
	fd = peer(&c, "", 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(smtpc_send(&c, big, 1000), -1);
	assert_non_null(strstr(c.why, "command longer than"));
	smtpc_close(&c, 0);
	close(fd);
	smtpc_reply_free(&r);
}

/* test_deadline - c.deadline bounds a call whose own timeout is longer */
static void
test_deadline(void **state)
{
	struct smtpc		c;
	struct smtpc_reply	r;
	int			fd;

	smtpc_reply_init(&r);
	fd = peer(&c, "220-still talking\r\n", 0);
	c.deadline = mono_ms() + 50;
	assert_int_equal(smtpc_cmd(&c, &r, NULL, 2000, "greeting"), -1);
	if (strstr(c.why, "greeting: timeout waiting for a reply (the deadline of the whole "
	    "dialogue)") == NULL)
		fail_msg("got \"%s\", want the dialogue's deadline", c.why);
	smtpc_close(&c, 0);
	close(fd);
	smtpc_reply_free(&r);
}

static void
test_health(void **state)
{
	/* probes as a string of g(ood)/b(ad); state after each: u(nknown) h U(nhealthy) */
	static const struct { const char *probes, *want; int up, down; } tc[] = {
		{ "ggg", "uuh", 3, 2 },
		{ "gggb", "uuhh", 3, 2 },
		{ "gggbb", "uuhhU", 3, 2 },
		{ "bb", "uU", 3, 2 },
		{ "bbgg", "uUUU", 3, 2 },
		{ "bbggg", "uUUUh", 3, 2 },
		{ "gbgbgb", "uuuuuu", 3, 2 },
		{ "gggbgbb", "uuhhhhU", 3, 2 },
		{ "gbbg", "hUUh", 1, 1 },	/* the replay's probe: every result counts */
		{ "b", "U", 0, 0 },		/* below 1 means 1 */
	};
	struct smtpc_health	h;
	enum smtpc_health_state	old;
	size_t			i, j;
	char			got[16];

	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		smtpc_health_init(&h, tc[i].up, tc[i].down);
		for (j = 0; tc[i].probes[j] != '\0'; j++) {
			old = h.state;
			assert_int_equal(smtpc_health_note(&h, tc[i].probes[j] == 'g'), old);
			got[j] = h.state == SMTPC_HEALTH_UP ? 'h' :
			    h.state == SMTPC_HEALTH_DOWN ? 'U' : 'u';
		}
		got[j] = '\0';
		if (strcmp(got, tc[i].want) != 0)
			fail_msg("%s: got %s, want %s", tc[i].probes, got, tc[i].want);
		assert_int_equal(h.probes, (long)j);
	}
	assert_string_equal(smtpc_health_name(SMTPC_HEALTH_DOWN), "unhealthy");
}

TESTLIB_MAIN(testlib_no_sigpipe, NULL,
	cmocka_unit_test(test_route_parse_smtp),
	cmocka_unit_test(test_reply_parser),
	cmocka_unit_test(test_reply_bounds),
	cmocka_unit_test(test_caps),
	cmocka_unit_test(test_hello),
	cmocka_unit_test(test_steps),
	cmocka_unit_test(test_deadline),
	cmocka_unit_test(test_health),
)
