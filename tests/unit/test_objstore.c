/*
 * test_objstore.c - one contract suite for every object store backend.
 *
 * By default the cases run against a file store in a fresh temp directory.
 * With MXS_TEST_STORAGE_CONF=<ini with a [storage] section> the same cases
 * run against that store (tests/e2e/objstore_rgw.sh points it at Ceph RGW);
 * keys then live under a per-run prefix that is deleted at the end.
 * MXS_TEST_EXPECT_MULTIPART=1 also asserts that the 20 MB object went up as
 * a multipart upload (its ETag ends in "-N").
 * Backend-free cases (URL building, XML, metadata helpers, config errors,
 * an unreachable endpoint, a hung one) always run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "objstore.h"
#include "objstore_impl.h"
#include "testlib.h"

#define BIG_SIZE	(20 * 1000 * 1000 + 17)

static struct config	*cf;
static struct objstore	*os;
static char		 tmpdir[256];		/* file store root and scratch files */
static char		 pfx[64];		/* per-run key prefix */
static int		 is_file;

/* key - pfx + name, in a static ring so a few can be live at once */
static const char *
key(const char *name)
{
	static char	ring[4][OBJKEY_MAX];
	static int	i;

	i = (i + 1) % 4;
	snprintf(ring[i], sizeof(ring[i]), "%s%s", pfx, name);
	return ring[i];
}

