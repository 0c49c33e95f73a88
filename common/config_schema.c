/*
 * config_schema.c - the table of every configuration key ingest and replay
 * know, with its type, bounds, value parser and the programs that read it.
 *
 * Adding a key is one line here (NUM/DUR/SIZE/BOOL/ENUM/STR below) next to
 * the getter call that reads it: config_check() then refuses bad values and
 * typos of it for `-t`, start-up and reload, and the getter's bounds must be
 * the table's (a getter that disagrees with the table is a programming error,
 * fatalx() at the first start of any test).  Sections with free key names,
 * [routes] and [route_rates], are checked by config_check.c itself.
 * Entry points: config_keys[], config_schema_find(), config_schema_section(),
 * config_schema_suggest().
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_impl.h"
#include "dns.h"
#include "dnsbl.h"
#include "limits.h"
#include "msgid.h"
#include "route.h"
#include "store.h"

/* config_schema_node - [general] node: [a-z0-9-], 1..MSGID_NODE_MAX */
static int
config_schema_node(const char *v, char *why, size_t whylen)
{
	if (msgid_node_valid(v))
		return 0;
	snprintf(why, whylen, "want 1 to %d of a-z, 0-9, -", MSGID_NODE_MAX);
	return -1;
}

/* config_schema_storage_url - the scheme; the rest is checked by the backend (config_check.c) */
static int
config_schema_storage_url(const char *v, char *why, size_t whylen)
{
	if (strncmp(v, "file://", 7) == 0 || strncmp(v, "http://", 7) == 0 ||
	    strncmp(v, "https://", 8) == 0)
		return 0;
	snprintf(why, whylen, "want file:///path, http:// or https://");
	return -1;
}

/* config_schema_ip - an IPv4 or IPv6 address literal ([replay] source_address) */
static int
config_schema_ip(const char *v, char *why, size_t whylen)
{
	unsigned char	a[sizeof(struct in6_addr)];

	if (*v == '\0' || inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, v, a) == 1)
		return 0;
	snprintf(why, whylen, "want an IPv4 or IPv6 address of this host");
	return -1;
}

/* config_schema_dnsbl_sites - [dnsbl] sites, parsed as dnsbl_open() parses them */
static int
config_schema_dnsbl_sites(const char *v, char *why, size_t whylen)
{
	return dnsbl_spec_check(v, "", why, whylen);
}

/* config_schema_dnsbl_allow - [dnsbl] allowlist, parsed as dnsbl_open() parses it */
static int
config_schema_dnsbl_allow(const char *v, char *why, size_t whylen)
{
	return dnsbl_spec_check("", v, why, whylen);
}

/* config_schema_nameserver - [dns] nameserver "IP[:PORT]", parsed as dns_new() takes it */
static int
config_schema_nameserver(const char *v, char *why, size_t whylen)
{
	struct dns	*d;

	/* dns_new() only parses and sets the forwarder: no packet is sent */
	if ((d = dns_new(v, 1000, why, whylen)) == NULL)
		return -1;
	dns_close(d);
	return 0;
}

/* config_schema_gateways - [check] gateways: host names, as check_run() reads them */
static int
config_schema_gateways(const char *v, char *why, size_t whylen)
{
	char	name[MXS_DOMAIN_MAX + 2];
	int	n = 0, r;

	while ((r = dns_name_list_next(&v, name, sizeof(name))) != 0) {
		if (r < 0) {
			snprintf(why, whylen, "\"%.80s\" is not a host name", name);
			return -1;
		}
		/* this gateway ([ingest] hostname) takes one of the CHECK_GATEWAYS_MAX */
		if (++n > CHECK_GATEWAYS_MAX - 1) {
			snprintf(why, whylen, "at most %d names (the other gateways of the fleet)",
			    CHECK_GATEWAYS_MAX - 1);
			return -1;
		}
	}
	return 0;
}

