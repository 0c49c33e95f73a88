/*
 * test_core.c - buf, config, msgid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "msgid.h"

static void
test_buf_bounded(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_add(&b, "12345", 5), 0);
	assert_int_equal(buf_add(&b, "6789", 4), -1);	/* over max: refused */
	assert_int_equal(b.len, 5);			/* and left as it was */
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_add(&b, "678", 3), 0);
	buf_consume(&b, 6);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "78", 2);
	buf_free(&b);
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

static void
test_msgid(void **state)
{
	char	a[MSGID_MAX], b[MSGID_MAX], key[OBJKEY_MAX], back[MSGID_MAX];
	int64_t	t = 1795420800123LL;	/* 2026-11-23 */

	assert_int_equal(msgid_new("mx1", t, a, sizeof(a)), 0);
	assert_int_equal(msgid_new("mx1", t + 1, b, sizeof(b)), 0);
	assert_true(msgid_valid(a));
	assert_true(strcmp(a, b) < 0);			/* sorts by time */
	assert_int_equal(msgid_time_ms(a), t);
	assert_string_equal(msgid_node(a), "mx1");
	assert_int_equal(msgid_new("MX1", t, a, sizeof(a)), -1);	/* bad node */
	assert_int_equal(msgid_new("mx1", t, a, sizeof(a)), 0);
	assert_int_equal(msgid_key("mail", a, ".eml", key, sizeof(key)), 0);
	assert_non_null(strstr(key, "mail/mx1/2026/11/23/"));
	assert_int_equal(msgid_from_key(key, ".eml", back, sizeof(back)), 0);
	assert_string_equal(back, a);
	assert_int_equal(msgid_from_key("mail/x/y.txt", ".eml", back, sizeof(back)), -1);
	assert_false(msgid_valid("../../etc/passwd"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounded),
		cmocka_unit_test(test_config_getters),
		cmocka_unit_test(test_parse_units),
		cmocka_unit_test(test_msgid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
