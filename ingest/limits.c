/*
 * limits.c - per-client bookkeeping for the abuse controls (like Postfix anvil).
 *
 * One entry per client address: open connections, and counts of connections,
 * messages and recipients in the current one-minute window (a fixed window
 * that restarts when a minute has passed).  Entries with no connection and an
 * old window are recycled.  Entry points: limits_connect/disconnect at
 * accept/close, limits_message at MAIL, limits_rcpt at RCPT.  A limit of 0
 * means "off".  All calls take one mutex; they are short.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"

#define LIMITS_BUCKETS	1024
#define LIMITS_WINDOW	60

struct limits_entry {
	struct limits_entry	*next;
	char			 addr[64];
	int			 conns;
	time_t			 window;
	int			 nconn, nmsg, nrcpt;
};

static pthread_mutex_t		 limits_lock = PTHREAD_MUTEX_INITIALIZER;
static struct limits_entry	*limits_tab[LIMITS_BUCKETS];
static size_t			 limits_count;

/* limits_hash - FNV-1a of the address text */
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

/* limits_find - entry for addr (created; NULL only without memory), window rolled */
static struct limits_entry *
limits_find(const char *addr)
{
	unsigned int b = limits_hash(addr);
	struct limits_entry *e;
	time_t now = time(NULL);

	limits_gc(b, now);
	for (e = limits_tab[b]; e != NULL; e = e->next)
		if (strcmp(e->addr, addr) == 0)
			break;
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return NULL;
		strncpy(e->addr, addr, sizeof(e->addr) - 1);
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
limits_connect(const char *addr, const struct ingest_conf *ic)
{
	struct limits_entry *e;
	enum limits_result r = LIMITS_OK;

	pthread_mutex_lock(&limits_lock);
	if ((e = limits_find(addr)) != NULL) {
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
limits_disconnect(const char *addr)
{
	struct limits_entry *e;

	pthread_mutex_lock(&limits_lock);
	if ((e = limits_find(addr)) != NULL && e->conns > 0)
		e->conns--;
	pthread_mutex_unlock(&limits_lock);
}

/* limits_count_one - bump a per-minute counter against its limit */
static enum limits_result
limits_count_one(const char *addr, int which, int limit)
{
	struct limits_entry *e;
	enum limits_result r = LIMITS_OK;
	int *n;

	if (limit <= 0)
		return LIMITS_OK;
	pthread_mutex_lock(&limits_lock);
	if ((e = limits_find(addr)) != NULL) {
		n = which ? &e->nrcpt : &e->nmsg;
		if (*n >= limit)
			r = LIMITS_RATE;
		else
			(*n)++;
	}
	pthread_mutex_unlock(&limits_lock);
	return r;
}

/* limits_message - one more MAIL from addr this minute */
enum limits_result
limits_message(const char *addr, const struct ingest_conf *ic)
{
	return limits_count_one(addr, 0, ic->msg_rate);
}

/* limits_rcpt - one more recipient from addr this minute */
enum limits_result
limits_rcpt(const char *addr, const struct ingest_conf *ic)
{
	return limits_count_one(addr, 1, ic->rcpt_rate);
}