/* config_schema_check_connect - [check] connect: host:port, as check_listen_addr() takes it */
static int
config_schema_check_connect(const char *v, char *why, size_t whylen)
{
	struct deliver_route	r;
	char			spec[320];
	size_t			n = strcspn(v += strspn(v, " \t"), ", \t");

	snprintf(spec, sizeof(spec), "smtp://%.*s", (int)(n < 300 ? n : 300), v);
	if (n > 0 && n < 300 && route_parse(spec, &r) == 0)
		return 0;
	snprintf(why, whylen, "want this gateway's SMTP listener as host:port or [IPv6]:port");
	return -1;
}

/* config_schema_prefix - [storage] prefix, as store_open() takes it */
static int
config_schema_prefix(const char *v, char *why, size_t whylen)
{
	if (store_prefix_valid(v))
		return 0;
	snprintf(why, whylen, "want [A-Za-z0-9/._-], at most %d, no leading or trailing '/'",
	    OBJKEY_PREFIX_MAX);
	return -1;
}

/* config_schema_listen_list - [ingest] listen: "addr:port, [v6]:port, ..." */
static int
config_schema_listen_list(const char *v, char *why, size_t whylen)
{
	char	host[256];
	char	one[256];
	size_t	n;
	int	port, count = 0;

	while (*(v += strspn(v, ", ")) != '\0') {
		n = strcspn(v, ",");
		snprintf(one, sizeof(one), "%.*s", (int)(n < sizeof(one) ? n : sizeof(one) - 1),
		    v);
		if (config_parse_listen(one, CONFIG_LISTEN_ANY, host, sizeof(host), &port, why,
		    whylen) == -1)
			return -1;
		count++;
		v += n;
	}
	if (count > 0)
		return 0;
	snprintf(why, whylen, "no address");
	return -1;
}

/* config_schema_health_listen - [ingest] health_listen: "" (off) or one IP:port */
static int
config_schema_health_listen(const char *v, char *why, size_t whylen)
{
	char	host[128];
	int	port;

	if (*v == '\0')
		return 0;
	return config_parse_listen(v, 0, host, sizeof(host), &port, why, whylen);
}

/* config_schema_http_listen - [http] listen: host:port (a name is resolved at start) */
static int
config_schema_http_listen(const char *v, char *why, size_t whylen)
{
	char	host[128];
	int	port;

	return config_parse_listen(v, CONFIG_LISTEN_NAME, host, sizeof(host), &port, why,
	    whylen);
}

/* config_schema_route - v parsed by parse (route.h), else why = want */
static int
config_schema_route(const char *v, int (*parse)(const char *, struct deliver_route *),
    const char *want, char *why, size_t whylen)
{
	struct deliver_route r;

	if (parse(v, &r) == 0)
		return 0;
	snprintf(why, whylen, "%s", want);
	return -1;
}

/* config_schema_smtp_url - monitor / callout: smtp://host[:port] (route_parse_smtp) */
static int
config_schema_smtp_url(const char *v, char *why, size_t whylen)
{
	return config_schema_route(v, route_parse_smtp, "want smtp://host[:port] (port 1-65535)",
	    why, whylen);
}

/* config_schema_monitor - [ingest] monitor: "" (off) or an SMTP URL */
static int
config_schema_monitor(const char *v, char *why, size_t whylen)
{
	return *v == '\0' ? 0 : config_schema_smtp_url(v, why, whylen);
}

/* config_schema_relay - [replay] dsn_relay: "" (hold expired messages) or a route */
static int
config_schema_relay(const char *v, char *why, size_t whylen)
{
	return *v == '\0' ? 0 : config_schema_route(v, route_parse, "want smtp://host[:port]",
	    why, whylen);
}

/* config_schema_rate - [replay] rate */
static int
config_schema_rate(const char *v, char *why, size_t whylen)
{
	double d;

	if (config_parse_rate(v, &d) == 0)
		return 0;
	snprintf(why, whylen, "want messages/s like 10, 0.5 or 600/m (0 = unlimited)");
	return -1;
}

