/*
 * objstore_impl.h - private to the object store: the backend table and the
 * helpers objstore.c shares with objstore_file.c and objstore_s3*.c.
 *
 * objstore.c owns struct objstore, validates arguments, then calls the
 * backend through struct objstore_ops.  A backend reports a failure with
 * objstore_fail(), which records the one-line reason and returns the status.
 * A put reads its bytes through struct objstore_src (an fd read with pread,
 * or a buffer), so both kinds of put share one code path.
 */
#ifndef MXS_OBJSTORE_IMPL_H
#define MXS_OBJSTORE_IMPL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "objstore.h"

struct config;

/* objstore_src - the bytes of a put: fd (read with pread from 0) or buf */
struct objstore_src {
	int		 fd;		/* -1 when buf is used */
	const char	*buf;
	off_t		 size;
};

struct objstore_ops {
	enum objstore_status (*put)(struct objstore *, const char *key,
	    const struct objstore_src *, const struct objmeta *);
	enum objstore_status (*get)(struct objstore *, const char *key, int fd,
	    struct objmeta *, struct objinfo *);
	enum objstore_status (*head)(struct objstore *, const char *key, struct objmeta *,
	    struct objinfo *);
	enum objstore_status (*del)(struct objstore *, const char *key);
	enum objstore_status (*list)(struct objstore *, const char *prefix, const char *token,
	    int max_keys, void (*fn)(const char *, const struct objinfo *, void *), void *arg,
	    char *next, size_t nextlen);
	void (*close)(struct objstore *);
	/* NULL: the backend leaves no partial writes behind (S3 puts are atomic) */
	enum objstore_status (*sweep)(struct objstore *, const char *prefix, int64_t before_ms,
	    int64_t *removed);
	/* create only if absent: OBJ_EXISTS when the key is there (objstore_create_buf) */
	enum objstore_status (*create)(struct objstore *, const char *key,
	    const struct objstore_src *, const struct objmeta *);
};

struct objstore {
	const struct objstore_ops	*ops;
	void				*be;		/* backend state */
	char				 desc[OBJKEY_MAX];
	char				 err[ERRSTR_MAX];
	int64_t				 deadline_ms;	/* mono_ms(); 0: none */
};
/* objstore_left_ms - ms left before the handle's deadline; INT64_MAX without one */
int64_t		 objstore_left_ms(const struct objstore *);

/* objstore_fail - record a reason on the handle and return st */
enum objstore_status objstore_fail(struct objstore *, enum objstore_status st,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* objstore_src_read - up to n bytes at off into p; bytes read, 0 at end, -1 on error (errno) */
ssize_t		 objstore_src_read(const struct objstore_src *, off_t off, void *p, size_t n);

/* backends: set o->ops, o->be and o->desc; 0 ok, -1 with err */
int	objstore_file_init(struct objstore *, const struct config *, const char *url,
	    char *err, size_t errlen);
int	objstore_s3_init(struct objstore *, const struct config *, const char *url,
	    char *err, size_t errlen);

/*
 * objstore_s3_url - the request URL for key (may be "" for the bucket) and an
 * already sorted and encoded query (may be "") on endpoint (scheme://host[:port]
 * [/path]); path_style 1: endpoint/bucket/key, 0: scheme://bucket.host/key.
 * The key is percent-encoded except [A-Za-z0-9/._~-].  0 ok, -1 too long/bad.
 */
int	objstore_s3_url(const char *endpoint, const char *bucket, int path_style,
	    const char *key, const char *query, char *out, size_t outlen);
/* objstore_s3_encode - AWS URI-encode s (slash kept when keep_slash); 0 or -1 */
int	objstore_s3_encode(const char *s, int keep_slash, char *out, size_t outlen);

/*
 * XML, minimally: objstore_s3_xml_tag finds the first <tag>text</tag> in
 * [p, end), decodes the five entities and &#N; into out; returns a pointer
 * after the closing tag, or NULL when absent or too long for out.
 */
const char	*objstore_s3_xml_tag(const char *p, const char *end, const char *tag,
		    char *out, size_t outlen);
/* objstore_s3_xml_block - the next <tag>...</tag> in [p, end) as [*bs, *be); NULL if none */
const char	*objstore_s3_xml_block(const char *p, const char *end, const char *tag,
		    const char **bs, const char **be);

/*
 * S3 internals, shared by objstore_s3.c (configuration, the request engine,
 * status classification) and objstore_s3_ops.c (the operations).
 */
#include <curl/curl.h>
#include "buf.h"

struct s3_store {
	CURL		*curl;			/* one easy handle: keeps the connection */
	char		 endpoint[OBJKEY_MAX];	/* scheme://host[:port][/path], no final '/' */
	char		 bucket[64];
	char		 region[64];
	char		 sigv4[96];		/* "aws:amz:REGION:s3" */
	char		*access_key, *secret_key;	/* never logged nor put in errors */
	char		*ca_file;
	int		 path_style;
	long		 connect_timeout, timeout;	/* seconds */
	int		 retries;
	off_t		 mp_threshold, part_size;
	long long	 max_send_speed;	/* bytes/s, 0 = unlimited */
	int		 bucket_ok;		/* the bucket was seen to exist */
	unsigned int	 seed;			/* backoff jitter */
};

/* s3_req - one HTTP request and its response */
struct s3_req {
	const char		*method;	/* GET HEAD PUT POST DELETE */
	const char		*key;		/* "" for the bucket itself */
	const char		*query;		/* sorted and encoded, "" if none */
	const char		*ctype;		/* Content-Type; NULL: by method */
	const struct objstore_src *src;		/* PUT body: src[off, off+len) */
	off_t			 off, len;
	const char		*body;		/* POST body (may be "") */
	size_t			 bodylen;
	char			 sha256[65];	/* hex of the payload */
	char			 md5[32];	/* base64 of the payload, "" for none */
	const struct objmeta	*meta_out;	/* sent as x-amz-meta-* */
	int			 out_fd;	/* GET: 2xx body to this fd; -1: into resp */
	int			 body_errors;	/* 200 with <Error> is a failure (complete) */
	int			 if_none_match;	/* send If-None-Match: * (conditional create) */
	/* response */
	long			 status;
	struct buf		 resp;		/* bounded by S3_RESPONSE_MAX */
	struct objmeta		*meta_in;
	struct objinfo		*info;
	char			 etag[80];
	int			 have_len;	/* a Content-Length was received */
	off_t			 pos;		/* upload position, for the read callback */
	off_t			 written;	/* bytes written to out_fd */
	int			 out_errno;
	int			 deadline_hit;	/* the handle's deadline ended the request */
	int			 attempts;	/* requests sent */
	char			 code[64];	/* S3 error code from the body */
	char			 msg[160];
};

void			 objstore_s3_req_init(struct s3_req *, const char *method, const char *key,
			    const char *query);
void			 objstore_s3_req_free(struct s3_req *);
/* objstore_s3_perform - send with retries and classify; reason on failure in o->err */
enum objstore_status	 objstore_s3_perform(struct objstore *, struct s3_req *);
/* the S3 operations (objstore_s3_ops.c) and their close (objstore_s3.c) */
extern const struct objstore_ops objstore_s3_ops;
void			 objstore_s3_close(struct objstore *);
/* objstore_s3_hash - SHA-256 hex and MD5 base64 of src[off, off+len) into req */
int			 objstore_s3_hash(const struct objstore_src *, off_t off, off_t len,
			    struct s3_req *);

#endif
