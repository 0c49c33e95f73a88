/*
 * rcpt_verify_load.c - recipient verification: configuration and list files
 * into a struct verify (see rcpt_verify.h, rcpt_verify_impl.h).
 *
 * Entry points: verify_load(), verify_free().  Every [domain NAME] section,
 * its plain and hashed list files (relative to the config file) and its
 * callout settings are read and checked here, once per (re)load; lists are
 * sorted for rcpt_verify.c's binary searches.  Keys are read with the
 * config module's non-fatal getters (config_get_*: the parser and the error
 * line config_check() has).  Errors: verify_load() returns NULL with the
 * first error naming the file, line or key; nothing here calls fatalx() on
 * configuration content (a SIGHUP must not kill).
 * The callout cache (the index) is not opened here: see rcpt_verify.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "index.h"
#include "log.h"
#include "rcpt_verify.h"
#include "rcpt_verify_impl.h"

/* list file lines longer than this are an error (an address is at most MXS_ADDR_MAX) */
#define VERIFY_LINE_MAX		1024

struct verify_loadctx {
	const struct config	*cfg;
	struct verify		*v;
	char			*err;
	size_t			 errlen;
	int			 failed;
	char			 gerr[ERRSTR_MAX * 2];	/* the config getters' error line */
};

/* verify_fail - record the first load error */
static void __attribute__((format(printf, 2, 3)))
verify_fail(struct verify_loadctx *lc, const char *fmt, ...)
{
	va_list ap;

	if (lc->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(lc->err, lc->errlen, fmt, ap);
	va_end(ap);
}

/* verify_got - a config_get_*() result: its error line (in lc->gerr) is a load error */
static int
verify_got(struct verify_loadctx *lc, int rc)
{
	if (rc == -1)
		verify_fail(lc, "%s", lc->gerr);
	return rc;
}

/* verify_token - first whitespace-separated token of a list line; NULL: blank/comment */
static char *
verify_token(char *line)
{
	char *p = line + strspn(line, " \t\r\n");

	if (*p == '\0' || *p == '#')
		return NULL;
	p[strcspn(p, " \t\r\n")] = '\0';
	return p;
}

/* verify_hex - 64 hex digits to 32 bytes; -1 if not exactly that */
static int
verify_hex(const char *s, unsigned char out[32])
{
	int i, hi, lo;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		hi = isxdigit((unsigned char)s[2 * i]) ? s[2 * i] : -1;
		lo = isxdigit((unsigned char)s[2 * i + 1]) ? s[2 * i + 1] : -1;
		if (hi == -1 || lo == -1)
			return -1;
		hi = hi <= '9' ? hi - '0' : (hi | 0x20) - 'a' + 10;
		lo = lo <= '9' ? lo - '0' : (lo | 0x20) - 'a' + 10;
		out[i] = hi << 4 | lo;
	}
	return 0;
}

/* verify_add_plain - one plain-list token: "local", "local@domain" or "@domain" */
static int
verify_add_plain(struct verify *v, struct verify_domain *d, const char *tok)
{
	char	 full[MXS_ADDR_MAX + 2], norm[MXS_ADDR_MAX + 2], dom[MXS_DOMAIN_MAX + 1], **nl;
	size_t	 llen;

	if (tok[0] == '@') {
		if (mailaddr_domain_ascii(tok + 1, dom, sizeof(dom)) == -1 ||
		    strcmp(dom, d->name) != 0)
			return 0;	/* another domain's line in a shared file */
		d->catchall = 1;	/* Postfix relay_recipient_maps "@domain" */
		return 0;
	}
	if (strchr(tok, '@') != NULL)
		snprintf(full, sizeof(full), "%s", tok);
	else if (snprintf(full, sizeof(full), "%s@%s", tok, d->name) >= (int)sizeof(full))
		return -1;
	if (mailaddr_key(full, v->case_sensitive, norm, sizeof(norm), &llen) == -1 ||
	    strcspn(norm, "%!@") < llen)
		return -1;	/* such local parts are never accepted: a typo */
	if (d->nlist == d->caplist) {
		d->caplist = d->caplist ? d->caplist * 2 : 64;
		if ((nl = reallocarray(d->list, d->caplist, sizeof(*nl))) == NULL)
			return -1;
		d->list = nl;
	}
	if ((d->list[d->nlist] = strdup(norm)) == NULL)
		return -1;
	d->nlist++;
	return 0;
}