/* config_schema_token - [http] token: at most HTTP_TOKEN_MAX bytes */
static int
config_schema_token(const char *v, char *why, size_t whylen)
{
	if (strlen(v) <= HTTP_TOKEN_MAX)
		return 0;
	snprintf(why, whylen, "longer than %d bytes", HTTP_TOKEN_MAX);
	return -1;
}

/* paths go into 1024-byte buffers (store.c); data_dir gets "/index.sqlite" etc. appended */
#define CONFIG_DIR_MAX	1000
#define I	CONFIG_P_INGEST
#define R	CONFIG_P_REPLAY
#define A	CONFIG_P_ALL
#define DAY	86400LL
#define NUM(s, k, lo, hi, p)	{ s, k, CONFIG_T_NUM, lo, hi, NULL, NULL, p, 0 }
#define DUR(s, k, lo, hi, p)	{ s, k, CONFIG_T_DURATION, lo, hi, NULL, NULL, p, 0 }
#define SIZE(s, k, lo, hi, p)	{ s, k, CONFIG_T_SIZE, lo, hi, NULL, NULL, p, 0 }
#define BOOL(s, k, p)		{ s, k, CONFIG_T_BOOL, 0, 1, NULL, NULL, p, 0 }
#define ENUM(s, k, v, p)	{ s, k, CONFIG_T_ENUM, 0, 0, v, NULL, p, 0 }
#define STR(s, k, fn, p, f)	{ s, k, CONFIG_T_STR, 0, 0, NULL, fn, p, f }
/* STRN - a string copied into a buffer: at most max bytes */
#define STRN(s, k, max, fn, p, f)	{ s, k, CONFIG_T_STR, 0, max, NULL, fn, p, f }

