/*
 * dns.c - the one DNS resolver (libunbound), with a deadline per lookup.
 *
 * Entry points: dns_open/dns_new, dns_lookup, dns_answer_free, dns_close,
 * dns_verified_name (a client's forward-confirmed reverse name).
 * libunbound's ub_resolve() waits as long as unbound's own retry schedule
 * (minutes against a dead server), so every lookup is ub_resolve_async()
 * and the caller waits for its callback until its deadline, then cancels.
 * Threads share one ub_ctx (one cache), and so do the modules of a process:
 * dns_open() hands out one resolver per distinct [dns] setting, counted
 * (libunbound(3): "The functions are thread-safe, and a context can be
 * used in a threaded environment").  /etc/hosts is read as getaddrinfo()
 * did (ub_ctx_hosts), for SMTP peers named there (localhost).
 * A lookup ends at the earlier of [dns] timeout and the caller's deadline,
 * so an outer budget ([auth] timeout, a connect's) is never exceeded.  ub_process() delivers the answers
 * of every thread's queries, so one waiter at a time polls ub_fd() and runs
 * ub_process() (the "poller"); the others sleep on a condition variable
 * that the poller broadcasts after each round, and each one looks at its
 * own query's done flag.  A query whose waiter gave up while its answer
 * was already on the way is marked abandoned and freed by the callback.
 * Invariants: a query struct is freed exactly once, by its waiter unless
 * abandoned; d->mu guards q->done/abandoned and d->polling.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <unbound.h>

#include "clock.h"
#include "config.h"
#include "dns.h"

struct dns {
	struct ub_ctx	*ctx;
	long long	 timeout_ms;
	int		 refs;		/* dns_open() users of a shared resolver; 0: dns_new() */
	char		*key;		/* dns_open()'s [dns] settings; NULL: not shared */
	struct dns	*next;		/* in dns_shared */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* CLOCK_MONOTONIC */
	int		 polling;	/* a waiter is in poll()/ub_process() */
	const int	*stop;		/* dns_set_stop(): nonzero ends every wait */
};

struct dns_query {
	struct dns	*d;
	int		 done, abandoned, err;
	struct ub_result *res;
};

static const char *const dns_status_names[] = {
	"ok", "nxdomain", "nodata", "tempfail", "permfail"
};

/* dns_status_name - lower-case name for logs and tools */
const char *
dns_status_name(enum dns_status s)
{
	return (unsigned)s < sizeof(dns_status_names) / sizeof(*dns_status_names) ?
	    dns_status_names[s] : "?";
}

static const char *const dns_sec_names[] = { "insecure", "secure", "bogus" };

/* dns_sec_name - "insecure", "secure", "bogus" */
const char *
dns_sec_name(enum dns_sec s)
{
	return (unsigned)s < sizeof(dns_sec_names) / sizeof(*dns_sec_names) ?
	    dns_sec_names[s] : "?";
}

