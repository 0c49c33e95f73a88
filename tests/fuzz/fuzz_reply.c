/*
 * fuzz_reply.c - libFuzzer harness for the replay's SMTP/LMTP client against a
 * hostile primary: the bounded reply reader (common/smtpc.c
 * smtpc_read_reply: multi-line replies, codes, RFC 3463 enhanced codes) and
 * what replay/deliver.c makes of the replies (greeting, EHLO capabilities,
 * STARTTLS, AUTH, pipelined MAIL/RCPT, DATA, end of data, LMTP's one reply per
 * recipient, RSET between two transactions, QUIT).
 *
 * The real client (deliver_connect, deliver_send twice, deliver_close) talks to
 * a scripted primary in a thread over a unix socket, as it would to
 * "smtp:unix:/path".  Input: byte 0 selects the session (bit 0 tls =
 * opportunistic, bit 1 AUTH, bit 2 LMTP, bit 3 a UTF-8 recipient); the rest is
 * the script: chunks separated by a line "@@" ("\n@@\n"), the first sent on
 * connection, each next one after each command line received (after DATA's
 * 354 the whole message first, up to its final "."); when the chunks run out,
 * or the client stays silent 50 ms (it waits for a reply the script never
 * completes), the primary sends EOF and reads on to the client's close.
 * Checks beyond "no crash, no sanitizer report":
 *   - each recipient's outcome: code 0 or a reply code 200-559, enhanced code
 *     "" or "c.s.d" of the same class, text NUL-terminated and printable;
 *   - DELIVER_OK: every recipient has an outcome;
 *   - a transaction with a 2xx outcome only when the primary received the
 *     whole message (counted from the client's bytes, DATA then "."): a
 *     recipient is never marked delivered otherwise;
 *   - the error text is one printable line.
 * Any violation abort()s.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/mman.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"

#define FZ_NAME "fuzz_reply"
#include "fz.h"

#define FZ_SEP		"\n@@\n"
#define FZ_QUIET_MS	50

static struct {
	int		 lfd;		/* listening socket */
	char		 path[108];
	const char	*script, *end;
	int		 messages;	/* whole messages the primary received (its thread's) */
} fz;

/* fz_line - one line (LF-terminated) from the client; 1 got, 0 closed, -1 silent for ms */
static int
fz_line(int fd, char *line, size_t len, int ms)
{
	struct pollfd	 pfd;
	size_t		 n = 0;
	char		 c;
	int		 r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((r = poll(&pfd, 1, ms)) != 1)
			return r == 0 ? -1 : 0;
		if (read(fd, &c, 1) != 1)
			return 0;
		if (n + 1 < len)
			line[n++] = c;
		if (c == '\n')
			break;
	}
	line[n] = '\0';
	return 1;
}

/* fz_send - the next chunk of the script; its first byte (or 0) in *first; 0 when none left */
static int
fz_send(int fd, const char **p, char *first)
{
	const char	*e;
	size_t		 n;
	ssize_t		 w;

	if (*p > fz.end)
		return 0;
	if ((e = memmem(*p, fz.end - *p, FZ_SEP, strlen(FZ_SEP))) == NULL)
		e = fz.end;
	else
		e++;	/* the chunk keeps its last LF */
	*first = e > *p ? **p : '\0';
	for (n = e - *p; n > 0; n -= w, *p += w)
		if ((w = send(fd, *p, n, MSG_NOSIGNAL)) <= 0)
			return 0;
	*p = e < fz.end ? e + strlen(FZ_SEP) - 1 : fz.end + 1;
	return 1;
}

/*
 * fz_primary - the scripted primary: one connection.  When the script is done,
 * or the client waits for a reply the script never completes, it sends EOF
 * but reads on to the client's close: every message the client sent is counted.
 */
static void *
fz_primary(void *arg)
{
	const char	*p = fz.script;
	char		 line[4200], first;
	int		 fd, r, data = 0, sawdata = 0, talking;

	if ((fd = accept(fz.lfd, NULL, NULL)) == -1)
		return NULL;
	talking = fz_send(fd, &p, &first);
	while ((r = fz_line(fd, line, sizeof(line), talking ? FZ_QUIET_MS : 10000)) != 0) {
		if (r == -1) {
			if (!talking)
				break;
			talking = 0;
			shutdown(fd, SHUT_WR);
			continue;
		}
		/* the client's own bytes say when it sent a whole message, whatever the
		 * script answered: DATA, then a line "." (a body's dots are stuffed) */
		if (strcasecmp(line, "DATA\r\n") == 0)
			sawdata = 1;
		else if (strcmp(line, ".\r\n") == 0 && sawdata) {
			fz.messages++;
			sawdata = 0;
		}
		if (data) {
			/* the message after a 3xx to DATA: no reply before its final "." */
			if (strcmp(line, ".\r\n") != 0)
				continue;
			data = 0;
		}
		if (talking && !fz_send(fd, &p, &first)) {
			talking = 0;
			shutdown(fd, SHUT_WR);
		}
		data = strcasecmp(line, "DATA\r\n") == 0 && first == '3';
	}
	close(fd);
	return NULL;
}

