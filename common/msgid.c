/*
 * msgid.c - ULID-based message ids and object keys; see msgid.h.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "msgid.h"

static const char msgid_b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
msgid_node_valid(const char *node)
{
	size_t n = strlen(node);

	return n > 0 && n <= MSGID_NODE_MAX &&
	    strspn(node, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int
msgid_new(const char *node, int64_t ms, char *out, size_t outlen)
{
	unsigned char	rnd[10];
	uint64_t	t = (uint64_t)ms;
	int		i, bit;

	if (!msgid_node_valid(node) || outlen < 26 + 2 + strlen(node))
		return -1;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	/* 10 chars of time (50 bits, top 2 zero), 16 chars of randomness */
	for (i = 9; i >= 0; i--) {
		out[i] = msgid_b32[t & 31];
		t >>= 5;
	}
	for (i = 0; i < 16; i++) {
		bit = i * 5;
		out[10 + i] = msgid_b32[((rnd[bit / 8] << 8 | (bit / 8 + 1 < 10 ?
		    rnd[bit / 8 + 1] : 0)) >> (11 - bit % 8)) & 31];
	}
	out[26] = '.';
	memcpy(out + 27, node, strlen(node) + 1);
	return 0;
}

int
msgid_valid(const char *id)
{
	int i;

	for (i = 0; i < 26; i++)
		if (id[i] == '\0' || strchr(msgid_b32, id[i]) == NULL)
			return 0;
	return id[26] == '.' && msgid_node_valid(id + 27);
}

int64_t
msgid_time_ms(const char *id)
{
	int64_t	t = 0;
	int	i;

	if (!msgid_valid(id))
		return -1;
	for (i = 0; i < 10; i++)
		t = t << 5 | (strchr(msgid_b32, id[i]) - msgid_b32);
	return t;
}

const char *
msgid_node(const char *id)
{
	return msgid_valid(id) ? id + 27 : NULL;
}

int
msgid_key(const char *prefix, const char *id, const char *suffix, char *out, size_t outlen)
{
	int64_t	ms = msgid_time_ms(id);
	time_t	t;
	struct tm tm;
	int	n;

	if (ms < 0)
		return -1;
	t = ms / 1000;
	gmtime_r(&t, &tm);
	n = snprintf(out, outlen, "%s%s%s/%04d/%02d/%02d/%s%s", prefix,
	    *prefix ? "/" : "", id + 27, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    id, suffix);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
msgid_from_key(const char *key, const char *suffix, char *out, size_t outlen)
{
	const char	*base = strrchr(key, '/');
	size_t		 klen, slen = strlen(suffix), idlen;

	base = base ? base + 1 : key;
	klen = strlen(base);
	if (klen <= slen || strcmp(base + klen - slen, suffix) != 0)
		return -1;
	idlen = klen - slen;
	if (idlen + 1 > outlen)
		return -1;
	memcpy(out, base, idlen);
	out[idlen] = '\0';
	return msgid_valid(out) ? 0 : -1;
}
