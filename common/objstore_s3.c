/*
 * objstore_s3.c - S3 backend: configuration and the request engine.
 *
 * Entry points: objstore_s3_init() (from objstore_open), objstore_s3_perform()
 * and objstore_s3_hash() for objstore_s3_ops.c.
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3");
 * curl 7.88 does not add x-amz-content-sha256, so every request carries it
 * (the real payload hash), and every upload also carries Content-MD5.
 * One easy handle per objstore handle: curl_easy_reset() keeps the
 * connection cache, so consecutive requests reuse the connection.
 * Retries: connection errors, timeouts, 5xx, 429 and 400 RequestTimeout are
 * retried `retries` times with exponential backoff and jitter, then give
 * OBJ_TEMPFAIL.  With a deadline on the handle (objstore_set_deadline), each
 * attempt's connect and total timeouts are clamped to what is left, and no
 * attempt or backoff starts past it: the whole sequence of a put (retries,
 * multipart parts, sidecar) fits in the caller's budget.  Everything else is final: 403 bad credentials, 404
 * NoSuchBucket and other 4xx are OBJ_PERMFAIL, NoSuchKey is OBJ_NOTFOUND.
 * The secret key lives only in struct s3_store and in curl; no error or log
 * line contains it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "fdio.h"
#include "log.h"
#include "objstore.h"
#include "objstore_impl.h"

#define S3_HASH_BUF		(256 * 1024)
#define S3_BACKOFF_BASE_MS	250
#define S3_BACKOFF_MAX_MS	8000

static pthread_once_t s3_init_once = PTHREAD_ONCE_INIT;

/* s3_global_init - curl_global_init, once per process */
static void
s3_global_init(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		fatalx("objstore: curl_global_init failed");
}

/* objstore_s3_req_init - a request with an empty payload */
void
objstore_s3_req_init(struct s3_req *r, const char *method, const char *key, const char *query)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->query = query;
	r->out_fd = -1;
	/* SHA-256 of the empty payload */
	snprintf(r->sha256, sizeof(r->sha256), "%s",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	buf_init(&r->resp, S3_RESPONSE_MAX);
}

/* objstore_s3_req_free - release the response buffer */
void
objstore_s3_req_free(struct s3_req *r)
{
	buf_free(&r->resp);
}

/* objstore_s3_hash - hash src[off, off+len) by pread, in bounded pieces */
int
objstore_s3_hash(const struct objstore_src *src, off_t off, off_t len, struct s3_req *r)
{
	unsigned char	 md[EVP_MAX_MD_SIZE], md5[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, md5len, i;
	EVP_MD_CTX	*sha = NULL, *m5 = NULL;
	char		*b;
	off_t		 done = 0;
	ssize_t		 n;
	int		 rc = -1;

	if ((b = malloc(S3_HASH_BUF)) == NULL || (sha = EVP_MD_CTX_new()) == NULL ||
	    (m5 = EVP_MD_CTX_new()) == NULL)
		goto out;
	EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
	EVP_DigestInit_ex(m5, EVP_md5(), NULL);
	while (done < len) {
		n = objstore_src_read(src, off + done,
		    b, len - done < S3_HASH_BUF ? (size_t)(len - done) : S3_HASH_BUF);
		if (n <= 0)
			goto out;
		EVP_DigestUpdate(sha, b, n);
		EVP_DigestUpdate(m5, b, n);
		done += n;
	}
	EVP_DigestFinal_ex(sha, md, &mdlen);
	EVP_DigestFinal_ex(m5, md5, &md5len);
	for (i = 0; i < mdlen; i++)
		snprintf(r->sha256 + 2 * i, 3, "%02x", md[i]);
	EVP_EncodeBlock((unsigned char *)r->md5, md5, md5len);
	rc = 0;
out:
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(m5);
	free(b);
	return rc;
}

/* s3_read_cb - upload body from src[off + pos ...] */
static size_t
s3_read_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_req	*r = arg;
	size_t		 want = size * nmemb;
	ssize_t		 n;

	if ((off_t)want > r->len - r->pos)
		want = r->len - r->pos;
	if (want == 0)
		return 0;
	if ((n = objstore_src_read(r->src, r->off + r->pos, p, want)) <= 0)
		return CURL_READFUNC_ABORT;
	r->pos += n;
	return n;
}

