/*
 * spool.c - the local fallback spool for messages the object store refused.
 *
 * Entry points: spool_open/close, spool_put, spool_remove, spool_usage,
 * spool_room, spool_foreach, spool_read_file, spool_copy_fd.
 * Layout: <dir>/<id>.eml and <id>.env.json, written as <dir>/.tmp.* first,
 * fsync'd, renamed and the directory fsync'd, so a name that exists is
 * complete.  The envelope is written before the message: an .eml in the spool
 * always has its envelope beside it.  Temporary files left by a crash are
 * removed at open once SPOOL_TMP_STALE old (another process may be writing).  Usage (bytes, count) is scanned from the directory, so
 * several processes sharing it agree; the scan is cached for a second, in
 * one cache per directory shared by all handles of the process (during an
 * object store outage every commit worker spools: one scan a second, not one
 * per worker, of a directory that holds thousands of messages).
 * Errors: SPOOL_NOSPACE over [spool] max_size, below the file system reserve
 * (SPOOL_FS_RESERVE) or on ENOSPC/EDQUOT, the reason saying which; SPOOL_FAIL
 * with a reason for other I/O errors.  Nothing is logged here.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "msgid.h"
#include "spool.h"

#define SPOOL_SCAN_CACHE_MS	1000
/* keep this much free on the file system for the index and logs */
#define SPOOL_FS_RESERVE	(16LL * 1024 * 1024)

/* spool_usage_cache - bytes and messages of one directory, shared in the process */
struct spool_usage_cache {
	struct spool_usage_cache *next;
	char	dir[CONFIG_PATH_MAX + 1];
	int	refs;
	int64_t	bytes;
	int64_t	count;
	int64_t	scanned_ms;	/* 0: never */
};

/* spool_caches - every cache of the process; spool_lock guards the list and the counts */
static pthread_mutex_t			 spool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct spool_usage_cache		*spool_caches;

struct spool {
	char				 dir[CONFIG_PATH_MAX + 1];
	int64_t				 max_size;
	struct spool_usage_cache	*u;
};

/* spool_cache_get - the cache of dir, created on first use; NULL if out of memory */
static struct spool_usage_cache *
spool_cache_get(const char *dir)
{
	struct spool_usage_cache *u;

	pthread_mutex_lock(&spool_lock);
	for (u = spool_caches; u != NULL; u = u->next)
		if (strcmp(u->dir, dir) == 0)
			break;
	if (u == NULL && (u = calloc(1, sizeof(*u))) != NULL) {
		snprintf(u->dir, sizeof(u->dir), "%s", dir);
		u->next = spool_caches;
		spool_caches = u;
	}
	if (u != NULL)
		u->refs++;
	pthread_mutex_unlock(&spool_lock);
	return u;
}

/* spool_cache_put - drop a reference; the last one frees the cache */
static void
spool_cache_put(struct spool_usage_cache *u)
{
	struct spool_usage_cache **pp;

	pthread_mutex_lock(&spool_lock);
	if (--u->refs == 0) {
		for (pp = &spool_caches; *pp != u; pp = &(*pp)->next)
			;
		*pp = u->next;
		free(u);
	}
	pthread_mutex_unlock(&spool_lock);
}

/* spool_account - count a message added (n = 1) or removed (n = -1) */
static void
spool_account(struct spool *sp, int64_t size, int n)
{
	pthread_mutex_lock(&spool_lock);
	sp->u->bytes += n * size;
	sp->u->count += n;
	pthread_mutex_unlock(&spool_lock);
}

/*
 * spool_clean_tmp - remove temporaries left by a crash in the middle of
 * spool_put.  Every process and handle that shares the spool opens it (the
 * ingest's commit workers, serve, the CLI, `check`): a temporary written in
 * the last SPOOL_TMP_STALE seconds may be another's put in progress, so only
 * older ones go.
 */
