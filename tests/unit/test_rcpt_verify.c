/*
 * test_rcpt_verify.c - recipient verification: domains, lists, hashed lists,
 * catch-all, sub-addresses, routing-character rejection, reloads, the
 * callout cache policy (against a refused port), the RCPT reply verdict,
 * address quoting, the in-flight sharing of a callout and the monitor's
 * start.  Table-driven.
 *
 * Linked against libmxingest.a like the other tests: everything goes through
 * rcpt_verify.h and callout.h (the reply verdict and the quoting of the path
 * through callout_rcpt() against a scripted server); rcpt_verify_impl.h is
 * included only to watch the in-flight table of the sharing test.  Hashes are
 * computed here with OpenSSL, apart from the module's own.
 * Real callouts against real Postfix are in tests/e2e/ingest_verify.sh.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <cmocka.h>

#include "callout.h"
#include "clock.h"
#include "config.h"
#include "index.h"
#include "index_verify.h"
#include "limits.h"
#include "log.h"
#include "rcpt_verify.h"
#include "rcpt_verify_impl.h"

static char tdir[] = "/tmp/test_rcpt_verify.XXXXXX";

struct tcase {
	const char		*addr;
	enum verify_result	 want;
};

static const char *const rname[] = { "ok", "nodomain", "nouser", "tempfail" };

/* put - write text to tdir/name */
static void
put(const char *name, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

/* load - a struct verify from config text (file tdir/t.conf, so lists are relative) */
static struct verify *
load(const char *text, char *err, size_t errlen)
{
	struct config	*c;
	struct verify	*v;
	char		 path[PATH_MAX];

	put("t.conf", text);
	snprintf(path, sizeof(path), "%s/t.conf", tdir);
	assert_non_null(c = config_load(path, err, errlen));
	v = verify_load(c, err, errlen);
	config_free(c);
	return v;
}

/* load_ok - load() that must succeed (the error is the failure message) */
static struct verify *
load_ok(const char *text)
{
	struct verify	*v;
	char		 err[256];

	if ((v = load(text, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	return v;
}

/* run - check every case; "got X, want Y" on failure */
static void
run(struct verify *v, const struct tcase *tc, size_t n)
{
	enum verify_result	r;
	char			text[256];
	size_t			i;
	int			bad = 0;

	for (i = 0; i < n; i++) {
		r = verify_rcpt(v, tc[i].addr, text, sizeof(text));
		if (r != tc[i].want) {
			print_error("%s: got %s (%s), want %s\n", tc[i].addr, rname[r], text,
			    rname[tc[i].want]);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* run_conf - run the cases against the tables of config text */
static void
run_conf(const char *text, const struct tcase *tc, size_t n)
{
	struct verify *v = load_ok(text);

	run(v, tc, n);
	verify_free(v);
}

static void
test_domains_and_lists(void **state)
{
	static const struct tcase tc[] = {
		{ "alice@example.test", VERIFY_OK },
		{ "ALICE@EXAMPLE.TEST", VERIFY_OK },		/* case folded */
		{ "alice@Example.Test.", VERIFY_OK },		/* trailing dot */
		{ "bob@example.test", VERIFY_OK },		/* full address line */
		{ "carol@example.test", VERIFY_OK },		/* line with a right side */
		{ "dan@example.test", VERIFY_NO_USER },		/* commented out */
		{ "zed@example.test", VERIFY_NO_USER },
		{ "alice@other.test", VERIFY_NO_DOMAIN },	/* listed, domain not ours */
		{ "alice@sub.example.test", VERIFY_NO_DOMAIN },	/* no subdomain matching */
		{ "alice@example.test.evil", VERIFY_NO_DOMAIN },
		{ "alice", VERIFY_NO_DOMAIN },
		{ "alice@", VERIFY_NO_DOMAIN },
		{ "@example.test", VERIFY_NO_USER },
		{ "anyone@all.test", VERIFY_OK },		/* "@all.test" line: catch-all */
		{ "x\ry@example.test", VERIFY_NO_USER },	/* control character */
		{ "a234567890123456789012345678901234567890123456789012345678901234"
		  "5@all.test", VERIFY_NO_USER },		/* 65-octet local part */
	};
	struct verify	*v;

	put("users.txt", "# our users\nalice\n  Bob@EXAMPLE.test\ncarol@example.test OK\n"
	    "#dan\n\nalice@other.test\n");
	put("all.txt", "@all.test\n@unrelated.test\n");
	v = load_ok("[domain Example.TEST]\nrecipients = users.txt\n"
	    "[domain all.test]\nrecipients = all.txt\n");
	run(v, tc, sizeof(tc) / sizeof(tc[0]));
	assert_int_equal(verify_is_local_domain(v, "EXAMPLE.test"), 1);
	assert_int_equal(verify_is_local_domain(v, "example.test."), 1);
	assert_int_equal(verify_is_local_domain(v, "other.test"), 0);
	assert_int_equal(verify_is_local_domain(v, "unrelated.test"), 0);
	verify_free(v);
}

/* internationalised domains: U- and A-labels are one domain, in sections and lists */
static void
test_idn_domains(void **state)
{
	static const struct tcase tc[] = {
		{ "alice@b\xc3\xbc" "cher.example", VERIFY_OK },
		{ "alice@B\xc3\x9c" "CHER.EXAMPLE.", VERIFY_OK },
		{ "alice@xn--bcher-kva.example", VERIFY_OK },
		{ "bob@xn--bcher-kva.example", VERIFY_OK },	/* listed with U-labels */
		{ "carol@b\xc3\xbc" "cher.example", VERIFY_NO_USER },
		{ "alice@m\xc3\xbc" "nchen.example", VERIFY_OK },	/* section in A-labels */
		{ "anyone@caf\xc3\xa9.example", VERIFY_OK },	/* "@" line with U-labels */
		{ "alice@bucher.example", VERIFY_NO_DOMAIN },
		{ "alice@b\xff" "cher.example", VERIFY_NO_DOMAIN },	/* not UTF-8 */
	};
	struct verify	*v;

	put("idn.txt", "alice\nbob@B\xc3\x9c" "CHER.example\n");
	put("mu.txt", "alice\n");
	put("cafe.txt", "@caf\xc3\xa9.example\n");
	v = load_ok("[domain b\xc3\xbc" "cher.example]\nrecipients = idn.txt\n"
	    "[domain xn--mnchen-3ya.example]\nrecipients = mu.txt\n"
	    "[domain xn--caf-dma.example]\nrecipients = cafe.txt\n");
	run(v, tc, sizeof(tc) / sizeof(tc[0]));
	assert_int_equal(verify_is_local_domain(v, "B\xc3\x9c" "CHER.example."), 1);
	assert_int_equal(verify_is_local_domain(v, "xn--bcher-kva.example"), 1);
	assert_int_equal(verify_is_local_domain(v, "b\xff" "cher.example"), 0);
	verify_free(v);
}

static void
test_hashed_catchall_subaddress(void **state)
{
	static const struct tcase tc[] = {
		{ "alice@example.test", VERIFY_OK },		/* sha256sum output line */
		{ "Alice@Example.Test", VERIFY_OK },		/* normalised before hashing */
		{ "bob@example.test", VERIFY_OK },		/* upper-case hex */
		{ "carol@example.test", VERIFY_NO_USER },
		{ "alice+news@example.test", VERIFY_OK },	/* sub-address, hashed base */
		{ "alice-news@example.test", VERIFY_OK },	/* second delimiter */
		{ "alice+a+b@example.test", VERIFY_OK },	/* first delimiter splits */
		{ "+alice@example.test", VERIFY_NO_USER },	/* delimiter first: no base */
		{ "carol+x@example.test", VERIFY_NO_USER },
		{ "alice+x@plain.test", VERIFY_NO_USER },	/* subaddress off */
		{ "alice@plain.test", VERIFY_OK },
		{ "whoever@catch.test", VERIFY_OK },
		{ "WHO+ever@catch.test", VERIFY_OK },
		{ "x@nocatch.test", VERIFY_NO_DOMAIN },
	};

	/* as `printf '%s' alice@example.test | sha256sum` prints it; bob's in upper case */
	{
		unsigned char	h[32];
		unsigned int	hn = sizeof(h);
		char		hex[2][65], text[400];
		int		i, k;
		const char	*a[2] = { "alice@example.test", "bob@example.test" };

		for (k = 0; k < 2; k++) {
			assert_int_equal(EVP_Digest(a[k], strlen(a[k]), h, &hn, EVP_sha256(), NULL),
			    1);
			for (i = 0; i < 32; i++)
				snprintf(hex[k] + 2 * i, 3, k ? "%02X" : "%02x", h[i]);
		}
		snprintf(text, sizeof(text), "# hashes\n%s  -\n\n%s\n"
		    "e0b2b4e7a0ec4d6c6b7d3ba2f0b4d93dca4bd0f1d0c6d2b3e3f0f29a3f0fd0ab\n",
		    hex[0], hex[1]);
		put("hashed.txt", text);
	}
	put("plain.txt", "alice\n");
	run_conf("[domain example.test]\nhashed = hashed.txt\nsubaddress = yes\ndelimiter = +-\n"
	    "[domain plain.test]\nrecipients = plain.txt\n"
	    "[domain catch.test]\ncatchall = yes\nsubaddress = yes\n", tc,
	    sizeof(tc) / sizeof(tc[0]));
}

static void
test_routing_characters(void **state)
{
	static const struct tcase tc[] = {
		{ "user%evil.test@catch.test", VERIFY_NO_DOMAIN },	/* percent hack */
		{ "evil.test!user@catch.test", VERIFY_NO_DOMAIN },	/* bang path */
		{ "user@evil.test@catch.test", VERIFY_NO_DOMAIN },	/* quoted "user@evil" */
		{ "@a.test,@b.test:user@catch.test", VERIFY_NO_DOMAIN },	/* source route */
		{ "user@catch.test", VERIFY_OK },
		{ "user@evil.test", VERIFY_NO_DOMAIN },
		{ "user%catch.test@evil.test", VERIFY_NO_DOMAIN },
		{ "Alice@cs.test", VERIFY_OK },			/* case_sensitive_local */
		{ "alice@cs.test", VERIFY_NO_USER },
		{ "Alice@CS.TEST", VERIFY_OK },			/* domain still folds */
	};
	put("cs.txt", "Alice\n");
	run_conf("[ingest]\ncase_sensitive_local = yes\n[domain catch.test]\ncatchall = yes\n"
	    "[domain cs.test]\nrecipients = cs.txt\n", tc, sizeof(tc) / sizeof(tc[0]));
}

static void
test_reload(void **state)
{
	static const struct tcase before[] = {
		{ "old@example.test", VERIFY_OK }, { "new@example.test", VERIFY_NO_USER },
	};
	static const struct tcase after[] = {
		{ "old@example.test", VERIFY_NO_USER }, { "new@example.test", VERIFY_OK },
	};
	static const char conf[] = "[domain example.test]\nrecipients = r.txt\n";
	struct verify	*v1, *v2;
	char		 err[256];

	put("r.txt", "old\n");
	assert_non_null(v1 = load(conf, err, sizeof(err)));
	put("r.txt", "new\n");
	assert_non_null(v2 = load(conf, err, sizeof(err)));
	run(v1, before, 2);		/* the old struct is untouched by the reload */
	run(v2, after, 2);
	/* a list that fails to load: NULL, the message names the file and line */
	put("r.txt", "new\nbad%entry@example.test\n");
	assert_null(load(conf, err, sizeof(err)));
	assert_non_null(strstr(err, "r.txt:2"));
	run(v2, after, 2);
	verify_free(v1);
	verify_free(v2);
}

static void
test_load_errors(void **state)
{
	static const struct { const char *conf, *want; } tc[] = {
		{ "[domain a.test]\nrecipients = missing.txt\n", "missing.txt" },
		{ "[domain a.test]\nhashed = bad.txt\n", "bad.txt:1" },
		{ "[domain a.test]\nsubaddress = yes\n", "no recipient source" },
		{ "[general]\nnode = x\n", "no [domain NAME] section" },
		{ "[domain a_b.test]\ncatchall = yes\n", "not a domain name" },
		{ "[domain a.test]\ncatchall = maybe\n", "catchall" },
		{ "[domain a.test]\ncallout = http://x\n", "callout" },
		{ "[domain a.test]\ncallout = smtp://h:99999\n", "callout" },
		{ "[domain a.test]\ncallout = smtp://h\ncallout_timeout = 0\n", "callout_timeout" },
		{ "[domain a.test]\ncatchall = yes\npositive_ttl = 3x\n", "positive_ttl" },
		{ "[domain a.test]\ncatchall = yes\nsubaddress = yes\ndelimiter = x\n",
		    "delimiter" },
		{ "[domain A.test]\ncatchall = yes\n[domain a.TEST]\ncatchall = yes\n", "twice" },
		{ "[ingest]\ncallout_concurrency = 0\n[domain a.test]\ncatchall = yes\n",
		    "callout_concurrency" },
		/* an error, never an exit: the ingest is reloading */
		{ "[domain a.test]\nrecipients = env:MXS_TEST_RV_UNSET\n",
		    "t.conf: [domain a.test] recipients: environment variable MXS_TEST_RV_UNSET "
		    "is not set" },
		{ "[domain a.test]\ncatchall = yes\ncallout_sender = env:MXS_TEST_RV_UNSET\n",
		    "callout_sender: environment variable MXS_TEST_RV_UNSET is not set" },
	};
	size_t	i;
	char	err[256];

	put("bad.txt", "not-a-hash\n");
	unsetenv("MXS_TEST_RV_UNSET");
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		err[0] = '\0';
		if (load(tc[i].conf, err, sizeof(err)) != NULL)
			fail_msg("case %zu: loaded, want an error with \"%s\"", i, tc[i].want);
		if (strstr(err, tc[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, tc[i].want);
	}
}

/*
 * loopback_socket - a TCP socket bound to 127.0.0.1, its port in *port; listening
 * with backlog > 0, else not (connecting to it is refused)
 */
static int
loopback_socket(int backlog, int *port)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	socklen_t		len = sizeof(sin);
	int			fd;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (backlog > 0)
		assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
test_cache_policy_primary_down(void **state)
{
	static const struct {
		const char		*addr;
		int			 result;
		int64_t			 checked_ago, expires_in;	/* s */
		enum verify_result	 want;
	} tc[] = {
		{ "fresh-pos@example.test", 1, 10, 3600, VERIFY_OK },
		{ "stale-pos@example.test", 1, 8 * 86400, -86400, VERIFY_OK },	/* TTL over */
		{ "dead-pos@example.test", 1, 40 * 86400, -33 * 86400, VERIFY_TEMPFAIL },
		{ "fresh-neg@example.test", 0, 10, 3000, VERIFY_NO_USER },
		{ "old-neg@example.test", 0, 7200, -3600, VERIFY_TEMPFAIL },	/* expired */
		{ "never@example.test", -1, 0, 0, VERIFY_TEMPFAIL },
		{ "fresh-pos+tag@example.test", -1, 0, 0, VERIFY_OK },	/* base cached */
		{ "listed@example.test", -1, 0, 0, VERIFY_OK },	/* list first */
		{ "x%y@example.test", -1, 0, 0, VERIFY_NO_DOMAIN },
	};
	struct index_verify_entry	 e;
	struct verify			*v;
	struct index			*idx;
	char				 conf[PATH_MAX + 512], path[PATH_MAX];
	char				 err[256], text[256];
	int				 fd, port;
	int64_t				 now = now_ms();
	size_t				 i;
	enum verify_result		 r;

	fd = loopback_socket(0, &port);
	snprintf(path, sizeof(path), "%s/index.sqlite", tdir);
	assert_non_null(idx = index_open(path, err, sizeof(err)));
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		if (tc[i].result < 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.result = tc[i].result;
		e.code = tc[i].result ? 250 : 550;
		e.checked_ms = now - tc[i].checked_ago * 1000;
		e.expires_ms = now + tc[i].expires_in * 1000;
		assert_int_equal(index_verify_put(idx, tc[i].addr, &e), INDEX_OK);
	}
	index_close(idx);
	put("l.txt", "listed\n");
	snprintf(conf, sizeof(conf), "[general]\nindex = %s\n[domain example.test]\n"
	    "recipients = l.txt\nsubaddress = yes\ncallout = smtp://127.0.0.1:%d\n"
	    "callout_timeout = 5s\n", path, port);
	v = load_ok(conf);
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		r = verify_rcpt(v, tc[i].addr, text, sizeof(text));
		if (r != tc[i].want)
			fail_msg("%s: got %s (%s), want %s", tc[i].addr, rname[r], text,
			    rname[tc[i].want]);
	}
	verify_free(v);
	/* the load purged what can no longer answer: the expired negative, the dead positive */
	assert_non_null(idx = index_open(path, err, sizeof(err)));
	assert_int_equal(index_verify_get(idx, "old-neg@example.test", &e), INDEX_NOTFOUND);
	assert_int_equal(index_verify_get(idx, "dead-pos@example.test", &e), INDEX_NOTFOUND);
	assert_int_equal(index_verify_get(idx, "stale-pos@example.test", &e), INDEX_OK);
	index_close(idx);
	close(fd);
}

/*
 * A scripted SMTP server for the reply parser (a mock beside the real Postfix of
 * tests/e2e/ingest_verify.sh): it sends say[0] as the greeting, then for each line
 * received records it and sends the next say[]; NULL closes; "" sends nothing and
 * waits for the client to give up.
 */
struct fake {
	int		 lfd;
	const char	*say[8];
	char		 heard[1024];
};

static void *
fake_main(void *arg)
{
	struct fake	*f = arg;
	char		 c;
	int		 fd, i = 0;
	size_t		 h = 0;

	if ((fd = accept(f->lfd, NULL, NULL)) == -1)
		return NULL;
	for (;;) {
		if (f->say[i] == NULL)
			break;
		if (*f->say[i] != '\0' && write(fd, f->say[i], strlen(f->say[i])) < 0)
			break;
		if (*f->say[i++] == '\0') {
			while (read(fd, &c, 1) == 1)
				;
			break;
		}
		while (read(fd, &c, 1) == 1 && h + 1 < sizeof(f->heard)) {
			if (c != '\r')
				f->heard[h++] = c == '\n' ? '|' : c;
			if (c == '\n')
				break;
		}
	}
	f->heard[h] = '\0';
	close(fd);
	return NULL;
}

/*
 * dialogue - callout_rcpt() of addr against a scripted server saying say[];
 * the commands it heard ('|'-separated) into f->heard
 */
static enum callout_result
dialogue(struct fake *f, const char *addr, int timeout_ms, int *code, char *text,
    size_t textlen)
{
	struct deliver_route	 t;
	pthread_t		 th;
	enum callout_result	 r;

	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "127.0.0.1");
	f->lfd = loopback_socket(1, &t.port);
	assert_int_equal(pthread_create(&th, NULL, fake_main, f), 0);
	r = callout_rcpt(&t, "mx.test", "", addr, timeout_ms, code, text, textlen);
	pthread_join(th, NULL);
	close(f->lfd);
	return r;
}

static void
test_callout_dialogue(void **state)
{
	static const struct {
		const char		*say[8];
		int			 timeout_ms;
		enum callout_result	 want;
		int			 code;
		const char		*heard;	/* prefix of the commands received */
		const char		*addr;	/* NULL: alice@example.test */
	} tc[] = {
		{ { "220 p ESMTP\r\n", "250-p\r\n250-PIPELINING\r\n250 8BITMIME\r\n", "250 ok\r\n",
		    "250 2.1.5 ok\r\n", "250 reset\r\n", "221 bye\r\n", NULL }, 5000,
		    CALLOUT_EXISTS, 250,
		    "EHLO mx.test|MAIL FROM:<>|RCPT TO:<alice@example.test>|RSET|QUIT|", NULL },
		{ { "220-p\r\n220 ESMTP\r\n", "250 p\r\n", "250 ok\r\n",
		    "550-5.1.1 no\r\n550 5.1.1 such user\r\n", NULL }, 5000, CALLOUT_NOUSER, 550,
		    "EHLO mx.test|MAIL FROM:<>|RCPT", NULL },
		{ { "554 5.3.2 go away\r\n", "221 bye\r\n", NULL }, 5000, CALLOUT_UNKNOWN, 554,
		    "QUIT|", NULL },
		{ { "220 p\r\n", "502 5.5.2 what\r\n", "250 p\r\n", "250 ok\r\n", "250 ok\r\n",
		    NULL }, 5000, CALLOUT_EXISTS, 250, "EHLO mx.test|HELO mx.test|MAIL", NULL },
		{ { "220 p\r\n", "250 p\r\n", "250 ok\r\n", "250-x\r\n550 y\r\n", NULL }, 5000,
		    CALLOUT_UNKNOWN, 0, "EHLO", NULL },
		{ { "220 p\r\n", "250 p\r\n", "553 5.1.8 sender refused\r\n", NULL }, 5000,
		    CALLOUT_UNKNOWN, 553, "EHLO mx.test|MAIL FROM:<>|QUIT", NULL },
		{ { "220 p\r\n", "250 p\r\n", "250 ok\r\n", "451 4.3.0 later\r\n", NULL }, 5000,
		    CALLOUT_UNKNOWN, 451, "EHLO", NULL },
		{ { "220 p\r\n", "250 p\r\n", "250 ok\r\n", "hello there\r\n", NULL }, 5000,
		    CALLOUT_UNKNOWN, 0, "EHLO", NULL },
		{ { "220 p\r\n", NULL }, 5000, CALLOUT_UNKNOWN, 0, "EHLO", NULL },	/* closed */
		{ { "", NULL }, 300, CALLOUT_UNKNOWN, 0, "", NULL },		/* silent: timeout */
		/* SMTPUTF8 address: announced when offered (any line, any case) ... */
		{ { "220 p\r\n", "250-p\r\n250-smtputf8\r\n250 8BITMIME\r\n", "250 ok\r\n",
		    "250 2.1.5 ok\r\n", "250 reset\r\n", "221 bye\r\n", NULL }, 5000,
		    CALLOUT_EXISTS, 250,
		    "EHLO mx.test|MAIL FROM:<> SMTPUTF8|RCPT TO:<j\xc3\xb6rg@example.test>|RSET|",
		    "j\xc3\xb6rg@example.test" },
		/* ... and never sent to a primary that does not offer it */
		{ { "220 p\r\n", "250-p\r\n250-X-SMTPUTF8\r\n250 8BITMIME\r\n", "221 bye\r\n",
		    NULL }, 5000, CALLOUT_UNKNOWN, 0, "EHLO mx.test|QUIT|",
		    "j\xc3\xb6rg@example.test" },
		/* an ASCII address does not announce it even where offered */
		{ { "220 p\r\n", "250-p\r\n250 SMTPUTF8\r\n", "250 ok\r\n", "250 ok\r\n",
		    NULL }, 5000, CALLOUT_EXISTS, 250, "EHLO mx.test|MAIL FROM:<>|RCPT", NULL },
	};
	struct fake		 f;
	enum callout_result	 r;
	char			 text[512], big[SMTP_REPLYLINE_MAX + 100];
	size_t			 i;
	int			 code;

	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		memset(&f, 0, sizeof(f));
		memcpy(f.say, tc[i].say, sizeof(f.say));
		r = dialogue(&f, tc[i].addr ? tc[i].addr : "alice@example.test", tc[i].timeout_ms,
		    &code, text, sizeof(text));
		if (r != tc[i].want || code != tc[i].code ||
		    strncmp(f.heard, tc[i].heard, strlen(tc[i].heard)) != 0)
			fail_msg("case %zu: got %d code %d heard \"%s\" (%s), want %d code %d "
			    "heard \"%s\"", i, r, code, f.heard, text, tc[i].want, tc[i].code,
			    tc[i].heard);
	}
	/* an endless greeting line: the bounded buffer gives up */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "220 ", 4);
	memset(&f, 0, sizeof(f));
	f.say[0] = big;
	assert_int_equal(dialogue(&f, "alice@example.test", 5000, &code, text, sizeof(text)),
	    CALLOUT_UNKNOWN);
	assert_non_null(strstr(text, "longer than"));
}

/*
 * The RCPT reply's verdict: 2xx exists; 550/551/553 with 5.1.x or no enhanced
 * code does not; anything else proves nothing.  And the path sent: the local
 * part quoted when it is not a dot-atom; controls never sent (no connection).
 */
static void
test_callout_verdict_and_path(void **state)
{
	static const struct { int code; const char *text; enum callout_result want; } vt[] = {
		{ 250, "250 2.1.5 Ok", CALLOUT_EXISTS },
		{ 251, "251 2.1.5 will forward", CALLOUT_EXISTS },
		{ 550, "550 5.1.1 <x>: User unknown", CALLOUT_NOUSER },
		{ 551, "551 5.1.6 moved", CALLOUT_NOUSER },
		{ 553, "553 5.1.3 bad address syntax", CALLOUT_NOUSER },
		{ 550, "550 no such user", CALLOUT_NOUSER },	/* no enhanced code */
		{ 550, "550 5.7.1 policy rejection", CALLOUT_UNKNOWN },
		{ 554, "554 5.7.1 Relay access denied", CALLOUT_UNKNOWN },
		{ 552, "552 5.2.2 over quota", CALLOUT_UNKNOWN },
		{ 450, "450 4.1.1 try later", CALLOUT_UNKNOWN },
		{ 421, "421 4.3.2 shutting down", CALLOUT_UNKNOWN },
	};
	static const struct { const char *addr, *want; } pt[] = {
		{ "alice@example.test", "<alice@example.test>" },
		{ "a.b+c@example.test", "<a.b+c@example.test>" },
		{ "we ird@example.test", "<\"we ird\"@example.test>" },
		{ "a..b@example.test", "<\"a..b\"@example.test>" },
		{ "q\"x\\y@example.test", "<\"q\\\"x\\\\y\"@example.test>" },
		{ "cr\r\nRCPT TO:<x>@example.test", NULL },	/* never sent */
		{ "nodomain", NULL },
	};
	static const char *const ok[] = { "220 p\r\n", "250 p\r\n", "250 ok\r\n" };
	struct deliver_route	 t;
	struct fake		 f;
	enum callout_result	 r;
	char			 reply[128], text[512], want[300];
	size_t			 i;
	int			 code, fd;

	for (i = 0; i < sizeof(vt) / sizeof(vt[0]); i++) {
		memset(&f, 0, sizeof(f));
		memcpy(f.say, ok, sizeof(ok));
		snprintf(reply, sizeof(reply), "%s\r\n", vt[i].text);
		f.say[3] = reply;
		f.say[4] = "250 reset\r\n";
		f.say[5] = "221 bye\r\n";
		r = dialogue(&f, "alice@example.test", 5000, &code, text, sizeof(text));
		if (r != vt[i].want || code != vt[i].code)
			fail_msg("%s: got %d code %d (%s), want %d", vt[i].text, r, code, text,
			    vt[i].want);
	}
	for (i = 0; i < sizeof(pt) / sizeof(pt[0]); i++) {
		memset(&f, 0, sizeof(f));
		memcpy(f.say, ok, sizeof(ok));
		f.say[3] = "250 2.1.5 ok\r\n";
		f.say[4] = "250 reset\r\n";
		f.say[5] = "221 bye\r\n";
		if (pt[i].want == NULL) {
			/* refused before connecting: a connection would be refused, not this */
			memset(&t, 0, sizeof(t));
			snprintf(t.host, sizeof(t.host), "127.0.0.1");
			fd = loopback_socket(0, &t.port);
			r = callout_rcpt(&t, "mx.test", "", pt[i].addr, 5000, &code, text,
			    sizeof(text));
			close(fd);
			assert_int_equal(r, CALLOUT_UNKNOWN);
			assert_string_equal(text, "address not safe to send");
			continue;
		}
		r = dialogue(&f, pt[i].addr, 5000, &code, text, sizeof(text));
		snprintf(want, sizeof(want), "EHLO mx.test|MAIL FROM:<>|RCPT TO:%s|", pt[i].want);
		if (r != CALLOUT_EXISTS || strncmp(f.heard, want, strlen(want)) != 0)
			fail_msg("%s: got %d heard \"%s\", want \"%s\"", pt[i].addr, r, f.heard,
			    want);
	}
}

/* gate server: one dialogue whose RCPT reply waits until *gate is set */
struct gated {
	int		 lfd;
	volatile int	 gate;
};

/* gated_line - read one command line (discarded); 0 ok, -1 closed */
static int
gated_line(int fd)
{
	char c;

	while (read(fd, &c, 1) == 1)
		if (c == '\n')
			return 0;
	return -1;
}

static void *
gated_main(void *arg)
{
	static const char *const say[] = { "250 p\r\n", "250 ok\r\n", "250 2.1.5 ok\r\n",
	    "250 reset\r\n", "221 bye\r\n" };
	struct gated	*g = arg;
	int		 fd, i;

	if ((fd = accept(g->lfd, NULL, NULL)) == -1)
		return NULL;
	if (write(fd, "220 p\r\n", 7) != 7)
		goto out;
	for (i = 0; i < 5 && gated_line(fd) == 0; i++) {
		while (i == 2 && !g->gate)
			usleep(1000);
		if (write(fd, say[i], strlen(say[i])) < 0)
			break;
	}
out:
	close(fd);
	return NULL;
}

struct asker {
	struct verify		*v;
	enum verify_result	 r;
	pthread_t		 th;
};

static void *
asker_main(void *arg)
{
	struct asker	*a = arg;
	char		 text[256];

	a->r = verify_rcpt(a->v, "Same+tag@example.test", text, sizeof(text));
	return NULL;
}

/* concurrent RCPTs for one address share one callout (in-flight dedup) */
static void
test_callout_dedup(void **state)
{
	struct pollfd		 pfd;
	struct asker		 a[4];
	struct gated		 g = { .gate = 0 };
	struct verify		*v;
	pthread_t		 th;
	char			 conf[PATH_MAX + 512];
	int			 i, port, waiters = 0;

	g.lfd = loopback_socket(8, &port);
	snprintf(conf, sizeof(conf), "[general]\nindex = %s/dedup.sqlite\n"
	    "[domain example.test]\nsubaddress = yes\ncallout = smtp://127.0.0.1:%d\n"
	    "callout_timeout = 60s\n", tdir, port);
	v = load_ok(conf);
	assert_int_equal(pthread_create(&th, NULL, gated_main, &g), 0);
	for (i = 0; i < 4; i++) {
		a[i].v = v;
		assert_int_equal(pthread_create(&a[i].th, NULL, asker_main, &a[i]), 0);
	}
	/* the RCPT reply is held until the other three wait on the first one's callout */
	for (i = 0; waiters < 3; i++) {
		if (i == 30000)	/* a bound against a hang, not a timing assertion */
			fail_msg("the other RCPTs do not wait for the callout in flight");
		usleep(1000);
		pthread_mutex_lock(&v->mu);
		waiters = v->inflight != NULL ? v->inflight->waiters : 0;
		pthread_mutex_unlock(&v->mu);
	}
	g.gate = 1;
	for (i = 0; i < 4; i++) {
		pthread_join(a[i].th, NULL);
		assert_int_equal(a[i].r, VERIFY_OK);
	}
	pthread_join(th, NULL);
	pfd.fd = g.lfd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 0), 0);	/* no second connection is pending */
	assert_null(v->inflight);
	assert_int_equal(v->ninflight, 0);
	verify_free(v);
	close(g.lfd);
}

/* keep_line - config_check callback: the last error line into arg (char[256]) */
static void
keep_line(const char *line, void *arg)
{
	snprintf(arg, 256, "%s", line);
}

static void
test_monitor_off_and_bad(void **state)
{
	struct config	*c;
	char		 err[256];

	assert_non_null(c = config_from_string("m.conf", "[ingest]\nx = 1\n", err, sizeof(err)));
	assert_null(monitor_start(c, err, sizeof(err)));
	assert_string_equal(err, "");
	config_free(c);
	assert_non_null(c = config_from_string("m.conf", "[ingest]\nmonitor = smtp://h:1\n"
	    "monitor_interval = 0\n", err, sizeof(err)));
	/* a bad value is refused by the check that runs before monitor_start */
	assert_int_equal(config_check(c, 0, keep_line, err), 1);
	assert_non_null(strstr(err, "m.conf: [ingest] monitor_interval = \"0\""));
	config_free(c);
}

static int
setup(void **state)
{
	log_init("test_rcpt_verify");
	log_setlevel(LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);	/* a scripted server may write after the client left */
	return mkdtemp(tdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_domains_and_lists),
		cmocka_unit_test(test_idn_domains),
		cmocka_unit_test(test_hashed_catchall_subaddress),
		cmocka_unit_test(test_routing_characters),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_cache_policy_primary_down),
		cmocka_unit_test(test_callout_verdict_and_path),
		cmocka_unit_test(test_callout_dialogue),
		cmocka_unit_test(test_callout_dedup),
		cmocka_unit_test(test_monitor_off_and_bad),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
