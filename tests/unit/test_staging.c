/*
 * test_staging.c - ingest's staging file pool: reused files come back empty,
 * at offset 0, and never carry a previous message's bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ingest.h"
#include "testlib.h"

static void
test_reuse(void **state)
{
	char		 dir[] = "/tmp/test_staging.XXXXXX", dir2[] = "/tmp/test_staging.XXXXXX";
	char		 buf[64];
	struct stat	 sb, sb2;
	int		 fd, fd2, fd3;

	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(dir2));
	assert_true((fd = staging_get(dir)) >= 0);
	assert_int_equal(write(fd, "first message", 13), 13);
	assert_int_equal(fstat(fd, &sb), 0);
	staging_put(fd, dir);

	/* the same file (inode) again, emptied and rewound */
	assert_true((fd2 = staging_get(dir)) >= 0);
	assert_int_equal(fstat(fd2, &sb2), 0);
	assert_int_equal(sb2.st_ino, sb.st_ino);
	assert_int_equal(sb2.st_size, 0);
	assert_int_equal(lseek(fd2, 0, SEEK_CUR), 0);
	assert_int_equal(write(fd2, "2nd", 3), 3);
	assert_int_equal(pread(fd2, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "2nd", 3);

	/* in use: a second get is another file; nothing is visible in the directory */
	assert_true((fd3 = staging_get(dir)) >= 0);
	assert_int_equal(fstat(fd3, &sb), 0);
	assert_int_not_equal(sb.st_ino, sb2.st_ino);
	staging_put(fd2, dir);
	staging_put(fd3, dir);

	/* another staging directory (SIGHUP): the pooled files of the old one are not handed out */
	assert_true((fd = staging_get(dir2)) >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_not_equal(sb.st_ino, sb2.st_ino);
	staging_put(fd, dir2);
	staging_drain();
	assert_int_equal(rmdir(dir), 0);	/* empty: anonymous files only */
	assert_int_equal(rmdir(dir2), 0);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_reuse),
)
