/*
 * test_config.c - the config module (common/config*.c): the typed getters and
 * the duration/size parsers, and config_check(): each bad configuration gives its error line
 * (file, section, key, why), every error of a file is reported at once, and
 * the good ones (etc/mxspool.conf.example, the shapes the e2e tests write)
 * give none.  Run from the source root (tests/run.sh does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "testlib.h"

/* check_text - config_check of text as "t.conf"; the number of errors */
static int
check_text(const char *text, unsigned prog, struct testlib_lines *out)
{
	struct config	*c;
	char		 err[256];
	int		 n;

	memset(out, 0, sizeof(*out));
	c = config_from_string("t.conf", text, err, sizeof(err));
	assert_non_null(c);
	n = config_check(c, prog, testlib_collect, out);
	config_free(c);
	return n;
}

/* a file store and one domain: the shape tests/lib/ingest.sh writes */
#define GOOD_BASE							\
	"[general]\nnode = mx1\ndata_dir = /tmp/mxs-test-config\n"		\
	"[storage]\nurl = file:///tmp/mxs-test-config/store\n"		\
	"[ingest]\nlisten = 127.0.0.1:2525\nhostname = mx.test\nuser =\n"	\
	"greet_delay = 0\nmin_free_space = 0\n"					\
	"[domain example.test]\ncatchall = yes\n"

