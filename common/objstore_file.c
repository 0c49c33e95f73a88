/*
 * objstore_file.c - the object store in a directory tree (url file:///path).
 *
 * Object KEY is the file ROOT/KEY; its metadata (etag and user pairs) is the
 * sidecar ROOT/.meta/KEY, lines "etag HEX" and "meta NAME VALUE".  A put
 * writes a temp file ".tmp-XXXXXX" in the target directory, fsyncs it,
 * renames it over the key and fsyncs the directory (the sidecar first, then
 * the data, so a crash leaves at worst an orphan sidecar, never data with a
 * half-written one); new intermediate directories are fsync'd into their
 * parents.  A create (objstore_create_buf) link()s the synced temp file to the
 * key instead of renaming it: EEXIST is the "exists" answer.  Keys whose segments are empty or start with '.' are refused
 * (that excludes "..", ".meta" and temp files), so list never sees them.
 * list walks the tree depth first with each directory's entries sorted as
 * "name" for files and "name/" for directories: that is lexicographic key
 * order, so the token is simply the last key returned.
 * sweep removes the temp files a kill -9 left behind (only those not written
 * for longer than any put takes: another process may be writing one now).
 * Errors: ENOENT -> OBJ_NOTFOUND; ENOSPC, EIO and other transient errnos ->
 * OBJ_TEMPFAIL; the rest (EACCES, EROFS, ENOTDIR...) -> OBJ_PERMFAIL.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "config.h"
#include "fdio.h"
#include "objstore.h"
#include "objstore_impl.h"

#define FILE_COPY_BUF	(256 * 1024)
#define FILE_META_MAX	(OBJMETA_MAX * (OBJMETA_NAME_MAX + OBJMETA_VALUE_MAX + 8) + 128)

struct file_store {
	char	root[OBJKEY_MAX / 2];
};

/* file_errst - status for an errno */
static enum objstore_status
file_errst(int e)
{
	switch (e) {
	case ENOENT:
		return OBJ_NOTFOUND;
	case ENOSPC: case EDQUOT: case EIO: case EAGAIN: case ENOMEM: case EMFILE:
	case ENFILE: case EINTR: case EBUSY: case ETIMEDOUT: case ESTALE:
		return OBJ_TEMPFAIL;
	default:
		return OBJ_PERMFAIL;
	}
}

/* file_fail - record "op key: strerror" and return the errno's status */
static enum objstore_status
file_fail(struct objstore *o, int e, const char *op, const char *key)
{
	enum objstore_status st = file_errst(e);

	if (st == OBJ_NOTFOUND)
		st = OBJ_PERMFAIL;
	return objstore_fail(o, st, "file store %s %s: %s", op, key, strerror(e));
}

/* file_key_ok - segments non-empty and not starting with '.' */
static int
file_key_ok(const char *key)
{
	const char *p = key;

	for (;;) {
		if (*p == '/' || *p == '\0' || *p == '.')
			return 0;
		if ((p = strchr(p, '/')) == NULL)
			return 1;
		p++;
	}
}