static void
spool_clean_tmp(struct spool *sp)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	time_t		 before = time(NULL) - SPOOL_TMP_STALE;

	if ((d = opendir(sp->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".tmp.", 5) == 0 &&
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    sb.st_mtime < before)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* spool_open - the spool at dir, created (0700) if missing */
struct spool *
spool_open(const char *dir, int64_t max_size, char *err, size_t errlen)
{
	struct spool	*sp;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: mkdir: %s", dir, strerror(errno));
		return NULL;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		return NULL;
	}
	if ((sp = calloc(1, sizeof(*sp))) == NULL) {
		snprintf(err, errlen, "spool: out of memory");
		return NULL;
	}
	if ((size_t)snprintf(sp->dir, sizeof(sp->dir), "%s", dir) >= sizeof(sp->dir)) {
		snprintf(err, errlen, "spool %s: path too long", dir);
		free(sp);
		return NULL;
	}
	sp->max_size = max_size;
	if ((sp->u = spool_cache_get(sp->dir)) == NULL) {
		snprintf(err, errlen, "spool: out of memory");
		free(sp);
		return NULL;
	}
	spool_clean_tmp(sp);
	return sp;
}

void
spool_close(struct spool *sp)
{
	spool_cache_put(sp->u);
	free(sp);
}

const char *
spool_dir(const struct spool *sp)
{
	return sp->dir;
}

