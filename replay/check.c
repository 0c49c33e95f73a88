/*
 * check.c - `mxspool-replay check`: run the readiness areas, print the report.
 *
 * Entry points: check_run() (also for serve's scheduled refresh), check_add(),
 * check_report_*(), cli_check().  Order of a run: gateway-wide checks (TLS
 * first: DANE compares against the certificate it fetched; then store,
 * spool, primary), then per domain MX, MTA-STS, recipients.
 * Exit contract of the command: 0 when nothing FAILs, 1 otherwise; 78 when the
 * configuration is unusable (no [ingest] hostname, no domain, bad [dns]).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "config.h"
#include "dns.h"
#include "check.h"

void
check_add(struct check_ctx *cx, const char *name, const char *domain, enum check_status st,
    const char *fix, const char *fmt, ...)
{
	struct check_report	*rep = cx->rep;
	struct check_result	*r, *nr;
	va_list			 ap;

	if (rep->n == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 32;

		if (rep->n >= rep->max ||
		    (nr = realloc(rep->r, cap * sizeof(*nr))) == NULL) {
			rep->overflow = 1;
			return;
		}
		rep->r = nr;
		rep->cap = cap;
	}
	r = &rep->r[rep->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->domain, sizeof(r->domain), "%s", domain ? domain : "");
	r->status = st;
	snprintf(r->fix, sizeof(r->fix), "%s", fix && st != CHECK_PASS ? fix : "");
	va_start(ap, fmt);
	vsnprintf(r->evidence, sizeof(r->evidence), fmt, ap);
	va_end(ap);
}

void
check_report_free(struct check_report *rep)
{
	free(rep->r);
	memset(rep, 0, sizeof(*rep));
}

const char *
check_status_name(enum check_status st)
{
	return st == CHECK_PASS ? "PASS" : st == CHECK_WARN ? "WARN" : "FAIL";
}

enum check_status
check_report_worst(const struct check_report *rep)
{
	enum check_status w = rep->overflow ? CHECK_FAIL : CHECK_PASS;

	for (size_t i = 0; i < rep->n; i++)
		if (rep->r[i].status > w)
			w = rep->r[i].status;
	return w;
}

/* check_gateways - [ingest] hostname, then [check] gateways (comma or space separated) */
static int
check_gateways(struct check_ctx *cx, char *err, size_t errlen)
{
	const char	*v = config_str(cx->cfg, "check", "gateways", "");
	char		*p = cx->gwbuf, *end = cx->gwbuf + sizeof(cx->gwbuf);
	int		 r;

	cx->hostname = config_str(cx->cfg, "ingest", "hostname", NULL);
	if (cx->hostname == NULL || dns_name_check(cx->hostname) != 0) {
		snprintf(err, errlen, "%s: [ingest] hostname: want this gateway's MX host name",
		    config_path(cx->cfg));
		return -1;
	}
	cx->gateways[cx->ngateways++] = cx->hostname;
	/* config_check() has refused a bad list (config_schema_gateways) */
	while (cx->ngateways < CHECK_GATEWAYS_MAX && (size_t)(end - p) > MXS_DOMAIN_MAX &&
	    (r = dns_name_list_next(&v, p, MXS_DOMAIN_MAX + 1)) != 0) {
		if (r < 0) {
			snprintf(err, errlen, "%s: [check] gateways: \"%s\" is not a host name",
			    config_path(cx->cfg), p);
			return -1;
		}
		if (strcasecmp(p, cx->hostname) != 0)
			cx->gateways[cx->ngateways++] = p;
		p += strlen(p) + 1;
	}
	return 0;
}

/* every [domain NAME] of the file (no cap: the array is the file's count), or only one */
struct check_domains {
	const char	*only;
	char		(*names)[MXS_DOMAIN_MAX + 1];
	size_t		 n, cap;
};

/* check_domain_cb - config_sections callback: "domain NAME" */
static void
check_domain_cb(const char *sec, void *arg)
{
	struct check_domains	*d = arg;
	const char		*name = sec + strlen("domain ");

	if (d->n == d->cap || (d->only && strcasecmp(d->only, name) != 0))
		return;
	snprintf(d->names[d->n++], sizeof(d->names[0]), "%s", name);
}

/* check_stopped - has serve asked the run to end (check_serve_stop)? */
static int
check_stopped(const int *stop)
{
	return stop != NULL && __atomic_load_n(stop, __ATOMIC_RELAXED) != 0;
}

