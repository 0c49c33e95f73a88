/*
 * test_deliver.c - route parsing, [routes] lookup, and client sessions against
 * a scripted server thread (crafted replies: multiline, endless continuation, missing
 * code, oversize line, data injected after the STARTTLS 220, LMTP per-rcpt replies,
 * dot-stuffing, a short message file).  Beside the real-peer e2e tests
 * (tests/e2e/deliver_sink.sh with smtp-sink, deliver_lmtp.sh with Dovecot).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "deliver.h"
#include "limits.h"
#include "testlib.h"

static void
test_route_parse(void **state)
{
	static const struct {
		const char *spec; int proto; const char *host; int port; const char *path;
	} t[] = {
		{ "smtp://10.0.0.5:25", DELIVER_SMTP, "10.0.0.5", 25, "" },
		{ "smtp://primary.internal", DELIVER_SMTP, "primary.internal", 25, "" },
		{ "lmtp://mail.example.test", DELIVER_LMTP, "mail.example.test", 24, "" },
		{ "lmtp://[::1]:2424", DELIVER_LMTP, "::1", 2424, "" },
		{ "smtp://[2001:db8::5]", DELIVER_SMTP, "2001:db8::5", 25, "" },
		{ "lmtp:unix:/run/dovecot/lmtp", DELIVER_LMTP, "", 0, "/run/dovecot/lmtp" },
		{ "smtp:unix:/var/spool/s", DELIVER_SMTP, "", 0, "/var/spool/s" },
	};
	/* refused: route_parse returns -1 */
	static const char *const bad[] = {
		"smtp://h:0", "smtp://h:65536", "smtp://h:25x", "smtp://h:", "smtp://",
		"smtp://[::1", "smtp://[::1]x", "smtp://a b", "smtp://.bad", "lmtp:unix:relative",
		"http://h", "smtp:h:25", "",
	};
	struct deliver_route	r;
	size_t			i;
	int			rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if ((rc = route_parse(t[i].spec, &r)) != 0)
			fail_msg("%s: got %d, want 0", t[i].spec, rc);
		assert_int_equal(r.proto, t[i].proto);
		assert_string_equal(r.host, t[i].host);
		assert_int_equal(r.port, t[i].port);
		assert_string_equal(r.unix_path, t[i].path);
		assert_string_equal(r.target, t[i].spec);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if ((rc = route_parse(bad[i], &r)) != -1)
			fail_msg("%s: got %d, want -1", bad[i], rc);
}

static void
test_route_lookup(void **state)
{
	static const char	three[] = "[routes]\nexample.test = smtp://10.0.0.5:25\n"
	    ".sub.test = lmtp://[::1]:24\n* = smtp:unix:/run/p\n";
	static const char	one[] = "[routes]\na.test = smtp://x\n";
	/* keys and domains compared as lower-case A-labels, as Postfix tables ignore case */
	static const char	idn[] = "[routes]\nExample.TEST = smtp://upper\n"
	    "b\xc3\xbc" "cher.test = smtp://ulabel\n.XN--MNCHEN-3YA.test = smtp://sub\n"
	    "* = smtp://star\n";
	static const struct {
		const char *routes, *domain; int rc; const char *host, *unix_path;
	} t[] = {
		{ three, "example.test", 0, "10.0.0.5", "" },
		{ three, "a.b.sub.test", 0, "::1", "" },
		{ three, "other.test", 0, "", "/run/p" },
		{ one, "b.test", -1, NULL, NULL },
		{ idn, "example.test.", 0, "upper", "" },
		{ idn, "xn--bcher-kva.test", 0, "ulabel", "" },
		{ idn, "B\xc3\x9c" "CHER.test", 0, "ulabel", "" },
		{ idn, "mx.m\xc3\xbc" "nchen.test", 0, "sub", "" },
		{ idn, "b\xff" ".test", 0, "star", "" },	/* no IDNA name */
	};
	struct deliver_route	 r;
	struct deliver_routes	*rt;
	struct config		*c;
	char			 err[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_non_null(c = config_from_string("t.conf", t[i].routes, err, sizeof(err)));
		if ((rt = deliver_routes_load(c, err, sizeof(err))) == NULL)
			fail_msg("%s: %s", t[i].domain, err);
		if ((rc = deliver_route_lookup(rt, t[i].domain, &r)) != t[i].rc)
			fail_msg("%s: got %d, want %d", t[i].domain, rc, t[i].rc);
		if (rc == 0 && (strcmp(r.host, t[i].host) != 0 ||
		    strcmp(r.unix_path, t[i].unix_path) != 0))
			fail_msg("%s: got host \"%s\" path \"%s\", want \"%s\" \"%s\"",
			    t[i].domain, r.host, r.unix_path, t[i].host, t[i].unix_path);
		deliver_routes_free(rt);
		config_free(c);
	}
	/* a bad line is refused when the table is built, naming file and key */
	c = config_from_string("t.conf", "[routes]\na.test = http://x\n", err, sizeof(err));
	assert_null(deliver_routes_load(c, err, sizeof(err)));
	assert_non_null(strstr(err, "t.conf: [routes] a.test = \"http://x\""));
	config_free(c);
}