/* scratch - an empty read/write temp file */
static int
scratch(void)
{
	char	path[300];
	int	fd;

	snprintf(path, sizeof(path), "%s/scratch.XXXXXX", tmpdir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

/* get_buf - get key into a malloc'd buffer; status, *len */
static enum objstore_status
get_buf(const char *k, char **out, size_t *len, struct objmeta *m, struct objinfo *info)
{
	enum objstore_status	st;
	struct stat		sb;
	int			fd = scratch();

	*out = NULL;
	*len = 0;
	st = objstore_get_fd(os, k, fd, m, info);
	assert_int_equal(fstat(fd, &sb), 0);
	*len = sb.st_size;
	*out = malloc(*len + 1);
	assert_non_null(*out);
	assert_int_equal(pread(fd, *out, *len, 0), (ssize_t)*len);
	close(fd);
	return st;
}

static void
collect(const char *k, const struct objinfo *info, void *arg)
{
	char	*all = arg;
	size_t	 n = strlen(all);

	snprintf(all + n, 4096 - n, "%s|", k + strlen(pfx));
}

static int
suite_setup(void **state)
{
	const char	*conf = getenv("MXS_TEST_STORAGE_CONF");
	char		 err[ERRSTR_MAX * 2], text[400];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mxs-test-objstore.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if (conf != NULL && *conf != '\0')
		cf = config_load(conf, err, sizeof(err));
	else {
		snprintf(text, sizeof(text), "[storage]\nurl = file://%s/store\n", tmpdir);
		cf = config_from_string("test.conf", text, err, sizeof(err));
	}
	if (cf == NULL || (os = objstore_open(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "objstore setup: %s\n", err);
		return -1;
	}
	is_file = strncmp(objstore_describe(os), "file://", 7) == 0;
	snprintf(pfx, sizeof(pfx), "t-%ld-%d/", (long)time(NULL), (int)getpid());
	fprintf(stderr, "# objstore under test: %s, prefix %s\n", objstore_describe(os), pfx);
	return 0;
}

static void
drop(const char *k, const struct objinfo *info, void *arg)
{
	objstore_delete(arg, k);
}

static int
suite_teardown(void **state)
{
	char	tok[OBJSTORE_TOKEN_MAX] = "", next[OBJSTORE_TOKEN_MAX];

	/* deleting while listing is fine: the token is the last key seen */
	do {
		if (objstore_list(os, pfx, tok, 100, drop, os, next, sizeof(next)) != OBJ_OK)
			break;
		memcpy(tok, next, sizeof(tok));
	} while (*tok);
	objstore_close(os);
	config_free(cf);
	return testlib_rm_rf(tmpdir);
}

static void
test_roundtrip_small(void **state)
{
	unsigned char	 bin[300];
	char		*got;
	size_t		 len, i;
	struct objinfo	 info;

	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);	/* NULs at 0 and 256 */
	assert_int_equal(objstore_put_buf(os, key("bin"), bin, sizeof(bin), NULL), OBJ_OK);
	assert_int_equal(get_buf(key("bin"), &got, &len, NULL, &info), OBJ_OK);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(got, bin, sizeof(bin));
	assert_int_equal(info.size, sizeof(bin));
	free(got);

	assert_int_equal(objstore_put_buf(os, key("empty"), "", 0, NULL), OBJ_OK);
	assert_int_equal(get_buf(key("empty"), &got, &len, NULL, &info), OBJ_OK);
	assert_int_equal(len, 0);
	assert_int_equal(info.size, 0);
	free(got);

	assert_int_equal(objstore_put_buf(os, key("one"), "\0", 1, NULL), OBJ_OK);
	assert_int_equal(get_buf(key("one"), &got, &len, NULL, NULL), OBJ_OK);
	assert_int_equal(len, 1);
	assert_int_equal(got[0], 0);
	free(got);
}

/* fill - deterministic pseudo-random bytes for offset off */
static void
fill(unsigned char *p, size_t n, uint64_t off)
{
	uint64_t	x;
	size_t		i;

	for (i = 0; i < n; i++) {
		x = (off + i) * 0x9E3779B97F4A7C15ULL;
		x ^= x >> 29;
		p[i] = (unsigned char)(x ^ (x >> 17));
	}
}

static void
test_stream_big(void **state)
{
	static unsigned char	 a[1 << 16], b[1 << 16];
	const char		*mp = getenv("MXS_TEST_EXPECT_MULTIPART");
	struct objinfo		 info;
	off_t			 off;
	size_t			 n;
	int			 in = scratch(), out = scratch();

	for (off = 0; off < BIG_SIZE; off += n) {
		n = (size_t)(BIG_SIZE - off) < sizeof(a) ? (size_t)(BIG_SIZE - off) : sizeof(a);
		fill(a, n, off);
		assert_int_equal(write(in, a, n), (ssize_t)n);
	}
	/* the fd's offset is at the end: put must read from 0 with pread */
	assert_int_equal(objstore_put_fd(os, key("big/20mb.eml"), in, BIG_SIZE, NULL), OBJ_OK);
	assert_int_equal(objstore_get_fd(os, key("big/20mb.eml"), out, NULL, &info), OBJ_OK);
	assert_int_equal(info.size, BIG_SIZE);
	assert_int_equal(lseek(out, 0, SEEK_END), BIG_SIZE);
	for (off = 0; off < BIG_SIZE; off += n) {
		n = (size_t)(BIG_SIZE - off) < sizeof(a) ? (size_t)(BIG_SIZE - off) : sizeof(a);
		fill(a, n, off);
		assert_int_equal(pread(out, b, n, off), (ssize_t)n);
		if (memcmp(a, b, n) != 0)
			fail_msg("20 MB object differs in the 64k block at %lld", (long long)off);
	}
	if (mp != NULL && *mp == '1')
		assert_non_null(strchr(info.etag, '-'));	/* multipart ETag "md5-N" */
	close(in);
	close(out);
}

static void
test_metadata(void **state)
{
	struct objmeta	 m, got;
	struct objinfo	 info;
	char		 longv[1500], *body;
	size_t		 len;

	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	objmeta_init(&m);
	assert_int_equal(objmeta_set(&m, "envelope", "eyJ2IjoxfQ=="), 0);
	assert_int_equal(objmeta_set(&m, "long", longv), 0);
	assert_int_equal(objmeta_set(&m, "with-space", "a b  c"), 0);
	assert_int_equal(objstore_put_buf(os, key("meta.eml"), "body", 4, &m), OBJ_OK);

	assert_int_equal(objstore_head(os, key("meta.eml"), &got, &info), OBJ_OK);
	assert_int_equal(info.size, 4);
	assert_true(info.etag[0] != '\0');
	assert_true(info.mtime_ms > 0);
	assert_string_equal(objmeta_get(&got, "envelope"), "eyJ2IjoxfQ==");
	assert_string_equal(objmeta_get(&got, "long"), longv);
	assert_string_equal(objmeta_get(&got, "with-space"), "a b  c");
	assert_null(objmeta_get(&got, "absent"));
	objmeta_free(&got);

	assert_int_equal(get_buf(key("meta.eml"), &body, &len, &got, NULL), OBJ_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(body, "body", 4);
	assert_string_equal(objmeta_get(&got, "envelope"), "eyJ2IjoxfQ==");
	objmeta_free(&got);
	objmeta_free(&m);
	free(body);
}

static void
test_overwrite(void **state)
{
	struct objmeta	 m, got;
	char		*body;
	size_t		 len;

	objmeta_init(&m);
	assert_int_equal(objmeta_set(&m, "first", "1"), 0);
	assert_int_equal(objstore_put_buf(os, key("ow"), "old contents", 12, &m), OBJ_OK);
	assert_int_equal(objstore_put_buf(os, key("ow"), "new", 3, NULL), OBJ_OK);
	assert_int_equal(get_buf(key("ow"), &body, &len, &got, NULL), OBJ_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(body, "new", 3);
	assert_null(objmeta_get(&got, "first"));	/* metadata replaced too */
	objmeta_free(&got);
	objmeta_free(&m);
	free(body);
}

/* conditional create: absent -> created; present -> OBJ_EXISTS and the object untouched */
static void
test_create(void **state)
{
	char	*body;
	size_t	 len;

	assert_int_equal(objstore_create_buf(os, key("cr/a"), "first", 5, NULL), OBJ_OK);
	assert_int_equal(objstore_create_buf(os, key("cr/a"), "second", 6, NULL), OBJ_EXISTS);
	assert_int_equal(get_buf(key("cr/a"), &body, &len, NULL, NULL), OBJ_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(body, "first", 5);
	free(body);
	assert_string_equal(objstore_strstatus(OBJ_EXISTS), "exists");
	/* over an object a plain put wrote, too; and again after a delete */
	assert_int_equal(objstore_put_buf(os, key("cr/b"), "put", 3, NULL), OBJ_OK);
	assert_int_equal(objstore_create_buf(os, key("cr/b"), "x", 1, NULL), OBJ_EXISTS);
	assert_int_equal(objstore_delete(os, key("cr/b")), OBJ_OK);
	assert_int_equal(objstore_create_buf(os, key("cr/b"), "y", 1, NULL), OBJ_OK);
	assert_int_equal(get_buf(key("cr/b"), &body, &len, NULL, NULL), OBJ_OK);
	assert_memory_equal(body, "y", 1);
	free(body);
}

#define RACERS	6

/* two writers cannot both win: RACERS processes, each with its own handle, create one key */
static void
test_create_race(void **state)
{
	pid_t	pid[RACERS];
	int	wins = 0, lost = 0, status;
	char	*body, me[32];
	size_t	 len;

	for (int i = 0; i < RACERS; i++) {
		if ((pid[i] = fork()) == 0) {
			char			 err[ERRSTR_MAX];
			struct objstore		*o = objstore_open(cf, err, sizeof(err));
			enum objstore_status	 st;

			snprintf(me, sizeof(me), "racer-%d", i);
			if (o == NULL)
				_exit(3);
			st = objstore_create_buf(o, key("cr/race"), me, strlen(me), NULL);
			_exit(st == OBJ_OK ? 0 : st == OBJ_EXISTS ? 1 : 2);
		}
		assert_true(pid[i] > 0);
	}
	for (int i = 0; i < RACERS; i++) {
		assert_int_equal(waitpid(pid[i], &status, 0), pid[i]);
		assert_true(WIFEXITED(status));
		wins += WEXITSTATUS(status) == 0;
		lost += WEXITSTATUS(status) == 1;
		if (WEXITSTATUS(status) == 0)
			snprintf(me, sizeof(me), "racer-%d", i);
	}
	assert_int_equal(wins, 1);
	assert_int_equal(lost, RACERS - 1);
	assert_int_equal(get_buf(key("cr/race"), &body, &len, NULL, NULL), OBJ_OK);
	assert_int_equal(len, strlen(me));
	assert_memory_equal(body, me, len);	/* the winner's bytes, not a loser's */
	free(body);
}

static void
test_delete(void **state)
{
	assert_int_equal(objstore_put_buf(os, key("del/x"), "x", 1, NULL), OBJ_OK);
	assert_int_equal(objstore_head(os, key("del/x"), NULL, NULL), OBJ_OK);
	assert_int_equal(objstore_delete(os, key("del/x")), OBJ_OK);
	assert_int_equal(objstore_head(os, key("del/x"), NULL, NULL), OBJ_NOTFOUND);
	assert_int_equal(objstore_delete(os, key("del/x")), OBJ_OK);
	assert_int_equal(objstore_delete(os, key("del/never")), OBJ_OK);
}

/* place_tmp - a temp file NAME in the file store directory of key k, mtime age_s ago */
static void
place_tmp(const char *sub, const char *k, const char *name, int age_s)
{
	struct timespec	ts[2];
	char		path[OBJKEY_MAX * 2];
	const char	*slash = strrchr(k, '/');
	int		fd;

	snprintf(path, sizeof(path), "%s/store/%s%.*s/%s", tmpdir, sub, (int)(slash - k), k, name);
	assert_true((fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, "partial", 7), 7);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age_s;
	ts[1] = ts[0];
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

/* tmp_exists - 1 if the temp file NAME is in the directory of key k */
static int
tmp_exists(const char *sub, const char *k, const char *name)
{
	char		path[OBJKEY_MAX * 2];
	const char	*slash = strrchr(k, '/');

	snprintf(path, sizeof(path), "%s/store/%s%.*s/%s", tmpdir, sub, (int)(slash - k), k, name);
	return access(path, F_OK) == 0;
}

/* test_sweep - stale temp files of interrupted puts go, fresh ones and objects stay */
static void
test_sweep(void **state)
{
	char	all[4096] = "";
	char	next[OBJSTORE_TOKEN_MAX];
	int64_t	n = -1, now = (int64_t)time(NULL) * 1000;

	assert_int_equal(objstore_put_buf(os, key("sw/a/x.eml"), "x", 1, NULL), OBJ_OK);
	assert_int_equal(objstore_put_buf(os, key("sw/b/y.eml"), "y", 1, NULL), OBJ_OK);
	if (!is_file) {		/* S3: puts are atomic, nothing to sweep */
		assert_int_equal(objstore_sweep(os, key("sw/"), now, &n), OBJ_OK);
		assert_int_equal(n, 0);
		return;
	}
	place_tmp("", key("sw/a/x.eml"), ".tmp-Old001", 7200);
	place_tmp(".meta/", key("sw/a/x.eml"), ".tmp-Old002", 7200);
	place_tmp("", key("sw/a/x.eml"), ".tmp-New003", 0);
	place_tmp("", key("sw/b/y.eml"), ".tmp-Old004", 7200);
	/* got: one directory's prefix sweeps that directory (and its .meta twin) only */
	assert_int_equal(objstore_sweep(os, key("sw/a/"), now - 3600 * 1000, &n), OBJ_OK);
	assert_int_equal(n, 2);
	assert_false(tmp_exists("", key("sw/a/x.eml"), ".tmp-Old001"));
	assert_false(tmp_exists(".meta/", key("sw/a/x.eml"), ".tmp-Old002"));
	assert_true(tmp_exists("", key("sw/a/x.eml"), ".tmp-New003"));
	assert_true(tmp_exists("", key("sw/b/y.eml"), ".tmp-Old004"));
	/* the parent prefix reaches below; objects are never swept */
	assert_int_equal(objstore_sweep(os, key("sw/"), now - 3600 * 1000, &n), OBJ_OK);
	assert_int_equal(n, 1);
	assert_false(tmp_exists("", key("sw/b/y.eml"), ".tmp-Old004"));
	assert_int_equal(objstore_list(os, key("sw/"), NULL, 100, collect, all, next,
	    sizeof(next)), OBJ_OK);
	assert_string_equal(all, "sw/a/x.eml|sw/b/y.eml|");
	/* a prefix naming no directory of keys sweeps nothing */
	assert_int_equal(objstore_sweep(os, key("sw/.meta/"), now, &n), OBJ_OK);
	assert_int_equal(n, 0);
}

static void
test_missing(void **state)
{
	struct objmeta	 m;
	char		*body;
	size_t		 len;

	assert_int_equal(objstore_head(os, key("nope/none.eml"), &m, NULL), OBJ_NOTFOUND);
	assert_int_equal(m.n, 0);
	assert_non_null(strstr(objstore_error(os), "nope/none.eml"));
	assert_int_equal(get_buf(key("nope/none.eml"), &body, &len, NULL, NULL), OBJ_NOTFOUND);
	assert_int_equal(len, 0);	/* nothing (no error document) written */
	free(body);
}

static void
test_list_pages(void **state)
{
	static const char *names[] = {	/* put in this order, listed sorted */
		"l/k3", "l/a.b", "l/a-b", "l/a/b", "l/k1", "l/z", "l/k10",
	};
	static const char *want = "l/a-b|l/a.b|l/a/b|l/k1|l/k10|l/k3|l/z|";
	char	 all[4096] = "", tok[OBJSTORE_TOKEN_MAX] = "", next[OBJSTORE_TOKEN_MAX];
	size_t	 i;
	int	 pages = 0, before;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_int_equal(objstore_put_buf(os, key(names[i]), "x", 1, NULL), OBJ_OK);
	assert_int_equal(objstore_put_buf(os, key("lx"), "x", 1, NULL), OBJ_OK);  /* outside */
	do {
		before = strlen(all);
		assert_int_equal(objstore_list(os, key("l/"), tok, 3, collect, all, next,
		    sizeof(next)), OBJ_OK);
		assert_true(strlen(all) > (size_t)before);	/* no empty page */
		memcpy(tok, next, sizeof(tok));
		assert_true(++pages <= 3);
	} while (*tok);
	assert_int_equal(pages, 3);
	assert_string_equal(all, want);

	/* a prefix that ends inside a name */
	all[0] = '\0';
	assert_int_equal(objstore_list(os, key("l/k1"), NULL, 1000, collect, all, next,
	    sizeof(next)), OBJ_OK);
	assert_string_equal(all, "l/k1|l/k10|");
	assert_string_equal(next, "");
	/* nothing there */
	all[0] = '\0';
	assert_int_equal(objstore_list(os, key("nothing/"), NULL, 10, collect, all, next,
	    sizeof(next)), OBJ_OK);
	assert_string_equal(all, "");
	assert_string_equal(next, "");
}

static void
test_key_shapes(void **state)
{
	static const char *keys[] = {
		"mail/mx1/2026/11/23/01JDAB3K8QW2E5R7T9Y1U3I5O7.mx1.eml",
		"k/x.y/z-w/1.2.3-4_5.env.json", "k/plus+eq=tilde~", "k/a..b",
	};
	char	*body;
	size_t	 i, len;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(objstore_put_buf(os, key(keys[i]), keys[i], strlen(keys[i]),
		    NULL), OBJ_OK);
		assert_int_equal(get_buf(key(keys[i]), &body, &len, NULL, NULL), OBJ_OK);
		assert_int_equal(len, strlen(keys[i]));
		assert_memory_equal(body, keys[i], len);
		free(body);
	}
	/* refused by every backend */
	assert_int_equal(objstore_put_buf(os, "", "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, key("sp ace"), "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, key("ctl\n"), "x", 1, NULL), OBJ_PERMFAIL);
	if (!is_file)
		return;
	assert_int_equal(objstore_put_buf(os, "../escape", "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, key("a/../b"), "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, "/abs", "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, key("a//b"), "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, key("trailing/"), "x", 1, NULL), OBJ_PERMFAIL);
	assert_int_equal(objstore_put_buf(os, key(".meta"), "x", 1, NULL), OBJ_PERMFAIL);
	assert_non_null(strstr(objstore_error(os), "invalid key"));
}

/* --- backend-free cases --- */

static void
test_s3_url(void **state)
{
	static const struct {
		const char *ep, *key, *query; int path; const char *want;
	} t[] = {
		{ "http://127.0.0.1:7480", "mail/a.eml", "", 1,
		  "http://127.0.0.1:7480/bkt/mail/a.eml" },
		{ "https://s3.eu-west-1.amazonaws.com", "mail/a.eml", "", 0,
		  "https://bkt.s3.eu-west-1.amazonaws.com/mail/a.eml" },
		{ "https://s3.example.com:9000", "", "list-type=2&max-keys=3&prefix=a%2Fb", 0,
		  "https://bkt.s3.example.com:9000/?list-type=2&max-keys=3&prefix=a%2Fb" },
		{ "http://h:1", "", "list-type=2", 1, "http://h:1/bkt?list-type=2" },
		{ "http://h/base", "k", "uploads=", 1, "http://h/base/bkt/k?uploads=" },
		{ "http://h", "a b/c+d~e%", "", 1, "http://h/bkt/a%20b/c%2Bd~e%25" },
	};
	char	out[1024];
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(objstore_s3_url(t[i].ep, "bkt", t[i].path, t[i].key, t[i].query,
		    out, sizeof(out)), 0);
		assert_string_equal(out, t[i].want);
	}
	assert_int_equal(objstore_s3_url("nohost", "bkt", 1, "k", "", out, sizeof(out)), -1);
	assert_int_equal(objstore_s3_url("http://h", "bkt", 1, "k", "", out, 10), -1);
	assert_int_equal(objstore_s3_encode("a/b c", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "a%2Fb%20c");
}

static void
test_s3_xml(void **state)
{
	static const char doc[] = "<?xml version=\"1.0\"?><ListBucketResult><Contents>"
	    "<Key>a&amp;b&lt;&#65;&#x42;</Key><Size>12</Size></Contents><Contents><Key>c</Key>"
	    "</Contents><IsTruncated>true</IsTruncated></ListBucketResult>";
	const char	*p = doc, *end = doc + strlen(doc), *bs, *be;
	char		 v[16];
	int		 n = 0;

	while ((p = objstore_s3_xml_block(p, end, "Contents", &bs, &be)) != NULL) {
		assert_non_null(objstore_s3_xml_tag(bs, be, "Key", v, sizeof(v)));
		assert_string_equal(v, n == 0 ? "a&b<AB" : "c");
		n++;
	}
	assert_int_equal(n, 2);
	assert_non_null(objstore_s3_xml_tag(doc, end, "IsTruncated", v, sizeof(v)));
	assert_string_equal(v, "true");
	/* too long for the buffer, unterminated, bad entity: refused, not truncated */
	assert_null(objstore_s3_xml_tag(doc, end, "ListBucketResult", v, sizeof(v)));
	assert_null(objstore_s3_xml_tag("<Key>abc", NULL, "Key", v, sizeof(v)));
	assert_null(objstore_s3_xml_tag("<K>a&bogus;</K>", "<K>a&bogus;</K>" + 15, "K", v,
	    sizeof(v)));
}

static void
test_objmeta(void **state)
{
	struct objmeta	m;
	char		name[8];
	int		i;

	objmeta_init(&m);
	assert_int_equal(objmeta_set(&m, "Upper", "x"), -1);
	assert_int_equal(objmeta_set(&m, "", "x"), -1);
	assert_int_equal(objmeta_set(&m, "ok", "tab\there"), -1);
	assert_int_equal(objmeta_set(&m, "ok", "1"), 0);
	assert_int_equal(objmeta_set(&m, "ok", "2"), 0);
	assert_int_equal(m.n, 1);
	assert_string_equal(objmeta_get(&m, "ok"), "2");
	for (i = 1; i < OBJMETA_MAX; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(objmeta_set(&m, name, "v"), 0);
	}
	assert_int_equal(objmeta_set(&m, "onemore", "v"), -1);
	objmeta_free(&m);
	assert_int_equal(m.n, 0);
	assert_string_equal(objstore_strstatus(OBJ_TEMPFAIL), "temporary failure");
}

/* open_text - objstore_open on an inline config; NULL with err filled */
static struct objstore *
open_text(const char *text, struct config **cfp, char *err, size_t errlen)
{
	*cfp = config_from_string("inline.conf", text, err, errlen);
	assert_non_null(*cfp);
	return objstore_open(*cfp, err, errlen);
}

static void
test_config_errors(void **state)
{
	struct config	*c;
	struct objstore	*o;
	char		 err[ERRSTR_MAX * 2];

	unsetenv("MXSPOOL_S3_ACCESS_KEY");
	unsetenv("MXSPOOL_S3_SECRET_KEY");
	assert_null(open_text("[storage]\nurl = ftp://x/\n", &c, err, sizeof(err)));
	assert_non_null(strstr(err, "[storage] url"));
	config_free(c);
	assert_null(open_text("[storage]\nurl = http://127.0.0.1:1\nbucket = b\n", &c, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "MXSPOOL_S3_ACCESS_KEY"));
	config_free(c);
	assert_null(open_text("[storage]\nurl = http://127.0.0.1:1\naccess_key = a\n"
	    "secret_key = s\n", &c, err, sizeof(err)));
	assert_non_null(strstr(err, "bucket"));
	config_free(c);
	assert_null(open_text("[storage]\nurl = file://relative\n", &c, err, sizeof(err)));
	config_free(c);
	assert_null(open_text("[storage]\nurl = http://127.0.0.1:9000\nbucket = b\n"
	    "access_key = a\nsecret_key = s\npath_style = no\n", &c, err, sizeof(err)));
	assert_non_null(strstr(err, "path_style"));
	config_free(c);
	/* credentials from the environment */
	setenv("MXSPOOL_S3_ACCESS_KEY", "AKENV", 1);
	setenv("MXSPOOL_S3_SECRET_KEY", "SKENV-SECRET", 1);
	o = open_text("[storage]\nurl = http://127.0.0.1:1/\nbucket = b\n", &c, err,
	    sizeof(err));
	assert_non_null(o);
	assert_string_equal(objstore_describe(o), "s3://b@http://127.0.0.1:1");
	objstore_close(o);
	config_free(c);
	unsetenv("MXSPOOL_S3_ACCESS_KEY");
	unsetenv("MXSPOOL_S3_SECRET_KEY");
}

static void
test_s3_unreachable(void **state)
{
	struct config	*c;
	struct objstore	*o;
	char		 err[ERRSTR_MAX * 2];

	/* port 1 on loopback refuses at once: a temporary failure, secret not in the reason */
	o = open_text("[storage]\nurl = http://127.0.0.1:1\nbucket = b\naccess_key = AK\n"
	    "secret_key = VERYSECRETVALUE\nretries = 1\n", &c, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(objstore_put_buf(o, "k", "x", 1, NULL), OBJ_TEMPFAIL);
	assert_null(strstr(objstore_error(o), "VERYSECRETVALUE"));
	assert_non_null(strstr(objstore_error(o), "127.0.0.1:1"));
	assert_int_equal(objstore_head(o, "k", NULL, NULL), OBJ_TEMPFAIL);
	objstore_close(o);
	config_free(c);
}

/*
 * test_s3_hung - an endpoint that accepts the connection (the kernel's
 * backlog) and never answers: with timeout = 300s and 3 retries, a deadline of
 * 1 s still ends the put, with "deadline reached"; a call made after it fails
 * at once without a request
 */
static void
test_s3_hung(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	struct config		*c;
	struct objstore		*o;
	char			 err[ERRSTR_MAX * 2], text[300];
	int			 ls;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((ls = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&sin, &len), 0);
	snprintf(text, sizeof(text), "[storage]\nurl = http://127.0.0.1:%d\nbucket = b\n"
	    "access_key = AK\nsecret_key = SK\ntimeout = 300s\nretries = 3\n",
	    ntohs(sin.sin_port));
	o = open_text(text, &c, err, sizeof(err));
	assert_non_null(o);
	objstore_set_deadline(o, 1000);
	assert_int_equal(objstore_put_buf(o, "k", "x", 1, NULL), OBJ_TEMPFAIL);
	assert_non_null(strstr(objstore_error(o), "deadline reached after 1 attempt(s)"));
	assert_int_equal(objstore_head(o, "k", NULL, NULL), OBJ_TEMPFAIL);
	assert_non_null(strstr(objstore_error(o), "deadline reached after 0 attempt(s)"));
	objstore_close(o);
	config_free(c);
	close(ls);
}

int
main(void)
{
	const struct CMUnitTest contract[] = {
		cmocka_unit_test(test_roundtrip_small),
		cmocka_unit_test(test_stream_big),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_overwrite),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_race),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_key_shapes),
		cmocka_unit_test(test_sweep),
	};
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_s3_url),
		cmocka_unit_test(test_s3_xml),
		cmocka_unit_test(test_objmeta),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_s3_unreachable),
		cmocka_unit_test(test_s3_hung),
	};
	int rc;

	rc = cmocka_run_group_tests_name("objstore contract", contract, suite_setup,
	    suite_teardown);
	return rc + cmocka_run_group_tests_name("objstore helpers", pure, NULL, NULL);
}
