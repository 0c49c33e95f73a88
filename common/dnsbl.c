/*
 * dnsbl.c - DNSBL/DNSWL screening of client addresses, as Postfix postscreen.
 *
 * Entry points: dnsbl_open/dnsbl_close ([dnsbl] keys), dnsbl_start and
 * dnsbl_finish (one client), dnsbl_site_parse/dnsbl_site_match (one site).
 * A client is screened by asking every distinct zone for the A record of its
 * reversed address ("4.3.2.1.zone", IPv6 as 32 nibbles, RFC 5782 2.1, 2.4),
 * one thread per zone, every lookup bounded by the same deadline ([dnsbl]
 * timeout, within [dns] timeout) on the process's one resolver (dns_open:
 * one cache with the ingest's verification).
 * An allowlist skips screening: a network matches at once; a host name (or
 * ".domain", every name under it) needs the client's forward-confirmed
 * reverse name (dns_verified_name: PTR, then A/AAAA back to the address),
 * looked up on one more thread beside the zones; a name that cannot be
 * confirmed allowlists nothing.
 * Each site whose filter matches an answer adds its weight; the sum is
 * compared with the threshold (postscreen_dnsbl_threshold).  Answers in
 * 127.255.255.0/24 are the error codes big lists give to public resolvers or
 * over-quota users (RFC 5782 has no such code, Spamhaus does): never a
 * listing.  Results are cached per address in a direct-mapped table of
 * [dnsbl] cache_size slots (a collision evicts: bounded memory, no list walk).
 * Invariants: d->mu guards the cache and the per-zone error-log state; a
 * query's lookups are joined before it is scored or freed.
 * Errors: configuration errors name the key; lookup failures score 0 and are
 * logged once per zone per DNSBL_ERROR_LOG_INTERVAL.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "dns.h"
#include "dnsbl.h"
#include "log.h"

#define DNSBL_KEY_LEN	17	/* address family byte + 16 address bytes */
#if defined(__SANITIZE_ADDRESS__)
#define DNSBL_STACK	(1024 * 1024)	/* ASan red zones */
#else
#define DNSBL_STACK	(256 * 1024)	/* a lookup thread: dns_lookup and its answer */
#endif

struct dnsbl_net {
	int	 af;
	uint8_t	 a[16];
	int	 bits;
};

/* an allowlisted host name: exact, or (sub) every name under it */
struct dnsbl_name {
	char	 name[DNS_NAME_MAX + 1];
	int	 sub;
};

/* a distinct zone name: one lookup per client */
struct dnsbl_zone {
	char		 name[DNS_NAME_MAX + 1];
	int		 logged;		/* an error was logged at err_time */
	int64_t		 err_time;
	unsigned long	 suppressed;		/* errors not logged since */
};

struct dnsbl_slot {
	uint8_t		 key[DNSBL_KEY_LEN];
	int64_t		 expires;		/* monotonic ms; 0: empty */
	int		 score;
	uint32_t	 hits;			/* bit i: site i matched */
	int		 allowed;		/* allowlisted by a verified name */
};

struct dnsbl {
	struct dns		*dns;
	struct dnsbl_site	 site[DNSBL_SITES_MAX];
	size_t			 site_zone[DNSBL_SITES_MAX];
	size_t			 nsite;
	struct dnsbl_zone	 zone[DNSBL_SITES_MAX];
	size_t			 nzone;
	struct dnsbl_net	 allow[DNSBL_ALLOW_MAX];
	size_t			 nallow;
	struct dnsbl_name	 allow_name[DNSBL_ALLOW_NAMES_MAX];
	size_t			 nname;
	long long		 timeout_ms;		/* [dnsbl] timeout */
	int			 threshold;
	long long		 min_ttl, max_ttl;	/* seconds */
	pthread_mutex_t		 mu;
	struct dnsbl_slot	*cache;
	size_t			 ncache;
};

/* one zone's lookup for one client */
struct dnsbl_lookup {
	struct dnsbl	*d;
	pthread_t	 thr;
	int		 thread;		/* thr must be joined */
	char		 name[DNS_NAME_MAX + 1];
	int64_t		 deadline;		/* mono_ms: the query's [dnsbl] timeout */
	enum dns_status	 status;
	uint32_t	 ttl;
	uint8_t		 a[DNS_RR_MAX][4];
	size_t		 n;
	char		 why[64];
};

