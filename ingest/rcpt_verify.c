/*
 * rcpt_verify.c - relay protection and recipient verification; see rcpt_verify.h.
 *
 * Entry points: verify_rcpt(), verify_is_local_domain(); verify_load() and
 * verify_free() are in rcpt_verify_load.c (configuration and list files).
 * A struct verify is immutable after verify_load() except for the callout
 * bookkeeping (in-flight table, per-domain back-off, cache handle), which
 * is guarded by mutexes; so a reload builds a new one and never edits one in
 * use.  Policy, in order (first answer wins):
 *   1. domain not configured, or a routing character ('%', '!', '@') in the
 *      local part                                     -> VERIFY_NO_DOMAIN
 *   2. the address (or its base without +tag) is in the plain or the hashed
 *      list, or the domain is catch-all               -> VERIFY_OK
 *   3. callout configured: fresh cache row -> its answer; else ask the
 *      primary; no answer -> a positive row younger than positive_stale
 *      (expired TTL or not) -> VERIFY_OK, else       -> VERIFY_TEMPFAIL
 *   4. otherwise                                      -> VERIFY_NO_USER
 * The callout cache (the index) is opened at its first use, not by
 * verify_load(): a snapshot is built before the ingest drops root (it reads
 * root-only TLS keys) and by `-t`, and neither may create the index.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "callout.h"
#include "config.h"
#include "index.h"
#include "index_verify.h"
#include "limits.h"
#include "log.h"
#include "mailaddr.h"
#include "rcpt_verify.h"
#include "rcpt_verify_impl.h"

/* verify_strcmp - qsort/bsearch order of list entries (char *) */
int
verify_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* verify_hashcmp - order of SHA-256 digests */
int
verify_hashcmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* verify_domcmp - order of domain entries by name */
int
verify_domcmp(const void *a, const void *b)
{
	return strcmp(((const struct verify_domain *)a)->name,
	    ((const struct verify_domain *)b)->name);
}

/* verify_sha256 - digest of s */
static void
verify_sha256(const char *s, unsigned char out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) != 1)
		fatalx("verify: SHA-256 unavailable");
}

/* verify_find_domain - the domain entry of a lower-case name, or NULL */
static struct verify_domain *
verify_find_domain(struct verify *v, const char *name)
{
	struct verify_domain key;

	if (snprintf(key.name, sizeof(key.name), "%s", name) >= (int)sizeof(key.name))
		return NULL;
	return bsearch(&key, v->dom, v->ndom, sizeof(*v->dom), verify_domcmp);
}

/* verify_is_local_domain - 1 if domain (any case, U- or A-labels, optional trailing dot) is configured */
int
verify_is_local_domain(struct verify *v, const char *domain)
{
	char	name[MXS_DOMAIN_MAX + 1];

	if (mailaddr_domain_ascii(domain, name, sizeof(name)) == -1)
		return 0;
	return verify_find_domain(v, name) != NULL;
}

/*
 * verify_cache_index - the cache handle, opened (and purged of dead rows) on
 * first use; NULL when it cannot be opened now (retried after
 * VERIFY_CACHE_RETRY_MS, logged once per attempt).  Caller holds idx_mu.
 */
static struct index *
verify_cache_index(struct verify *v)
{
	char		 err[ERRSTR_MAX];
	long long	 n = 0;
	int64_t		 now;

	if (v->idx != NULL || !v->cache_on || mono_ms() < v->idx_retry)
		return v->idx;
	if ((v->idx = index_open(v->index_path, err, sizeof(err))) == NULL) {
		v->idx_retry = mono_ms() + VERIFY_CACHE_RETRY_MS;
		log_warnx("- verify cache unavailable reason=\"%s\"", err);
		return NULL;
	}
	now = now_ms();
	if (index_verify_purge(v->idx, now, now - v->cache_stale * 1000, &n) != INDEX_OK)
		log_warnx("- verify cache purge reason=\"%s\"", index_error(v->idx));
	else if (n > 0)
		log_info("- verify cache purged rows=%lld", n);
	return v->idx;
}

/* verify_listed - 1 if the normalised address is in the plain or hashed list */
static int
verify_listed(const struct verify_domain *d, const char *norm)
{
	unsigned char	h[32];
	const char	*key = norm;

	if (d->nlist > 0 && bsearch(&key, d->list, d->nlist, sizeof(*d->list),
	    verify_strcmp) != NULL)
		return 1;
	if (d->nhashes > 0) {
		verify_sha256(norm, h);
		if (bsearch(h, d->hashes, d->nhashes, sizeof(*d->hashes), verify_hashcmp) != NULL)
			return 1;
	}
	return 0;
}

