/*
 * test_buf.c - the bounded growable buffer (common/buf.c): a write over the
 * maximum is refused and leaves the buffer as it was; consume shifts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "testlib.h"

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

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_buf_bounded),
)