/*
 * The scripted server: a thread on a unix socket; each step waits for a line that
 * starts with expect (NULL: none) and then writes send.  expect "<BODY>" reads the
 * data up to CRLF.CRLF into srv.body (or EOF: srv.eof_in_body).
 */
struct step { const char *expect; const char *send; };
struct srv {
	char			 path[108];
	int			 lfd;
	const struct step	*steps;
	pthread_t		 th;
	struct buf		 body;
	int			 eof_in_body;
	char			 mismatch[512];
};

/* srv_line - read one line (byte by byte: simple and exact); 0 ok, -1 EOF */
static int
srv_line(int fd, char *out, size_t outlen)
{
	size_t	n = 0;
	char	ch;

	while (read(fd, &ch, 1) == 1) {
		if (n + 1 < outlen)
			out[n++] = ch;
		if (ch == '\n') {
			out[n] = '\0';
			return 0;
		}
	}
	return -1;
}

static void *
srv_main(void *arg)
{
	struct srv	*s = arg;
	char		 line[SMTP_CMDLINE_MAX + 2];
	int		 fd, i;

	if ((fd = accept(s->lfd, NULL, NULL)) == -1)
		return NULL;
	for (i = 0; s->steps[i].expect != NULL || s->steps[i].send != NULL; i++) {
		if (s->steps[i].expect != NULL && strcmp(s->steps[i].expect, "<BODY>") == 0) {
			for (;;) {
				if (srv_line(fd, line, sizeof(line)) == -1) {
					s->eof_in_body = 1;
					goto out;
				}
				if (strcmp(line, ".\r\n") == 0)
					break;
				buf_addstr(&s->body, line);
			}
		} else if (s->steps[i].expect != NULL) {
			if (srv_line(fd, line, sizeof(line)) == -1)
				goto out;
			if (strncmp(line, s->steps[i].expect, strlen(s->steps[i].expect)) != 0) {
				snprintf(s->mismatch, sizeof(s->mismatch),
				    "step %d: got %.200s want %.200s",
				    i, line, s->steps[i].expect);
				goto out;
			}
		}
		if (s->steps[i].send != NULL && write(fd, s->steps[i].send,
		    strlen(s->steps[i].send)) == -1)
			goto out;
	}
	while (srv_line(fd, line, sizeof(line)) == 0)	/* until the client closes */
		;
out:
	close(fd);
	return NULL;
}

static void
srv_start(struct srv *s, const struct step *steps, struct deliver_route *r, const char *proto)
{
	struct sockaddr_un	sun;
	char			spec[200];

	memset(s, 0, sizeof(*s));
	buf_init(&s->body, 1 << 20);
	s->steps = steps;
	snprintf(s->path, sizeof(s->path), "/tmp/test_deliver.%d.sock", (int)getpid());
	unlink(s->path);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
	assert_int_not_equal(s->lfd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(s->lfd, 1), 0);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	snprintf(spec, sizeof(spec), "%s:unix:%s", proto, s->path);
	assert_int_equal(route_parse(spec, r), 0);
}