const struct config_key config_keys[] = {
	STR("general", "node", config_schema_node, A, 0),
	STRN("general", "data_dir", CONFIG_DIR_MAX, NULL, A, 0),
	STRN("general", "index", CONFIG_PATH_MAX, NULL, A, 0),

	STR("storage", "url", config_schema_storage_url, A, 0),
	STR("storage", "bucket", NULL, A, 0),
	STR("storage", "region", NULL, A, 0),
	BOOL("storage", "path_style", A),
	STR("storage", "access_key", NULL, A, CONFIG_K_SECRET),
	STR("storage", "secret_key", NULL, A, CONFIG_K_SECRET),
	STR("storage", "ca_file", NULL, A, CONFIG_K_FILE),
	STR("storage", "prefix", config_schema_prefix, A, 0),
	DUR("storage", "connect_timeout", 1, 600, A),
	DUR("storage", "timeout", 1, DAY, A),
	NUM("storage", "retries", 0, 20, A),
	SIZE("storage", "multipart_threshold", 1, 5LL << 30, A),
	SIZE("storage", "part_size", S3_PART_MIN, 5LL << 30, A),
	SIZE("storage", "max_upload_rate", 0, 1LL << 40, A),
	/* keys of the commit deadline, breaker and start-up reconcile (issue 12, parallel work) */
	DUR("storage", "commit_deadline", 1, 540, A),
	DUR("storage", "probe_timeout", 1, 600, A),
	NUM("storage", "breaker_failures", 1, 1000, A),
	DUR("storage", "probe_interval", 1, 3600, A),
	DUR("storage", "orphan_age", 1, ORPHAN_AGE_MAX, A),

	/* the fleet: heartbeats, ledger, claims in the bucket (docs/storage.md) */
	BOOL("fleet", "enabled", A),
	BOOL("fleet", "ledger", R),
	DUR("fleet", "heartbeat_interval", 5, 3600, A),
	DUR("fleet", "stale_after", 10, 7 * DAY, A),
	DUR("fleet", "ledger_interval", 1, 3600, R),
	NUM("fleet", "ledger_batch", 1, FLEET_LEDGER_BATCH_MAX, R),
	DUR("fleet", "call_deadline", 1, 300, A),

	/* mxspool-replay check and drill (docs/runbook.md) */
	STR("check", "gateways", config_schema_gateways, R, 0),
	STR("check", "ca_file", NULL, R, CONFIG_K_FILE),
	STR("check", "connect", config_schema_check_connect, R, 0),
	DUR("check", "timeout", 1, 300, R),
	DUR("check", "recipients_max_age", 60, 3650LL * DAY, R),
	NUM("check", "mta_sts_port", 1, 65535, R),

	/* ARC sealing at replay (docs/deliver.md): all of domain, selector, key_file or none */
	STR("arc", "domain", NULL, R, 0),
	STR("arc", "selector", NULL, R, 0),
	STR("arc", "key_file", NULL, R, CONFIG_K_FILE),
	STR("arc", "authserv_id", NULL, R, 0),
	STR("arc", "skip_targets", NULL, R, 0),

	/* SPF, DKIM, DMARC at end-of-data (docs/auth.md) */
	BOOL("auth", "verify", I),
	STR("auth", "authserv_id", NULL, I, 0),
	DUR("auth", "timeout", 1, AUTH_TIMEOUT_MAX, I),
	STR("auth", "public_suffix_list", NULL, I, CONFIG_K_FILE),

	/* DNSBL/DNSWL screening at connect (docs/ingest.md): off while sites is empty */
	STR("dnsbl", "sites", config_schema_dnsbl_sites, I, 0),
	STR("dnsbl", "allowlist", config_schema_dnsbl_allow, I, 0),
	NUM("dnsbl", "threshold", 1, DNSBL_WEIGHT_MAX, I),
	DUR("dnsbl", "timeout", 1, DNS_TIMEOUT_MAX, I),
	DUR("dnsbl", "min_ttl", 0, 86400, I),
	DUR("dnsbl", "max_ttl", 0, 7 * DAY, I),
	NUM("dnsbl", "cache_size", 0, DNSBL_CACHE_MAX, I),

	STR("dns", "nameserver", config_schema_nameserver, A, 0),
	DUR("dns", "timeout", 1, DNS_TIMEOUT_MAX, A),
	STR("dns", "trust_anchor", NULL, A, CONFIG_K_FILE),

	STRN("spool", "dir", CONFIG_PATH_MAX, NULL, A, 0),
	SIZE("spool", "max_size", 0, 1LL << 50, A),

	STRN("ingest", "hostname", 255, NULL, I, 0),
	STRN("ingest", "listen", 1023, config_schema_listen_list, I, 0),
	STRN("ingest", "health_listen", 127, config_schema_health_listen, I, 0),
	STRN("ingest", "tls_cert", CONFIG_PATH_MAX, NULL, I, CONFIG_K_FILE),
	STRN("ingest", "tls_key", CONFIG_PATH_MAX, NULL, I, CONFIG_K_FILE),
	STRN("ingest", "staging_dir", CONFIG_PATH_MAX, NULL, I, 0),
	STRN("ingest", "user", 63, NULL, I, 0),
	BOOL("ingest", "require_tls", I),
	SIZE("ingest", "max_message_size", 1024, 1LL << 40, I),
	NUM("ingest", "max_recipients", 1, SMTP_RCPT_MAX, I),
	NUM("ingest", "max_line_length", 512, SMTP_CMDLINE_MAX, I),
	NUM("ingest", "max_data_line", 1000, SMTP_DATALINE_MAX, I),
	DUR("ingest", "timeout", 1, 3600, I),
	DUR("ingest", "data_timeout", 1, 3600, I),
	NUM("ingest", "min_data_rate", 0, 1 << 30, I),
	DUR("ingest", "greet_delay", 0, 60, I),
	NUM("ingest", "max_sessions", 1, 100000, I),
	NUM("ingest", "client_connection_count_limit", 0, 100000, I),
	NUM("ingest", "client_ipv4_prefix_length", 0, 32, I),
	NUM("ingest", "client_ipv6_prefix_length", 0, 128, I),
	NUM("ingest", "client_connection_rate_limit", 0, 1 << 30, I),
	NUM("ingest", "client_message_rate_limit", 0, 1 << 30, I),
	NUM("ingest", "client_recipient_rate_limit", 0, 1 << 30, I),
	NUM("ingest", "soft_error_limit", 1, 1000, I),
	NUM("ingest", "hard_error_limit", 1, 1000, I),
	DUR("ingest", "error_sleep_time", 0, 60, I),
	DUR("ingest", "error_sleep_max", 0, 600, I),
	SIZE("ingest", "min_free_space", 0, 1LL << 50, I),
	ENUM("ingest", "bare_newline", "reject|keep", I),
	ENUM("ingest", "nul_in_data", "reject|keep", I),
	NUM("ingest", "commit_workers", 1, 64, I),
	DUR("ingest", "shutdown_grace", 0, 3600, I),
	DUR("ingest", "spool_flush_interval", 1, 3600, I),
	DUR("ingest", "counters_interval", 1, 3600, I),
	SIZE("ingest", "thread_stack_size", 128 * 1024, 64 << 20, I),
	STR("ingest", "monitor", config_schema_monitor, I, 0),
	DUR("ingest", "monitor_interval", 1, DAY, I),
	DUR("ingest", "monitor_timeout", 1, 3600, I),
	NUM("ingest", "monitor_healthy_after", 1, 1000, I),
	NUM("ingest", "monitor_unhealthy_after", 1, 1000, I),
	BOOL("ingest", "case_sensitive_local", A),	/* also replay verify flush */
	NUM("ingest", "callout_concurrency", 1, 1000, I),
	DUR("ingest", "command_deadline", 1, 3600, I),
	NUM("ingest", "junk_command_limit", 1, SMTP_JUNK_MAX, I),
	NUM("ingest", "recipient_overshoot_limit", 0, SMTP_RCPT_OVERSHOOT_MAX, I),

	STR("domain *", "recipients", NULL, I, 0),
	STR("domain *", "hashed", NULL, I, 0),
	BOOL("domain *", "catchall", I),
	BOOL("domain *", "subaddress", I),
	STR("domain *", "delimiter", NULL, I, 0),
	STR("domain *", "callout", config_schema_smtp_url, I, 0),
	ENUM("domain *", "auth_policy", "record|enforce", I),
	DUR("domain *", "callout_timeout", 1, 3600, I),
	STR("domain *", "callout_sender", NULL, I, 0),
	DUR("domain *", "positive_ttl", 0, 3650 * DAY, I),
	DUR("domain *", "negative_ttl", 0, 3650 * DAY, I),
	DUR("domain *", "positive_stale", 0, 3650 * DAY, I),
	DUR("domain *", "callout_backoff", 0, DAY, I),

	ENUM("deliver", "tls", "none|opportunistic|required", R),
	BOOL("deliver", "tls_verify", R),
	STR("deliver", "ca_file", NULL, R, CONFIG_K_FILE),
	STR("deliver", "auth_user", NULL, R, 0),
	STR("deliver", "auth_password", NULL, R, CONFIG_K_SECRET),
	BOOL("deliver", "auth_plaintext", R),
	STR("deliver", "helo_name", NULL, R, 0),
	DUR("deliver", "connect_timeout", 1, 3600, R),
	DUR("deliver", "command_timeout", 1, 3600, R),
	DUR("deliver", "data_timeout", 1, 7200, R),

	STR("replay", "hostname", NULL, R, 0),
	STR("replay", "source_address", config_schema_ip, R, 0),
	DUR("replay", "check_interval", 0, 7 * DAY, R),
	STR("replay", "dsn_relay", config_schema_relay, R, 0),
	STR("replay", "rate", config_schema_rate, R, 0),
	NUM("replay", "concurrency", 1, 256, R),
	DUR("replay", "ramp", 1, DAY, R),
	DUR("replay", "min_backoff", 1, DAY, R),
	DUR("replay", "max_backoff", 1, 7 * DAY, R),
	DUR("replay", "max_lifetime", 1, 365 * DAY, R),
	DUR("replay", "lease_time", 10, DAY, R),
	DUR("replay", "retention", 0, 3650 * DAY, R),
	DUR("replay", "forget_after", 0, 3650 * DAY, R),
	DUR("replay", "poll_interval", 1, 3600, R),
	DUR("replay", "probe_interval", 0, DAY, R),
	BOOL("replay", "start_paused", R),
	NUM("replay", "autostart_probes", 0, 100000, R),
	DUR("replay", "storage_probe_timeout", 1, 60, R),

	STR("http", "listen", config_schema_http_listen, R, 0),
	STR("http", "token", config_schema_token, R, CONFIG_K_SECRET),
	DUR("http", "timeout", 1, 3600, R),
	NUM("http", "max_connections", 1, HTTP_CONN_MAX, R),
	NUM("http", "max_domains", 1, HTTP_DOMAINS_MAX, R),
	DUR("http", "error_window", 60, 30 * DAY, R),
	DUR("http", "history", 600, 30 * DAY, R),

	{ NULL, NULL, 0, 0, 0, NULL, NULL, 0, 0 },
};