/* s3_seek_cb - curl rewinds the body (a retried send inside one request) */
static int
s3_seek_cb(void *arg, curl_off_t offset, int origin)
{
	struct s3_req *r = arg;

	if (origin != SEEK_SET || offset < 0 || offset > r->len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->pos = offset;
	return CURL_SEEKFUNC_OK;
}

/* s3_write_cb - a 2xx GET body goes to out_fd; anything else into the bounded resp */
static size_t
s3_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_req	*r = arg;
	size_t		 n = size * nmemb;

	if (r->out_fd != -1 && r->status >= 200 && r->status < 300) {
		if (fdio_write_all(r->out_fd, p, n) == -1) {
			r->out_errno = errno;
			return 0;
		}
		r->written += n;
		return n;
	}
	return buf_add(&r->resp, p, n) == -1 ? 0 : n;
}

/* s3_header_cb - status line, ETag, size, date and x-amz-meta-* of the response */
static size_t
s3_header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3_req	*r = arg;
	size_t		 n = size * nmemb, l, i;
	char		 line[OBJMETA_VALUE_MAX + OBJMETA_NAME_MAX + 32], *v;
	long long	 num;
	time_t		 t;

	l = n;
	while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n'))
		l--;
	if (l >= sizeof(line))
		return n;		/* longer than anything we read: ignore */
	memcpy(line, p, l);
	line[l] = '\0';
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the previous one */
		v = strchr(line, ' ');
		r->status = v != NULL ? strtol(v + 1, NULL, 10) : 0;
		r->etag[0] = '\0';
		r->have_len = 0;
		if (r->meta_in != NULL)
			objmeta_free(r->meta_in);
		return n;
	}
	if ((v = strchr(line, ':')) == NULL)
		return n;
	*v++ = '\0';
	while (*v == ' ' || *v == '\t')
		v++;
	for (i = 0; line[i]; i++)
		if (line[i] >= 'A' && line[i] <= 'Z')
			line[i] += 'a' - 'A';
	if (strcmp(line, "etag") == 0) {
		if (*v == '"')
			v++;
		snprintf(r->etag, sizeof(r->etag), "%s", v);
		if ((l = strlen(r->etag)) > 0 && r->etag[l - 1] == '"')
			r->etag[l - 1] = '\0';
		if (r->info != NULL)
			snprintf(r->info->etag, sizeof(r->info->etag), "%s", r->etag);
	} else if (strcmp(line, "content-length") == 0 && r->info != NULL) {
		if (config_parse_num(v, 0, __LONG_LONG_MAX__, &num) == 0) {
			r->info->size = num;
			r->have_len = 1;
		}
	} else if (strcmp(line, "last-modified") == 0 && r->info != NULL) {
		if ((t = curl_getdate(v, NULL)) != -1)
			r->info->mtime_ms = (int64_t)t * 1000;
	} else if (strncmp(line, "x-amz-meta-", 11) == 0 && r->meta_in != NULL)
		(void)objmeta_set(r->meta_in, line + 11, v);	/* foreign names: skipped */
	return n;
}

/* s3_headers - the request's header list, or NULL */
static struct curl_slist *
s3_headers(struct s3_req *r)
{
	struct curl_slist	*h = NULL, *t;
	char			 line[OBJMETA_VALUE_MAX + OBJMETA_NAME_MAX + 32];
	size_t			 i;

#define S3_ADD(s) do {						\
	if ((t = curl_slist_append(h, (s))) == NULL)		\
		goto fail;					\
	h = t;							\
} while (0)
	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", r->sha256);
	S3_ADD(line);
	if (*r->md5) {
		snprintf(line, sizeof(line), "Content-MD5: %s", r->md5);
		S3_ADD(line);
	}
	/* explicit, so that curl neither invents nor mis-signs one */
	if (r->ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", r->ctype);
		S3_ADD(line);
	} else if (strcmp(r->method, "PUT") == 0)
		S3_ADD("Content-Type: application/octet-stream");
	else if (strcmp(r->method, "POST") == 0)
		S3_ADD("Content-Type: application/xml");
	if (r->if_none_match)
		S3_ADD("If-None-Match: *");
	for (i = 0; r->meta_out != NULL && i < r->meta_out->n; i++) {
		snprintf(line, sizeof(line), "x-amz-meta-%s: %s", r->meta_out->kv[i].name,
		    r->meta_out->kv[i].value);
		S3_ADD(line);
	}
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
#undef S3_ADD
}