static void
srv_stop(struct srv *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
	unlink(s->path);
}

static void
opts_default(struct deliver_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->tls = DELIVER_TLS_REQUIRED;
	o->helo_name = "replay.test";
	o->connect_timeout = o->command_timeout = o->data_timeout = 5;
}

/* a client session against the scripted server */
struct sess {
	struct deliver_route	 r;
	struct deliver_opts	 o;
	struct deliver_conn	*c;
	struct srv		 s;
	char			 err[512];
	int			 code;
};

/* sess_start - the server on steps, default options with tls; not connected yet */
static void
sess_start(struct sess *x, const struct step *steps, const char *proto, enum deliver_tls tls)
{
	srv_start(&x->s, steps, &x->r, proto);
	opts_default(&x->o);
	x->o.tls = tls;
	x->c = NULL;
}

/* sess_connect - connect with x->o; NULL with the reason in x->err */
static struct deliver_conn *
sess_connect(struct sess *x)
{
	return x->c = deliver_connect(&x->r, &x->o, &x->code, x->err, sizeof(x->err));
}

/* sess_open - sess_start, then a connection that must succeed */
static void
sess_open(struct sess *x, const struct step *steps, const char *proto, enum deliver_tls tls)
{
	sess_start(x, steps, proto, tls);
	if (sess_connect(x) == NULL)
		fail_msg("connect: %s", x->err);
}

/* sess_end - close the connection (if any), wait for the server; x->s.body is kept */
static void
sess_end(struct sess *x)
{
	if (x->c != NULL)
		deliver_close(x->c);
	x->c = NULL;
	srv_stop(&x->s);
}

static void
test_starttls_injection(void **state)
{
	static const struct step steps[] = {
		{ NULL, "220 primary ESMTP\r\n" },
		{ "EHLO replay.test", "250-primary\r\n250 STARTTLS\r\n" },
		/* the 220 and an injected reply in one segment, before any handshake */
		{ "STARTTLS", "220 2.0.0 go ahead\r\n250 2.1.0 injected\r\n" },
		{ NULL, NULL },
	};
	struct sess		x;

	sess_start(&x, steps, "smtp", DELIVER_TLS_REQUIRED);
	assert_null(sess_connect(&x));
	if (strstr(x.err, "STARTTLS: peer sent 20 unexpected bytes") == NULL)
		fail_msg("got %s", x.err);
	sess_end(&x);
	buf_free(&x.s.body);
}

static void
test_tls_required_missing(void **state)
{
	static const struct step steps[] = {
		{ NULL, "220 primary ESMTP\r\n" },
		{ "EHLO replay.test", "250-primary\r\n250 8BITMIME\r\n" },
		{ NULL, NULL },
	};
	struct sess		x;

	sess_start(&x, steps, "smtp", DELIVER_TLS_REQUIRED);
	assert_null(sess_connect(&x));
	assert_non_null(strstr(x.err, "does not offer STARTTLS"));
	sess_end(&x);
	buf_free(&x.s.body);
}

/* msg_file - a temp file with bytes; returns the fd */
static int
msg_file(const char *bytes, size_t n)
{
	char	path[] = "/tmp/test_deliver.XXXXXX";
	int	fd = mkstemp(path);

	assert_int_not_equal(fd, -1);
	unlink(path);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	return fd;
}

/* msg_set - m's bytes: a temp file with n bytes, size n */
static void
msg_set(struct deliver_msg *m, const char *bytes, size_t n)
{
	m->fd = msg_file(bytes, n);
	m->size = n;
}

/* a message from s@x.test to one recipient */
struct one {
	struct deliver_rcpt	rc;
	struct deliver_msg	m;
};