/* the client's verified name, for the name allowlist */
struct dnsbl_fcrdns {
	struct dnsbl	*d;
	pthread_t	 thr;
	int		 thread;		/* thr must be joined */
	int		 af;
	uint8_t		 a[16];
	int64_t		 deadline;		/* mono_ms: no lookup starts after it */
	enum dns_status	 status;		/* DNS_OK: name is verified and allowlisted */
	uint32_t	 ttl;
	char		 name[DNS_NAME_MAX + 1];
};

struct dnsbl_query {
	struct dnsbl		*d;
	uint8_t			 key[DNSBL_KEY_LEN];
	int			 done;		/* res is final: nothing to look up */
	uint32_t		 hits;
	struct dnsbl_result	 res;
	struct dnsbl_lookup	 lk[DNSBL_SITES_MAX];
	struct dnsbl_fcrdns	 fc;		/* started when [dnsbl] allowlist has names */
};

/* dnsbl_octet - one filter octet: "N" or "[N;N..M;...]" into bits; end of it or NULL */
static const char *
dnsbl_octet(const char *p, const char *end, uint8_t bits[32])
{
	int	 list = 0, lo, hi, v;

	if (p < end && *p == '[') {
		list = 1;
		p++;
	}
	for (;;) {
		for (lo = -1, v = 0; p < end && *p >= '0' && *p <= '9' && v <= 255; p++)
			lo = v = v * 10 + (*p - '0');
		if (lo < 0 || lo > 255)
			return NULL;
		hi = lo;
		if (list && end - p >= 2 && p[0] == '.' && p[1] == '.') {
			for (p += 2, hi = -1, v = 0; p < end && *p >= '0' && *p <= '9' &&
			    v <= 255; p++)
				hi = v = v * 10 + (*p - '0');
			if (hi < lo || hi > 255)
				return NULL;
		}
		for (v = lo; v <= hi; v++)
			bits[v / 8] |= 1u << (v % 8);
		if (!list)
			return p;
		if (p < end && *p == ';') {
			p++;
			continue;
		}
		return p < end && *p == ']' ? p + 1 : NULL;
	}
}

/* dnsbl_filter - "a.b.c.d" of octets (dnsbl_octet) between p and end */
static int
dnsbl_filter(const char *p, const char *end, struct dnsbl_site *site)
{
	int	i;

	for (i = 0; i < 4; i++) {
		if (i > 0 && (p >= end || *p++ != '.'))
			return -1;
		if ((p = dnsbl_octet(p, end, site->octet[i])) == NULL)
			return -1;
	}
	return p == end ? 0 : -1;
}

/*
 * dnsbl_site_parse - postscreen_dnsbl_sites syntax: "zone", "zone*3",
 * "zone=127.0.0.2", "zone=127.0.0.[2..11;20]*-2".  The weight defaults to 1.
 */
int
dnsbl_site_parse(const char *spec, struct dnsbl_site *site, char *err, size_t errlen)
{
	size_t		 zl = strcspn(spec, "=*");
	const char	*p = spec + zl, *star;
	long long	 w = 1;

	memset(site, 0, sizeof(*site));
	if (zl == 0 || zl > DNS_NAME_MAX) {
		snprintf(err, errlen, "want zone[=a.b.c.d][*weight]");
		return -1;
	}
	memcpy(site->zone, spec, zl);
	if (site->zone[zl - 1] == '.')
		site->zone[zl - 1] = '\0';
	if (dns_name_check(site->zone) != 0) {
		snprintf(err, errlen, "not a DNS name");
		return -1;
	}
	star = strchr(p, '*');
	if (*p == '=') {
		site->filtered = 1;
		if (dnsbl_filter(p + 1, star ? star : p + strlen(p), site) != 0) {
			snprintf(err, errlen,
			    "bad return-code filter (want like 127.0.0.[2..11;20])");
			return -1;
		}
	}
	if (star != NULL && config_parse_num(star + 1, -DNSBL_WEIGHT_MAX, DNSBL_WEIGHT_MAX,
	    &w) != 0) {
		snprintf(err, errlen, "bad weight (want an integer from %d to %d)",
		    -DNSBL_WEIGHT_MAX, DNSBL_WEIGHT_MAX);
		return -1;
	}
	site->weight = (int)w;
	return 0;
}