/* dns_new - a resolver forwarding to nameserver, or to resolv.conf's when NULL */
struct dns *
dns_new(const char *nameserver, long long timeout_ms, char *err, size_t errlen)
{
	struct dns		*d;
	pthread_condattr_t	 ca;
	struct in6_addr		 a6;
	long long		 pn;
	char			 fwd[80], host[64];
	const char		*port = NULL, *colon;
	int			 r;

	if ((d = calloc(1, sizeof(*d))) == NULL || (d->ctx = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "cannot create the libunbound context");
		free(d);
		return NULL;
	}
	d->timeout_ms = timeout_ms;
	/* threads, not the forked helper process that is libunbound's default */
	r = ub_ctx_async(d->ctx, 1);
	/* a forwarder on loopback (a local cache, a test server) is legitimate */
	if (r == 0)
		r = ub_ctx_set_option(d->ctx, "do-not-query-localhost:", "no");
	/* the upstream answers for private reverse zones (PTR of a 10/8 client),
	 * not unbound's built-in empty zones */
	if (r == 0)
		r = ub_ctx_set_option(d->ctx, "unblock-lan-zones:", "yes");
	if (r == 0)
		r = ub_ctx_set_option(d->ctx, "insecure-lan-zones:", "yes");
	/* so is the PTR of a loopback client other than 127.0.0.1 (a local filter, a test
	 * client): the built-in 127.in-addr.arpa zone would say NXDOMAIN for all of them;
	 * unsigned locally, like the LAN zones above, when validation is on */
	if (r == 0)
		r = ub_ctx_set_option(d->ctx, "local-zone:", "127.in-addr.arpa. transparent");
	if (r == 0)
		r = ub_ctx_set_option(d->ctx, "domain-insecure:", "127.in-addr.arpa.");
	if (r == 0 && nameserver != NULL && *nameserver != '\0') {
		/* "IP", "IP:PORT" (IPv4), "[IPv6]:PORT", or a bare IPv6 address */
		if (nameserver[0] == '[' && (colon = strstr(nameserver, "]")) != NULL) {
			snprintf(host, sizeof(host), "%.*s", (int)(colon - nameserver - 1),
			    nameserver + 1);
			port = colon[1] == ':' ? colon + 2 : NULL;
		} else if ((colon = strchr(nameserver, ':')) != NULL &&
		    strchr(colon + 1, ':') == NULL) {
			snprintf(host, sizeof(host), "%.*s", (int)(colon - nameserver), nameserver);
			port = colon + 1;
		} else
			snprintf(host, sizeof(host), "%s", nameserver);
		if ((inet_pton(AF_INET, host, &a6) != 1 && inet_pton(AF_INET6, host, &a6) != 1) ||
		    (port != NULL && config_parse_num(port, 1, 65535, &pn) != 0)) {
			snprintf(err, errlen, "nameserver \"%s\": want IP[:PORT]", nameserver);
			goto fail;
		}
		snprintf(fwd, sizeof(fwd), "%s@%s", host, port ? port : "53");
		r = ub_ctx_set_fwd(d->ctx, fwd);
	} else if (r == 0)
		r = ub_ctx_resolvconf(d->ctx, NULL);
	/* names of /etc/hosts, as getaddrinfo() knew them for SMTP peers; a missing file is
	 * no error (a minimal container) */
	if (r == 0 && access("/etc/hosts", R_OK) == 0)
		r = ub_ctx_hosts(d->ctx, "/etc/hosts");
	if (r != 0) {
		snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
		goto fail;
	}
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cv, &ca);
	pthread_condattr_destroy(&ca);
	return d;
fail:
	ub_ctx_delete(d->ctx);
	free(d);
	return NULL;
}

/* dns_trust_anchor - DNSSEC validation from file's DS/DNSKEY records */
int
dns_trust_anchor(struct dns *d, const char *file, char *err, size_t errlen)
{
	int	r;

	/* libunbound reads the file when the first lookup finalizes the context: open it now,
	 * so that a missing file is a start-up error, not a failure of every lookup */
	if (access(file, R_OK) != 0) {
		snprintf(err, errlen, "trust_anchor %s: %s", file, strerror(errno));
		return -1;
	}
	if ((r = ub_ctx_add_ta_file(d->ctx, file)) != 0) {
		snprintf(err, errlen, "trust_anchor %s: %s", file, ub_strerror(r));
		return -1;
	}
	return 0;
}

/* the resolvers dns_open() shares, by their [dns] settings */
static pthread_mutex_t	 dns_shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct dns	*dns_shared;