/* fz_outcome - one recipient's outcome */
static void
fz_outcome(const struct deliver_rcpt *r)
{
	const char	*e = r->enhanced;
	size_t		 d;
	int		 part;

	fz_check(r->code == 0 || (r->code >= 200 && r->code <= 559), "recipient code");
	fz_check(strnlen(r->text, sizeof(r->text)) < sizeof(r->text) && fz_printable(r->text),
	    "recipient text");
	fz_check(strnlen(e, sizeof(r->enhanced)) < sizeof(r->enhanced), "enhanced not terminated");
	if (*e == '\0')
		return;
	fz_check(r->code != 0 && e[0] - '0' == r->code / 100 && e[1] == '.', "enhanced class");
	for (e += 2, part = 0; part < 2; part++) {
		for (d = 0; e[d] >= '0' && e[d] <= '9'; d++)
			;
		fz_check(d >= 1 && d <= 3 && e[d] == (part == 0 ? '.' : '\0'), "enhanced syntax");
		e += d + 1;
	}
}

/* fz_init - the listening socket, once */
static void
fz_init(void)
{
	struct sockaddr_un	 sun;
	char			 dir[] = "/tmp/fuzz_reply.XXXXXX";

	signal(SIGPIPE, SIG_IGN);	/* a primary writing to a closed client */
	fz_check(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(fz.path, sizeof(fz.path), "%s/sock", dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", fz.path);
	fz_check((fz.lfd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1 &&
	    bind(fz.lfd, (struct sockaddr *)&sun, sizeof(sun)) == 0 &&
	    listen(fz.lfd, 4) == 0, "listen");
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - byte 0 the session, then the primary's script */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	 body[] = "Subject: fuzz\r\n\r\n.leading dot\r\nbody\r\n";
	struct deliver_route	 route;
	struct deliver_opts	 opts;
	struct deliver_rcpt	 rcpts[3];
	struct deliver_msg	 m;
	struct deliver_conn	*c;
	enum deliver_status	 st;
	pthread_t		 th;
	char			 err[512], *script;
	size_t			 i;
	int			 code, t, ok, delivered = 0;

	if (size < 1)
		return 0;
	if (fz.path[0] == '\0')
		fz_init();
	/* exact-size copy: the script is sent as is, NULs included */
	if ((script = malloc(size)) == NULL)
		return 0;
	memcpy(script, data + 1, size - 1);
	fz.script = script;
	fz.end = script + size - 1;
	fz.messages = 0;
	memset(&route, 0, sizeof(route));
	route.proto = data[0] & 4 ? DELIVER_LMTP : DELIVER_SMTP;
	snprintf(route.unix_path, sizeof(route.unix_path), "%s", fz.path);
	snprintf(route.target, sizeof(route.target), "%s:unix:%s",
	    data[0] & 4 ? "lmtp" : "smtp", fz.path);
	memset(&opts, 0, sizeof(opts));
	opts.tls = data[0] & 1 ? DELIVER_TLS_OPPORTUNISTIC : DELIVER_TLS_NONE;
	opts.auth_user = data[0] & 2 ? "mxspool" : NULL;
	opts.auth_password = "secret";
	opts.auth_plaintext = 1;
	opts.helo_name = "mx.test";
	opts.connect_timeout = opts.command_timeout = opts.data_timeout = 5;
	memset(&m, 0, sizeof(m));
	memset(rcpts, 0, sizeof(rcpts));
	rcpts[0].addr = "alice@example.test";
	rcpts[0].params = "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.test";
	rcpts[1].addr = data[0] & 8 ? "j\xc3\xb6rg@example.test" : "bob@example.test";
	rcpts[1].params = "";
	rcpts[2].addr = "carol@example.test";
	rcpts[2].params = "NOTIFY=NEVER";
	m.mail_from = "sender@other.test";
	m.mail_params = "SIZE=40 BODY=8BITMIME RET=HDRS ENVID=fz+2B1";
	m.rcpts = rcpts;
	m.nrcpts = 3;
	m.size = sizeof(body) - 1;
	fz_check((m.fd = memfd_create("fuzz_reply", 0)) != -1 &&
	    write(m.fd, body, m.size) == (ssize_t)m.size, "memfd");
	fz_check(pthread_create(&th, NULL, fz_primary, NULL) == 0, "pthread_create");
	err[0] = '\0';
	c = deliver_connect(&route, &opts, &code, err, sizeof(err));
	if (c == NULL) {
		fz_check(err[0] != '\0' && fz_printable(err), "connect error text");
		fz_check(code == 0 || (code >= 200 && code <= 559), "connect code");
	}
	for (t = 0; c != NULL && t < 2 && deliver_usable(c); t++) {
		st = deliver_send(c, &m, err, sizeof(err));
		fz_check(st == DELIVER_OK || st == DELIVER_TEMPFAIL || st == DELIVER_PERMFAIL,
		    "status");
		fz_check(fz_printable(err), "error text");
		for (i = 0, ok = 0; i < m.nrcpts; i++) {
			fz_outcome(&rcpts[i]);
			if (st == DELIVER_OK)
				fz_check(rcpts[i].code != 0, "DELIVER_OK without an outcome");
			ok |= rcpts[i].code / 100 == 2;
		}
		delivered += ok;
	}
	deliver_close(c);
	/* once the primary has read all the client sent: each delivery had its message */
	pthread_join(th, NULL);
	fz_check(delivered <= fz.messages,
	    "recipient delivered but the primary never got the message");
	close(m.fd);
	free(script);
	return 0;
}
