/*
 * test_spool.c - the local fallback spool (common/spool.c) on its own:
 * put/remove and what they leave in the directory, usage and room (the
 * NOSPACE reasons: over [spool] max_size, the file system's reserve), a put
 * that fails half-way leaving nothing, temporaries of a crash removed at
 * open, foreach over complete messages only.  Table-driven where it helps.
 * The spool through the commit path (fallback, flush) is in test_store.c;
 * against RGW in tests/e2e/store_spool_rgw.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "limits.h"
#include "msgid.h"
#include "spool.h"
#include "testlib.h"

static char	dir[300];

/* setup - a fresh top/N for each test (the spool creates it) */
static int
setup(void **state)
{
	testlib_top_next(dir, sizeof(dir), "");
	return 0;
}

/* content - an unlinked temp file holding n bytes */
static int
content(size_t n)
{
	char	path[400], b[256];
	size_t	i, k;
	int	fd;

	snprintf(path, sizeof(path), "%s.XXXXXX", testlib_top());
	fd = mkstemp(path);
	assert_true(fd != -1);
	unlink(path);
	for (i = 0; i < sizeof(b); i++)
		b[i] = 'a' + i % 26;
	for (i = 0; i < n; i += k) {
		k = n - i < sizeof(b) ? n - i : sizeof(b);
		assert_int_equal(write(fd, b, k), (ssize_t)k);
	}
	return fd;
}

/* exists - 1 if dir/name exists */
static int
exists(const char *name)
{
	char		p[400];
	struct stat	sb;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &sb) == 0;
}

/* entries - number of names in dir other than . and .. */
static int
entries(void)
{
	char	cmd[400];
	FILE	*f;
	int	n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	assert_non_null(f = popen(cmd, "r"));
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

/* touch - create dir/name holding s */
static void
touch(const char *name, const char *s)
{
	char	p[400];
	FILE	*f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(s, f);
	fclose(f);
}

/* age - set name's mtime secs in the past */
static void
age(const char *name, long secs)
{
	char		p[400];
	struct timespec	t[2];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= secs;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
}

static void
test_put_remove_usage(void **state)
{
	struct spool	*sp;
	char		 err[256], id[2][MSGID_MAX], p[400], *s;
	int64_t		 bytes, count;
	size_t		 len;
	int		 fd;

	assert_non_null(sp = spool_open(dir, 1 << 20, err, sizeof(err)));
	spool_usage(sp, &bytes, &count);
	assert_int_equal(bytes, 0);
	assert_int_equal(count, 0);
	msgid_new("mx1", now_ms(), id[0], sizeof(id[0]));
	msgid_new("mx1", now_ms() + 1, id[1], sizeof(id[1]));
	fd = content(3000);
	assert_int_equal(spool_put(sp, id[0], fd, 3000, "{\"a\":1}", err, sizeof(err)),
	    SPOOL_OK);
	assert_int_equal(spool_put(sp, id[1], fd, 1000, "{\"b\":2}", err, sizeof(err)),
	    SPOOL_OK);
	close(fd);
	/* both files of each, nothing else (no temporaries) */
	assert_int_equal(entries(), 4);
	assert_int_equal(spool_path(sp, id[0], ".eml", p, sizeof(p)), 0);
	assert_non_null(s = spool_read_file(p, 1 << 20, &len));
	assert_int_equal(len, 3000);
	assert_memory_equal(s, "abcdef", 6);
	free(s);
	assert_int_equal(spool_path(sp, id[1], ".env.json", p, sizeof(p)), 0);
	assert_non_null(s = spool_read_file(p, 1 << 20, &len));
	assert_string_equal(s, "{\"b\":2}");
	free(s);
	spool_usage(sp, &bytes, &count);
	assert_int_equal(bytes, 4000);
	assert_int_equal(count, 2);

	spool_remove(sp, id[0]);
	assert_int_equal(entries(), 2);
	spool_usage(sp, &bytes, &count);
	assert_int_equal(bytes, 1000);
	assert_int_equal(count, 1);
	spool_remove(sp, id[0]);		/* twice: nothing more counted off */
	spool_usage(sp, &bytes, &count);
	assert_int_equal(bytes, 1000);
	assert_int_equal(count, 1);
	spool_close(sp);

	/* a second opener (another process) scans the same usage */
	assert_non_null(sp = spool_open(dir, 1 << 20, err, sizeof(err)));
	spool_usage(sp, &bytes, &count);
	assert_int_equal(bytes, 1000);
	assert_int_equal(count, 1);
	assert_int_equal(spool_path(sp, id[0], ".eml", p, 10), -1);	/* too long */
	spool_close(sp);
}

/* test_room - spool_room and spool_put's NOSPACE: max_size, the file system's reserve */
static void
test_room(void **state)
{
	struct statvfs	 vfs;
	struct spool	*sp;
	char		 err[256], id[MSGID_MAX];
	int64_t		 avail, max = 10000;
	size_t		 i;
	int		 fd;

	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(statvfs(dir, &vfs), 0);
	avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
	assert_non_null(sp = spool_open(dir, max, err, sizeof(err)));
	fd = content(4000);
	msgid_new("mx1", now_ms(), id, sizeof(id));
	assert_int_equal(spool_put(sp, id, fd, 4000, "{}", err, sizeof(err)), SPOOL_OK);
	{
		/* 4000 bytes held; max_size 10000 */
		const struct { int64_t size; int want; } tc[] = {
			{ 0, 1 }, { 6000, 1 }, { 6001, 0 }, { max, 0 },
		};

		for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++)
			if (spool_room(sp, tc[i].size, NULL, 0) != tc[i].want)
				fail_msg("room for %lld: got %d, want %d",
				    (long long)tc[i].size, !tc[i].want, tc[i].want);
	}
	/* 5999 bytes and a 2-byte envelope: one over max_size, refused before anything is
	 * written, with the reason */
	msgid_new("mx1", now_ms() + 1, id, sizeof(id));
	assert_int_equal(spool_put(sp, id, fd, 5999, "{}", err, sizeof(err)), SPOOL_NOSPACE);
	assert_non_null(strstr(err, "full (max_size 10000"));
	assert_int_equal(entries(), 2);
	spool_close(sp);

	/* under a max_size the disk cannot hold: the file system's free space rules */
	assert_non_null(sp = spool_open(dir, INT64_MAX / 4, err, sizeof(err)));
	assert_int_equal(spool_room(sp, 1000, NULL, 0), 1);
	assert_int_equal(spool_room(sp, avail, NULL, 0), 0);	/* no reserve left */
	assert_int_equal(spool_put(sp, id, fd, avail, "{}", err, sizeof(err)), SPOOL_NOSPACE);
	assert_int_equal(entries(), 2);
	close(fd);
	spool_close(sp);
}