/* dnsbl_site_match - every octet of a is allowed by the filter (no filter: all) */
int
dnsbl_site_match(const struct dnsbl_site *site, const uint8_t a[4])
{
	int	i;

	if (!site->filtered)
		return 1;
	for (i = 0; i < 4; i++)
		if (!(site->octet[i][a[i] / 8] & (1u << (a[i] % 8))))
			return 0;
	return 1;
}

/* dnsbl_token - next item of a comma/space separated list; 1 got one, 0 end, -1 too long */
static int
dnsbl_token(const char **p, char *out, size_t outlen)
{
	size_t	n;

	*p += strspn(*p, ", \t");
	if ((n = strcspn(*p, ", \t")) == 0)
		return 0;
	if (n >= outlen)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 1;
}

/* dnsbl_addr - numeric address into a cache key; IPv4-mapped IPv6 as IPv4; 0 ok */
static int
dnsbl_addr(const char *addr, uint8_t key[DNSBL_KEY_LEN])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(key, 0, DNSBL_KEY_LEN);
	if (inet_pton(AF_INET, addr, key + 1) == 1) {
		key[0] = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, addr, key + 1) != 1)
		return -1;
	key[0] = AF_INET6;
	if (memcmp(key + 1, mapped, sizeof(mapped)) == 0) {
		memmove(key + 1, key + 13, 4);
		memset(key + 5, 0, 12);
		key[0] = AF_INET;
	}
	return 0;
}

/* dnsbl_net_parse - "addr" or "addr/bits" (IPv4 or IPv6); 0 ok */
static int
dnsbl_net_parse(const char *s, struct dnsbl_net *n)
{
	char		 buf[INET6_ADDRSTRLEN + 8], *slash;
	uint8_t		 key[DNSBL_KEY_LEN];
	long long	 bits;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (strchr(buf, ':') == NULL ? inet_pton(AF_INET, buf, key + 1) != 1 :
	    inet_pton(AF_INET6, buf, key + 1) != 1)
		return -1;
	n->af = strchr(buf, ':') == NULL ? AF_INET : AF_INET6;
	memcpy(n->a, key + 1, 16);
	bits = n->af == AF_INET ? 32 : 128;
	if (slash != NULL && config_parse_num(slash, 0, bits, &bits) != 0)
		return -1;
	n->bits = (int)bits;
	return 0;
}

/*
 * dnsbl_name_parse - "host.example" (that name) or ".example" (every name under it); a
 * name of letters, digits, '-' and '_' whose last label is not all digits (RFC 3696 2),
 * so that a mistyped address ("192.0.2.300") is an error, not a name; 0 ok
 */
static int
dnsbl_name_parse(const char *s, struct dnsbl_name *n)
{
	const char	*last;
	size_t		 len;

	n->sub = s[0] == '.';
	s += n->sub;
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") < len)
		return -1;
	memcpy(n->name, s, len);
	n->name[len] = '\0';
	last = strrchr(n->name, '.');
	last = last != NULL ? last + 1 : n->name;
	if (dns_name_check(n->name) != 0 || last[strspn(last, "0123456789")] == '\0')
		return -1;
	return 0;
}

/* dnsbl_name_wanted - name (a PTR name of the client) is allowlisted (dns_verified_name) */
static int
dnsbl_name_wanted(const char *name, void *arg)
{
	const struct dnsbl	*d = arg;
	size_t			 i, nl = strlen(name), el;

	if (nl > 0 && name[nl - 1] == '.')
		nl--;
	for (i = 0; i < d->nname; i++) {
		el = strlen(d->allow_name[i].name);
		if (!d->allow_name[i].sub ? nl == el && strncasecmp(name, d->allow_name[i].name,
		    nl) == 0 : nl > el && name[nl - el - 1] == '.' &&
		    strncasecmp(name + nl - el, d->allow_name[i].name, el) == 0)
			return 1;
	}
	return 0;
}

/* dnsbl_allowed - the address of key is in an allowlisted network */
static int
dnsbl_allowed(const struct dnsbl *d, const uint8_t key[DNSBL_KEY_LEN])
{
	const struct dnsbl_net	*n;
	size_t			 i;
	int			 full, rest;

	for (i = 0; i < d->nallow; i++) {
		n = &d->allow[i];
		if (n->af != key[0])
			continue;
		full = n->bits / 8;
		rest = n->bits % 8;
		if (memcmp(n->a, key + 1, full) != 0)
			continue;
		if (rest == 0 || ((n->a[full] ^ key[1 + full]) & (0xff00 >> rest)) == 0)
			return 1;
	}
	return 0;
}