/* one_msg - o: n bytes (a temp file) from s@x.test to rcpt, no parameters */
static void
one_msg(struct one *o, const char *rcpt, const char *bytes, size_t n)
{
	memset(o, 0, sizeof(*o));
	o->rc.addr = rcpt;
	o->rc.params = "";
	o->m.mail_from = "s@x.test";
	o->m.mail_params = "";
	o->m.rcpts = &o->rc;
	o->m.nrcpts = 1;
	msg_set(&o->m, bytes, n);
}

static void
test_lmtp_per_rcpt(void **state)
{
	static const char body[] = "Subject: x\r\n\r\n.dot\r\nmid\r\n..two\r\n.\r\nend";
	static const struct step steps[] = {
		{ NULL, "220 lmtp ready\r\n" },
		{ "LHLO replay.test", "250-lmtp\r\n250-PIPELINING\r\n250-DSN\r\n250-SIZE\r\n"
		    "250 ENHANCEDSTATUSCODES\r\n" },
		{ "MAIL FROM:<s@x.test> SIZE=38 RET=HDRS\r\n", "250 2.1.0 ok\r\n" },
		{ "RCPT TO:<a@y.test> NOTIFY=NEVER\r\n", "250 2.1.5 ok\r\n" },
		{ "RCPT TO:<b@y.test>\r\n", "550 5.1.1 <b@y.test> unknown\r\n" },
		{ "RCPT TO:<c@y.test>\r\n", "250 2.1.5 ok\r\n" },
		{ "DATA", "354 go\r\n" },
		{ "<BODY>", "250 2.0.0 <a@y.test> saved\r\n452 4.2.2 <c@y.test> over quota\r\n" },
		/* second transaction on the same connection: RSET first; all refused: no DATA */
		{ "RSET", "250 2.0.0 ok\r\n" },
		{ "MAIL FROM", "250 2.1.0 ok\r\n" },
		{ "RCPT TO:<a@y.test>", "450 4.2.1 busy\r\n" },
		{ "RCPT TO:<b@y.test>", "550 5.1.1 unknown\r\n" },
		{ "RCPT TO:<c@y.test>", "550 5.1.1 unknown\r\n" },
		{ "RSET", "250 2.0.0 ok\r\n" },
		{ NULL, NULL },
	};
	struct deliver_rcpt	 rc[3] = { { "a@y.test", "NOTIFY=NEVER FOO=1", 0, "", "" },
	    { "b@y.test", "", 0, "", "" }, { "c@y.test", "", 0, "", "" } };
	struct deliver_msg	 m = { "s@x.test", "BODY=8BITMIME RET=HDRS", rc, 3, -1, 0, NULL, 0 };
	struct sess		 x;

	msg_set(&m, body, sizeof(body) - 1);
	sess_open(&x, steps, "lmtp", DELIVER_TLS_OPPORTUNISTIC);
	if (deliver_send(x.c, &m, x.err, sizeof(x.err)) != DELIVER_OK)
		fail_msg("send: %s (%s)", x.err, x.s.mismatch);
	assert_int_equal(rc[0].code, 250);
	assert_string_equal(rc[0].enhanced, "2.0.0");
	assert_string_equal(rc[0].text, "<a@y.test> saved");
	assert_int_equal(rc[1].code, 550);
	assert_string_equal(rc[1].enhanced, "5.1.1");
	assert_int_equal(rc[2].code, 452);
	assert_string_equal(rc[2].text, "<c@y.test> over quota");
	assert_true(deliver_usable(x.c));
	assert_int_equal(deliver_send(x.c, &m, x.err, sizeof(x.err)), DELIVER_OK);
	assert_int_equal(rc[0].code, 450);
	assert_int_equal(rc[1].code, 550);
	sess_end(&x);
	assert_string_equal(x.s.mismatch, "");
	/* dot-stuffed, CRLF added at the end (the "." line was stripped by the server loop) */
	assert_string_equal(x.s.body.data ? x.s.body.data : "",
	    "Subject: x\r\n\r\n..dot\r\nmid\r\n...two\r\n..\r\nend\r\n");
	buf_free(&x.s.body);
	close(m.fd);
}

