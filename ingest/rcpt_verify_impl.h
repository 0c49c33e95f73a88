/*
 * rcpt_verify_impl.h - private to rcpt_verify*.c: the loaded verification
 * tables (struct verify) that rcpt_verify_load.c builds and rcpt_verify.c
 * answers from, and the sort orders both use.
 */
#ifndef MXS_RCPT_VERIFY_IMPL_H
#define MXS_RCPT_VERIFY_IMPL_H
#include <linux/limits.h>	/* PATH_MAX; <limits.h> is common/limits.h here */
#include <pthread.h>
#include <stdint.h>

#include "callout.h"
#include "index_verify.h"
#include "limits.h"
#include "mailaddr.h"
#include "route.h"

#define VERIFY_DELIM_MAX	8

struct verify_domain {
	char			 name[MXS_DOMAIN_MAX + 1];	/* lower case */
	char			**list;		/* sorted normalised "local@domain" */
	size_t			 nlist, caplist;
	unsigned char		(*hashes)[32];	/* sorted SHA-256 digests */
	size_t			 nhashes, caphashes;
	int			 catchall;
	int			 subaddress;
	char			 delim[VERIFY_DELIM_MAX + 1];
	int			 callout_on;
	struct deliver_route	 callout;
	char			 sender[MXS_ADDR_MAX + 1];
	int			 timeout_ms;
	long long		 positive_ttl, negative_ttl;	/* seconds */
	long long		 positive_stale, backoff;	/* seconds */
	int64_t			 down_until;	/* monotonic ms; under verify.mu */
};

struct verify_inflight {
	struct verify_inflight	*next;
	char			 addr[MXS_ADDR_MAX + 2];
	int			 done, waiters;
	enum callout_result	 res;
	int			 code;
	char			 text[INDEX_VERIFY_TEXT_MAX];
};

struct verify {
	struct verify_domain	*dom;		/* sorted by name */
	size_t			 ndom;
	int			 case_sensitive;
	char			 helo[256];
	char			 index_path[PATH_MAX];
	struct index		*idx;		/* NULL: not opened (yet) */
	pthread_mutex_t		 idx_mu;	/* idx, idx_retry */
	int			 cache_on;	/* a callout domain: idx is wanted */
	long long		 cache_stale;	/* largest positive_stale (s): purge age */
	int64_t			 idx_retry;	/* monotonic ms: next open attempt */
	pthread_mutex_t		 mu;		/* inflight, ninflight, down_until */
	pthread_cond_t		 cv;
	struct verify_inflight	*inflight;
	int			 ninflight, max_inflight;
};

/* verify_strcmp, verify_hashcmp, verify_domcmp - qsort/bsearch orders (rcpt_verify.c) */
int	verify_strcmp(const void *, const void *);
int	verify_hashcmp(const void *, const void *);
int	verify_domcmp(const void *, const void *);

#endif