/* s3_min - the smaller of a configured timeout (s) and what is left of the deadline (ms) */
static long
s3_min(long secs, int64_t left_ms)
{
	return left_ms < (int64_t)secs * 1000 ? (long)left_ms : secs * 1000;
}

/* s3_once - one attempt; the curl result (status in r->status) */
static CURLcode
s3_once(struct objstore *o, struct s3_req *r, struct curl_slist *hdrs, const char *url)
{
	struct s3_store	*s = o->be;
	CURL		*c = s->curl;
	CURLcode	 cc;
	int64_t		 left = objstore_left_ms(o);

	r->status = 0;
	r->pos = 0;
	r->code[0] = r->msg[0] = '\0';
	buf_reset(&r->resp);
	if (left <= 0) {
		r->deadline_hit = 1;
		return CURLE_OPERATION_TIMEDOUT;
	}
	curl_easy_reset(c);
	r->attempts++;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s->access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret_key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s3_min(s->connect_timeout, left));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s3_min(s->timeout, left));
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s3_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, s3_seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, r);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->len);
		if (s->max_send_speed > 0)
			curl_easy_setopt(c, CURLOPT_MAX_SEND_SPEED_LARGE,
			    (curl_off_t)s->max_send_speed);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->bodylen);
	} else if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "DELETE") == 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	cc = curl_easy_perform(c);
	if (cc == CURLE_OPERATION_TIMEDOUT && objstore_left_ms(o) <= 0)
		r->deadline_hit = 1;
	if (cc == CURLE_OK && r->status == 0)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->resp.len > 0) {
		objstore_s3_xml_tag(r->resp.data, r->resp.data + r->resp.len, "Code", r->code,
		    sizeof(r->code));
		objstore_s3_xml_tag(r->resp.data, r->resp.data + r->resp.len, "Message", r->msg,
		    sizeof(r->msg));
		/* CompleteMultipartUpload may fail after its 200 (AWS: retry it) */
		if (cc == CURLE_OK && r->body_errors && r->status == 200 &&
		    memmem(r->resp.data, r->resp.len, "<Error>", 7) != NULL)
			r->status = 500;
	}
	return cc;
}

/* s3_retryable - 1 if the attempt failed in a way a later one may not */
static int
s3_retryable(CURLcode cc, const struct s3_req *r)
{
	switch (cc) {
	case CURLE_OK:
		return r->status >= 500 || r->status == 429 ||
		    (r->status == 400 && strcmp(r->code, "RequestTimeout") == 0);
	case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR: case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE: case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* s3_classify - final status and reason of a completed (non-retried) attempt */
static enum objstore_status
s3_classify(struct objstore *o, CURLcode cc, struct s3_req *r)
{
	struct s3_store	*s = o->be;
	const char	*what = *r->key ? r->key : s->bucket;

	if (cc == CURLE_WRITE_ERROR && r->out_errno != 0)
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 GET %s: writing output: %s", what,
		    strerror(r->out_errno));
	if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_READ_ERROR)
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 %s %s: reading the source failed",
		    r->method, what);
	if (r->deadline_hit)
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 %s %s at %s: deadline reached after %d "
		    "attempt(s)", r->method, what, s->endpoint, r->attempts);
	if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE)
		return objstore_fail(o, OBJ_PERMFAIL, "S3 %s: TLS verification failed (%s): "
		    "check url and ca_file", s->endpoint, curl_easy_strerror(cc));
	if (cc != CURLE_OK)
		return objstore_fail(o, s3_retryable(cc, r) ? OBJ_TEMPFAIL : OBJ_PERMFAIL,
		    "S3 %s %s at %s: %s", r->method, what, s->endpoint, curl_easy_strerror(cc));
	if (r->status >= 200 && r->status < 300)
		return OBJ_OK;
	if (r->status == 403 && (strcmp(r->code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(r->code, "InvalidAccessKeyId") == 0 || *r->code == '\0'))
		return objstore_fail(o, OBJ_PERMFAIL, "S3 refused the credentials (403 %s): "
		    "check access_key/secret_key", *r->code ? r->code : "Forbidden");
	if (r->status == 403 && strcmp(r->code, "RequestTimeTooSkewed") == 0)
		return objstore_fail(o, OBJ_PERMFAIL, "S3 refused the request (403 "
		    "RequestTimeTooSkewed): this host's clock is wrong");
	if (r->status == 301 || strcmp(r->code, "AuthorizationHeaderMalformed") == 0 ||
	    strcmp(r->code, "PermanentRedirect") == 0)
		return objstore_fail(o, OBJ_PERMFAIL, "S3 refused the request (%ld %s): check "
		    "region (now %s) and url", r->status, *r->code ? r->code : "redirect",
		    s->region);
	if (r->status == 404 && strcmp(r->code, "NoSuchBucket") == 0)
		return objstore_fail(o, OBJ_PERMFAIL, "S3: bucket %s does not exist at %s",
		    s->bucket, s->endpoint);
	if (r->status == 404 && (strcmp(r->code, "NoSuchKey") == 0 || *r->code == '\0'))
		return objstore_fail(o, OBJ_NOTFOUND, "S3: no such key %s", what);
	if (s3_retryable(cc, r))
		return objstore_fail(o, OBJ_TEMPFAIL, "S3 %s %s: %ld %s%s%s", r->method, what,
		    r->status, *r->code ? r->code : "server error", *r->msg ? ": " : "", r->msg);
	return objstore_fail(o, OBJ_PERMFAIL, "S3 %s %s: %ld %s%s%s", r->method, what,
	    r->status, *r->code ? r->code : "refused", *r->msg ? ": " : "", r->msg);
}