static void
test_config_bad(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 prog;
		const char	*want;
	} t[] = {
		/* the configs of issue 12 that `-t` called ok */
		{ "[general]\nnode = Bad_Node\n", 0,
		  "t.conf: [general] node = \"Bad_Node\": want 1 to 32 of a-z, 0-9, -\n" },
		{ "[ingest]\nlisten = nonsense\n", 0,
		  "t.conf: [ingest] listen = \"nonsense\": \"nonsense\": want addr:port or "
		  "[v6addr]:port\n" },
		{ "[storage]\nurl = ftp://files.example.test/\n", 0,
		  "t.conf: [storage] url = \"ftp://files.example.test/\": want file:///path, "
		  "http:// or https://\n" },
		{ "[storage]\nurl = http://127.0.0.1:9000\nbucket = b\n", CONFIG_P_INGEST,
		  "t.conf: no S3 credentials: set [storage] access_key and secret_key, or "
		  "MXSPOOL_S3_ACCESS_KEY and MXSPOOL_S3_SECRET_KEY\n" },
		{ "[general]\nindex = /nonexistent-mxs/sub/index.sqlite\n"
		  "[storage]\nurl = file:///tmp/mxs-test-config/store\n", CONFIG_P_INGEST,
		  "t.conf: [general] index = \"/nonexistent-mxs/sub/index.sqlite\": directory "
		  "/nonexistent-mxs/sub: No such file or directory\n" },
		{ "[replay]\nrate = fast\n", 0,
		  "t.conf: [replay] rate = \"fast\": want messages/s like 10, 0.5 or 600/m "
		  "(0 = unlimited)\n" },
		{ "[ingest]\nlisten = 127.0.0.1:99999\n", 0,
		  "t.conf: [ingest] listen = \"127.0.0.1:99999\": \"127.0.0.1:99999\": port "
		  "99999: want 1 to 65535\n" },
		{ "[ingest]\nmax_mesage_size = 10M\n", 0,
		  "t.conf: [ingest] max_mesage_size: unknown key (did you mean "
		  "max_message_size?)\n" },
		{ "[replay]\nconcurrency = 0\n", 0,
		  "t.conf: [replay] concurrency = \"0\": want a number from 1 to 256\n" },
		/* more of the same kind */
		{ "[ingest]\nlisten = 127.0.0.1:25, [::1]:0\n", 0,
		  "t.conf: [ingest] listen = \"127.0.0.1:25, [::1]:0\": \"[::1]:0\": port 0: "
		  "want 1 to 65535\n" },
		{ "[ingest]\nhealth_listen = localhost:8026\n", 0,
		  "t.conf: [ingest] health_listen = \"localhost:8026\": \"localhost:8026\": "
		  "localhost is not an IPv4 address\n" },
		{ "[http]\nlisten = 127.0.0.1:70000\n", 0,
		  "t.conf: [http] listen = \"127.0.0.1:70000\": \"127.0.0.1:70000\": port 70000: "
		  "want 1 to 65535\n" },
		{ "[ingest]\nmonitor = http://primary.test\n", 0,
		  "t.conf: [ingest] monitor = \"http://primary.test\": want smtp://host[:port] "
		  "(port 1-65535)\n" },
		{ "[domain example.test]\ncallout = smtp://primary.test:99999\n", 0,
		  "t.conf: [domain example.test] callout = \"smtp://primary.test:99999\": want "
		  "smtp://host[:port] (port 1-65535)\n" },
		{ "[domain example.test]\ncalout = smtp://primary.test\n", 0,
		  "t.conf: [domain example.test] calout: unknown key (did you mean callout?)\n" },
		{ "[ingest]\nrate = 5\n", 0,
		  "t.conf: [ingest] rate: unknown key (it belongs in [replay])\n" },
		{ "[htpp]\nlisten = 127.0.0.1:8025\n", 0,
		  "t.conf: [htpp]: unknown section (did you mean [http]?)\n" },
		{ "[ingest]\nbare_newline = maybe\n", 0,
		  "t.conf: [ingest] bare_newline = \"maybe\": want reject/keep\n" },
		{ "[ingest]\nrequire_tls = sometimes\n", 0,
		  "t.conf: [ingest] require_tls = \"sometimes\": want yes or no\n" },
		{ "[ingest]\ntimeout = 2x\n", 0,
		  "t.conf: [ingest] timeout = \"2x\": want a duration in seconds (suffix s, m, h "
		  "or d) from 1 to 3600\n" },
		{ "[ingest]\nmax_message_size = 100\n", 0,
		  "t.conf: [ingest] max_message_size = \"100\": want a size in bytes (suffix k, M "
		  "or G) from 1024 to 1099511627776\n" },
		{ "[replay]\nmax_lifetime = 400d\n", 0,
		  "t.conf: [replay] max_lifetime = \"400d\": want a duration in seconds (suffix s, "
		  "m, h or d) from 1 to 31536000\n" },
		{ "[routes]\nexample.test = http://primary.test\n", 0,
		  "t.conf: [routes] example.test = \"http://primary.test\": want "
		  "smtp://host[:port], lmtp://host[:port], smtp:unix:/path or "
		  "lmtp:unix:/path\n" },
		{ "[routes]\nexa mple = smtp://primary.test\n", 0,
		  "t.conf: [routes] exa mple: want a domain, .domain (its subdomains) or *\n" },
		{ "[route_rates]\nexample.test = 0\n", 0,
		  "t.conf: [route_rates] example.test = \"0\": want messages/s > 0 (2, 0.5, "
		  "120/m)\n" },
		{ "[replay]\ndsn_relay = primary.test\n", 0,
		  "t.conf: [replay] dsn_relay = \"primary.test\": want smtp://host[:port]\n" },
		{ "[storage]\nprefix = /mail\n", 0,
		  "t.conf: [storage] prefix = \"/mail\": want [A-Za-z0-9/._-], at most 128, no "
		  "leading or trailing '/'\n" },
		{ "[storage]\nurl = file://relative/store\n", CONFIG_P_REPLAY,
		  "t.conf: [storage] url = \"file://relative/store\": want "
		  "file:///absolute/path\n" },
		{ "[storage]\nurl = file:///tmp/mxs-test-config/s\n"
		  "[ingest]\nrequire_tls = yes\n", CONFIG_P_INGEST,
		  "t.conf: [ingest] require_tls: yes needs tls_cert\n" },
		{ "[storage]\nurl = file:///tmp/mxs-test-config/s\n"
		  "[ingest]\ntls_cert = /nonexistent-mxs/cert.pem\n", CONFIG_P_INGEST,
		  "t.conf: [ingest] tls_cert = \"/nonexistent-mxs/cert.pem\": cannot read: No such "
		  "file or directory\n" },
		{ "[storage]\nurl = file:///tmp/mxs-test-config/s\n"
		  "[deliver]\nauth_user = mx\n", CONFIG_P_REPLAY,
		  "t.conf: [deliver] auth_password: not set, but auth_user is\n" },
		{ "[storage]\nurl = file:///tmp/mxs-test-config/s\n"
		  "[http]\ntoken = env:MXS_TEST_CONFIG_UNSET\n", CONFIG_P_REPLAY,
		  "t.conf: [http] token: environment variable MXS_TEST_CONFIG_UNSET is not set\n" },
		{ "[general]\nnode = mx1\n", CONFIG_P_REPLAY,
		  "t.conf: [storage] url: not set (file:///path or https://host)\n" },
		{ "[storage]\nurl = file:///tmp/mxs-test-config/s\n"
		  "[fleet]\nheartbeat_interval = 2m\n", CONFIG_P_INGEST,
		  "t.conf: [fleet] stale_after: 180s is under two heartbeat_interval (120s): a live "
		  "node would look stale\n" },
	};
	struct testlib_lines	out;
	size_t			i;

	unsetenv("MXSPOOL_S3_ACCESS_KEY");
	unsetenv("MXSPOOL_S3_SECRET_KEY");
	unsetenv("MXS_TEST_CONFIG_UNSET");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (check_text(t[i].text, t[i].prog, &out) != 1 || strcmp(out.text, t[i].want))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, out.text, t[i].want);
	}
}