/* verify_add_hash - one hashed-list token: 64 hex digits (sha256sum output is fine) */
static int
verify_add_hash(struct verify *v, struct verify_domain *d, const char *tok)
{
	unsigned char	(*nh)[32];

	if (d->nhashes == d->caphashes) {
		d->caphashes = d->caphashes ? d->caphashes * 2 : 64;
		if ((nh = reallocarray(d->hashes, d->caphashes, sizeof(*nh))) == NULL)
			return -1;
		d->hashes = nh;
	}
	if (verify_hex(tok, d->hashes[d->nhashes]) == -1)
		return -1;
	d->nhashes++;
	return 0;
}

/* verify_read_list - feed every token of file path to add(); errors name file:line */
static void
verify_read_list(struct verify_loadctx *lc, struct verify_domain *d, const char *path,
    int (*add)(struct verify *, struct verify_domain *, const char *), const char *what)
{
	FILE	*fp;
	char	*line = NULL, *tok, esc[80];
	size_t	 cap = 0;
	ssize_t	 n;
	long	 lineno = 0;

	if ((fp = fopen(path, "re")) == NULL) {
		verify_fail(lc, "%s: cannot open %s list for domain %s: %s", path, what, d->name,
		    strerror(errno));
		return;
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if (n > VERIFY_LINE_MAX) {
			verify_fail(lc, "%s:%ld: line longer than %d bytes", path, lineno,
			    VERIFY_LINE_MAX);
			break;
		}
		if ((tok = verify_token(line)) == NULL)
			continue;
		if (add(lc->v, d, tok) == -1) {
			verify_fail(lc, "%s:%ld: bad %s entry \"%s\"", path, lineno, what,
			    log_escape(tok, strlen(tok), esc, sizeof(esc)));
			break;
		}
	}
	if (ferror(fp))
		verify_fail(lc, "%s: read error: %s", path, strerror(errno));
	free(line);
	fclose(fp);
}

/* verify_read_lists - "FILE[, FILE...]" relative to the config file's directory */
static void
verify_read_lists(struct verify_loadctx *lc, struct verify_domain *d, const char *files,
    int (*add)(struct verify *, struct verify_domain *, const char *), const char *what)
{
	const char	*p = files, *cpath = config_path(lc->cfg), *slash;
	char		 path[PATH_MAX];
	size_t		 n;
	int		 dirlen;

	slash = strrchr(cpath, '/');
	dirlen = slash == NULL ? 0 : (int)(slash - cpath);
	while (*(p += strspn(p, ", \t")) != '\0') {
		n = strcspn(p, ", \t");
		if (*p == '/' || slash == NULL)
			snprintf(path, sizeof(path), "%.*s", (int)n, p);
		else if (snprintf(path, sizeof(path), "%.*s/%.*s", dirlen, cpath, (int)n, p) >=
		    (int)sizeof(path))
			path[0] = '\0';
		if (path[0] == '\0' || n >= sizeof(path))
			verify_fail(lc, "%s: %s list path too long", config_path(lc->cfg), what);
		else
			verify_read_list(lc, d, path, add, what);
		p += n;
	}
}