/* dnsbl_load_sites - [dnsbl] sites; each distinct zone once in d->zone */
static int
dnsbl_load_sites(struct dnsbl *d, const char *v, char *err, size_t errlen)
{
	char	tok[DNS_NAME_MAX + 128], why[128];
	size_t	z;
	int	r;

	while ((r = dnsbl_token(&v, tok, sizeof(tok))) != 0) {
		if (r < 0 || d->nsite == DNSBL_SITES_MAX) {
			snprintf(err, errlen, "[dnsbl] sites: %s", r < 0 ? "an entry is too long" :
			    "too many entries");
			return -1;
		}
		if (dnsbl_site_parse(tok, &d->site[d->nsite], why, sizeof(why)) != 0) {
			snprintf(err, errlen, "[dnsbl] sites: \"%s\": %s", tok, why);
			return -1;
		}
		for (z = 0; z < d->nzone; z++)
			if (strcasecmp(d->zone[z].name, d->site[d->nsite].zone) == 0)
				break;
		if (z == d->nzone)
			memcpy(d->zone[d->nzone++].name, d->site[d->nsite].zone,
			    sizeof(d->zone[0].name));
		d->site_zone[d->nsite++] = z;
	}
	return 0;
}

/* dnsbl_load_allow - [dnsbl] allowlist: networks, host names and .domains */
static int
dnsbl_load_allow(struct dnsbl *d, const char *v, char *err, size_t errlen)
{
	char		 tok[DNS_NAME_MAX + 3];
	const char	*why = NULL;
	int		 r;

	while ((r = dnsbl_token(&v, tok, sizeof(tok))) != 0) {
		if (r < 0)
			why = "want an address, a network (addr/bits), a host name or a .domain";
		else if (strchr(tok, ':') != NULL || strchr(tok, '/') != NULL ||
		    tok[strspn(tok, "0123456789.")] == '\0') {
			if (d->nallow == DNSBL_ALLOW_MAX)
				why = "too many networks";
			else if (dnsbl_net_parse(tok, &d->allow[d->nallow]) != 0)
				why = "want an IPv4 or IPv6 address or network (addr/bits)";
			else
				d->nallow++;
		} else if (d->nname == DNSBL_ALLOW_NAMES_MAX)
			why = "too many names";
		else if (dnsbl_name_parse(tok, &d->allow_name[d->nname]) != 0)
			why = "want a host name, or .domain for every name under it";
		else
			d->nname++;
		if (why != NULL) {
			snprintf(err, errlen, "[dnsbl] allowlist: \"%.60s\": %s", r < 0 ? v : tok,
			    why);
			return -1;
		}
	}
	return 0;
}

/* dnsbl_spec_check - [dnsbl] sites / allowlist syntax, for config_check(); 0 ok, -1 + why */
int
dnsbl_spec_check(const char *sites, const char *allow, char *err, size_t errlen)
{
	struct dnsbl	*d;
	int		 rc;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = dnsbl_load_sites(d, sites, err, errlen) != 0 ||
	    dnsbl_load_allow(d, allow, err, errlen) != 0 ? -1 : 0;
	free(d);
	return rc;
}