/* test_put_fails - a message shorter than announced: SPOOL_FAIL, nothing left behind */
static void
test_put_fails(void **state)
{
	struct spool	*sp;
	char		 err[256], id[MSGID_MAX];
	int64_t		 bytes, count;
	int		 fd;

	assert_non_null(sp = spool_open(dir, 1 << 20, err, sizeof(err)));
	fd = content(100);
	msgid_new("mx1", now_ms(), id, sizeof(id));
	assert_int_equal(spool_put(sp, id, fd, 500, "{}", err, sizeof(err)), SPOOL_FAIL);
	assert_non_null(strstr(err, id));
	assert_int_equal(entries(), 0);		/* no envelope without its message */
	spool_usage(sp, &bytes, &count);
	assert_int_equal(count, 0);
	close(fd);
	spool_close(sp);
}

/* test_open_cleans - temporaries of a crash go at open; complete files stay */
static void
test_open_cleans(void **state)
{
	struct spool	*sp;
	char		 err[256], id[MSGID_MAX], name[MSGID_MAX + 16];

	assert_int_equal(mkdir(dir, 0700), 0);
	msgid_new("mx1", now_ms(), id, sizeof(id));
	snprintf(name, sizeof(name), "%s.eml", id);
	touch(name, "x");
	snprintf(name, sizeof(name), "%s.env.json", id);
	touch(name, "{}");
	touch(".tmp.abc.XXXXXX", "half");
	touch(".tmp.def.YYYYYY", "half");
	touch(".tmp.new.ZZZZZZ", "in progress");
	touch(".keep", "");
	age(".tmp.abc.XXXXXX", SPOOL_TMP_STALE + 60);
	age(".tmp.def.YYYYYY", SPOOL_TMP_STALE + 60);
	assert_non_null(sp = spool_open(dir, 1 << 20, err, sizeof(err)));
	assert_false(exists(".tmp.abc.XXXXXX"));
	assert_false(exists(".tmp.def.YYYYYY"));
	/* another process's put in progress: younger than SPOOL_TMP_STALE, kept */
	assert_true(exists(".tmp.new.ZZZZZZ"));
	assert_true(exists(".keep"));
	assert_true(exists(name));
	assert_int_equal(entries(), 4);
	spool_close(sp);

	/* a directory that cannot be created: NULL and why */
	assert_null(spool_open("/proc/no/such/spool", 1, err, sizeof(err)));
	assert_non_null(strstr(err, "/proc/no/such/spool"));
}

struct seen {
	char	ids[8][MSGID_MAX];
	int	n;
	int	stop_after;	/* 0: never */
};

/* seen_one - foreach callback: record id; stop after stop_after */
static int
seen_one(const char *id, int64_t mtime_ms, void *arg)
{
	struct seen	*s = arg;

	assert_true(mtime_ms > 0);
	if (s->n < 8)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", id);
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

/* test_foreach - only complete messages with a message id for a name */
static void
test_foreach(void **state)
{
	struct spool	*sp;
	struct seen	 s;
	char		 err[256], id[MSGID_MAX], name[MSGID_MAX + 16];
	int		 i, fd;

	assert_non_null(sp = spool_open(dir, 1 << 20, err, sizeof(err)));
	fd = content(10);
	for (i = 0; i < 3; i++) {
		msgid_new("mx1", now_ms() + i, id, sizeof(id));
		assert_int_equal(spool_put(sp, id, fd, 10, "{}", err, sizeof(err)), SPOOL_OK);
	}
	close(fd);
	touch("notanid.eml", "x");
	snprintf(name, sizeof(name), ".%s.eml", id);
	touch(name, "x");
	memset(&s, 0, sizeof(s));
	assert_int_equal(spool_foreach(sp, seen_one, &s), 3);
	assert_int_equal(s.n, 3);
	for (i = 0; i < 3; i++)
		assert_true(msgid_valid(s.ids[i]));
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(spool_foreach(sp, seen_one, &s), 1);
	spool_close(sp);
}

TESTLIB_MAIN(testlib_top_make, testlib_top_remove,
	cmocka_unit_test_setup(test_put_remove_usage, setup),
	cmocka_unit_test_setup(test_room, setup),
	cmocka_unit_test_setup(test_put_fails, setup),
	cmocka_unit_test_setup(test_open_cleans, setup),
	cmocka_unit_test_setup(test_foreach, setup),
)