static void
test_short_file_no_dot(void **state)
{
	static const struct step steps[] = {
		{ NULL, "220 smtp\r\n" },
		{ "EHLO", "250-smtp\r\n250 SMTPUTF8\r\n" },
		{ "MAIL FROM:<s@x.test>\r\n", "250 ok\r\n" },
		{ "RCPT TO:<a@y.test>", "250 ok\r\n" },
		{ "DATA", "354 go\r\n" },
		{ "<BODY>", "250 should not happen\r\n" },
		{ NULL, NULL },
	};
	struct one		 o;
	struct sess		 x;

	one_msg(&o, "a@y.test", "Subject: x\r\n\r\nshort\r\n", 21);
	o.m.size = 5000;		/* the index says more than the file holds */
	sess_open(&x, steps, "smtp", DELIVER_TLS_NONE);
	assert_int_equal(deliver_send(x.c, &o.m, x.err, sizeof(x.err)), DELIVER_TEMPFAIL);
	assert_non_null(strstr(x.err, "file shorter than its size"));
	assert_int_equal(o.rc.code, 0);
	assert_false(deliver_usable(x.c));
	sess_end(&x);
	buf_free(&x.s.body);
	assert_true(x.s.eof_in_body);	/* the server never saw the final dot */
	close(o.m.fd);
}

/* one recipient over plain SMTP: greeting, EHLO, MAIL, RCPT, DATA, the body's reply */
static const struct step plain_steps[] = {
	{ NULL, "220 smtp\r\n" },
	{ "EHLO", "250 smtp\r\n" },
	{ "MAIL FROM:<s@x.test>\r\n", "250 ok\r\n" },
	{ "RCPT TO:<a@y.test>", "250 ok\r\n" },
	{ "DATA", "354 go\r\n" },
	{ "<BODY>", "250 2.0.0 queued\r\n" },
	{ NULL, NULL },
};

/* send_plain - n bytes to a@y.test over plain_steps: accepted, and the server got want */
static void
send_plain(const char *bytes, size_t n, const char *want, size_t wantlen)
{
	struct one	o;
	struct sess	x;

	one_msg(&o, "a@y.test", bytes, n);
	sess_open(&x, plain_steps, "smtp", DELIVER_TLS_NONE);
	if (deliver_send(x.c, &o.m, x.err, sizeof(x.err)) != DELIVER_OK)
		fail_msg("size %zu: send: %s (%s)", n, x.err, x.s.mismatch);
	assert_int_equal(o.rc.code, 250);
	sess_end(&x);
	assert_string_equal(x.s.mismatch, "");
	assert_false(x.s.eof_in_body);
	assert_int_equal(x.s.body.len, wantlen);
	assert_memory_equal(x.s.body.data ? x.s.body.data : "", want, wantlen);
	buf_free(&x.s.body);
	close(o.m.fd);
}

/* a dot after a bare CR is stuffed as well (bytes kept with bare_newline = keep) */
static void
test_bare_cr_dot_stuffed(void **state)
{
	static const char	body[] = "Subject: x\r\n\r\na\r.\r\nMAIL FROM:<evil@x.test>\r\n";
	/* got "a\r." would let a primary that ends lines at a bare CR see "\r.\r\n" */
	static const char	want[] = "Subject: x\r\n\r\na\r..\r\nMAIL FROM:<evil@x.test>\r\n";

	send_plain(body, sizeof(body) - 1, want, sizeof(want) - 1);
}

/*
 * bodies larger than one read chunk, ending on a chunk boundary, without a
 * final CRLF, and empty: the last chunk and the end of data share a write,
 * and nothing is lost or left unstuffed around the chunk boundaries
 */