/* verify_domain_callout - callout keys of section sec */
static void
verify_domain_callout(struct verify_loadctx *lc, struct verify_domain *d, const char *sec)
{
	const struct config	*c = lc->cfg;
	const char		*s;
	char			 norm[MXS_ADDR_MAX + 2];
	size_t			 llen;
	long long		 to;

	verify_got(lc, config_get_duration(c, sec, "callout_timeout", 10, 1, 3600, &to, lc->gerr,
	    sizeof(lc->gerr)));
	d->timeout_ms = 1000 * (int)to;
	verify_got(lc, config_get_duration(c, sec, "positive_ttl", 7 * 86400, 0, 3650LL * 86400,
	    &d->positive_ttl, lc->gerr, sizeof(lc->gerr)));
	verify_got(lc, config_get_duration(c, sec, "negative_ttl", 3600, 0, 3650LL * 86400,
	    &d->negative_ttl, lc->gerr, sizeof(lc->gerr)));
	verify_got(lc, config_get_duration(c, sec, "positive_stale", 30 * 86400, 0,
	    3650LL * 86400, &d->positive_stale, lc->gerr, sizeof(lc->gerr)));
	verify_got(lc, config_get_duration(c, sec, "callout_backoff", 30, 0, 86400, &d->backoff,
	    lc->gerr, sizeof(lc->gerr)));
	verify_got(lc, config_get_str(c, sec, "callout_sender", "", &s, lc->gerr,
	    sizeof(lc->gerr)));
	if (*s != '\0' && mailaddr_key(s, 1, norm, sizeof(norm), &llen) == -1)
		verify_fail(lc, "%s: [%s] callout_sender = \"%s\": want an address or nothing",
		    config_path(c), sec, s);
	snprintf(d->sender, sizeof(d->sender), "%s", s);
	if (verify_got(lc, config_get_str(c, sec, "callout", NULL, &s, lc->gerr,
	    sizeof(lc->gerr))) == -1 || s == NULL)
		return;
	if (route_parse_smtp(s, &d->callout) == -1) {
		verify_fail(lc, "%s: [%s] callout = \"%s\": want smtp://host[:port] (port 1-65535)",
		    config_path(c), sec, s);
		return;
	}
	d->callout_on = 1;
}