/* file_path - ROOT/sub KEY into out; 0 or -1 too long */
static int
file_path(struct objstore *o, const char *sub, const char *key, char *out, size_t outlen)
{
	struct file_store	*f = o->be;
	int			 n;

	n = snprintf(out, outlen, "%s/%s%s", f->root, sub, key);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* file_fsync_dir - fsync the directory path (a new or renamed entry in it) */
static int
file_fsync_dir(const char *path)
{
	int fd, rc, e;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* file_mkdirs - create each missing directory of path's parent, fsync'ing its parent */
static int
file_mkdirs(char *path, size_t from)
{
	char *p;

	for (p = strchr(path + from, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0750) == 0) {
			char *s = strrchr(path, '/');

			*s = '\0';
			if (file_fsync_dir(*path ? path : "/") == -1) {
				*s = '/';
				*p = '/';
				return -1;
			}
			*s = '/';
		} else if (errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

/* file_dirname - copy path's directory into out */
static void
file_dirname(const char *path, char *out, size_t outlen)
{
	const char *s = strrchr(path, '/');

	snprintf(out, outlen, "%.*s", (int)(s - path), path);
}

/* file_tmp - create a temp file beside path; fd or -1 */
static int
file_tmp(const char *path, char *tmp, size_t tmplen)
{
	char dir[OBJKEY_MAX * 2];

	file_dirname(path, dir, sizeof(dir));
	if (snprintf(tmp, tmplen, "%s/.tmp-XXXXXX", dir) >= (int)tmplen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(tmp, O_CLOEXEC);
}

/* file_copy_in - src into fd, computing the MD5 etag (hex) */
static int
file_copy_in(const struct objstore_src *src, int fd, char *etag, size_t etaglen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	EVP_MD_CTX	*ctx;
	char		*b;
	off_t		 off = 0;
	ssize_t		 r;
	int		 rc = -1;

	if ((b = malloc(FILE_COPY_BUF)) == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		free(b);
		errno = ENOMEM;
		return -1;
	}
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	while (off < src->size) {
		if ((r = objstore_src_read(src, off, b, FILE_COPY_BUF)) <= 0) {
			if (r == 0)
				errno = EIO;	/* source shorter than announced */
			goto out;
		}
		EVP_DigestUpdate(ctx, b, r);
		if (fdio_write_all(fd, b, r) == -1)
			goto out;
		off += r;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (i = 0; i < mdlen && 2 * i + 2 < etaglen; i++)
		snprintf(etag + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	free(b);
	return rc;
}

/* file_write_tmp - a synced temp file beside path holding src or text; fd closed */
static int
file_write_tmp(const char *path, const struct objstore_src *src, const struct buf *text,
    char *etag, size_t etaglen, char *tmp, size_t tmplen)
{
	int fd, e;

	if ((fd = file_tmp(path, tmp, tmplen)) == -1)
		return -1;
	if ((src != NULL ? file_copy_in(src, fd, etag, etaglen) :
	    fdio_write_all(fd, text->data, text->len)) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) == -1) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return 0;
}

/* file_rename - tmp over path, then fsync path's directory */
static int
file_rename(const char *tmp, const char *path)
{
	char dir[OBJKEY_MAX * 2];

	if (rename(tmp, path) == -1)
		return -1;
	file_dirname(path, dir, sizeof(dir));
	return file_fsync_dir(dir);
}

/* file_paths - check key, make path and its sidecar path and their directories */
static enum objstore_status
file_paths(struct objstore *o, const char *key, char *path, char *mpath, size_t len)
{
	struct file_store *f = o->be;
	size_t		   rlen = strlen(f->root);

	if (!file_key_ok(key))
		return objstore_fail(o, OBJ_PERMFAIL, "file store: invalid key %s (empty segment "
		    "or segment starting with '.')", key);
	if (file_path(o, "", key, path, len) == -1 ||
	    file_path(o, ".meta/", key, mpath, len) == -1)
		return objstore_fail(o, OBJ_PERMFAIL, "file store: key too long: %s", key);
	if (file_mkdirs(path, rlen + 1) == -1 || file_mkdirs(mpath, rlen + 1) == -1)
		return file_fail(o, errno, "mkdir for", key);
	return OBJ_OK;
}

/* file_meta_tmp - a synced temp sidecar beside mpath (etag, meta) into mtmp */
static enum objstore_status
file_meta_tmp(struct objstore *o, const char *key, const char *mpath, const char *etag,
    const struct objmeta *meta, char *mtmp, size_t mtmplen)
{
	struct buf	text;
	size_t		i;
	int		e;

	buf_init(&text, FILE_META_MAX);
	buf_printf(&text, "etag %s\n", etag);
	for (i = 0; meta != NULL && i < meta->n; i++)
		if (buf_printf(&text, "meta %s %s\n", meta->kv[i].name, meta->kv[i].value) == -1) {
			buf_free(&text);
			return objstore_fail(o, OBJ_PERMFAIL, "file store put %s: metadata too "
			    "large", key);
		}
	if (file_write_tmp(mpath, NULL, &text, NULL, 0, mtmp, mtmplen) == -1) {
		e = errno;
		buf_free(&text);
		return file_fail(o, e, "write metadata for", key);
	}
	buf_free(&text);
	return OBJ_OK;
}

/* file_put - temp files, fsync, rename sidecar then data, fsync directories */
static enum objstore_status
file_put(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta)
{
	char			 path[OBJKEY_MAX * 2], mpath[OBJKEY_MAX * 2];
	char			 tmp[OBJKEY_MAX * 2 + 16], mtmp[OBJKEY_MAX * 2 + 16], etag[40] = "";
	enum objstore_status	 st;
	int			 e;

	if ((st = file_paths(o, key, path, mpath, sizeof(path))) != OBJ_OK)
		return st;
	if (file_write_tmp(path, src, NULL, etag, sizeof(etag), tmp, sizeof(tmp)) == -1)
		return file_fail(o, errno, "write", key);
	if ((st = file_meta_tmp(o, key, mpath, etag, meta, mtmp, sizeof(mtmp))) != OBJ_OK) {
		unlink(tmp);
		return st;
	}
	if (file_rename(mtmp, mpath) == -1) {
		e = errno;
		unlink(mtmp);
		unlink(tmp);
		return file_fail(o, e, "rename metadata for", key);
	}
	if (file_rename(tmp, path) == -1) {
		e = errno;
		unlink(tmp);
		return file_fail(o, e, "rename", key);
	}
	return OBJ_OK;
}

/*
 * file_create - the synced temp file is link()ed to the key: link fails with
 * EEXIST when the key exists, atomically, which rename would not.  The
 * sidecar follows the data (a loser must not replace the winner's); a crash
 * between them leaves data without a sidecar, which reads as no metadata.
 */
static enum objstore_status
file_create(struct objstore *o, const char *key, const struct objstore_src *src,
    const struct objmeta *meta)
{
	char			 path[OBJKEY_MAX * 2], mpath[OBJKEY_MAX * 2], dir[OBJKEY_MAX * 2];
	char			 tmp[OBJKEY_MAX * 2 + 16], mtmp[OBJKEY_MAX * 2 + 16], etag[40] = "";
	enum objstore_status	 st;
	int			 e, rc;

	if ((st = file_paths(o, key, path, mpath, sizeof(path))) != OBJ_OK)
		return st;
	if (file_write_tmp(path, src, NULL, etag, sizeof(etag), tmp, sizeof(tmp)) == -1)
		return file_fail(o, errno, "write", key);
	rc = link(tmp, path);
	e = errno;
	unlink(tmp);
	if (rc == -1 && e == EEXIST)
		return objstore_fail(o, OBJ_EXISTS, "file store create %s: exists", key);
	if (rc == -1)
		return file_fail(o, e, "link", key);
	file_dirname(path, dir, sizeof(dir));
	if (file_fsync_dir(dir) == -1)
		return file_fail(o, errno, "fsync directory of", key);
	if ((st = file_meta_tmp(o, key, mpath, etag, meta, mtmp, sizeof(mtmp))) != OBJ_OK)
		return st;
	if (file_rename(mtmp, mpath) == -1) {
		e = errno;
		unlink(mtmp);
		return file_fail(o, e, "rename metadata for", key);
	}
	return OBJ_OK;
}

/* file_meta_read - parse KEY's sidecar into meta/info (a missing sidecar is empty) */
static enum objstore_status
file_meta_read(struct objstore *o, const char *key, struct objmeta *meta, struct objinfo *info)
{
	char	 mpath[OBJKEY_MAX * 2], *b, *line, *nl, *sp;
	ssize_t	 r;
	int	 fd;

	if (file_path(o, ".meta/", key, mpath, sizeof(mpath)) == -1)
		return objstore_fail(o, OBJ_PERMFAIL, "file store: key too long: %s", key);
	if ((fd = open(mpath, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? OBJ_OK :
		    file_fail(o, errno, "open metadata of", key);
	if ((b = malloc(FILE_META_MAX + 1)) == NULL) {
		close(fd);
		return objstore_fail(o, OBJ_TEMPFAIL, "out of memory");
	}
	r = read(fd, b, FILE_META_MAX);
	close(fd);
	if (r < 0) {
		free(b);
		return file_fail(o, errno, "read metadata of", key);
	}
	b[r] = '\0';
	for (line = b; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (strncmp(line, "etag ", 5) == 0 && info != NULL)
			snprintf(info->etag, sizeof(info->etag), "%s", line + 5);
		else if (strncmp(line, "meta ", 5) == 0 && meta != NULL &&
		    (sp = strchr(line + 5, ' ')) != NULL) {
			*sp = '\0';
			if (objmeta_set(meta, line + 5, sp + 1) == -1) {
				free(b);
				return objstore_fail(o, OBJ_PERMFAIL, "file store: bad metadata "
				    "file for %s", key);
			}
		}
	}
	free(b);
	return OBJ_OK;
}

/* file_open_obj - open KEY for reading and fill info; NOTFOUND for anything not a file */
static enum objstore_status
file_open_obj(struct objstore *o, const char *key, int *fdp, struct objinfo *info)
{
	char		path[OBJKEY_MAX * 2];
	struct stat	st;
	int		fd;

	if (!file_key_ok(key) || file_path(o, "", key, path, sizeof(path)) == -1)
		return objstore_fail(o, OBJ_NOTFOUND, "file store: no such key %s", key);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return objstore_fail(o, OBJ_NOTFOUND, "file store: no such key %s", key);
		return file_fail(o, errno, "open", key);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		return objstore_fail(o, OBJ_NOTFOUND, "file store: no such key %s", key);
	}
	if (info != NULL) {
		info->size = st.st_size;
		info->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	}
	*fdp = fd;
	return OBJ_OK;
}

/* file_head - size and mtime from stat, etag and pairs from the sidecar */
static enum objstore_status
file_head(struct objstore *o, const char *key, struct objmeta *meta, struct objinfo *info)
{
	enum objstore_status	st;
	int			fd;

	if ((st = file_open_obj(o, key, &fd, info)) != OBJ_OK)
		return st;
	close(fd);
	if ((st = file_meta_read(o, key, meta, info)) != OBJ_OK && meta != NULL)
		objmeta_free(meta);
	return st;
}

/* file_get - copy the file to out, with its metadata */
static enum objstore_status
file_get(struct objstore *o, const char *key, int out, struct objmeta *meta,
    struct objinfo *info)
{
	enum objstore_status	 st;
	char			*b;
	ssize_t			 r;
	int			 fd;

	if ((st = file_open_obj(o, key, &fd, info)) != OBJ_OK)
		return st;
	if ((st = file_meta_read(o, key, meta, info)) != OBJ_OK)
		goto out;
	if ((b = malloc(FILE_COPY_BUF)) == NULL) {
		st = objstore_fail(o, OBJ_TEMPFAIL, "out of memory");
		goto out;
	}
	while ((r = read(fd, b, FILE_COPY_BUF)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			st = file_fail(o, errno, "read", key);
			break;
		}
		if (fdio_write_all(out, b, r) == -1) {
			st = objstore_fail(o, OBJ_TEMPFAIL, "file store get %s: writing output: %s",
			    key, strerror(errno));
			break;
		}
	}
	free(b);
out:
	close(fd);
	if (st != OBJ_OK && meta != NULL)
		objmeta_free(meta);
	return st;
}

/* file_del - unlink data (then fsync its directory) and sidecar; missing is fine */
static enum objstore_status
file_del(struct objstore *o, const char *key)
{
	char path[OBJKEY_MAX * 2], mpath[OBJKEY_MAX * 2], dir[OBJKEY_MAX * 2];

	if (!file_key_ok(key))
		return OBJ_OK;		/* could never have been stored */
	if (file_path(o, "", key, path, sizeof(path)) == -1 ||
	    file_path(o, ".meta/", key, mpath, sizeof(mpath)) == -1)
		return OBJ_OK;
	if (unlink(path) == -1 && errno != ENOENT && errno != ENOTDIR)
		return file_fail(o, errno, "delete", key);
	file_dirname(path, dir, sizeof(dir));
	if (file_fsync_dir(dir) == -1 && errno != ENOENT && errno != ENOTDIR)
		return file_fail(o, errno, "fsync directory of", key);
	if (unlink(mpath) == -1 && errno != ENOENT && errno != ENOTDIR)
		return file_fail(o, errno, "delete metadata of", key);
	return OBJ_OK;
}

/* list state: see the file header for the order argument */
struct file_walk {
	struct objstore	 *o;
	const char	 *prefix, *token;
	int		  max, count, more;
	void		(*fn)(const char *, const struct objinfo *, void *);
	void		 *arg;
	char		  last[OBJKEY_MAX];
	enum objstore_status st;
};

struct file_ent {
	char	*name;		/* "x" or "x/" */
	int	 isdir;
};

/* file_ent_cmp - qsort order of names (directories carry their "/") */
static int
file_ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct file_ent *)a)->name, ((const struct file_ent *)b)->name);
}

/* file_startswith - 1 if s begins with p */
static int
file_startswith(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* file_readdir - the visible entries of dir, sorted; count or -1 (errno) */
static int
file_readdir(const char *dir, struct file_ent **out)
{
	struct file_ent	*v = NULL, *nv;
	struct dirent	*d;
	struct stat	 st;
	size_t		 n = 0, cap = 0;
	DIR		*dp;
	int		 isdir;

	if ((dp = opendir(dir)) == NULL)
		return -1;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (d->d_type == DT_UNKNOWN || d->d_type == DT_LNK) {
			if (fstatat(dirfd(dp), d->d_name, &st, 0) == -1)
				continue;
			isdir = S_ISDIR(st.st_mode);
		} else
			isdir = d->d_type == DT_DIR;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL)
				goto oom;
			v = nv;
		}
		if (asprintf(&v[n].name, "%s%s", d->d_name, isdir ? "/" : "") == -1)
			goto oom;
		v[n++].isdir = isdir;
	}
	closedir(dp);
	if (n > 0)
		qsort(v, n, sizeof(*v), file_ent_cmp);
	*out = v;
	return n;
oom:
	while (n > 0)
		free(v[--n].name);
	free(v);
	closedir(dp);
	errno = ENOMEM;
	return -1;
}

/* file_walk_dir - visit rel ("" or "a/b/") in key order; 0 go on, 1 stop */
static int
file_walk_dir(struct file_walk *w, const char *rel)
{
	struct file_store	*f = w->o->be;
	struct file_ent		*v;
	struct objinfo		 info;
	struct stat		 st;
	char			 dir[OBJKEY_MAX * 2], key[OBJKEY_MAX * 2];
	int			 i, n, stop = 0;

	snprintf(dir, sizeof(dir), "%s/%s", f->root, rel);
	if ((n = file_readdir(dir, &v)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		w->st = file_fail(w->o, errno, "list", rel);
		return 1;
	}
	for (i = 0; i < n && !stop; i++) {
		if (snprintf(key, sizeof(key), "%s%s", rel, v[i].name) >= OBJKEY_MAX)
			continue;
		if (v[i].isdir) {
			if (!file_startswith(key, w->prefix) && !file_startswith(w->prefix, key))
				continue;
			/* the whole subtree sorts before the token */
			if (*w->token && strcmp(key, w->token) < 0 &&
			    !file_startswith(w->token, key))
				continue;
			stop = file_walk_dir(w, key);
			continue;
		}
		if (!file_startswith(key, w->prefix) || strcmp(key, w->token) <= 0)
			continue;
		if (w->count == w->max) {
			w->more = 1;
			stop = 1;
			break;
		}
		memset(&info, 0, sizeof(info));
		if (snprintf(dir, sizeof(dir), "%s/%s", f->root, key) < (int)sizeof(dir) &&
		    stat(dir, &st) == 0) {
			info.size = st.st_size;
			info.mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
			    st.st_mtim.tv_nsec / 1000000;
		}
		w->fn(key, &info, w->arg);
		w->count++;
		if (snprintf(w->last, sizeof(w->last), "%s", key) >= (int)sizeof(w->last))
			w->last[0] = '\0';	/* cannot happen: key < OBJKEY_MAX */
	}
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	return stop;
}

/* file_list - one page: walk from the deepest directory the prefix names */
static enum objstore_status
file_list(struct objstore *o, const char *prefix, const char *token, int max_keys,
    void (*fn)(const char *, const struct objinfo *, void *), void *arg, char *next,
    size_t nextlen)
{
	struct file_walk	 w;
	char			 rel[OBJKEY_MAX];
	const char		*s = strrchr(prefix, '/');

	memset(&w, 0, sizeof(w));
	w.o = o;
	w.prefix = prefix;
	w.token = token;
	w.max = max_keys;
	w.fn = fn;
	w.arg = arg;
	w.st = OBJ_OK;
	/* start in the deepest directory the prefix names */
	snprintf(rel, sizeof(rel), "%.*s", s != NULL ? (int)(s - prefix + 1) : 0, prefix);
	if (*rel == '/' || strstr(rel, "/.") != NULL || *rel == '.' || strstr(rel, "//"))
		return OBJ_OK;		/* no key can have that prefix */
	file_walk_dir(&w, rel);
	if (w.st != OBJ_OK)
		return w.st;
	if (w.more)
		snprintf(next, nextlen, "%s", w.last);
	return OBJ_OK;
}

/* file_sweep_dir - remove ".tmp-*" files last written before before_ms under dir */
static int
file_sweep_dir(const char *dir, int64_t before_ms, int64_t *removed)
{
	struct dirent	*d;
	struct stat	 st;
	char		 sub[OBJKEY_MAX * 2];
	DIR		*dp;
	int		 rc = 0;

	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	while ((d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    fstatat(dirfd(dp), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name) < (int)sizeof(sub) &&
			    file_sweep_dir(sub, before_ms, removed) == -1)
				rc = -1;
			continue;
		}
		if (!S_ISREG(st.st_mode) || strncmp(d->d_name, ".tmp-", 5) != 0 ||
		    (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000 >= before_ms)
			continue;
		if (unlinkat(dirfd(dp), d->d_name, 0) == 0)
			(*removed)++;
		else if (errno != ENOENT)
			rc = -1;
	}
	closedir(dp);
	return rc;
}

/*
 * file_sweep - stale temp files of interrupted puts, in the deepest directory
 * the prefix names and its sidecar twin under .meta (all of the store for "").
 */
static enum objstore_status
file_sweep(struct objstore *o, const char *prefix, int64_t before_ms, int64_t *removed)
{
	struct file_store	*f = o->be;
	const char		*s = strrchr(prefix, '/');
	char			 rel[OBJKEY_MAX], dir[OBJKEY_MAX * 2];
	int			 rc;

	snprintf(rel, sizeof(rel), "%.*s", s != NULL ? (int)(s - prefix + 1) : 0, prefix);
	if (*rel == '.' || strstr(rel, "/.") != NULL)
		return OBJ_OK;			/* no key lives there */
	snprintf(dir, sizeof(dir), "%s/%s", f->root, rel);
	rc = file_sweep_dir(dir, before_ms, removed);
	if (*rel != '\0') {			/* "" covered .meta already */
		snprintf(dir, sizeof(dir), "%s/.meta/%s", f->root, rel);
		if (file_sweep_dir(dir, before_ms, removed) == -1)
			rc = -1;
	}
	return rc == -1 ? file_fail(o, errno, "sweep", prefix) : OBJ_OK;
}

/* file_close - free the backend state */
static void
file_close(struct objstore *o)
{
	free(o->be);
}

static const struct objstore_ops file_ops = {
	file_put, file_get, file_head, file_del, file_list, file_close, file_sweep, file_create,
};

/* objstore_file_init - parse file:///path, create the root and .meta */
int
objstore_file_init(struct objstore *o, const struct config *cf, const char *url, char *err,
    size_t errlen)
{
	struct file_store	*f;
	const char		*path = url + 7;
	char			 tmp[OBJKEY_MAX + 8];
	size_t			 n;

	if (*path != '/' || (n = strlen(path)) >= OBJKEY_MAX / 2 || n < 2) {
		snprintf(err, errlen, "%s: [storage] url = \"%s\": want file:///absolute/path",
		    config_path(cf), url);
		return -1;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	snprintf(f->root, sizeof(f->root), "%s", path);
	while (n > 1 && f->root[n - 1] == '/')
		f->root[--n] = '\0';
	/* create the root (and .meta) now so that a bad path is a start-up error */
	if (snprintf(tmp, sizeof(tmp), "%s/.meta/", f->root) >= (int)sizeof(tmp) ||
	    file_mkdirs(tmp, 1) == -1) {
		snprintf(err, errlen, "%s: [storage] url: cannot create %s: %s", config_path(cf),
		    tmp, strerror(errno));
		free(f);
		return -1;
	}
	o->be = f;
	o->ops = &file_ops;
	snprintf(o->desc, sizeof(o->desc), "file://%s", f->root);
	return 0;
}
