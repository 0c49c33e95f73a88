/*
 * client_limits.c - per-client bookkeeping for the abuse controls (like Postfix anvil).
 *
 * One entry per client: open connections, and counts of connections,
 * messages and recipients in the current one-minute window (a fixed window
 * that restarts when a minute has passed).  Entries with no connection and an
 * old window are recycled.  A client is the client's network, as Postfix 3.8
 * counts: the address cut to client_ipv4_prefix_length (32) or
 * client_ipv6_prefix_length (84) bits, so a host with a /64 of its own cannot
 * take a fresh address per connection.  Entry points: limits_client at accept
 * (the session keeps the result, so a reload that changes the lengths cannot
 * strand its count), limits_connect/disconnect at accept/close,
 * limits_message at MAIL, limits_rcpt at RCPT.  A limit of 0 means "off".
 * All calls take one mutex; they are short.
 * Named apart from common/limits.h (the *_MAX bounds); the functions keep
 * the limits_ prefix of their LIMITS_* results.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"

#define LIMITS_BUCKETS	1024
#define LIMITS_WINDOW	60

struct limits_entry {
	struct limits_entry	*next;
	char			 client[LIMITS_CLIENT_MAX];
	int			 conns;
	time_t			 window;
	int			 nconn, nmsg, nrcpt;
};

static pthread_mutex_t		 limits_lock = PTHREAD_MUTEX_INITIALIZER;
static struct limits_entry	*limits_tab[LIMITS_BUCKETS];
static size_t			 limits_count;

/* limits_mask - keep the first bits bits of the len-byte address a */
static void
limits_mask(unsigned char *a, size_t len, int bits)
{
	size_t i;

	for (i = 0; i < len; i++, bits -= 8)
		if (bits <= 0)
			a[i] = 0;
		else if (bits < 8)
			a[i] &= (unsigned char)(0xff << (8 - bits));
}

/* limits_client - the limits' key for numeric address addr: its network, "a/len" */
void
limits_client(const char *addr, const struct ingest_conf *ic, char *out, size_t outlen)
{
	unsigned char	a[16];
	char		txt[INET6_ADDRSTRLEN];
	int		af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
	int		bits = af == AF_INET6 ? ic->v6_prefix : ic->v4_prefix;

	/* a full-length prefix, or what is not a plain address (a scope id, "unknown"), as is */
	if (bits == (af == AF_INET6 ? 128 : 32) || inet_pton(af, addr, a) != 1) {
		snprintf(out, outlen, "%s", addr);
		return;
	}
	limits_mask(a, af == AF_INET6 ? 16 : 4, bits);
	inet_ntop(af, a, txt, sizeof(txt));
	snprintf(out, outlen, "%s/%d", txt, bits);
}

/* limits_hash - FNV-1a of the client text */
static unsigned int
limits_hash(const char *s)
{
	unsigned int h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % LIMITS_BUCKETS;
}

/* limits_gc - drop idle entries of bucket b whose window is over */
static void
limits_gc(unsigned int b, time_t now)
{
	struct limits_entry **pp = &limits_tab[b], *e;

	while ((e = *pp) != NULL) {
		if (e->conns == 0 && now - e->window >= LIMITS_WINDOW) {
			*pp = e->next;
			free(e);
			limits_count--;
		} else
			pp = &e->next;
	}
}

/* limits_find - entry for client (created; NULL only without memory), window rolled */
static struct limits_entry *
limits_find(const char *client)
{
	unsigned int b = limits_hash(client);
	struct limits_entry *e;
	time_t now = time(NULL);

	limits_gc(b, now);
	for (e = limits_tab[b]; e != NULL; e = e->next)
		if (strcmp(e->client, client) == 0)
			break;
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return NULL;
		strncpy(e->client, client, sizeof(e->client) - 1);
		e->window = now;
		e->next = limits_tab[b];
		limits_tab[b] = e;
		limits_count++;
	}
	if (now - e->window >= LIMITS_WINDOW) {
		e->window = now;
		e->nconn = e->nmsg = e->nrcpt = 0;
	}
	return e;
}

/* limits_connect - count a new connection; refused ones are not counted as open */
enum limits_result
limits_connect(const char *client, const struct ingest_conf *ic)
{
	struct limits_entry *e;
	enum limits_result r = LIMITS_OK;

	pthread_mutex_lock(&limits_lock);
	if ((e = limits_find(client)) != NULL) {
		e->nconn++;
		if (ic->conn_limit > 0 && e->conns >= ic->conn_limit)
			r = LIMITS_CONCURRENCY;
		else if (ic->conn_rate > 0 && e->nconn > ic->conn_rate)
			r = LIMITS_RATE;
		else
			e->conns++;
	}
	pthread_mutex_unlock(&limits_lock);
	return r;
}

/* limits_disconnect - a connection accepted by limits_connect closed */
void
limits_disconnect(const char *client)
{
	struct limits_entry *e;

	pthread_mutex_lock(&limits_lock);
	if ((e = limits_find(client)) != NULL && e->conns > 0)
		e->conns--;
	pthread_mutex_unlock(&limits_lock);
}

/* limits_count_one - bump a per-minute counter against its limit */
static enum limits_result
limits_count_one(const char *client, int which, int limit)
{
	struct limits_entry *e;
	enum limits_result r = LIMITS_OK;
	int *n;

	if (limit <= 0)
		return LIMITS_OK;
	pthread_mutex_lock(&limits_lock);
	if ((e = limits_find(client)) != NULL) {
		n = which ? &e->nrcpt : &e->nmsg;
		if (*n >= limit)
			r = LIMITS_RATE;
		else
			(*n)++;
	}
	pthread_mutex_unlock(&limits_lock);
	return r;
}

/* limits_message - one more MAIL from client this minute */
enum limits_result
limits_message(const char *client, const struct ingest_conf *ic)
{
	return limits_count_one(client, 0, ic->msg_rate);
}

/* limits_rcpt - one more recipient from client this minute */
enum limits_result
limits_rcpt(const char *client, const struct ingest_conf *ic)
{
	return limits_count_one(client, 1, ic->rcpt_rate);
}
