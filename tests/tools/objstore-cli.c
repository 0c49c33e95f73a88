/*
 * objstore-cli.c - drive the object store from shell tests.
 *
 *   objstore-cli -c CONF put KEY FILE [-m NAME=VALUE]...
 *   objstore-cli -c CONF get KEY OUT          (OUT "-" = stdout)
 *   objstore-cli -c CONF head KEY             (size, etag, mtime_ms, meta lines)
 *   objstore-cli -c CONF del KEY
 *   objstore-cli -c CONF create KEY FILE      (only if KEY is absent: If-None-Match)
 *   objstore-cli -c CONF probe                does the store honour it? (the fleet's
 *                                             probe, fleet_probe_conditional)
 *   objstore-cli -c CONF ls PREFIX [PAGE]     ("KEY SIZE" per line, all pages)
 *
 * Exit: 0 ok, 1 not found, 2 exists (create), 75 temporary failure, 76 permanent failure,
 * 64 usage, 78 configuration refused by objstore_open.  On failure the
 * objstore_error() reason goes to stderr.  Other tests rely on this
 * interface: keep it stable.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fleet.h"
#include "log.h"
#include "objstore.h"

/* usage - print usage and exit 64 */
static void
usage(void)
{
	fprintf(stderr, "usage: objstore-cli -c CONF put KEY FILE [-m NAME=VALUE]... | "
	    "get KEY OUT | head KEY | del KEY | ls PREFIX [PAGE] | create KEY FILE | probe\n");
	exit(64);
}

/* cli_exit - exit code for a status, reason on stderr */
static int
cli_exit(struct objstore *o, enum objstore_status st)
{
	static const int codes[] = { 0, 1, 75, 76, 2 };

	if (st != OBJ_OK)
		fprintf(stderr, "objstore-cli: %s: %s\n", objstore_strstatus(st),
		    objstore_error(o));
	return codes[st];
}

/* cli_create - FILE (small: read whole) under KEY only if KEY is absent */
static enum objstore_status
cli_create(struct objstore *o, const char *key, const char *file)
{
	enum objstore_status	 st;
	char			 b[65536];
	ssize_t			 n;
	int			 fd;

	if ((fd = open(file, O_RDONLY)) == -1 || (n = read(fd, b, sizeof(b))) < 0) {
		perror(file);
		exit(66);
	}
	close(fd);
	st = objstore_create_buf(o, key, b, (size_t)n, NULL);
	return st;
}

/* cli_probe - the fleet's probe of conditional creates; its reason on failure */
static enum objstore_status
cli_probe(struct objstore *o, const struct config *cf)
{
	struct fleet		f;
	enum objstore_status	st;
	char			err[ERRSTR_MAX];

	if (fleet_init(&f, cf, o, err, sizeof(err)) == -1) {
		fprintf(stderr, "objstore-cli: %s\n", err);
		exit(78);
	}
	if ((st = fleet_probe_conditional(&f)) != OBJ_OK) {
		fprintf(stderr, "objstore-cli: %s: %s\n", objstore_strstatus(st), fleet_error(&f));
		exit(st == OBJ_PERMFAIL ? 76 : 75);
	}
	printf("conditional create honoured by %s\n", objstore_describe(o));
	return OBJ_OK;
}

/* print_key - ls output line */
static void
print_key(const char *key, const struct objinfo *info, void *arg)
{
	printf("%s %lld\n", key, (long long)info->size);
}

/* cli_put - put FILE under KEY with -m metadata */
static enum objstore_status
cli_put(struct objstore *o, int argc, char **argv)
{
	enum objstore_status	 st;
	struct objmeta		 m;
	struct stat		 sb;
	char			*eq;
	int			 fd, i;

	if (argc < 2)
		usage();
	objmeta_init(&m);
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-m") != 0 || i + 1 >= argc ||
		    (eq = strchr(argv[i + 1], '=')) == NULL)
			usage();
		*eq = '\0';
		if (objmeta_set(&m, argv[i + 1], eq + 1) == -1) {
			fprintf(stderr, "objstore-cli: bad metadata %s\n", argv[i + 1]);
			exit(64);
		}
		i++;
	}
	if ((fd = open(argv[1], O_RDONLY)) == -1 || fstat(fd, &sb) == -1) {
		perror(argv[1]);
		exit(66);
	}
	st = objstore_put_fd(o, argv[0], fd, sb.st_size, &m);
	close(fd);
	objmeta_free(&m);
	return st;
}

/* cli_head - print size, etag, mtime and metadata */
static enum objstore_status
cli_head(struct objstore *o, const char *key)
{
	enum objstore_status	st;
	struct objmeta		m;
	struct objinfo		info;
	size_t			i;

	if ((st = objstore_head(o, key, &m, &info)) != OBJ_OK)
		return st;
	printf("size %lld\netag %s\nmtime_ms %lld\n", (long long)info.size, info.etag,
	    (long long)info.mtime_ms);
	for (i = 0; i < m.n; i++)
		printf("meta %s %s\n", m.kv[i].name, m.kv[i].value);
	objmeta_free(&m);
	return OBJ_OK;
}

/* cli_ls - every page under prefix */
static enum objstore_status
cli_ls(struct objstore *o, const char *prefix, int page)
{
	enum objstore_status	st;
	char			tok[OBJSTORE_TOKEN_MAX] = "", next[OBJSTORE_TOKEN_MAX];

	do {
		if ((st = objstore_list(o, prefix, tok, page, print_key, NULL, next,
		    sizeof(next))) != OBJ_OK)
			return st;
		memcpy(tok, next, sizeof(tok));
	} while (*tok != '\0');
	return OBJ_OK;
}

/* main - parse, open the store, run one command */
int
main(int argc, char **argv)
{
	enum objstore_status	 st;
	struct objstore		*o;
	struct config		*cf;
	const char		*conf = NULL;
	char			 err[ERRSTR_MAX * 2];
	long long		 page = 1000;
	int			 fd;

	log_init("objstore-cli");
	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		conf = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	if ((cf = config_load(config_path_default(conf), err, sizeof(err))) == NULL) {
		fprintf(stderr, "objstore-cli: %s\n", err);
		return 78;
	}
	if ((o = objstore_open(cf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "objstore-cli: %s\n", err);
		config_free(cf);
		return 78;
	}
	if (strcmp(argv[1], "put") == 0)
		st = cli_put(o, argc - 2, argv + 2);
	else if (strcmp(argv[1], "get") == 0 && argc == 4) {
		fd = strcmp(argv[3], "-") == 0 ? STDOUT_FILENO :
		    open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd == -1) {
			perror(argv[3]);
			return 73;
		}
		st = objstore_get_fd(o, argv[2], fd, NULL, NULL);
		if (fd != STDOUT_FILENO)
			close(fd);
	} else if (strcmp(argv[1], "head") == 0 && argc == 3)
		st = cli_head(o, argv[2]);
	else if (strcmp(argv[1], "del") == 0 && argc == 3)
		st = objstore_delete(o, argv[2]);
	else if (strcmp(argv[1], "create") == 0 && argc == 4)
		st = cli_create(o, argv[2], argv[3]);
	else if (strcmp(argv[1], "probe") == 0 && argc == 2)
		st = cli_probe(o, cf);
	else if (strcmp(argv[1], "ls") == 0 && (argc == 3 || argc == 4)) {
		if (argc == 4 && config_parse_num(argv[3], 1, 1000, &page) == -1)
			usage();
		st = cli_ls(o, argv[2], (int)page);
	} else
		usage();
	fd = cli_exit(o, st);
	objstore_close(o);
	config_free(cf);
	return fd;
}
