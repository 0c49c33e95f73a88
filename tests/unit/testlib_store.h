/*
 * testlib_store.h - what the tests that drive a whole store share (static
 * inline, include after testlib.h): messages made with testlib_message.
 *
 *   testlib_store_open  mkdtemp a scratch directory; a store of node mx1 in it
 *                       (data_dir, file store, spool), more [storage] lines given
 *   testlib_store_close close the store, free its config, remove the directory
 *   testlib_put_object  a message's object (or sidecar and object) with no row,
 *                       as another node or a lost index left it
 *   testlib_commit      a message through the commit path: object and row
 * The last two give the message's id; failures are cmocka assertions.
 */
#ifndef MXS_TESTLIB_STORE_H
#define MXS_TESTLIB_STORE_H

#include "config.h"
#include "store.h"
#include "store_impl.h"

/* testlib_store_open - mkdtemp dir; a store of node mx1 in it, *c its config */
static inline struct store *
testlib_store_open(char *dir, const char *storage_more, struct config **c)
{
	struct store	*st;
	char		 text[1024], err[512];

	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), "[general]\nnode = mx1\ndata_dir = %s\n"
	    "[storage]\nurl = file://%s/store\n%s[spool]\nmax_size = 1M\n", dir, dir,
	    storage_more);
	if ((*c = config_from_string("test.conf", text, err, sizeof(err))) == NULL)
		fail_msg("config: %s", err);
	if ((st = store_open(*c, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

/* testlib_store_close - close st, free c, remove dir and all below it */
static inline void
testlib_store_close(struct store *st, struct config *c, const char *dir)
{
	store_close(st);
	config_free(c);
	assert_int_equal(testlib_rm_rf(dir), 0);
}

/* testlib_put_object - the object of node's message at t with nr recipients, no row; its id */
static inline void
testlib_put_object(struct store *st, const char *dir, const char *node, int64_t t, int nr,
    char id[MSGID_MAX])
{
	struct envelope	 e;
	char		*j;
	int		 fd = testlib_message(dir, &e, node, t, nr);

	j = envelope_to_json(&e);
	assert_int_equal(store_put_object(st, &e, j, fd, 20), OBJ_OK);
	snprintf(id, MSGID_MAX, "%s", e.id);
	free(j);
	close(fd);
	envelope_free(&e);
}

/* testlib_commit - node's message at t with 2 recipients through store_commit; its id */
static inline void
testlib_commit(struct store *st, const char *dir, const char *node, int64_t t,
    char id[MSGID_MAX])
{
	struct envelope	e;
	char		err[512];
	int		fd = testlib_message(dir, &e, node, t, 2);

	if (store_commit(st, &e, fd, 20, err, sizeof(err)) != STORE_OK)
		fail_msg("store_commit: %s", err);
	snprintf(id, MSGID_MAX, "%s", e.id);
	close(fd);
	envelope_free(&e);
}

#endif