int
spool_path(const struct spool *sp, const char *id, const char *suffix, char *out, size_t outlen)
{
	int	n = snprintf(out, outlen, "%s/%s%s", sp->dir, id, suffix);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* spool_fsync_dir - make renames and unlinks in the directory durable */
static int
spool_fsync_dir(const struct spool *sp)
{
	int	fd, rc;

	if ((fd = open(sp->dir, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* spool_copy_fd - copy size bytes of in (from offset 0) to out */
int
spool_copy_fd(int in, int out, off_t size)
{
	char	buf[65536];
	off_t	off = 0;
	ssize_t	n;

	while (off < size) {
		n = pread(in, buf, size - off < (off_t)sizeof(buf) ? (size_t)(size - off) :
		    sizeof(buf), off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* shorter than announced */
			return -1;
		}
		if (fdio_write_all(out, buf, n) == -1)
			return -1;
		off += n;
	}
	return 0;
}

/* spool_write_tmp - a new temp file holding either fd's bytes or buf; path into tmp */
static int
spool_write_tmp(struct spool *sp, const char *id, int in, off_t size, const char *buf,
    char *tmp, size_t tmplen)
{
	int	fd, saved;

	snprintf(tmp, tmplen, "%s/.tmp.%s.XXXXXX", sp->dir, id);
	if ((fd = mkstemp(tmp)) == -1)
		return -1;
	if (buf == NULL && spool_copy_fd(in, fd, size) == -1)
		goto fail;
	if (buf != NULL && fdio_write_all(fd, buf, strlen(buf)) == -1)
		goto fail;
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* spool_put - envelope first, then the message, each temp+fsync+rename, then fsync dir */
enum spool_status
spool_put(struct spool *sp, const char *id, int fd, off_t size, const char *json, char *err,
    size_t errlen)
{
	char	tenv[SPOOL_PATH_MAX], tmsg[SPOOL_PATH_MAX], penv[SPOOL_PATH_MAX],
		pmsg[SPOOL_PATH_MAX];

	if (!spool_room(sp, (int64_t)size + (int64_t)strlen(json), err, errlen))
		return SPOOL_NOSPACE;
	if (spool_path(sp, id, ".env.json", penv, sizeof(penv)) == -1 ||
	    spool_path(sp, id, ".eml", pmsg, sizeof(pmsg)) == -1) {
		snprintf(err, errlen, "spool %s: path too long", sp->dir);
		return SPOOL_FAIL;
	}
	if (spool_write_tmp(sp, id, -1, 0, json, tenv, sizeof(tenv)) == -1)
		goto fail;
	if (rename(tenv, penv) == -1) {
		unlink(tenv);
		goto fail;
	}
	if (spool_write_tmp(sp, id, fd, size, NULL, tmsg, sizeof(tmsg)) == -1)
		goto fail_env;
	if (rename(tmsg, pmsg) == -1) {
		unlink(tmsg);
		goto fail_env;
	}
	if (spool_fsync_dir(sp) == -1) {
		unlink(pmsg);
		goto fail_env;
	}
	spool_account(sp, size, 1);
	return SPOOL_OK;
fail_env:
	{
		int saved = errno;

		unlink(penv);
		errno = saved;
	}
fail:
	if (errno == ENOSPC || errno == EDQUOT) {
		snprintf(err, errlen, "spool %s: file system full (%s) writing %s", sp->dir,
		    strerror(errno), id);
		return SPOOL_NOSPACE;
	}
	snprintf(err, errlen, "spool %s: write %s: %s", sp->dir, id, strerror(errno));
	return SPOOL_FAIL;
}

/* spool_remove - after upload: the message, then its envelope */
void
spool_remove(struct spool *sp, const char *id)
{
	char		p[SPOOL_PATH_MAX];
	struct stat	sb;

	if (spool_path(sp, id, ".eml", p, sizeof(p)) == 0) {
		if (stat(p, &sb) == 0 && unlink(p) == 0)
			spool_account(sp, sb.st_size, -1);
	}
	if (spool_path(sp, id, ".env.json", p, sizeof(p)) == 0)
		unlink(p);
	spool_fsync_dir(sp);
}

/* spool_scan - recount the directory (spool_lock held) */
static void
spool_scan(struct spool *sp)
{
	struct spool_usage_cache *u = sp->u;
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	size_t		 len;

	u->bytes = u->count = 0;
	u->scanned_ms = now_ms();
	if ((d = opendir(sp->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0 || de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, 0) == 0) {
			u->bytes += sb.st_size;
			u->count++;
		}
	}
	closedir(d);
}

void
spool_usage(struct spool *sp, int64_t *bytes, int64_t *count)
{
	pthread_mutex_lock(&spool_lock);
	if (sp->u->scanned_ms == 0 || now_ms() - sp->u->scanned_ms > SPOOL_SCAN_CACHE_MS)
		spool_scan(sp);
	if (bytes)
		*bytes = sp->u->bytes;
	if (count)
		*count = sp->u->count;
	pthread_mutex_unlock(&spool_lock);
}

/* spool_room - under max_size and leaving SPOOL_FS_RESERVE free; why names the limit */
int
spool_room(struct spool *sp, int64_t size, char *why, size_t whylen)
{
	struct statvfs	vfs;
	int64_t		bytes, avail;

	spool_usage(sp, &bytes, NULL);
	if (bytes + size > sp->max_size) {
		if (why != NULL)
			snprintf(why, whylen, "spool %s full (max_size %lld, holds %lld)", sp->dir,
			    (long long)sp->max_size, (long long)bytes);
		return 0;
	}
	if (statvfs(sp->dir, &vfs) == 0 &&
	    (avail = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize) < size + SPOOL_FS_RESERVE) {
		if (why != NULL)
			snprintf(why, whylen, "spool %s: file system free space %lld below the "
			    "reserve (%lld) kept for the index and logs", sp->dir,
			    (long long)avail, (long long)SPOOL_FS_RESERVE);
		return 0;
	}
	return 1;
}

/* spool_foreach - each complete message file, with its mtime */
int
spool_foreach(struct spool *sp, int (*fn)(const char *, int64_t, void *), void *arg)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 id[MSGID_MAX];
	int		 n = 0;

	if ((d = opendir(sp->dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    msgid_from_key(de->d_name, ".eml", id, sizeof(id)) == -1)
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, 0) == -1)
			continue;
		n++;
		if (fn(id, (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000,
		    arg) != 0)
			break;
	}
	closedir(d);
	return n;
}

/* spool_read_file - a whole small file, NUL-terminated */
char *
spool_read_file(const char *path, size_t max, size_t *lenp)
{
	char	*s;
	int	 fd;
	ssize_t	 n;
	size_t	 len = 0;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	if ((s = malloc(max + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < max && (n = read(fd, s + len, max - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(s);
			close(fd);
			return NULL;
		}
		len += n;
	}
	close(fd);
	s[len] = '\0';
	if (lenp)
		*lenp = len;
	return s;
}
