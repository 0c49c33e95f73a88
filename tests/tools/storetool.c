/*
 * storetool.c - drive the commit path, spool, index and reindex from tests.
 *
 *   storetool -c CONF commit FILE --from A --rcpt B [--rcpt-params P] [--rcpt C ...]
 *             [--mail-params P]       store_commit; prints the id (exit 75 on 4xx)
 *   storetool -c CONF flush           upload the spool; prints how many remain
 *   storetool -c CONF reindex [--repair] [--node N]   findings, then a summary line
 *   storetool -c CONF reconcile NODE  store_reconcile (what the ingest runs at start-up);
 *                                     prints its counts
 *   storetool -c CONF fill N          N synthetic queued messages (index only)
 *   storetool -c CONF show ID         envelope JSON, then "location=.. key=.. spool=.."
 *   storetool -c CONF ids             every indexed id with its location
 * Exit: 0 ok, 1 not found, 64 usage, 75 temporary failure.  Not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "envelope.h"
#include "index.h"
#include "limits.h"
#include "log.h"
#include "msgid.h"
#include "store.h"

#define EX_USAGE	64
#define EX_TEMPFAIL	75

static struct config	*cf;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: storetool -c CONF commit FILE --from A --rcpt B"
	    " [--rcpt-params P] [--mail-params P] ...\n"
	    "       storetool -c CONF flush | reindex [--repair] [--node N] | reconcile NODE |"
	    " fill N | show ID | ids\n");
	exit(EX_USAGE);
}

/* sha256_fd - hex digest of fd's bytes */
static int
sha256_fd(int fd, char out[65], off_t *size)
{
	EVP_MD_CTX	*ctx = EVP_MD_CTX_new();
	unsigned char	 md[32], buf[65536];
	unsigned int	 mdlen, i;
	ssize_t		 n;
	off_t		 off = 0;

	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		EVP_DigestUpdate(ctx, buf, n);
		off += n;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	*size = off;
	return n == 0 ? 0 : -1;
}

static struct store *
open_store(void)
{
	struct store	*st;
	char		 err[ERRSTR_MAX * 2];

	if ((st = store_open(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "storetool: %s\n", err);
		exit(EX_TEMPFAIL);
	}
	return st;
}

/* open_index - the config's index (existing: never made here); NULL with the reason printed */
static struct index *
open_index(int existing)
{
	struct index	*ix;
	char		 path[CONFIG_PATH_MAX + 1], err[ERRSTR_MAX];

	config_index_path(cf, path, sizeof(path));
	ix = existing ? index_open_existing(path, err, sizeof(err)) :
	    index_open(path, err, sizeof(err));
	if (ix == NULL)
		fprintf(stderr, "storetool: %s\n", err);
	return ix;
}

static int
cmd_commit(int argc, char **argv)
{
	struct envelope	 e;
	struct store	*st;
	char		 reason[ERRSTR_MAX * 2];
	off_t		 size;
	int		 fd, i, rc;

	if (argc < 2)
		usage();
	envelope_init(&e);
	e.mail_from = strdup("");
	e.mail_params = strdup("");
	for (i = 2; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--from") == 0) {
			free(e.mail_from);
			e.mail_from = strdup(argv[++i]);
		} else if (strcmp(argv[i], "--mail-params") == 0) {
			free(e.mail_params);
			e.mail_params = strdup(argv[++i]);
		} else if (strcmp(argv[i], "--rcpt") == 0) {
			if (envelope_add_rcpt(&e, argv[++i], "") == -1)
				usage();
		} else if (strcmp(argv[i], "--rcpt-params") == 0 && e.nrcpts > 0) {
			free(e.rcpts[e.nrcpts - 1].params);
			e.rcpts[e.nrcpts - 1].params = strdup(argv[++i]);
		} else
			usage();
	}
	if (e.nrcpts == 0)
		usage();
	if ((fd = open(argv[1], O_RDONLY)) == -1) {
		fprintf(stderr, "storetool: %s: %s\n", argv[1], strerror(errno));
		return EX_USAGE;
	}
	if (sha256_fd(fd, e.sha256, &size) == -1) {
		fprintf(stderr, "storetool: %s: read error\n", argv[1]);
		return EX_TEMPFAIL;
	}
	snprintf(e.node, sizeof(e.node), "%s", config_node(cf));
	e.received_ms = now_ms();
	e.size = size;
	msgid_new(e.node, e.received_ms, e.id, sizeof(e.id));
	e.client_addr = strdup("127.0.0.1");
	e.client_name = strdup("localhost");
	e.helo = strdup("storetool");
	e.tls = strdup("");
	st = open_store();
	rc = store_commit(st, &e, fd, size, reason, sizeof(reason));
	close(fd);
	if (rc == STORE_OK)
		printf("%s\n", e.id);
	else
		fprintf(stderr, "storetool: commit %s: %s\n", rc == STORE_NOSPACE ? "nospace" :
		    "tempfail", reason);
	envelope_free(&e);
	store_close(st);
	return rc == STORE_OK ? 0 : EX_TEMPFAIL;
}

static int
cmd_flush(void)
{
	struct store	*st = open_store();
	int		 n = store_spool_flush(st);

	store_close(st);
	printf("%d\n", n);
	return n < 0 ? EX_TEMPFAIL : 0;
}

static void
print_line(const char *line, void *arg)
{
	printf("%s\n", line);
}

