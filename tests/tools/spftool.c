/*
 * spftool.c - drive common/dns.c and common/spf.c from tests.
 *
 *   spftool table                 read a zone table and SPF checks on stdin
 *                                 (tests/e2e/spf_suite.py writes them from the
 *                                 RFC 7208 suite), print one result a check
 *   spftool dns NS[:PORT] TIMEOUT_MS lookup NAME TYPE...
 *                                 "NAME TYPE status ttl=N rr..." per question
 *   spftool dns NS[:PORT] TIMEOUT_MS spf IP SENDER HELO
 *                                 "result explanation=... problem=..."
 *   spftool dns NS[:PORT] TIMEOUT_MS threads N NAME
 *                                 N threads share one resolver, each looks up
 *                                 NAME A and n<i>.NAME A: "threads ok=K nx=K other=K"
 *   spftool dns NS[:PORT] TIMEOUT_MS handoff NAME1 NAME2
 *                                 NAME1 A in one thread, 50 ms later NAME2 A in
 *                                 another: "handoff STATUS1 STATUS2" (with a slow
 *                                 NAME2, the first waiter must hand polling over)
 * NS "conf=FILE" reads [dns] from a config file instead (dns_open).
 * Table input, tab-separated, values hex where they are bytes:
 *   Z name TYPE value      A/AAAA/PTR/CNAME text, MX "pref name", TXT hex
 *                          strings joined by ",", value TIMEOUT: times out;
 *   Z name TIMEOUT -       (pyspf's test driver: a question that reaches it
 *                          before a record of its type times out)
 *   T id ip hex(sender) hex(helo)   ->   "id<TAB>result<TAB>hex(explanation)"
 *   R                      forget the zone (next scenario)
 * Exit 0 when everything was printed, 1 on a resolver error, 64 on usage.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "dns.h"
#include "spf.h"

#define ZONE_MAX	4096

struct zrec {
	char	name[DNS_NAME_MAX * 2];
	char	type[16];
	char	*value;
};

static struct zrec	zone[ZONE_MAX];
static int		nzone;

/* table_type - our number for a table type name, 0 for others (SPF, TIMEOUT) */
static int
table_type(const char *t)
{
	static const struct { const char *n; int t; } types[] = {
		{ "A", DNS_T_A }, { "AAAA", DNS_T_AAAA }, { "MX", DNS_T_MX },
		{ "TXT", DNS_T_TXT }, { "PTR", DNS_T_PTR }, { "CNAME", DNS_T_CNAME },
		{ "TLSA", DNS_T_TLSA },
	};
	size_t	i;

	for (i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (strcasecmp(t, types[i].n) == 0)
			return types[i].t;
	return 0;
}

/* table_unhex - hex into out (NUL added); length or -1 */
static long
table_unhex(const char *h, size_t hl, unsigned char *out, size_t outlen)
{
	size_t	i, o = 0;
	unsigned int	b;

	if (hl % 2 != 0 || hl / 2 >= outlen)
		return -1;
	for (i = 0; i < hl; i += 2) {
		if (sscanf(h + i, "%2x", &b) != 1)
			return -1;
		out[o++] = (unsigned char)b;
	}
	out[o] = '\0';
	return (long)o;
}

/* table_rr - one record from the table's text form */
static int
table_rr(int t, const char *v, struct dns_rr *rr)
{
	unsigned char	buf[DNS_TXT_MAX + 1];
	size_t		len = 0;
	long		n;
	const char	*p, *q;

	switch (t) {
	case DNS_T_A:
		return inet_pton(AF_INET, v, &rr->a) == 1 ? 0 : -1;
	case DNS_T_AAAA:
		return inet_pton(AF_INET6, v, &rr->aaaa) == 1 ? 0 : -1;
	case DNS_T_MX:
		if ((p = strchr(v, ' ')) == NULL)
			return -1;
		rr->pref = (uint16_t)strtol(v, NULL, 10);
		snprintf(rr->name, sizeof(rr->name), "%s", p + 1);
		return 0;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		snprintf(rr->name, sizeof(rr->name), "%s", v);
		return 0;
	case DNS_T_TXT:
		for (p = v; *p != '\0'; p = *q ? q + 1 : q) {
			q = p + strcspn(p, ",");
			if ((n = table_unhex(p, (size_t)(q - p), buf + len, sizeof(buf) - len)) < 0)
				return -1;
			len += (size_t)n;
		}
		if ((rr->data = malloc(len + 1)) == NULL)
			return -1;
		memcpy(rr->data, buf, len);
		rr->data[len] = '\0';
		rr->len = len;
		return 0;
	}
	return -1;
}

/* table_norm - pyspf's driver: lower case, empty labels dropped, no final dot */
static int
table_norm(const char *in, char *out, size_t outlen)
{
	size_t	o = 0, lab = 0;

	for (; *in != '\0'; in++) {
		if (*in == '.') {
			if (lab > 0 && o + 1 < outlen)
				out[o++] = '.';
			lab = 0;
			continue;
		}
		if (++lab > DNS_LABEL_MAX || o + 1 >= outlen)
			return -1;
		out[o++] = (char)tolower((unsigned char)*in);
	}
	if (o > 0 && out[o - 1] == '.')
		o--;
	out[o] = '\0';
	return 0;
}

/* table_lookup - answer a question from the table, as pyspf's test driver does */
static enum dns_status
table_lookup(void *arg, const char *qname, enum dns_type t, struct dns_answer *ans)
{
	char	name[DNS_NAME_MAX * 2];
	int	i, hops, seen, matched;

	memset(ans, 0, sizeof(*ans));
	if (table_norm(qname, name, sizeof(name)) != 0)
		return ans->status = DNS_TEMPFAIL;	/* pydns: label too long */
	for (hops = 0; hops < 8; hops++) {
		char cname[DNS_NAME_MAX + 1] = "";

		seen = matched = 0;
		for (i = 0; i < nzone; i++) {
			if (strcmp(zone[i].name, name) != 0)
				continue;
			seen = 1;
			if (strcmp(zone[i].type, "TIMEOUT") == 0) {
				if (!matched)
					return ans->status = DNS_TEMPFAIL;
				break;
			}
			if (table_type(zone[i].type) == DNS_T_CNAME && t != DNS_T_CNAME) {
				snprintf(cname, sizeof(cname), "%s", zone[i].value);
				continue;
			}
			if (table_type(zone[i].type) != (int)t)
				continue;
			matched = 1;
			if (strcmp(zone[i].value, "TIMEOUT") == 0) {
				dns_answer_free(ans);
				return ans->status = DNS_TEMPFAIL;
			}
			if (ans->n >= DNS_RR_MAX)
				continue;
			ans->rr = realloc(ans->rr, (ans->n + 1) * sizeof(*ans->rr));
			memset(&ans->rr[ans->n], 0, sizeof(*ans->rr));
			if (table_rr(t, zone[i].value, &ans->rr[ans->n]) != 0) {
				fprintf(stderr, "spftool: bad %s value for %s\n", zone[i].type, name);
				exit(1);
			}
			ans->n++;
		}
		if (matched || cname[0] == '\0')
			break;
		if (table_norm(cname, name, sizeof(name)) != 0)
			return ans->status = DNS_TEMPFAIL;
	}
	if (matched)
		return ans->status = DNS_OK;
	if (!seen && strncmp(name, "error.", 6) == 0)
		return ans->status = DNS_TEMPFAIL;
	return ans->status = seen ? DNS_NODATA : DNS_NXDOMAIN;
}

/* tool_hexout - print bytes as hex */
static void
tool_hexout(const char *s)
{
	for (; *s != '\0'; s++)
		printf("%02x", (unsigned char)*s);
}

/* tool_table - the suite mode */
static int
tool_table(void)
{
	struct spf_resolver	res = { table_lookup, NULL };
	struct spf_request	req;
	struct spf_verdict	v;
	char			line[16384], *f[6], *p;
	unsigned char		sender[1024], helo[1024];
	int			nf, i;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (nf = 0, p = line; nf < 6 && p != NULL; nf++) {
			f[nf] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = '\0';
		}
		if (f[0][0] == 'R') {
			for (i = 0; i < nzone; i++)
				free(zone[i].value);
			nzone = 0;
		} else if (f[0][0] == 'Z' && nf == 4 && nzone < ZONE_MAX) {
			if (table_norm(f[1], zone[nzone].name, sizeof(zone[nzone].name)) != 0)
				snprintf(zone[nzone].name, sizeof(zone[nzone].name), "%s", f[1]);
			snprintf(zone[nzone].type, sizeof(zone[nzone].type), "%s", f[2]);
			zone[nzone++].value = strdup(f[3]);
		} else if (f[0][0] == 'T' && nf == 5) {
			memset(&req, 0, sizeof(req));
			if (spf_request_ip(&req, f[2]) != 0 ||
			    table_unhex(f[3], strlen(f[3]), sender, sizeof(sender)) < 0 ||
			    table_unhex(f[4], strlen(f[4]), helo, sizeof(helo)) < 0) {
				fprintf(stderr, "spftool: bad test line for %s\n", f[1]);
				return 1;
			}
			req.sender = (char *)sender;
			req.helo = (char *)helo;
			req.default_exp = "DEFAULT";
			spf_check(&res, &req, &v);
			printf("%s\t%s\t", f[1], spf_result_name(v.result));
			tool_hexout(v.explanation);
			printf("\t%s\n", v.problem);
			fflush(stdout);
		} else {
			fprintf(stderr, "spftool: bad line: %s\n", line);
			return 1;
		}
	}
	return 0;
}