/*
 * s3_backoff - sleep before attempt n (1...): base*2^(n-1), capped, half of it
 * jittered; never past the handle's deadline.
 */
static void
s3_backoff(struct objstore *o, struct s3_store *s, int n)
{
	long		 ms = S3_BACKOFF_BASE_MS;
	int64_t		 left = objstore_left_ms(o);
	struct timespec	 ts;

	while (--n > 0 && ms < S3_BACKOFF_MAX_MS)
		ms *= 2;
	if (ms > S3_BACKOFF_MAX_MS)
		ms = S3_BACKOFF_MAX_MS;
	ms = ms / 2 + rand_r(&s->seed) % (ms / 2 + 1);
	if (left < ms)
		ms = left > 0 ? (long)left : 0;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* objstore_s3_perform - URL, headers, attempts with backoff, classification */
enum objstore_status
objstore_s3_perform(struct objstore *o, struct s3_req *r)
{
	struct s3_store		*s = o->be;
	struct curl_slist	*hdrs;
	char			 url[OBJKEY_MAX * 4 + 2048];
	off_t			 start = -1;
	CURLcode		 cc;
	int			 attempt;

	if (objstore_s3_url(s->endpoint, s->bucket, s->path_style, r->key, r->query, url,
	    sizeof(url)) == -1)
		return objstore_fail(o, OBJ_PERMFAIL, "S3: URL too long for key %s", r->key);
	if ((hdrs = s3_headers(r)) == NULL)
		return objstore_fail(o, OBJ_TEMPFAIL, "out of memory");
	if (r->out_fd != -1)
		start = lseek(r->out_fd, 0, SEEK_CUR);
	for (attempt = 0;; attempt++) {
		cc = s3_once(o, r, hdrs, url);
		if (!s3_retryable(cc, r) || attempt >= s->retries || r->deadline_hit)
			break;
		/* a GET that already wrote output can only be retried from the start */
		if (r->written > 0) {
			if (start == -1 || ftruncate(r->out_fd, start) == -1 ||
			    lseek(r->out_fd, start, SEEK_SET) == -1)
				break;
			r->written = 0;
		}
		log_debug("objstore s3 retry method=%s key=%s attempt=%d status=%ld curl=\"%s\"",
		    r->method, r->key, attempt + 1, r->status, curl_easy_strerror(cc));
		s3_backoff(o, s, attempt + 1);
	}
	curl_slist_free_all(hdrs);
	return s3_classify(o, cc, r);
}

/* s3_cred - key from [storage] (may be env:NAME) or the environment; NULL if unset */
static char *
s3_cred(const struct config *cf, const char *key, const char *env)
{
	const char *v = config_str(cf, "storage", key, NULL);

	if (v == NULL || *v == '\0')
		v = getenv(env);
	return v != NULL && *v != '\0' ? strdup(v) : NULL;
}

/* s3_name_ok - bucket/region: 1..max-1 of [A-Za-z0-9._-] */
static int
s3_name_ok(const char *v, size_t max)
{
	size_t n = strlen(v);

	return n > 0 && n < max && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* s3_free - release the backend state, wiping the secret */
static void
s3_free(struct s3_store *s)
{
	if (s == NULL)
		return;
	if (s->curl != NULL)
		curl_easy_cleanup(s->curl);
	if (s->secret_key != NULL)
		explicit_bzero(s->secret_key, strlen(s->secret_key));
	free(s->access_key);
	free(s->secret_key);
	free(s->ca_file);
	free(s);
}

/* objstore_s3_init - read and check [storage]; no network traffic yet */
int
objstore_s3_init(struct objstore *o, const struct config *cf, const char *url, char *err,
    size_t errlen)
{
	struct s3_store	*s;
	const char	*v, *path = config_path(cf);
	const char	*host = strstr(url, "://") + 3;
	size_t		 n;

	pthread_once(&s3_init_once, s3_global_init);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((n = strlen(url)) >= sizeof(s->endpoint) || strchr(url, '?') != NULL ||
	    *host == '\0' || *host == '/') {
		snprintf(err, errlen, "%s: [storage] url = \"%s\": want http(s)://host[:port]",
		    path, url);
		goto fail;
	}
	snprintf(s->endpoint, sizeof(s->endpoint), "%s", url);
	while (n > 8 && s->endpoint[n - 1] == '/')
		s->endpoint[--n] = '\0';
	v = config_str(cf, "storage", "bucket", "");
	if (!s3_name_ok(v, sizeof(s->bucket))) {
		snprintf(err, errlen, "%s: [storage] bucket = \"%s\": want an S3 bucket name",
		    path, v);
		goto fail;
	}
	snprintf(s->bucket, sizeof(s->bucket), "%s", v);
	v = config_str(cf, "storage", "region", "us-east-1");
	if (!s3_name_ok(v, sizeof(s->region))) {
		snprintf(err, errlen, "%s: [storage] region = \"%s\": want a region name such as "
		    "us-east-1", path, v);
		goto fail;
	}
	snprintf(s->region, sizeof(s->region), "%s", v);
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", s->region);
	s->path_style = config_bool(cf, "storage", "path_style", 1);
	if (!s->path_style && (*host == '[' || strspn(host, "0123456789.:") ==
	    strcspn(host, "/"))) {
		snprintf(err, errlen, "%s: [storage] path_style = no needs a DNS name in url, "
		    "not an IP address (%s)", path, url);
		goto fail;
	}
	s->access_key = s3_cred(cf, "access_key", "MXSPOOL_S3_ACCESS_KEY");
	s->secret_key = s3_cred(cf, "secret_key", "MXSPOOL_S3_SECRET_KEY");
	if (s->access_key == NULL || s->secret_key == NULL) {
		snprintf(err, errlen, "%s: no S3 credentials: set [storage] access_key and "
		    "secret_key, or MXSPOOL_S3_ACCESS_KEY and MXSPOOL_S3_SECRET_KEY", path);
		goto fail;
	}
	if ((v = config_str(cf, "storage", "ca_file", NULL)) != NULL && *v != '\0') {
		if (access(v, R_OK) == -1) {
			snprintf(err, errlen, "%s: [storage] ca_file = \"%s\": %s", path, v,
			    strerror(errno));
			goto fail;
		}
		if ((s->ca_file = strdup(v)) == NULL)
			goto oom;
	}
	s->connect_timeout = config_duration(cf, "storage", "connect_timeout", 10, 1, 600);
	s->timeout = config_duration(cf, "storage", "timeout", 300, 1, 86400);
	s->retries = config_num(cf, "storage", "retries", 3, 0, 20);
	s->mp_threshold = config_size(cf, "storage", "multipart_threshold", 16LL << 20, 1,
	    5LL << 30);
	s->part_size = config_size(cf, "storage", "part_size", 8LL << 20, S3_PART_MIN,
	    5LL << 30);
	s->max_send_speed = config_size(cf, "storage", "max_upload_rate", 0, 0, 1LL << 40);
	s->seed = (unsigned int)getpid() ^ (unsigned int)time(NULL) ^ (unsigned int)(size_t)s;
	if ((s->curl = curl_easy_init()) == NULL)
		goto oom;
	o->be = s;
	o->ops = &objstore_s3_ops;
	if (snprintf(o->desc, sizeof(o->desc), "s3://%s@%s", s->bucket, s->endpoint) < 0)
		o->desc[0] = '\0';
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	s3_free(s);
	return -1;
}

/* objstore_s3_close - backend close */
void
objstore_s3_close(struct objstore *o)
{
	s3_free(o->be);
}