/* verify_base - norm without its +tag (first delimiter, not at the start) into out */
static int
verify_base(const struct verify_domain *d, const char *norm, size_t llen, char *out,
    size_t outlen)
{
	size_t i = strcspn(norm, d->delim);

	if (!d->subaddress || i == 0 || i >= llen)
		return -1;
	snprintf(out, outlen, "%.*s%s", (int)i, norm, norm + llen);
	return 0;
}

/* verify_waitcv - wait on v->cv until the monotonic deadline; -1 once it passed */
static int
verify_waitcv(struct verify *v, int64_t deadline)
{
	struct timespec ts;

	if (mono_ms() >= deadline)
		return -1;
	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (deadline % 1000) * 1000000;
	return pthread_cond_timedwait(&v->cv, &v->mu, &ts) == ETIMEDOUT ? -1 : 0;
}

/* verify_join - under v->mu: wait for the callout f already running for the same address */
static enum callout_result
verify_join(struct verify *v, struct verify_inflight *f, int64_t deadline, int *code,
    char *text, size_t textlen)
{
	enum callout_result res = CALLOUT_UNKNOWN;

	f->waiters++;
	while (!f->done && verify_waitcv(v, deadline) == 0)
		;
	*code = 0;
	snprintf(text, textlen, "timed out waiting for a callout in progress");
	if (f->done) {
		res = f->res;
		*code = f->code;
		snprintf(text, textlen, "%s", f->text);
	}
	if (--f->waiters == 0 && f->done)
		free(f);
	return res;
}

/*
 * verify_callout - ask the primary, at most callout_concurrency at once and
 * once per address at a time (concurrent RCPTs for one address share the
 * answer); a connection-level failure starts the domain's back-off, during
 * which callouts answer CALLOUT_UNKNOWN at once instead of waiting for a
 * timeout per RCPT.
 */
static enum callout_result
verify_callout(struct verify *v, struct verify_domain *d, const char *addr, int *code,
    char *text, size_t textlen)
{
	struct verify_inflight	*f, **pp;
	enum callout_result	 res;
	int64_t			 deadline = mono_ms() + d->timeout_ms;

	*code = 0;
	pthread_mutex_lock(&v->mu);
	for (;;) {
		if (d->down_until > mono_ms()) {
			pthread_mutex_unlock(&v->mu);
			snprintf(text, textlen, "primary unreachable, callouts paused");
			return CALLOUT_UNKNOWN;
		}
		for (f = v->inflight; f != NULL && strcmp(f->addr, addr) != 0; f = f->next)
			;
		if (f != NULL) {
			res = verify_join(v, f, deadline, code, text, textlen);
			pthread_mutex_unlock(&v->mu);
			return res;
		}
		if (v->ninflight < v->max_inflight)
			break;
		if (verify_waitcv(v, deadline) == -1) {
			pthread_mutex_unlock(&v->mu);
			snprintf(text, textlen, "callout_concurrency reached");
			return CALLOUT_UNKNOWN;
		}
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		pthread_mutex_unlock(&v->mu);
		snprintf(text, textlen, "out of memory");
		return CALLOUT_UNKNOWN;
	}
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	f->next = v->inflight;
	v->inflight = f;
	v->ninflight++;
	pthread_mutex_unlock(&v->mu);

	res = callout_rcpt(&d->callout, v->helo, d->sender, addr, d->timeout_ms, code, text,
	    textlen);

	pthread_mutex_lock(&v->mu);
	for (pp = &v->inflight; *pp != f; pp = &(*pp)->next)
		;
	*pp = f->next;
	v->ninflight--;
	f->done = 1;
	f->res = res;
	f->code = *code;
	snprintf(f->text, sizeof(f->text), "%s", text);
	if (res == CALLOUT_UNKNOWN && *code == 0)
		d->down_until = d->backoff > 0 ? mono_ms() + d->backoff * 1000 : 0;
	else
		d->down_until = 0;
	pthread_cond_broadcast(&v->cv);
	if (f->waiters == 0)
		free(f);
	pthread_mutex_unlock(&v->mu);
	return res;
}

/* verify_cache_put - remember a definite callout answer */
static void
verify_cache_put(struct verify *v, const char *addr, int result, int code, const char *text,
    int64_t now, long long ttl)
{
	struct index_verify_entry e = { .result = result, .code = code, .checked_ms = now,
	    .expires_ms = now + ttl * 1000 };

	snprintf(e.text, sizeof(e.text), "%s", text);
	pthread_mutex_lock(&v->idx_mu);
	/* a failed write is logged; the answer stands */
	if (verify_cache_index(v) != NULL && index_verify_put(v->idx, addr, &e) != INDEX_OK)
		log_warnx("- verify cache write reason=\"%s\"", index_error(v->idx));
	pthread_mutex_unlock(&v->idx_mu);
}