/* tool_print_answer - one line per question */
static void
tool_print_answer(const char *name, const char *type, const struct dns_answer *a)
{
	char	buf[INET6_ADDRSTRLEN];
	size_t	i;

	printf("%s %s %s ttl=%u", name, type, dns_status_name(a->status), a->ttl);
	for (i = 0; i < a->n; i++) {
		const struct dns_rr *rr = &a->rr[i];
		switch (table_type(type)) {
		case DNS_T_A:
			printf(" %s", inet_ntop(AF_INET, &rr->a, buf, sizeof(buf)));
			break;
		case DNS_T_AAAA:
			printf(" %s", inet_ntop(AF_INET6, &rr->aaaa, buf, sizeof(buf)));
			break;
		case DNS_T_MX:
			printf(" %u:%s", rr->pref, rr->name);
			break;
		case DNS_T_PTR:
			printf(" %s", rr->name);
			break;
		case DNS_T_TXT:
			printf(" \"%s\"", (char *)rr->data);
			break;
		case DNS_T_TLSA:
			printf(" %u/%u/%u/%zu", rr->usage, rr->selector, rr->mtype, rr->len);
			break;
		}
	}
	if (a->status != DNS_OK)
		printf(" why=%s", a->why);
	printf("\n");
}

struct tool_thread {
	pthread_t	 tid;
	struct dns	*d;
	const char	*name;
	int		 i;
	enum dns_status	 s1, s2;
};