int
check_run(const struct config *cfg, const char *domain, const int *stop,
    struct check_report *rep, char *err, size_t errlen)
{
	/* gateway-wide areas; TLS first: DANE compares against the certificate it fetched */
	static void		(*const areas[])(struct check_ctx *) = {
		check_tls, check_dane, check_store, check_primary, check_fcrdns,
	};
	struct check_ctx	 cx;
	struct check_domains	 d = { .only = domain };
	int			 rc = -1;

	memset(&cx, 0, sizeof(cx));
	memset(rep, 0, sizeof(*rep));
	cx.cfg = cfg;
	cx.rep = rep;
	cx.timeout = (int)config_duration(cfg, "check", "timeout", 10, 1, 300);
	cx.ca_file = config_str(cfg, "check", "ca_file", NULL);
	if (check_gateways(&cx, err, errlen) != 0)
		return -1;
	d.cap = config_sections_count(cfg, "domain ");
	if ((d.names = calloc(d.cap ? d.cap : 1, sizeof(*d.names))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	config_sections(cfg, "domain ", check_domain_cb, &d);
	rep->max = CHECK_RESULTS_MAX + d.n * CHECK_RESULTS_DOMAIN_MAX;
	if (d.n == 0) {
		snprintf(err, errlen, domain ? "no [domain %s] section in %s" :
		    "no [domain NAME] section in %s", domain ? domain : config_path(cfg),
		    config_path(cfg));
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);	/* thread-safe since curl 7.84; a no-op after once */
	if ((cx.dns = dns_open(cfg, err, errlen)) == NULL)
		goto out;
	dns_set_stop(cx.dns, stop);
	for (size_t i = 0; i < sizeof(areas) / sizeof(*areas) && !check_stopped(stop); i++)
		areas[i](&cx);
	for (size_t i = 0; i < d.n && !check_stopped(stop); i++) {
		check_mx(&cx, d.names[i]);
		check_sts(&cx, d.names[i]);
		check_recipients(&cx, d.names[i]);
	}
	if (check_stopped(stop)) {
		check_report_free(rep);
		snprintf(err, errlen, "stopped");
		goto out;
	}
	rc = 0;
out:
	if (cx.dns) {
		dns_set_stop(cx.dns, NULL);	/* the resolver is shared: stop outlives this run */
		dns_close(cx.dns);
	}
	free(cx.cert_der);
	free(d.names);
	return rc;
}

json_t *
check_report_json(const struct check_report *rep)
{
	json_t *a = json_array();

	for (size_t i = 0; i < rep->n; i++) {
		const struct check_result *r = &rep->r[i];
		const char	*up = check_status_name(r->status);
		char		 st[8];
		size_t		 k;

		for (k = 0; up[k] != '\0' && k + 1 < sizeof(st); k++)
			st[k] = (char)tolower((unsigned char)up[k]);
		st[k] = '\0';
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:s}", "check", r->name,
		    "domain", r->domain, "status", st, "evidence", r->evidence, "fix", r->fix));
	}
	return json_pack("{s:s, s:b, s:o}", "status",
	    check_report_worst(rep) == CHECK_FAIL ? "fail" :
	    check_report_worst(rep) == CHECK_WARN ? "warn" : "pass",
	    "truncated", rep->overflow, "checks", a);
}

/* check_print - the human report: one line per check, the fix under it */
static void
check_print(const struct check_report *rep, FILE *f)
{
	size_t nst[3] = { 0, 0, 0 };

	for (size_t i = 0; i < rep->n; i++) {
		const struct check_result *r = &rep->r[i];

		nst[r->status]++;
		fprintf(f, "%s  %-15s %-20s %s\n", check_status_name(r->status), r->name,
		    r->domain[0] ? r->domain : "-", r->evidence);
		if (r->fix[0])
			fprintf(f, "      fix: %s\n", r->fix);
	}
	fprintf(f, "%zu pass, %zu warn, %zu fail%s: failover %s\n", nst[0], nst[1], nst[2],
	    rep->overflow ? " (report truncated)" : "",
	    nst[2] ? "would NOT work as configured" : "is ready");
}

int
cli_check(struct cli *c)
{
	struct check_report	 rep;
	char			 err[ERRSTR_MAX];
	int			 rc;

	if (c->nargs != 0)
		return cli_err(c, CLI_USAGE, "no operands expected");
	if (check_run(c->cfg, c->f.domain, NULL, &rep, err, sizeof(err)) != 0)
		return cli_err(c, CLI_CONFIG, "%s", err);
	if (c->json) {
		json_t *j = check_report_json(&rep);

		json_dumpf(j, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(j);
	} else
		check_print(&rep, stdout);
	rc = check_report_worst(&rep) == CHECK_FAIL ? 1 : 0;
	check_report_free(&rep);
	return rc;
}
