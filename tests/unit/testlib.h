/*
 * testlib.h - what several unit tests share (static inline: each test is one
 * program, include after <cmocka.h>).
 *
 *   TESTLIB_MAIN          the program's main(): its cases, one a line, run as
 *                         one group with a group setup and teardown (or NULL)
 *   testlib_top_make      group setup: the program's scratch directory
 *                         /tmp/PROGRAM.XXXXXX, named by testlib_top()
 *   testlib_top_remove    group teardown: that directory and all below it
 *   testlib_top_next      a fresh path in it for each case: testlib_top()/N...
 *   testlib_no_sigpipe    group setup: a peer's close is an error, not SIGPIPE
 *   testlib_index_open    a fresh /tmp/NAME.XXXXXX holding a new index.sqlite
 *   testlib_index_remove  the index file, its -wal and -shm, and the directory
 *   testlib_envelope      an envelope from node mx1 received at t: id, time and
 *                         a zero sha256 set, the rest for the test to fill
 *   testlib_envelope_plain  the same from any node, with a size, MAIL parameters
 *                         and a plain session (s@example.org from 127.0.0.1, HELO h)
 *   testlib_rm_rf         remove a scratch directory tree (0, or -1 with errno)
 *   testlib_collect       a callback keeping each reported line in a struct
 *                         testlib_lines (config_check, store_reindex), one per row
 *   testlib_message       a complete envelope of a node with nr recipients
 *                         (userN@example.test) and an unlinked file in dir of its
 *                         20 bytes (store_reindex, store_import)
 * Failures are cmocka assertions.  The helpers of the tests that drive a whole
 * store are in testlib_store.h.
 */
#ifndef MXS_TESTLIB_H
#define MXS_TESTLIB_H
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "index.h"
#include "msgid.h"

/*
 * TESTLIB_MAIN(group_setup, group_teardown, cases...) - main() of a test
 * program: the cases (cmocka_unit_test(f) and its kin, one a line, each with
 * a comma) run as one group "tests"; exit status as cmocka's.
 */
#define TESTLIB_MAIN(group_setup, group_teardown, ...)				\
int										\
main(void)									\
{										\
	const struct CMUnitTest tests[] = { __VA_ARGS__ };			\
										\
	return cmocka_run_group_tests(tests, group_setup, group_teardown);	\
}

#define TESTLIB_TOP_MAX	64

/* testlib_top - the program's scratch directory (made by testlib_top_make) */
static inline char *
testlib_top(void)
{
	static char	top[TESTLIB_TOP_MAX];

	return top;
}

/* testlib_top_make - group setup: mkdtemp /tmp/PROGRAM.XXXXXX as testlib_top() */
static inline int
testlib_top_make(void **state)
{
	snprintf(testlib_top(), TESTLIB_TOP_MAX, "/tmp/%s.XXXXXX", program_invocation_short_name);
	return mkdtemp(testlib_top()) == NULL ? -1 : 0;
}

/* testlib_top_next - out: testlib_top()/N followed by suffix, N one more at each call */
static inline void
testlib_top_next(char *out, size_t outlen, const char *suffix)
{
	static int	n;

	snprintf(out, outlen, "%s/%d%s", testlib_top(), ++n, suffix);
}

/* testlib_no_sigpipe - group setup: writing to a closed peer fails with EPIPE, no signal */
static inline int
testlib_no_sigpipe(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

struct testlib_index {
	char	dir[64];
	char	path[128];
};

/* testlib_index_open - mkdtemp /tmp/NAME.XXXXXX and open a new index in it */
static inline struct index *
testlib_index_open(struct testlib_index *t, const char *name)
{
	struct index	*ix;
	char		 err[256];

	snprintf(t->dir, sizeof(t->dir), "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/index.sqlite", t->dir);
	ix = index_open(t->path, err, sizeof(err));
	assert_non_null(ix);
	return ix;
}

/* testlib_index_remove - remove what testlib_index_open made (handles closed first) */
static inline void
testlib_index_remove(const struct testlib_index *t)
{
	char	p[160];

	snprintf(p, sizeof(p), "%s-wal", t->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", t->path);
	unlink(p);
	unlink(t->path);
	rmdir(t->dir);
}

/* testlib_envelope_node - e initialised: node, a fresh id for t, received at t, sha256 zeros */
static inline void
testlib_envelope_node(struct envelope *e, const char *node, int64_t t)
{
	envelope_init(e);
	snprintf(e->node, sizeof(e->node), "%s", node);
	assert_int_equal(msgid_new(node, t, e->id, sizeof(e->id)), 0);
	e->received_ms = t;
	snprintf(e->sha256, sizeof(e->sha256), "%064d", 0);
}

/* testlib_envelope - testlib_envelope_node from mx1 */
static inline void
testlib_envelope(struct envelope *e, int64_t t)
{
	testlib_envelope_node(e, "mx1", t);
}

/* testlib_envelope_plain - from node at t, size bytes, MAIL params, a plain session, no rcpt */
static inline void
testlib_envelope_plain(struct envelope *e, const char *node, int64_t t, int64_t size,
    const char *params)
{
	testlib_envelope_node(e, node, t);
	e->size = size;
	e->mail_from = strdup("s@example.org");
	e->mail_params = strdup(params);
	e->client_addr = strdup("127.0.0.1");
	e->client_name = strdup("");
	e->helo = strdup("h");
	e->tls = strdup("");
}

/* testlib_rm_one - nftw callback: remove one entry (children come first: FTW_DEPTH) */
static inline int
testlib_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* testlib_rm_rf - remove dir and all below it, not following links; gone already is fine */
static inline int
testlib_rm_rf(const char *dir)
{
	if (access(dir, F_OK) == -1)
		return 0;
	return nftw(dir, testlib_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* testlib_top_remove - group teardown: testlib_top() and all below it */
static inline int
testlib_top_remove(void **state)
{
	return testlib_rm_rf(testlib_top());
}

/* testlib_message - envelope of node at t with nr recipients; fd of an unlinked file of its bytes */
static inline int
testlib_message(const char *dir, struct envelope *e, const char *node, int64_t t, int nr)
{
	char	path[128], a[64];
	int	fd, i;

	snprintf(path, sizeof(path), "%s/m.XXXXXX", dir);
	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	assert_int_equal(write(fd, "Subject: r\r\n\r\nbody\r\n", 20), 20);
	testlib_envelope_plain(e, node, t, 20, "");
	memset(e->sha256, 'c', 64);
	for (i = 0; i < nr; i++) {
		snprintf(a, sizeof(a), "user%d@example.test", i);
		assert_int_equal(envelope_add_rcpt(e, a, ""), 0);
	}
	return fd;
}

struct testlib_lines {
	char	text[16384];
	size_t	len;
};

/* testlib_collect - report callback: append line and a newline to the testlib_lines arg */
static inline void
testlib_collect(const char *line, void *arg)
{
	struct testlib_lines	*l = arg;
	int			 n;

	n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(l->text) - l->len)
		l->len += (size_t)n;
}

#endif