static int
cmd_reindex(int argc, char **argv)
{
	struct reindex_result	 r;
	struct store		*st;
	const char		*node = NULL;
	int			 i, repair = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--repair") == 0)
			repair = 1;
		else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc)
			node = argv[++i];
		else
			usage();
	}
	st = open_store();
	rc = store_reindex(st, node, repair, print_line, NULL, &r);
	store_close(st);
	printf("objects=%lld ok=%lld added=%lld missing=%lld incomplete=%lld\n",
	    (long long)r.objects, (long long)r.ok, (long long)r.added, (long long)r.missing,
	    (long long)r.incomplete);
	return rc == STORE_OK ? 0 : EX_TEMPFAIL;
}

/* cmd_reconcile - the start-up reconcile of node NODE */
static int
cmd_reconcile(int argc, char **argv)
{
	struct reconcile_result	 r;
	struct store		*st;
	int			 rc;

	if (argc != 2)
		usage();
	st = open_store();
	rc = store_reconcile(st, argv[1], now_ms(), &r);
	store_close(st);
	printf("objects=%lld orphans=%lld predate=%lld tmp=%lld failed=%lld\n",
	    (long long)r.objects, (long long)r.orphans, (long long)r.predate, (long long)r.tmp,
	    (long long)r.failed);
	return rc == STORE_OK ? 0 : EX_TEMPFAIL;
}

/* cmd_fill - N synthetic messages over 3 days, 1-3 recipients in 50 domains */
static int
cmd_fill(int argc, char **argv)
{
	struct envelope	 e;
	struct index	*ix;
	long long	 n, i;
	char		 key[OBJKEY_MAX], addr[64];
	int64_t		 t0 = now_ms() - 3LL * 86400 * 1000;
	int		 j, k;

	if (argc != 2 || config_parse_num(argv[1], 1, 100000000, &n) == -1)
		usage();
	if ((ix = open_index(0)) == NULL)
		return EX_TEMPFAIL;
	srandom(1);
	for (i = 0; i < n; i++) {
		if (i % 10000 == 0 && (i > 0 && index_commit(ix) != INDEX_OK))
			goto fail;
		if (i % 10000 == 0 && index_begin(ix) != INDEX_OK)
			goto fail;
		envelope_init(&e);
		snprintf(e.node, sizeof(e.node), "%s", config_node(cf));
		e.received_ms = t0 + (3LL * 86400 * 1000) * i / n;
		e.size = 1000 + random() % 100000;
		memset(e.sha256, '0', 64);
		msgid_new(e.node, e.received_ms, e.id, sizeof(e.id));
		e.mail_from = strdup("sender@example.org");
		for (j = 0, k = 1 + random() % 3; j < k; j++) {
			snprintf(addr, sizeof(addr), "user%ld@d%02ld.example", random() % 1000,
			    random() % 50);
			envelope_add_rcpt(&e, addr, "");
		}
		msgid_key("mail", e.id, ".eml", key, sizeof(key));
		if (index_add_message(ix, &e, key, INDEX_LOC_STORE, NULL) != INDEX_OK) {
			envelope_free(&e);
			goto fail;
		}
		envelope_free(&e);
	}
	if (index_commit(ix) != INDEX_OK)
		goto fail;
	index_close(ix);
	printf("%lld\n", n);
	return 0;
fail:
	fprintf(stderr, "storetool: fill: %s\n", index_error(ix));
	index_close(ix);
	return EX_TEMPFAIL;
}

static int
cmd_show(int argc, char **argv)
{
	struct envelope		 e;
	struct index		*ix;
	enum index_location	 loc;
	enum index_status	 s;
	char			 key[OBJKEY_MAX], sp[SPOOL_PATH_MAX], *json;

	if (argc != 2)
		usage();
	if ((ix = open_index(1)) == NULL)
		return EX_TEMPFAIL;
	s = index_get_message(ix, argv[1], &e, key, sizeof(key), &loc, sp, sizeof(sp));
	if (s != INDEX_OK) {
		fprintf(stderr, "storetool: %s\n", index_error(ix));
		index_close(ix);
		return s == INDEX_NOTFOUND ? 1 : EX_TEMPFAIL;
	}
	json = envelope_to_json(&e);
	printf("%s\nlocation=%s key=%s spool=%s\n", json ? json : "?",
	    loc == INDEX_LOC_SPOOL ? "spool" : "store", key, sp);
	free(json);
	envelope_free(&e);
	index_close(ix);
	return 0;
}

static int
print_id(const char *id, const char *key, enum index_location loc, void *arg)
{
	printf("%s %s %s\n", id, loc == INDEX_LOC_SPOOL ? "spool" : "store", key);
	return 0;
}

static int
cmd_ids(void)
{
	struct index	*ix;
	int		 rc;

	if ((ix = open_index(1)) == NULL)
		return EX_TEMPFAIL;
	rc = index_foreach_message(ix, print_id, NULL) == INDEX_OK ? 0 : EX_TEMPFAIL;
	index_close(ix);
	return rc;
}

int
main(int argc, char **argv)
{
	char	err[ERRSTR_MAX * 2];

	log_init("storetool");
	if (argc < 4 || strcmp(argv[1], "-c") != 0)
		usage();
	if ((cf = config_load(argv[2], err, sizeof(err))) == NULL) {
		fprintf(stderr, "storetool: %s\n", err);
		return EX_USAGE;
	}
	argc -= 3;
	argv += 3;
	if (strcmp(argv[0], "commit") == 0)
		return cmd_commit(argc, argv);
	if (strcmp(argv[0], "flush") == 0)
		return cmd_flush();
	if (strcmp(argv[0], "reindex") == 0)
		return cmd_reindex(argc, argv);
	if (strcmp(argv[0], "fill") == 0)
		return cmd_fill(argc, argv);
	if (strcmp(argv[0], "reconcile") == 0)
		return cmd_reconcile(argc, argv);
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(argv[0], "ids") == 0)
		return cmd_ids();
	usage();
}