/* tool_thread_run - two lookups on the shared resolver */
static void *
tool_thread_run(void *arg)
{
	struct tool_thread	*t = arg;
	struct dns_answer	 a;
	char			 nx[DNS_NAME_MAX + 1];

	t->s1 = dns_lookup(t->d, t->name, DNS_T_A, 0, &a);
	dns_answer_free(&a);
	snprintf(nx, sizeof(nx), "n%d.%s", t->i, t->name);
	t->s2 = dns_lookup(t->d, nx, DNS_T_A, 0, &a);
	dns_answer_free(&a);
	return NULL;
}

/* tool_threads - n threads at once on one struct dns */
static int
tool_threads(struct dns *d, int n, const char *name)
{
	struct tool_thread	t[64];
	int			i, ok = 0, nx = 0, other = 0;

	if (n < 1 || n > 64)
		return 64;
	for (i = 0; i < n; i++) {
		t[i].d = d;
		t[i].name = name;
		t[i].i = i;
		if (pthread_create(&t[i].tid, NULL, tool_thread_run, &t[i]) != 0)
			return 1;
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i].tid, NULL);
		ok += t[i].s1 == DNS_OK;
		nx += t[i].s2 == DNS_NXDOMAIN;
		other += (t[i].s1 != DNS_OK) + (t[i].s2 != DNS_NXDOMAIN);
	}
	printf("threads ok=%d nx=%d other=%d\n", ok, nx, other);
	return 0;
}