/* dns_open - [dns] nameserver, timeout and trust_anchor: the process's resolver for them */
struct dns *
dns_open(const struct config *cfg, char *err, size_t errlen)
{
	struct dns	*d;
	const char	*ns = NULL, *ta = NULL;
	char		 why[ERRSTR_MAX], key[DNS_KEY_MAX];
	long long	 t = DNS_TIMEOUT_DEFAULT;

	if (cfg != NULL) {
		ns = config_str(cfg, "dns", "nameserver", NULL);
		t = config_duration(cfg, "dns", "timeout", DNS_TIMEOUT_DEFAULT, 1,
		    DNS_TIMEOUT_MAX);
		ta = config_str(cfg, "dns", "trust_anchor", NULL);
	}
	snprintf(key, sizeof(key), "%s|%lld|%s", ns ? ns : "", t, ta ? ta : "");
	pthread_mutex_lock(&dns_shared_mu);
	for (d = dns_shared; d != NULL && strcmp(d->key, key) != 0; d = d->next)
		;
	if (d != NULL) {
		d->refs++;
		pthread_mutex_unlock(&dns_shared_mu);
		return d;
	}
	if ((d = dns_new(ns, t * 1000, why, sizeof(why))) != NULL && ta != NULL && *ta != '\0' &&
	    dns_trust_anchor(d, ta, why, sizeof(why)) != 0) {
		dns_close(d);
		d = NULL;
	}
	if (d != NULL && (d->key = strdup(key)) == NULL) {
		dns_close(d);
		d = NULL;
		snprintf(why, sizeof(why), "out of memory");
	}
	if (d != NULL) {
		d->refs = 1;
		d->next = dns_shared;
		dns_shared = d;
	}
	pthread_mutex_unlock(&dns_shared_mu);
	if (d == NULL)
		snprintf(err, errlen, "%s: [dns] %s", cfg ? config_path(cfg) : "(defaults)", why);
	return d;
}

/* dns_set_stop - waits end early (TEMPFAIL "interrupted") once *stop is nonzero */
void
dns_set_stop(struct dns *d, const int *stop)
{
	__atomic_store_n(&d->stop, stop, __ATOMIC_RELAXED);
}

/* dns_stopped - has the owner of d asked its waits to end? */
static int
dns_stopped(const struct dns *d)
{
	const int	*stop = __atomic_load_n(&d->stop, __ATOMIC_RELAXED);

	return stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0;
}

/* dns_close - drop one dns_open() user, free with the last; no lookup of it may be running */
void
dns_close(struct dns *d)
{
	struct dns	**pp;

	if (d == NULL)
		return;
	if (d->key != NULL) {
		pthread_mutex_lock(&dns_shared_mu);
		if (--d->refs > 0) {
			pthread_mutex_unlock(&dns_shared_mu);
			return;
		}
		for (pp = &dns_shared; *pp != NULL && *pp != d; pp = &(*pp)->next)
			;
		if (*pp != NULL)
			*pp = d->next;
		pthread_mutex_unlock(&dns_shared_mu);
		free(d->key);
	}
	ub_ctx_delete(d->ctx);
	pthread_cond_destroy(&d->cv);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

/* dns_deadline - CLOCK_MONOTONIC now + ms */
void
dns_deadline(long long ms, struct timespec *ts)
{
	clock_after(CLOCK_MONOTONIC, ms, ts);
}

/* dns_deadline_passed - 1 once CLOCK_MONOTONIC reached ts */
int
dns_deadline_passed(const struct timespec *ts)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

/* dns_name_check - at most 253 characters, labels 1..63 (a final dot allowed) */
int
dns_name_check(const char *name)
{
	size_t	len = strlen(name), lab = 0, i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (lab == 0 || lab > DNS_LABEL_MAX)
				return -1;
			lab = 0;
		} else
			lab++;
	}
	return 0;
}

/* dns_name_list_next - one name of "a.example, b.example c.example" ([check] gateways) */
int
dns_name_list_next(const char **v, char *out, size_t outlen)
{
	const char	*p = *v;
	size_t		 n;

	p += strspn(p, ", \t");
	if ((n = strcspn(p, ", \t")) == 0) {
		*v = p;
		return 0;
	}
	*v = p + n;
	snprintf(out, outlen, "%.*s", (int)n, p);
	return n < outlen && dns_name_check(out) == 0 ? 1 : -1;
}