/* test_config_secret - a bad secret is named, never shown (from env: as a file line is short) */
static void
test_config_secret(void **state)
{
	struct testlib_lines	out;
	char			token[301];

	memset(token, 'x', 300);
	token[300] = '\0';
	setenv("MXS_TEST_CONFIG_TOKEN", token, 1);
	assert_int_equal(check_text("[storage]\nurl = file:///tmp/mxs-test-config/s\n"
	    "[http]\ntoken = env:MXS_TEST_CONFIG_TOKEN\n", CONFIG_P_REPLAY, &out), 1);
	assert_string_equal(out.text, "t.conf: [http] token: longer than 256 bytes\n");
	/* a value copied into a fixed buffer is bounded too (a reload must not exit) */
	assert_int_equal(check_text("[storage]\nurl = file:///tmp/mxs-test-config/s\n"
	    "[ingest]\nhostname = env:MXS_TEST_CONFIG_TOKEN\n", CONFIG_P_INGEST, &out), 1);
	assert_string_equal(out.text, "t.conf: [ingest] hostname: longer than 255 bytes\n");
	unsetenv("MXS_TEST_CONFIG_TOKEN");
}

/* test_config_all_errors - one pass reports every error, in file order */
static void
test_config_all_errors(void **state)
{
	struct testlib_lines out;

	assert_int_equal(check_text("[general]\nnode = Bad_Node\n[ingest]\nlisten = nonsense\n"
	    "max_mesage_size = 1\n[replay]\nrate = fast\nconcurrency = 0\n", 0, &out), 5);
	assert_string_equal(out.text,
	    "t.conf: [general] node = \"Bad_Node\": want 1 to 32 of a-z, 0-9, -\n"
	    "t.conf: [ingest] listen = \"nonsense\": \"nonsense\": want addr:port or "
	    "[v6addr]:port\n"
	    "t.conf: [ingest] max_mesage_size: unknown key (did you mean max_message_size?)\n"
	    "t.conf: [replay] rate = \"fast\": want messages/s like 10, 0.5 or 600/m "
	    "(0 = unlimited)\n"
	    "t.conf: [replay] concurrency = \"0\": want a number from 1 to 256\n");
}

static void
test_config_good(void **state)
{
	struct testlib_lines out;

	unsetenv("MXS_TEST_CONFIG_UNSET");
	assert_int_equal(check_text(GOOD_BASE, CONFIG_P_ALL, &out), 0);
	/* every program checks the syntax of the other's keys, not its environment */
	assert_int_equal(check_text(GOOD_BASE "[http]\ntoken = env:MXS_TEST_CONFIG_UNSET\n"
	    "[routes]\nexample.test = lmtp://[::1]:24\n.example.test = smtp:unix:/run/s\n"
	    "* = smtp://primary.test\n[route_rates]\nexample.test = 120/m\n"
	    "[replay]\nrate = 0.5\nconcurrency = 256\ndsn_relay =\n"
	    "[ingest]\nlisten = 0.0.0.0:25, [::]:25, :2525\nhealth_listen = [::1]:8026\n"
	    "monitor = smtp://[::1]:25\n", CONFIG_P_INGEST, &out), 0);
	assert_string_equal(out.text, "");
}

/* test_config_example - etc/mxspool.conf.example and the compose stack's file are good */
static void
test_config_example(void **state)
{
	static const char *const files[] = { "etc/mxspool.conf.example",
	    "deploy/docker/config/mxspool.conf" };
	struct testlib_lines	 out;
	struct config		*c;
	char			 err[256];
	size_t			 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((c = config_load(files[i], err, sizeof(err))) == NULL)
			fail_msg("%s (run from the source root)", err);
		memset(&out, 0, sizeof(out));
		unsetenv("MXSPOOL_S3_ACCESS_KEY");
		assert_int_equal(config_check(c, 0, testlib_collect, &out), 0);
		/* as the replay reads it, secrets in the environment (no connection is made) */
		setenv("MXSPOOL_S3_ACCESS_KEY", "AKIAEXAMPLE", 1);
		setenv("MXSPOOL_S3_SECRET_KEY", "secret", 1);
		setenv("MXS_HTTP_TOKEN", "token", 1);
		setenv("MXSPOOL_HTTP_TOKEN", "token", 1);
		setenv("MXSPOOL_NODE", "replay", 1);
		setenv("MXSPOOL_DATA_DIR", "/tmp", 1);
		/* the compose file's index is in /var/lib/mxspool, not made here */
		if (strstr(files[i], "deploy") == NULL)
			assert_int_equal(config_check(c, CONFIG_P_REPLAY, testlib_collect, &out),
			    0);
		assert_string_equal(out.text, "");
		config_free(c);
	}
}

