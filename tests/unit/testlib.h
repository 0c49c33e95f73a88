/*
 * testlib.h - what several unit tests share (static inline: each test is one
 * program, include after <cmocka.h>).
 *
 *   testlib_index_open    a fresh /tmp/NAME.XXXXXX holding a new index.sqlite
 *   testlib_index_remove  the index file, its -wal and -shm, and the directory
 *   testlib_envelope      an envelope from node mx1 received at t: id, time and
 *                         a zero sha256 set, the rest for the test to fill
 *   testlib_collect       a callback keeping each reported line in a struct
 *                         testlib_lines (config_check, store_reindex), one per row
 *   testlib_message       a complete envelope of a node with nr recipients
 *                         (userN@example.test) and an unlinked file in dir of its
 *                         20 bytes (store_reindex, store_import)
 * Failures are cmocka assertions.
 */
#ifndef MXS_TESTLIB_H
#define MXS_TESTLIB_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "index.h"
#include "msgid.h"

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

/* testlib_envelope - e initialised: node mx1, a fresh id for t, received at t, sha256 zeros */
static inline void
testlib_envelope(struct envelope *e, int64_t t)
{
	envelope_init(e);
	snprintf(e->node, sizeof(e->node), "mx1");
	assert_int_equal(msgid_new("mx1", t, e->id, sizeof(e->id)), 0);
	e->received_ms = t;
	snprintf(e->sha256, sizeof(e->sha256), "%064d", 0);
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
	envelope_init(e);
	snprintf(e->node, sizeof(e->node), "%s", node);
	assert_int_equal(msgid_new(node, t, e->id, sizeof(e->id)), 0);
	e->received_ms = t;
	e->size = 20;
	memset(e->sha256, 'c', 64);
	e->mail_from = strdup("s@example.org");
	e->mail_params = strdup("");
	e->client_addr = strdup("127.0.0.1");
	e->client_name = strdup("");
	e->helo = strdup("h");
	e->tls = strdup("");
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