/* sections with free key names, checked in config_check.c */
static const char *const config_free_sections[] = { "routes", "route_rates", NULL };

/* config_schema_secmatch - does table section ts ("domain *") cover sec? */
static int
config_schema_secmatch(const char *ts, const char *sec)
{
	if (strcmp(ts, "domain *") == 0)
		return strncmp(sec, "domain ", 7) == 0 && sec[7] != '\0';
	return strcmp(ts, sec) == 0;
}

const struct config_key *
config_schema_find(const char *sec, const char *key)
{
	const struct config_key *k;

	for (k = config_keys; k->sec != NULL; k++)
		if (strcmp(k->key, key) == 0 && config_schema_secmatch(k->sec, sec))
			return k;
	return NULL;
}

int
config_schema_section(const char *sec)
{
	const struct config_key	*k;
	int			 i;

	for (i = 0; config_free_sections[i] != NULL; i++)
		if (strcmp(config_free_sections[i], sec) == 0)
			return 1;
	for (k = config_keys; k->sec != NULL; k++)
		if (config_schema_secmatch(k->sec, sec))
			return 1;
	return 0;
}

/* config_schema_distance - edit distance of a and b (short names: a small table) */
static size_t
config_schema_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, prev, cur, tmp;
	size_t	row[64];

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			tmp = row[j];
			row[j] = cur;
			prev = tmp;
		}
	}
	return row[lb];
}