/* tool_handoff_run - one lookup */
static void *
tool_handoff_run(void *arg)
{
	struct tool_thread	*t = arg;
	struct dns_answer	 a;

	t->s1 = dns_lookup(t->d, t->name, DNS_T_A, 0, &a);
	dns_answer_free(&a);
	return NULL;
}

/* tool_handoff - a second waiter arrives while the first one polls */
static int
tool_handoff(struct dns *d, const char *n1, const char *n2)
{
	struct tool_thread	t[2] = { { .d = d, .name = n1 }, { .d = d, .name = n2 } };
	struct timespec		ts = { 0, 50 * 1000000L };

	if (pthread_create(&t[0].tid, NULL, tool_handoff_run, &t[0]) != 0)
		return 1;
	nanosleep(&ts, NULL);
	if (pthread_create(&t[1].tid, NULL, tool_handoff_run, &t[1]) != 0)
		return 1;
	pthread_join(t[0].tid, NULL);
	pthread_join(t[1].tid, NULL);
	printf("handoff %s %s\n", dns_status_name(t[0].s1), dns_status_name(t[1].s1));
	return 0;
}

int
main(int argc, char **argv)
{
	struct dns		*d;
	struct dns_answer	 a;
	struct spf_resolver	 res;
	struct spf_request	 req;
	struct spf_verdict	 v;
	char			 err[ERRSTR_MAX];
	long long		 ms;
	int			 i;

	if (argc == 2 && strcmp(argv[1], "table") == 0)
		return tool_table();
	if (argc < 5 || strcmp(argv[1], "dns") != 0 ||
	    (ms = strtoll(argv[3], NULL, 10)) <= 0)
		goto usage;
	if (strncmp(argv[2], "conf=", 5) == 0) {
		struct config *cfg = config_load(argv[2] + 5, err, sizeof(err));
		if (cfg == NULL) {
			fprintf(stderr, "spftool: %s\n", err);
			return 1;
		}
		d = dns_open(cfg, err, sizeof(err));
		config_free(cfg);
	} else
		d = dns_new(argv[2][0] ? argv[2] : NULL, ms, err, sizeof(err));
	if (d == NULL) {
		fprintf(stderr, "spftool: %s\n", err);
		return 1;
	}
	if (strcmp(argv[4], "lookup") == 0 && argc >= 7 && (argc - 5) % 2 == 0) {
		for (i = 5; i + 1 < argc; i += 2) {
			if (table_type(argv[i + 1]) == 0)
				goto usage;
			dns_lookup(d, argv[i], (enum dns_type)table_type(argv[i + 1]), 0, &a);
			tool_print_answer(argv[i], argv[i + 1], &a);
			dns_answer_free(&a);
		}
	} else if (strcmp(argv[4], "threads") == 0 && argc == 7) {
		if ((i = tool_threads(d, (int)strtol(argv[5], NULL, 10), argv[6])) != 0)
			return i;
	} else if (strcmp(argv[4], "handoff") == 0 && argc == 7) {
		if ((i = tool_handoff(d, argv[5], argv[6])) != 0)
			return i;
	} else if (strcmp(argv[4], "spf") == 0 && argc == 8) {
		memset(&req, 0, sizeof(req));
		if (spf_request_ip(&req, argv[5]) != 0)
			goto usage;
		req.sender = argv[6];
		req.helo = argv[7];
		req.timeout_ms = SPF_TIMEOUT_DEFAULT * 1000LL;
		res = spf_resolver_dns(d);
		spf_check(&res, &req, &v);
		printf("%s explanation=\"%s\" problem=\"%s\"\n", spf_result_name(v.result),
		    v.explanation, v.problem);
	} else
		goto usage;
	fflush(stdout);
	dns_close(d);
	return 0;
usage:
	fprintf(stderr, "usage: spftool table | spftool dns NS[:PORT] TIMEOUT_MS "
	    "(lookup NAME TYPE... | spf IP SENDER HELO)\n");
	return 64;
}
