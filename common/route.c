/*
 * route.c - SMTP/LMTP targets as written in the configuration ([routes],
 * [replay] dsn_relay, [ingest] monitor, [domain] callout) and on the command
 * line (drain --to); see route.h.
 *
 * Entry points: route_parse(), route_parse_smtp() (the SMTP-over-TCP subset).
 * The one parser of such a target: the config checker, the replay and the
 * ingest's callout and monitor all call it, so a target `-t` accepts is one
 * the program can use.
 * Invariant: a parsed route names either host+port or an absolute unix path.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "route.h"

/* route_host_valid - a DNS name or an IPv4 literal: [A-Za-z0-9.-_], no empty label edge */
static int
route_host_valid(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > 255 || h[0] == '.' || h[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (h[i] == '\0' || strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", h[i]) == NULL)
			return 0;
	return 1;
}

/* route_ip6_valid - characters of an IPv6 literal (getaddrinfo checks the rest) */
static int
route_ip6_valid(const char *h, size_t n)
{
	size_t i;

	if (n < 2 || n > 45)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF:.", h[i]) == NULL)
			return 0;
	return 1;
}

/* route_hostport - "host", "host:port", "[v6]", "[v6]:port" */
static int
route_hostport(const char *s, struct deliver_route *r)
{
	const char	*hs, *he, *p;
	long long	 port;

	if (*s == '[') {
		hs = s + 1;
		if ((he = strchr(hs, ']')) == NULL || !route_ip6_valid(hs, he - hs))
			return -1;
		p = he + 1;
	} else {
		hs = s;
		he = hs + strcspn(hs, ":");
		if (!route_host_valid(hs, he - hs))
			return -1;
		p = he;
	}
	if (*p == ':') {
		if (config_parse_num(p + 1, 1, 65535, &port) == -1)
			return -1;
		r->port = (int)port;
	} else if (*p != '\0')
		return -1;
	if ((size_t)(he - hs) >= sizeof(r->host))
		return -1;
	memcpy(r->host, hs, he - hs);
	r->host[he - hs] = '\0';
	return 0;
}

/* route_parse - see route.h */
int
route_parse(const char *spec, struct deliver_route *r)
{
	const char	*rest;
	size_t		 n;

	memset(r, 0, sizeof(*r));
	if (spec == NULL || strlen(spec) >= sizeof(r->target))
		return -1;
	if (strncmp(spec, "smtp:", 5) == 0) {
		r->proto = DELIVER_SMTP;
		r->port = 25;
	} else if (strncmp(spec, "lmtp:", 5) == 0) {
		r->proto = DELIVER_LMTP;
		r->port = 24;
	} else
		return -1;
	rest = spec + 5;
	if (strncmp(rest, "unix:", 5) == 0) {
		rest += 5;
		n = strlen(rest);
		if (rest[0] != '/' || n >= sizeof(r->unix_path))
			return -1;
		memcpy(r->unix_path, rest, n + 1);
		r->port = 0;
	} else if (strncmp(rest, "//", 2) == 0) {
		if (route_hostport(rest + 2, r) == -1)
			return -1;
	} else
		return -1;
	snprintf(r->target, sizeof(r->target), "%s", spec);
	return 0;
}

/* route_parse_smtp - see route.h: the ingest asks its primary over TCP only */
int
route_parse_smtp(const char *spec, struct deliver_route *r)
{
	if (route_parse(spec, r) == -1)
		return -1;
	if (r->proto != DELIVER_SMTP || r->unix_path[0] != '\0') {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	return 0;
}
