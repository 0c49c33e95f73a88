/*
 * test_cli_fmt.c - the CLI's sizes and durations for people: unit edges
 * (1023 B / 1.0 KiB), one decimal under 100 and truncation (never a rounded-up
 * "1024 KiB" nor an age younger than shown), the issue's own figures
 * (51033003565 bytes = 47.5 GiB, 4321 min = 3d 0h), zero and negative input,
 * and a buffer too small (truncated, NUL-terminated).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli_fmt.h"
#include "testlib.h"

struct fcase {
	int64_t		 in;
	const char	*want;
};

/* check - each case through fmt (cli_fmt_size or cli_fmt_age): "got X, want Y" */
static void
check(const char *what, char *(*fmt)(int64_t, char *, size_t), const struct fcase *c,
    size_t n)
{
	char	out[CLI_FMT_MAX];
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(fmt(c[i].in, out, sizeof(out)), c[i].want) != 0)
			fail_msg("%s %lld: got %s, want %s", what, (long long)c[i].in, out,
			    c[i].want);
}

static void
test_size(void **state)
{
	static const struct fcase cases[] = {
		{ 0, "0 B" }, { -5, "0 B" }, { 1, "1 B" }, { 1023, "1023 B" },
		{ 1024, "1.0 KiB" }, { 1536, "1.5 KiB" }, { 1535, "1.4 KiB" },
		{ 99 * 1024 + 1023, "99.9 KiB" }, { 100 * 1024, "100 KiB" },
		{ 1024 * 1024 - 1, "1023 KiB" }, { 1024 * 1024, "1.0 MiB" },
		{ 51033003565LL, "47.5 GiB" }, { 5LL << 40, "5.0 TiB" },
		{ 1LL << 62, "4.0 EiB" },
	};

	check("size", cli_fmt_size, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_age(void **state)
{
	static const struct fcase cases[] = {
		{ 0, "0s" }, { -60000, "0s" }, { 999, "0s" }, { 59999, "59s" },
		{ 60000, "1m 0s" }, { 450000, "7m 30s" }, { 3599999, "59m 59s" },
		{ 3600000, "1h 0m" }, { 18720000, "5h 12m" }, { 86399999, "23h 59m" },
		{ 86400000, "1d 0h" }, { 4321LL * 60000, "3d 0h" }, { 400LL * 86400000, "400d 0h" },
	};

	check("age (ms)", cli_fmt_age, cases, sizeof(cases) / sizeof(cases[0]));
}

/* a short buffer gets a truncated, terminated string */
static void
test_short_buffer(void **state)
{
	char out[4];

	assert_string_equal(cli_fmt_size(51033003565LL, out, sizeof(out)), "47.");
	assert_string_equal(cli_fmt_age(4321LL * 60000, out, sizeof(out)), "3d ");
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_size),
	cmocka_unit_test(test_age),
	cmocka_unit_test(test_short_buffer),
)