/* config_schema_limit - how far a typo may be from the name: a third of it, at least 2 */
static size_t
config_schema_limit(const char *word)
{
	return strlen(word) / 3 > 2 ? strlen(word) / 3 : 2;
}

const char *
config_schema_suggest(const char *sec, const char *key)
{
	const struct config_key	*k, *best = NULL;
	size_t			 d, bestd = (size_t)-1;

	for (k = config_keys; k->sec != NULL; k++) {
		if (!config_schema_secmatch(k->sec, sec))
			continue;
		if ((d = config_schema_distance(key, k->key)) < bestd) {
			bestd = d;
			best = k;
		}
	}
	return best != NULL && bestd <= config_schema_limit(key) ? best->key : NULL;
}

const char *
config_schema_suggest_section(const char *sec)
{
	static const char *const known[] = { "general", "storage", "spool", "ingest",
	    "deliver", "replay", "http", "routes", "route_rates", NULL };
	const char	*best = NULL;
	size_t		 d, bestd = (size_t)-1;
	int		 i;

	if (strncmp(sec, "domain", 6) == 0)
		return "domain NAME";
	for (i = 0; known[i] != NULL; i++)
		if ((d = config_schema_distance(sec, known[i])) < bestd) {
			bestd = d;
			best = known[i];
		}
	return bestd <= config_schema_limit(sec) ? best : NULL;
}
