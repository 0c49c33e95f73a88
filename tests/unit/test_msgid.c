/*
 * test_msgid.c - message ids (common/msgid.c): creation, order by time, node,
 * object keys and back, validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "msgid.h"
#include "testlib.h"

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

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_msgid),
)