/* verify_by_callout - cache, then the primary, then a stale positive; see the file header */
static enum verify_result
verify_by_callout(struct verify *v, struct verify_domain *d, const char *addr, char *text,
    size_t textlen)
{
	static const char *const rname[] = { "exists", "nouser", "unknown" };
	struct index_verify_entry	 e;
	enum callout_result		 res;
	int64_t				 now = now_ms();
	enum index_status		 ist = INDEX_NOTFOUND;
	int				 have, stale, code;
	char				 why[INDEX_VERIFY_TEXT_MAX], esc[MXS_ADDR_MAX * 4 + 8];

	pthread_mutex_lock(&v->idx_mu);
	have = verify_cache_index(v) != NULL &&
	    (ist = index_verify_get(v->idx, addr, &e)) == INDEX_OK;
	if (ist != INDEX_OK && ist != INDEX_NOTFOUND)
		log_warnx("- verify cache read reason=\"%s\"", index_error(v->idx));
	pthread_mutex_unlock(&v->idx_mu);
	if (have && now < e.expires_ms) {
		snprintf(text, textlen, e.result ? "Recipient OK" :
		    "Recipient address rejected: User unknown");
		return e.result ? VERIFY_OK : VERIFY_NO_USER;
	}
	stale = have && e.result && now - e.checked_ms < d->positive_stale * 1000;
	res = verify_callout(v, d, addr, &code, why, sizeof(why));
	log_info("- verify callout domain=%s rcpt=%s result=%s code=%d reply=\"%s\"%s", d->name,
	    log_escape(addr, strlen(addr), esc, sizeof(esc)), rname[res], code, why,
	    res == CALLOUT_UNKNOWN && stale ? " stale_positive=used" : "");
	switch (res) {
	case CALLOUT_EXISTS:
		verify_cache_put(v, addr, 1, code, why, now, d->positive_ttl);
		snprintf(text, textlen, "Recipient OK");
		return VERIFY_OK;
	case CALLOUT_NOUSER:
		verify_cache_put(v, addr, 0, code, why, now, d->negative_ttl);
		snprintf(text, textlen, "Recipient address rejected: User unknown");
		return VERIFY_NO_USER;
	default:
		if (stale) {
			snprintf(text, textlen, "Recipient OK");
			return VERIFY_OK;
		}
		snprintf(text, textlen, "Recipient address verification unavailable, "
		    "try again later");
		return VERIFY_TEMPFAIL;
	}
}

/* verify_rcpt - is addr a recipient we accept? see rcpt_verify.h */
enum verify_result
verify_rcpt(struct verify *v, const char *addr, char *text, size_t textlen)
{
	struct verify_domain	*d;
	const char		*at = strrchr(addr, '@');
	char			 dom[MXS_DOMAIN_MAX + 1], norm[MXS_ADDR_MAX + 2];
	char			 base[MXS_ADDR_MAX + 2];
	size_t			 llen;
	int			 has_base;

	if (at == NULL || mailaddr_domain_ascii(at + 1, dom, sizeof(dom)) == -1 ||
	    (d = verify_find_domain(v, dom)) == NULL) {
		snprintf(text, textlen, "Relay access denied");
		return VERIFY_NO_DOMAIN;
	}
	/* no percent hack, bang path or quoted/source-routed '@': never route elsewhere */
	if (strcspn(addr, "%!@") < (size_t)(at - addr)) {
		snprintf(text, textlen, "Relay access denied: routing characters in local part");
		return VERIFY_NO_DOMAIN;
	}
	/* the domain is converted once: dom above */
	llen = at - addr;
	if (mailaddr_key_compose(addr, llen, dom, v->case_sensitive, norm, sizeof(norm)) == -1) {
		snprintf(text, textlen, "Recipient address rejected: malformed local part");
		return VERIFY_NO_USER;
	}
	has_base = verify_base(d, norm, llen, base, sizeof(base)) == 0;
	if (d->catchall || verify_listed(d, norm) || (has_base && verify_listed(d, base))) {
		snprintf(text, textlen, "Recipient OK");
		return VERIFY_OK;
	}
	if (d->callout_on)
		return verify_by_callout(v, d, has_base ? base : norm, text, textlen);
	snprintf(text, textlen, "Recipient address rejected: User unknown");
	return VERIFY_NO_USER;
}
