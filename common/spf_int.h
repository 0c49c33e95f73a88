/*
 * spf_int.h - what the SPF evaluator's files share (spf.c, spf_parse.c,
 * spf_macro.c); not for callers, who use spf.h.
 *
 * A record is parsed into struct spf_record (terms pointing into its copy);
 * struct spf_ctx is one check_host() run: the request, its verdict, the
 * counted lookups and the deadline.
 */
#ifndef MXS_SPF_INT_H
#define MXS_SPF_INT_H
#include <stddef.h>
#include <time.h>

#include "spf.h"

enum spf_kind {
	SPF_K_ALL, SPF_K_INCLUDE, SPF_K_A, SPF_K_MX, SPF_K_PTR, SPF_K_IP4, SPF_K_IP6,
	SPF_K_EXISTS,
};

struct spf_term {
	enum spf_kind	 kind;
	enum spf_result	 qual;
	const char	*spec;		/* domain-spec (unexpanded), NULL: current domain */
	size_t		 speclen;
	int		 cidr4, cidr6;
	unsigned char	 net[16];	/* ip4/ip6 */
	const char	*text;		/* the term as written, for the verdict */
	size_t		 textlen;
};

struct spf_record {
	char		*buf;		/* the record's copy, NUL-split into terms */
	struct spf_term	 t[SPF_TERMS_MAX];
	int		 n;
	const char	*redirect, *exp;
	size_t		 redirlen, explen;
};

struct spf_ctx {
	const struct spf_resolver	*res;
	const struct spf_request	*req;
	struct spf_verdict		*v;
	int				 v4;		/* client is IPv4 */
	unsigned char			 ip[16];	/* 4 or 16 bytes */
	const char			*sender;
	char				 local[MXS_LOCALPART_MAX + 1];
	char				 odomain[DNS_NAME_MAX + 1];
	struct timespec			 deadline;	/* CLOCK_MONOTONIC; 0: none */
};

#define SPF_SYNTAX	(-1)	/* macro or term syntax: permerror */

/* spf_parse - the record after "v=spf1" into r; 0 or SPF_SYNTAX (spf_parse.c) */
int	spf_parse(struct spf_ctx *, char *p, struct spf_record *r);

/*
 * spf_macro_expand - RFC 7208 7: expand macro-string s[0..len) into out;
 * exp: an explanation, check: syntax only.  The length or SPF_SYNTAX.
 */
int	spf_macro_expand(struct spf_ctx *, const char *s, size_t len, const char *domain,
	    int exp, int check, char *out, size_t outlen);

/* spf_ptr_validated - a validated name of the client (5.5), the best for target (spf.c) */
int	spf_ptr_validated(struct spf_ctx *, const char *target, char *out, size_t outlen);

#endif