/* verify_domain_load - config_sections callback for "domain NAME" */
static void
verify_domain_load(const char *sec, void *arg)
{
	struct verify_loadctx	*lc = arg;
	struct verify		*v = lc->v;
	struct verify_domain	*d = &v->dom[v->ndom];
	const struct config	*c = lc->cfg;
	const char		*raw = sec + strlen("domain "), *s, *plain, *hashed;
	char			 name[MXS_DOMAIN_MAX + 1];
	size_t			 i, n = 0;
	int			 catchall;

	if (lc->failed)
		return;
	/* "[domain bücher.example]" and "[domain xn--bcher-kva.example]" are one name */
	if (raw[0] != '\0' && raw[strlen(raw) - 1] != '.' &&
	    mailaddr_domain_ascii(raw, name, sizeof(name)) == 0)
		n = strlen(name);
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '.')
			break;
	if (n == 0 || i < n || name[0] == '.') {
		verify_fail(lc, "%s: [%s]: not a domain name", config_path(c), sec);
		return;
	}
	memset(d, 0, sizeof(*d));
	memcpy(d->name, name, n + 1);
	v->ndom++;
	/* unknown keys (typos) are config_check()'s: the file was refused before this */
	verify_got(lc, config_get_str(c, sec, "recipients", NULL, &plain, lc->gerr,
	    sizeof(lc->gerr)));
	if (plain != NULL)
		verify_read_lists(lc, d, plain, verify_add_plain, "recipients");
	verify_got(lc, config_get_str(c, sec, "hashed", NULL, &hashed, lc->gerr,
	    sizeof(lc->gerr)));
	if (hashed != NULL)
		verify_read_lists(lc, d, hashed, verify_add_hash, "hashed");
	verify_got(lc, config_get_bool(c, sec, "catchall", 0, &catchall, lc->gerr,
	    sizeof(lc->gerr)));
	d->catchall |= catchall;
	verify_got(lc, config_get_bool(c, sec, "subaddress", 0, &d->subaddress, lc->gerr,
	    sizeof(lc->gerr)));
	verify_got(lc, config_get_str(c, sec, "delimiter", "+", &s, lc->gerr, sizeof(lc->gerr)));
	for (i = 0; s[i] != '\0'; i++)
		if (isalnum((unsigned char)s[i]) || s[i] == '@' || s[i] == '.' ||
		    (unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			break;
	if (i == 0 || s[i] != '\0' || i > VERIFY_DELIM_MAX)
		verify_fail(lc, "%s: [%s] delimiter = \"%s\": want 1 to %d punctuation characters",
		    config_path(c), sec, s, VERIFY_DELIM_MAX);
	else
		memcpy(d->delim, s, i + 1);
	verify_domain_callout(lc, d, sec);
	if (!lc->failed && d->nlist == 0 && d->nhashes == 0 && !d->catchall && !d->callout_on &&
	    plain == NULL && hashed == NULL)
		verify_fail(lc, "%s: [%s]: no recipient source: set recipients, hashed, "
		    "catchall = yes or callout", config_path(c), sec);
	if (d->nlist > 0)
		qsort(d->list, d->nlist, sizeof(*d->list), verify_strcmp);
	if (d->nhashes > 0)
		qsort(d->hashes, d->nhashes, sizeof(*d->hashes), verify_hashcmp);
}

/* verify_want_cache - note whether a callout domain needs the cache and its purge horizon */
static void
verify_want_cache(struct verify_loadctx *lc)
{
	struct verify	*v = lc->v;
	size_t		 i;

	for (i = 0; i < v->ndom; i++)
		if (v->dom[i].callout_on) {
			v->cache_on = 1;
			if (v->dom[i].positive_stale > v->cache_stale)
				v->cache_stale = v->dom[i].positive_stale;
		}
	if (v->cache_on)
		config_index_path(lc->cfg, v->index_path, sizeof(v->index_path));
}

/* verify_load - domain tables, lists and callout settings; NULL + err */
struct verify *
verify_load(const struct config *cfg, char *err, size_t errlen)
{
	struct verify_loadctx	 lc = { .cfg = cfg, .err = err, .errlen = errlen };
	struct verify		*v;
	pthread_condattr_t	 ca;
	const char		*helo;
	long long		 inflight;
	size_t			 n, i;

	n = config_sections_count(cfg, "domain ");
	if ((v = calloc(1, sizeof(*v))) == NULL ||
	    (v->dom = calloc(n ? n : 1, sizeof(*v->dom))) == NULL) {
		free(v);
		snprintf(err, errlen, "verify: out of memory");
		return NULL;
	}
	lc.v = v;
	pthread_mutex_init(&v->idx_mu, NULL);
	pthread_mutex_init(&v->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* verify_waitcv deadlines */
	pthread_cond_init(&v->cv, &ca);
	pthread_condattr_destroy(&ca);
	verify_got(&lc, config_get_bool(cfg, "ingest", "case_sensitive_local", 0,
	    &v->case_sensitive, lc.gerr, sizeof(lc.gerr)));
	verify_got(&lc, config_get_num(cfg, "ingest", "callout_concurrency", 8, 1, 1000, &inflight,
	    lc.gerr, sizeof(lc.gerr)));
	v->max_inflight = (int)inflight;
	/* unset: "" and smtpc_hello says this host's name */
	verify_got(&lc, config_get_str(cfg, "ingest", "hostname", "", &helo, lc.gerr,
	    sizeof(lc.gerr)));
	snprintf(v->helo, sizeof(v->helo), "%s", helo);
	if (n == 0)
		verify_fail(&lc, "%s: no [domain NAME] section: the gateway would accept no mail",
		    config_path(cfg));
	config_sections(cfg, "domain ", verify_domain_load, &lc);
	qsort(v->dom, v->ndom, sizeof(*v->dom), verify_domcmp);
	for (i = 1; i < v->ndom && !lc.failed; i++)
		if (strcmp(v->dom[i - 1].name, v->dom[i].name) == 0)
			verify_fail(&lc, "%s: [domain %s] appears twice", config_path(cfg),
			    v->dom[i].name);
	if (!lc.failed)
		verify_want_cache(&lc);
	if (lc.failed) {
		verify_free(v);
		return NULL;
	}
	return v;
}

/* verify_free - release v (no session may use it any more) */
void
verify_free(struct verify *v)
{
	struct verify_inflight	*f;
	size_t			 i, j;

	if (v == NULL)
		return;
	for (i = 0; i < v->ndom; i++) {
		for (j = 0; j < v->dom[i].nlist; j++)
			free(v->dom[i].list[j]);
		free(v->dom[i].list);
		free(v->dom[i].hashes);
	}
	while ((f = v->inflight) != NULL) {
		v->inflight = f->next;
		free(f);
	}
	index_close(v->idx);
	pthread_mutex_destroy(&v->idx_mu);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv);
	free(v->dom);
	free(v);
}