/* dns_reverse_name - the PTR owner name of an address (RFC 1035 3.5, RFC 3596 2.5) */
int
dns_reverse_name(int af, const void *addr, char *out, size_t outlen)
{
	const unsigned char	*b = addr;
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o = 0;
	int			 i, n;

	if (af == AF_INET) {
		n = snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
		return n < 0 || (size_t)n >= outlen ? -1 : 0;
	}
	if (outlen < 16 * 4 + sizeof("ip6.arpa"))
		return -1;
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[b[i] & 15];
		out[o++] = '.';
		out[o++] = hex[b[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

/* dns_wire_name - an uncompressed wire name (libunbound expands rdata) to text */
static int
dns_wire_name(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	size_t	i = 0, o = 0, l;

	while (i < len && p[i] != 0) {
		l = p[i++];
		if (l > DNS_LABEL_MAX || i + l > len || o + l + 2 > outlen)
			return -1;
		if (o > 0)
			out[o++] = '.';
		memcpy(out + o, p + i, l);
		o += l;
		i += l;
	}
	if (i >= len)
		return -1;
	out[o] = '\0';
	return 0;
}

/* dns_txt - join the character-strings of one TXT record (RFC 7208 3.3) */
static int
dns_txt(const unsigned char *p, size_t len, struct dns_rr *rr)
{
	size_t	i = 0, o = 0;

	if (len > DNS_TXT_MAX || (rr->data = malloc(len + 1)) == NULL)
		return -1;
	while (i < len) {
		size_t l = p[i++];
		if (i + l > len)
			return -1;
		memcpy(rr->data + o, p + i, l);
		o += l;
		i += l;
	}
	rr->data[o] = '\0';
	rr->len = o;
	return 0;
}

/* dns_rdata - one record of type t into rr; -1 when malformed */
static int
dns_rdata(enum dns_type t, const unsigned char *p, size_t len, struct dns_rr *rr)
{
	switch (t) {
	case DNS_T_A:
		if (len != 4)
			return -1;
		memcpy(&rr->a, p, 4);
		return 0;
	case DNS_T_AAAA:
		if (len != 16)
			return -1;
		memcpy(&rr->aaaa, p, 16);
		return 0;
	case DNS_T_MX:
		if (len < 3)
			return -1;
		rr->pref = (uint16_t)(p[0] << 8 | p[1]);
		return dns_wire_name(p + 2, len - 2, rr->name, sizeof(rr->name));
	case DNS_T_PTR:
	case DNS_T_CNAME:
		return dns_wire_name(p, len, rr->name, sizeof(rr->name));
	case DNS_T_TXT:
		return dns_txt(p, len, rr);
	case DNS_T_TLSA:
		if (len < 3 || (rr->data = malloc(len - 3 + 1)) == NULL)
			return -1;
		rr->usage = p[0];
		rr->selector = p[1];
		rr->mtype = p[2];
		memcpy(rr->data, p + 3, len - 3);
		rr->len = len - 3;
		return 0;
	}
	return -1;
}

/* dns_callback - libunbound's answer (in whichever thread runs ub_process) */
static void
dns_callback(void *arg, int err, struct ub_result *res)
{
	struct dns_query	*q = arg;
	struct dns		*d = q->d;

	pthread_mutex_lock(&d->mu);
	if (q->abandoned) {
		pthread_mutex_unlock(&d->mu);
		ub_resolve_free(res);
		free(q);
		return;
	}
	q->err = err;
	q->res = res;
	q->done = 1;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
}

/* dns_wait - wait for q until deadline; 0 answered, -1 deadline passed or stopped */
static int
dns_wait(struct dns *d, struct dns_query *q, const struct timespec *deadline)
{
	struct timespec	now, until;
	struct pollfd	pfd;
	long long	ms;
	int		done;

	pthread_mutex_lock(&d->mu);
	while (!q->done && !dns_stopped(d)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (deadline->tv_sec - now.tv_sec) * 1000LL +
		    (deadline->tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			break;
		/* with a stop flag, look at it every DNS_STOP_POLL_MS */
		if (__atomic_load_n(&d->stop, __ATOMIC_RELAXED) != NULL && ms > DNS_STOP_POLL_MS)
			ms = DNS_STOP_POLL_MS;
		if (d->polling) {
			clock_after(CLOCK_MONOTONIC, ms, &until);
			pthread_cond_timedwait(&d->cv, &d->mu, &until);
			continue;
		}
		d->polling = 1;
		pthread_mutex_unlock(&d->mu);
		pfd.fd = ub_fd(d->ctx);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)ms) > 0)
			ub_process(d->ctx);
		pthread_mutex_lock(&d->mu);
		d->polling = 0;
		/* wake the others: their answers may have come, or one must poll now */
		pthread_cond_broadcast(&d->cv);
	}
	done = q->done;
	pthread_mutex_unlock(&d->mu);
	return done ? 0 : -1;
}

/* dns_result - map libunbound's result to our answer */
static void
dns_result(enum dns_type t, const struct ub_result *res, struct dns_answer *ans)
{
	size_t	i, n;

	ans->ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	ans->sec = res->bogus ? DNS_SEC_BOGUS : res->secure ? DNS_SEC_SECURE : DNS_SEC_INSECURE;
	if (res->bogus) {
		/* DNSSEC validation failed: an attack or a broken zone; retry later (RFC 4035
		 * 4.3: a validator answers SERVFAIL) */
		ans->status = DNS_TEMPFAIL;
		snprintf(ans->why, sizeof(ans->why), "bogus: %s", res->why_bogus ?
		    res->why_bogus : "DNSSEC validation failed");
		return;
	}
	if (res->rcode == 3) {
		ans->status = DNS_NXDOMAIN;
		return;
	}
	if (res->rcode != 0) {
		ans->status = DNS_TEMPFAIL;
		snprintf(ans->why, sizeof(ans->why), "%s", res->rcode == 2 ? "SERVFAIL" :
		    res->rcode == 5 ? "REFUSED" : "rcode");
		return;
	}
	for (n = 0; res->havedata && res->data[n] != NULL; n++)
		;
	if (n == 0) {
		ans->status = DNS_NODATA;
		return;
	}
	if (n > DNS_RR_MAX) {
		ans->truncated = 1;
		n = DNS_RR_MAX;
	}
	if ((ans->rr = calloc(n, sizeof(*ans->rr))) == NULL) {
		ans->status = DNS_TEMPFAIL;
		snprintf(ans->why, sizeof(ans->why), "out of memory");
		return;
	}
	ans->n = n;
	for (i = 0; i < n; i++) {
		if (dns_rdata(t, (unsigned char *)res->data[i], (size_t)res->len[i],
		    &ans->rr[i]) != 0) {
			ans->status = DNS_PERMFAIL;
			snprintf(ans->why, sizeof(ans->why), "malformed record");
			return;
		}
	}
	ans->status = DNS_OK;
}

/* dns_lookup - resolve (name, t) by [dns] timeout and the caller's deadline, the earlier */
enum dns_status
dns_lookup(struct dns *d, const char *name, enum dns_type t, int64_t deadline_ms,
    struct dns_answer *ans)
{
	int64_t			 now = mono_ms();
	struct dns_query	*q;
	struct timespec		 dl;
	int			 id, r;

	memset(ans, 0, sizeof(*ans));
	if (dns_name_check(name) != 0) {
		snprintf(ans->why, sizeof(ans->why), "malformed name");
		return ans->status = DNS_PERMFAIL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(ans->why, sizeof(ans->why), "out of memory");
		return ans->status = DNS_TEMPFAIL;
	}
	q->d = d;
	if (deadline_ms != 0 && deadline_ms - now < d->timeout_ms)
		dns_deadline(deadline_ms > now ? deadline_ms - now : 0, &dl);
	else
		dns_deadline(d->timeout_ms, &dl);
	if ((r = ub_resolve_async(d->ctx, name, (int)t, 1, q, dns_callback, &id)) != 0) {
		free(q);
		snprintf(ans->why, sizeof(ans->why), "%s", ub_strerror(r));
		return ans->status = DNS_TEMPFAIL;
	}
	if (dns_wait(d, q, &dl) != 0) {
		/* the deadline passed: cancel, or leave the query to its callback */
		r = ub_cancel(d->ctx, id);
		pthread_mutex_lock(&d->mu);
		if (r != 0 && !q->done) {
			q->abandoned = 1;
			q = NULL;
		}
		pthread_mutex_unlock(&d->mu);
		if (q != NULL && q->res != NULL)
			ub_resolve_free(q->res);
		free(q);
		snprintf(ans->why, sizeof(ans->why), "%s", dns_stopped(d) ? "interrupted" :
		    "timeout");
		return ans->status = DNS_TEMPFAIL;
	}
	if (q->err != 0 || q->res == NULL) {
		ans->status = DNS_TEMPFAIL;
		snprintf(ans->why, sizeof(ans->why), "%s", ub_strerror(q->err));
	} else
		dns_result(t, q->res, ans);
	ub_resolve_free(q->res);
	free(q);
	if (ans->status != DNS_OK) {
		dns_answer_free(ans);
		ans->n = 0;
	}
	return ans->status;
}

/* dns_answer_free - free the records (the struct itself is the caller's) */
void
dns_answer_free(struct dns_answer *ans)
{
	size_t	i;

	if (ans->rr != NULL) {
		for (i = 0; i < ans->n; i++)
			free(ans->rr[i].data);
		free(ans->rr);
	}
	ans->rr = NULL;
	ans->n = 0;
}

/*
 * dns_verified_name - a forward-confirmed reverse name of addr (FCrDNS; RFC 7208 5.5 calls it
 * "validated"): a PTR name of addr that want(name, arg) accepts and whose A (AAAA for IPv6)
 * records include addr.  Only accepted names cost a forward lookup, at most
 * DNS_VERIFY_NAMES_MAX of them, and none starts after deadline_ms (monotonic ms, 0: none).
 * DNS_OK with the name in out; DNS_NXDOMAIN/DNS_NODATA when no name qualifies; DNS_TEMPFAIL
 * when a lookup failed temporarily and nothing was confirmed.  *ttl: the smallest TTL seen.
 */
enum dns_status
dns_verified_name(struct dns *d, int af, const void *addr, int (*want)(const char *, void *),
    void *arg, int64_t deadline_ms, char *out, size_t outlen, uint32_t *ttl)
{
	struct dns_answer	 ptr, fwd;
	enum dns_status		 st, res;
	char			 rev[DNS_NAME_MAX + 1];
	size_t			 i, j, tried = 0;
	int			 ok;

	*ttl = UINT32_MAX;
	if (dns_reverse_name(af, addr, rev, sizeof(rev)) != 0)
		return DNS_PERMFAIL;
	res = dns_lookup(d, rev, DNS_T_PTR, deadline_ms, &ptr);
	*ttl = ptr.ttl;
	for (i = 0; res == DNS_OK && i < ptr.n; i++) {
		if (!want(ptr.rr[i].name, arg))
			continue;
		if (tried++ == DNS_VERIFY_NAMES_MAX ||
		    (deadline_ms != 0 && mono_ms() >= deadline_ms)) {
			res = DNS_TEMPFAIL;
			break;
		}
		st = dns_lookup(d, ptr.rr[i].name, af == AF_INET ? DNS_T_A : DNS_T_AAAA,
		    deadline_ms, &fwd);
		if (st == DNS_TEMPFAIL)
			res = DNS_TEMPFAIL;	/* unless a later name is confirmed */
		for (j = 0, ok = 0; st == DNS_OK && j < fwd.n && !ok; j++)
			ok = memcmp(af == AF_INET ? (const void *)&fwd.rr[j].a :
			    (const void *)&fwd.rr[j].aaaa, addr, af == AF_INET ? 4 : 16) == 0;
		if (st == DNS_OK && fwd.ttl < *ttl)
			*ttl = fwd.ttl;
		dns_answer_free(&fwd);
		if (ok) {
			snprintf(out, outlen, "%s", ptr.rr[i].name);
			dns_answer_free(&ptr);
			return DNS_OK;
		}
	}
	dns_answer_free(&ptr);
	return res == DNS_OK ? DNS_NODATA : res;
}