static void
test_config_getters(void **state)
{
	char		 err[256];
	struct config	*c;

	c = config_from_string("t.conf", "[a]\nn = 42\nd = 5m\ns = 50M\nb = yes\n"
	    "[domain example.test]\ndelimiter = -\n[domain b.test]\ndelimiter=+\n", err,
	    sizeof(err));
	assert_non_null(c);
	assert_int_equal(config_num(c, "a", "n", 0, 0, 100), 42);
	assert_int_equal(config_num(c, "a", "missing", 7, 0, 100), 7);
	assert_int_equal(config_duration(c, "a", "d", 0, 0, 1000), 300);
	assert_int_equal(config_size(c, "a", "s", 0, 0, 1LL << 40), 50LL * 1024 * 1024);
	assert_int_equal(config_bool(c, "a", "b", 0), 1);
	assert_string_equal(config_str(c, "domain b.test", "delimiter", ""), "+");
	config_free(c);
	assert_null(config_from_string("bad.conf", "[a\nx", err, sizeof(err)));
	assert_non_null(strstr(err, "bad.conf"));
}

/* test_config_get - the non-fatal getters: the value, the default, or -1 and the error line */
static void
test_config_get(void **state)
{
	struct config	*c;
	const char	*s;
	long long	 n;
	int		 b;
	char		 err[256];

	unsetenv("MXS_TEST_CONFIG_UNSET");
	c = config_from_string("t.conf", "[a]\nn = 42\nbad = 4x\nb = maybe\ny = on\n"
	    "e = env:MXS_TEST_CONFIG_UNSET\n", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(config_get_num(c, "a", "n", 0, 0, 100, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 42);
	assert_int_equal(config_get_num(c, "a", "missing", 7, 0, 100, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 7);
	assert_int_equal(config_get_bool(c, "a", "y", 0, &b, err, sizeof(err)), 0);
	assert_int_equal(b, 1);
	assert_int_equal(config_get_num(c, "a", "n", 3, 0, 10, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf: [a] n = \"42\": want a number from 0 to 10");
	assert_int_equal(n, 3);
	assert_int_equal(config_get_duration(c, "a", "bad", 9, 0, 100, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf: [a] bad = \"4x\": want a duration in seconds (suffix "
	    "s, m, h or d) from 0 to 100");
	assert_int_equal(n, 9);
	assert_int_equal(config_get_bool(c, "a", "b", 1, &b, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf: [a] b = \"maybe\": want yes or no");
	assert_int_equal(b, 1);
	assert_int_equal(config_get_str(c, "a", "e", "d", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "t.conf: [a] e: environment variable MXS_TEST_CONFIG_UNSET is "
	    "not set");
	assert_string_equal(s, "d");
	config_free(c);
}

static void
test_parse_units(void **state)
{
	static const struct { const char *in; int rc; long long want; } dur[] = {
		{ "90", 0, 90 }, { "2h", 0, 7200 }, { "7d", 0, 604800 }, { "x", -1, 0 },
		{ "5y", -1, 0 }, { "", -1, 0 }, { "99999999999999999999", -1, 0 },
	};
	size_t		i;
	long long	v;

	for (i = 0; i < sizeof(dur) / sizeof(dur[0]); i++) {
		v = 0;
		assert_int_equal(config_parse_duration(dur[i].in, &v), dur[i].rc);
		if (dur[i].rc == 0)
			assert_int_equal(v, dur[i].want);
	}
	assert_int_equal(config_parse_size("9999999999g", &v), -1);	/* overflow */
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_config_getters),
	cmocka_unit_test(test_config_get),
	cmocka_unit_test(test_parse_units),
	cmocka_unit_test(test_config_bad),
	cmocka_unit_test(test_config_secret),
	cmocka_unit_test(test_config_all_errors),
	cmocka_unit_test(test_config_good),
	cmocka_unit_test(test_config_example),
)