/* dnsbl_open - read [dnsbl]; screening is off (*out NULL) when sites is empty */
int
dnsbl_open(const struct config *c, struct dnsbl **out, char *err, size_t errlen)
{
	const char	*sites = config_str(c, "dnsbl", "sites", "");
	struct dnsbl	*d;
	long long	 timeout;
	char		 why[200];

	*out = NULL;
	if (sites[strspn(sites, ", \t")] == '\0')
		return 0;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&d->mu, NULL);
	if (dnsbl_load_sites(d, sites, err, errlen) != 0 ||
	    dnsbl_load_allow(d, config_str(c, "dnsbl", "allowlist", ""), err, errlen) != 0)
		goto fail;
	d->threshold = config_num(c, "dnsbl", "threshold", 1, 1, DNSBL_WEIGHT_MAX);
	timeout = config_duration(c, "dnsbl", "timeout", DNSBL_TIMEOUT_DEFAULT, 1,
	    DNS_TIMEOUT_MAX);
	d->timeout_ms = timeout * 1000;
	d->min_ttl = config_duration(c, "dnsbl", "min_ttl", DNSBL_MIN_TTL_DEFAULT, 0, 86400);
	d->max_ttl = config_duration(c, "dnsbl", "max_ttl", DNSBL_MAX_TTL_DEFAULT, 0, 7 * 86400);
	if (d->max_ttl < d->min_ttl)
		d->max_ttl = d->min_ttl;	/* min_ttl wins: a cache entry lives at least that */
	d->ncache = config_num(c, "dnsbl", "cache_size", DNSBL_CACHE_DEFAULT, 0,
	    DNSBL_CACHE_MAX);
	if (d->ncache > 0 && (d->cache = calloc(d->ncache, sizeof(*d->cache))) == NULL) {
		snprintf(err, errlen, "[dnsbl] cache_size: out of memory");
		goto fail;
	}
	/* the process's one resolver ([dns]); [dnsbl] timeout is this screening's deadline */
	if ((d->dns = dns_open(c, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "[dnsbl] resolver: %s", why);
		goto fail;
	}
	*out = d;
	return 0;
fail:
	dnsbl_close(d);
	return -1;
}

/* dnsbl_close - free everything; no query may be running */
void
dnsbl_close(struct dnsbl *d)
{
	if (d == NULL)
		return;
	dns_close(d->dns);
	pthread_mutex_destroy(&d->mu);
	free(d->cache);
	free(d);
}

/* dnsbl_slot - the cache slot of key (FNV-1a); d->mu held */
static struct dnsbl_slot *
dnsbl_slot(struct dnsbl *d, const uint8_t key[DNSBL_KEY_LEN])
{
	uint32_t	h = 2166136261u;
	int		i;

	for (i = 0; i < DNSBL_KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return &d->cache[h % d->ncache];
}

/* dnsbl_lookup_run - one zone's A lookup (a thread, or inline) */
static void *
dnsbl_lookup_run(void *arg)
{
	struct dnsbl_lookup	*lk = arg;
	struct dns_answer	 ans;
	size_t			 i;

	lk->status = dns_lookup(lk->d->dns, lk->name, DNS_T_A, lk->deadline, &ans);
	lk->ttl = ans.ttl;
	for (i = 0; lk->status == DNS_OK && i < ans.n && i < DNS_RR_MAX; i++)
		memcpy(lk->a[lk->n++], &ans.rr[i].a, 4);
	snprintf(lk->why, sizeof(lk->why), "%.63s", ans.why[0] ? ans.why :
	    dns_status_name(lk->status));
	dns_answer_free(&ans);
	return NULL;
}

/* dnsbl_fcrdns_run - the client's verified, allowlisted name (a thread, or inline) */
static void *
dnsbl_fcrdns_run(void *arg)
{
	struct dnsbl_fcrdns	*fc = arg;

	fc->status = dns_verified_name(fc->d->dns, fc->af, fc->a, dnsbl_name_wanted, fc->d,
	    fc->deadline, fc->name, sizeof(fc->name), &fc->ttl);
	return NULL;
}

/* dnsbl_start - allowlist, cache, else one lookup per zone under one deadline */
struct dnsbl_query *
dnsbl_start(struct dnsbl *d, const char *addr)
{
	struct dnsbl_query	*q;
	struct dnsbl_slot	*sl;
	pthread_attr_t		 attr;
	char			 rev[DNS_NAME_MAX + 1];
	size_t			 z;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->d = d;
	q->res.threshold = d->threshold;
	q->res.ms = mono_ms();
	if (dnsbl_addr(addr, q->key) != 0) {
		snprintf(q->res.errors, sizeof(q->res.errors), "address");
		q->done = 1;
		return q;
	}
	if (dnsbl_allowed(d, q->key)) {
		q->res.allowlisted = q->done = 1;
		snprintf(q->res.allowed_by, sizeof(q->res.allowed_by), "network");
		return q;
	}
	if (d->ncache > 0) {
		pthread_mutex_lock(&d->mu);
		sl = dnsbl_slot(d, q->key);
		if (sl->expires > mono_ms() && memcmp(sl->key, q->key, DNSBL_KEY_LEN) == 0) {
			q->res.score = sl->score;
			q->hits = sl->hits;
			q->res.allowlisted = sl->allowed;
			if (sl->allowed)
				snprintf(q->res.allowed_by, sizeof(q->res.allowed_by), "name");
			q->res.cached = q->done = 1;
		}
		pthread_mutex_unlock(&d->mu);
		if (q->done)
			return q;
	}
	/* "d.c.b.a.in-addr.arpa" / "...ip6.arpa" less its suffix is the DNSBL prefix */
	dns_reverse_name(q->key[0], q->key + 1, rev, sizeof(rev));
	rev[strlen(rev) - (q->key[0] == AF_INET ? strlen(".in-addr.arpa") :
	    strlen(".ip6.arpa"))] = '\0';
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, DNSBL_STACK);
	if (d->nname > 0) {
		/* beside the zones: the name is known by the time they answer */
		q->fc.d = d;
		q->fc.af = q->key[0];
		memcpy(q->fc.a, q->key + 1, 16);
		q->fc.deadline = q->res.ms + d->timeout_ms;
		if (pthread_create(&q->fc.thr, &attr, dnsbl_fcrdns_run, &q->fc) == 0)
			q->fc.thread = 1;
		else
			dnsbl_fcrdns_run(&q->fc);
	}
	for (z = 0; z < d->nzone; z++) {
		struct dnsbl_lookup *lk = &q->lk[z];

		lk->d = d;
		lk->deadline = q->res.ms + d->timeout_ms;
		if (snprintf(lk->name, sizeof(lk->name), "%s.%s", rev, d->zone[z].name) >=
		    (int)sizeof(lk->name) || dns_name_check(lk->name) != 0) {
			lk->status = DNS_PERMFAIL;
			snprintf(lk->why, sizeof(lk->why), "name too long");
			continue;
		}
		if (pthread_create(&lk->thr, &attr, dnsbl_lookup_run, lk) == 0)
			lk->thread = 1;
		else
			dnsbl_lookup_run(lk);	/* no thread: ask now, same deadline */
	}
	pthread_attr_destroy(&attr);
	return q;
}