static void
test_body_chunks(void **state)
{
	static const size_t	 sizes[] = { 0, 2 * 65536, 150001 };
	static const char	 pat[] = ".a\r\nbb\r\n";

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct buf	 want;
		char		*body;
		size_t		 n = sizes[k];

		assert_non_null(body = malloc(n + 1));
		buf_init(&want, 2 * n + 8);
		for (size_t i = 0; i < n; i++) {
			body[i] = pat[i % (sizeof(pat) - 1)];
			if (body[i] == '.' && (i == 0 || body[i - 1] == '\n'))
				buf_add(&want, ".", 1);
			buf_add(&want, &body[i], 1);
		}
		if (n > 0 && body[n - 1] == '\r')
			buf_add(&want, "\n", 1);
		else if (n > 0 && body[n - 1] != '\n')
			buf_add(&want, "\r\n", 2);
		buf_add(&want, "", 1);
		send_plain(body, n, want.data, want.len - 1);
		buf_free(&want);
		free(body);
	}
}

static void
test_injected_envelope(void **state)
{
	static const struct step steps[] = {
		{ NULL, "220 smtp\r\n" },
		{ "EHLO", "250 smtp\r\n" },
		{ NULL, NULL },
	};
	struct one	o;
	struct sess	x;

	one_msg(&o, "a@y.test>\r\nRSET", "x\r\n", 3);
	sess_open(&x, steps, "smtp", DELIVER_TLS_NONE);
	assert_int_equal(deliver_send(x.c, &o.m, x.err, sizeof(x.err)), DELIVER_PERMFAIL);
	assert_int_equal(o.rc.code, 550);
	sess_end(&x);
	buf_free(&x.s.body);
	close(o.m.fd);
}

static void
test_auth(void **state)
{
	static const struct step login[] = {
		{ NULL, "220 smtp\r\n" },
		{ "EHLO", "250-smtp\r\n250 AUTH LOGIN\r\n" },
		{ "AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n" },
		{ "dXNlcg==\r\n", "334 UGFzc3dvcmQ6\r\n" },
		{ "cGFzcw==\r\n", "235 2.7.0 ok\r\n" },
		{ NULL, NULL },
	};
	static const struct step plain[] = {
		{ NULL, "220 smtp\r\n" },
		{ "EHLO", "250-smtp\r\n250 AUTH LOGIN PLAIN\r\n" },
		{ "AUTH PLAIN AHVzZXIAcGFzcw==\r\n", "535 5.7.8 bad credentials\r\n" },
		{ NULL, NULL },
	};
	struct sess		 x;

	sess_start(&x, login, "smtp", DELIVER_TLS_NONE);
	x.o.auth_user = "user";
	x.o.auth_password = "pass";
	x.o.auth_plaintext = 1;
	if (sess_connect(&x) == NULL)
		fail_msg("AUTH LOGIN: %s", x.err);
	sess_end(&x);
	assert_string_equal(x.s.mismatch, "");
	buf_free(&x.s.body);
	srv_start(&x.s, plain, &x.r, "smtp");
	assert_null(sess_connect(&x));
	assert_int_equal(x.code, 535);
	assert_non_null(strstr(x.err, "AUTH: 535 5.7.8 bad credentials"));
	assert_null(strstr(x.err, "pass"));
	sess_end(&x);
	assert_string_equal(x.s.mismatch, "");
	buf_free(&x.s.body);
}

TESTLIB_MAIN(testlib_no_sigpipe, NULL,
	cmocka_unit_test(test_route_parse),
	cmocka_unit_test(test_route_lookup),
	cmocka_unit_test(test_starttls_injection),
	cmocka_unit_test(test_body_chunks),
	cmocka_unit_test(test_tls_required_missing),
	cmocka_unit_test(test_lmtp_per_rcpt),
	cmocka_unit_test(test_short_file_no_dot),
	cmocka_unit_test(test_bare_cr_dot_stuffed),
	cmocka_unit_test(test_injected_envelope),
	cmocka_unit_test(test_auth),
)
