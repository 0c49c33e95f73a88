/*
 * test_client_limits.c - the per-client abuse limits (ingest/client_limits.c)
 * count a client's network, not its address: IPv6 per /84 and IPv4 per /32
 * by default (Postfix 3.8's smtpd_client_ipv6_prefix_length / ipv4), and what
 * is not a plain address as it is.  Real clients from several IPv6 addresses
 * of one /84 are in tests/e2e/ingest_concurrency.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ingest.h"
#include "testlib.h"

struct kcase {
	const char	*addr;
	int		 v4, v6;
	const char	*want;
};

static void
test_client_key(void **state)
{
	static const struct kcase cases[] = {
		{ "192.0.2.77", 32, 84, "192.0.2.77" },
		{ "192.0.2.77", 24, 84, "192.0.2.0/24" },
		{ "192.0.2.77", 20, 84, "192.0.0.0/20" },
		{ "192.0.2.77", 0, 84, "0.0.0.0/0" },
		{ "2001:db8:1:2:3:4:5:6", 32, 84, "2001:db8:1:2:3::/84" },
		{ "2001:db8:1:2:3:abcd:5:6", 32, 84, "2001:db8:1:2:3:a000::/84" },
		{ "2001:db8:1:2:3:abcd:5:6", 32, 64, "2001:db8:1:2::/64" },
		{ "2001:db8:1:2:3:abcd:5:6", 32, 128, "2001:db8:1:2:3:abcd:5:6" },
		{ "2001:db8:1:2:3:abcd:5:6", 32, 1, "::/1" },
		{ "fe80::1%eth0", 32, 84, "fe80::1%eth0" },
		{ "unknown", 32, 84, "unknown" },
	};
	struct ingest_conf	ic;
	char			out[LIMITS_CLIENT_MAX];
	size_t			i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&ic, 0, sizeof(ic));
		ic.v4_prefix = cases[i].v4;
		ic.v6_prefix = cases[i].v6;
		limits_client(cases[i].addr, &ic, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("%s /%d /%d: got %s, want %s", cases[i].addr, cases[i].v4,
			    cases[i].v6, out, cases[i].want);
	}
}

/* two addresses of one /84 share a connection count; a third /84 does not */
static void
test_shared_count(void **state)
{
	struct ingest_conf	ic;
	char			a[LIMITS_CLIENT_MAX], b[LIMITS_CLIENT_MAX], c[LIMITS_CLIENT_MAX];

	memset(&ic, 0, sizeof(ic));
	ic.v4_prefix = 32;
	ic.v6_prefix = 84;
	ic.conn_limit = 2;
	limits_client("2001:db8::2", &ic, a, sizeof(a));
	limits_client("2001:db8::ffff:3", &ic, b, sizeof(b));
	limits_client("2001:db8::1000:0:1", &ic, c, sizeof(c));
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(limits_connect(a, &ic), LIMITS_OK);
	assert_int_equal(limits_connect(b, &ic), LIMITS_OK);
	assert_int_equal(limits_connect(b, &ic), LIMITS_CONCURRENCY);
	assert_int_equal(limits_connect(c, &ic), LIMITS_OK);
	limits_disconnect(a);
	assert_int_equal(limits_connect(b, &ic), LIMITS_OK);

	/* message rate per minute, also per network */
	ic.msg_rate = 1;
	assert_int_equal(limits_message(a, &ic), LIMITS_OK);
	assert_int_equal(limits_message(b, &ic), LIMITS_RATE);
	assert_int_equal(limits_message(c, &ic), LIMITS_OK);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_client_key),
	cmocka_unit_test(test_shared_count),
)