/* dnsbl_zone_error - log a failed list, at most once per zone per interval */
static void
dnsbl_zone_error(struct dnsbl *d, size_t z, const char *why)
{
	struct dnsbl_zone	*zn = &d->zone[z];
	int64_t			 now = mono_ms();
	unsigned long		 n;

	pthread_mutex_lock(&d->mu);
	if (zn->logged && now - zn->err_time < DNSBL_ERROR_LOG_INTERVAL * 1000LL) {
		zn->suppressed++;
		pthread_mutex_unlock(&d->mu);
		return;
	}
	zn->logged = 1;
	zn->err_time = now;
	n = zn->suppressed;
	zn->suppressed = 0;
	pthread_mutex_unlock(&d->mu);
	log_warnx("- dnsbl list_error zone=%s error=\"%s\" suppressed=%lu (scored 0)",
	    zn->name, why, n);
}

/* dnsbl_append - ",item" to a bounded list (a full list keeps the items that fit) */
static void
dnsbl_append(char *buf, size_t len, const char *item)
{
	size_t	used = strlen(buf), n = strlen(item);

	if (used + 1 + n >= len)
		return;
	if (used > 0)
		buf[used++] = ',';
	memcpy(buf + used, item, n + 1);
}

/* dnsbl_score - the sites' weights from the answers; errors logged; the TTL to cache */
static int64_t
dnsbl_score(struct dnsbl_query *q)
{
	struct dnsbl		*d = q->d;
	struct dnsbl_lookup	*lk;
	char			 why[64], item[DNS_NAME_MAX + 80];
	int64_t			 ttl = d->max_ttl;
	size_t			 i, j, z;
	int			 codes;

	for (z = 0; z < d->nzone; z++) {
		lk = &q->lk[z];
		if (lk->status == DNS_TEMPFAIL || lk->status == DNS_PERMFAIL) {
			snprintf(item, sizeof(item), "%s:%s", d->zone[z].name, lk->why);
			dnsbl_append(q->res.errors, sizeof(q->res.errors), item);
			dnsbl_zone_error(d, z, lk->why);
			ttl = d->min_ttl;
			continue;
		}
		if (lk->ttl < ttl)
			ttl = lk->ttl;
		for (i = codes = 0; i < lk->n; i++)
			if (lk->a[i][0] == 127 && lk->a[i][1] == 255 && lk->a[i][2] == 255)
				codes = lk->a[i][3] + 1;
		if (codes) {
			snprintf(why, sizeof(why), "error code 127.255.255.%d", codes - 1);
			snprintf(item, sizeof(item), "%s:127.255.255.%d", d->zone[z].name,
			    codes - 1);
			dnsbl_append(q->res.errors, sizeof(q->res.errors), item);
			dnsbl_zone_error(d, z, why);
		}
	}
	for (i = 0; i < d->nsite; i++) {
		lk = &q->lk[d->site_zone[i]];
		for (j = 0; lk->status == DNS_OK && j < lk->n; j++) {
			if (lk->a[j][0] == 127 && lk->a[j][1] == 255 && lk->a[j][2] == 255)
				continue;	/* an error code, never a listing */
			if (dnsbl_site_match(&d->site[i], lk->a[j])) {
				q->res.score += d->site[i].weight;
				q->hits |= 1u << i;
				break;
			}
		}
	}
	return ttl < d->min_ttl ? d->min_ttl : ttl;
}

