/*
 * route.h - an SMTP/LMTP target: "smtp://host[:port]", "lmtp://[v6addr]:port",
 * "smtp:unix:/path" or "lmtp:unix:/path" (default ports 25 and 24).
 */
#ifndef MXS_ROUTE_H
#define MXS_ROUTE_H

enum deliver_proto { DELIVER_SMTP, DELIVER_LMTP };

struct deliver_route {
	enum deliver_proto	proto;
	char			host[256];	/* "" when unix_path is set */
	int			port;
	char			unix_path[108];
	char			target[300];	/* as written in config, for logs/audit */
};

/* route_parse - spec into r; 0 ok, -1 bad (r is zeroed first) */
int	route_parse(const char *spec, struct deliver_route *r);

/* route_parse_smtp - "smtp://host[:port]" only (callout, monitor); 0 ok, -1 bad */
int	route_parse_smtp(const char *spec, struct deliver_route *r);

#endif