/* dnsbl_describe - listings and the top listing from q->hits */
static void
dnsbl_describe(struct dnsbl_query *q)
{
	struct dnsbl	*d = q->d;
	char		 item[DNS_NAME_MAX + 16];
	size_t		 i;
	int		 top = 0;

	for (i = 0; i < d->nsite; i++) {
		if (!(q->hits & (1u << i)))
			continue;
		snprintf(item, sizeof(item), "%s*%d", d->site[i].zone, d->site[i].weight);
		dnsbl_append(q->res.listings, sizeof(q->res.listings), item);
		if (d->site[i].weight > top) {
			top = d->site[i].weight;
			memcpy(q->res.top, d->site[i].zone, sizeof(q->res.top));
		}
	}
	q->res.listed = !q->res.allowlisted && q->res.score >= q->res.threshold;
}

/* dnsbl_fcrdns_finish - join the name lookup; allowlisted or not; the TTL to cache (ttl in) */
static int64_t
dnsbl_fcrdns_finish(struct dnsbl_query *q, int64_t ttl)
{
	struct dnsbl_fcrdns	*fc = &q->fc;

	if (fc->d == NULL)
		return ttl;
	if (fc->thread)
		pthread_join(fc->thr, NULL);
	if (fc->status == DNS_OK) {
		q->res.allowlisted = 1;
		snprintf(q->res.allowed_by, sizeof(q->res.allowed_by), "%s", fc->name);
	} else if (fc->status == DNS_TEMPFAIL || fc->status == DNS_PERMFAIL) {
		/* no name: screened as any client, and not for long */
		dnsbl_append(q->res.errors, sizeof(q->res.errors), "client-name:tempfail");
		return q->d->min_ttl;
	}
	if ((int64_t)fc->ttl >= ttl)
		return ttl;
	return (int64_t)fc->ttl < q->d->min_ttl ? q->d->min_ttl : (int64_t)fc->ttl;
}

/* dnsbl_finish - join the lookups, score, cache the outcome, hand it out */
void
dnsbl_finish(struct dnsbl_query *q, struct dnsbl_result *res)
{
	struct dnsbl		*d;
	struct dnsbl_slot	*sl;
	int64_t			 ttl;
	size_t			 z;

	memset(res, 0, sizeof(*res));
	if (q == NULL) {
		snprintf(res->errors, sizeof(res->errors), "out of memory");
		return;
	}
	d = q->d;
	if (!q->done) {
		for (z = 0; z < d->nzone; z++)
			if (q->lk[z].thread)
				pthread_join(q->lk[z].thr, NULL);
		ttl = dnsbl_fcrdns_finish(q, dnsbl_score(q));
		if (d->ncache > 0) {
			pthread_mutex_lock(&d->mu);
			sl = dnsbl_slot(d, q->key);
			memcpy(sl->key, q->key, DNSBL_KEY_LEN);
			sl->score = q->res.score;
			sl->hits = q->hits;
			sl->allowed = q->res.allowlisted;
			sl->expires = mono_ms() + ttl * 1000;
			pthread_mutex_unlock(&d->mu);
		}
	}
	dnsbl_describe(q);
	q->res.ms = mono_ms() - q->res.ms;
	*res = q->res;
	free(q);
}
