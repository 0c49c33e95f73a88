/*
 * msgid.h - message identity and object key layout.
 *
 * An id is a ULID (48-bit milliseconds since the epoch, 80 random bits,
 * Crockford base32, 26 characters, so ids sort by time) followed by '.' and
 * the node id of the gateway that accepted it: "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx1".
 * Node ids are [a-z0-9-], 1..MSGID_NODE_MAX, so ids are unique across gateways
 * even if two clocks and random draws collided.
 *
 * Object key: "<prefix>/<node>/<yyyy>/<mm>/<dd>/<id>.eml" (UTC date of receipt);
 * an envelope too large for object metadata goes in "<same>/<id>.env.json".
 * Keys only use [A-Za-z0-9/._-] so they need no percent-encoding.
 */
#ifndef MXS_MSGID_H
#define MXS_MSGID_H
#include <stddef.h>
#include <stdint.h>

#include "clock.h"	/* now_ms(), which ids are made of */

#include "limits.h"

/* msgid_node_valid - 1 if node is a usable node id */
int	msgid_node_valid(const char *node);
/* msgid_new - a fresh id for node at time now_ms; 0 ok, -1 bad node */
int	msgid_new(const char *node, int64_t now_ms, char *out, size_t outlen);
/* msgid_valid - 1 if id has the form above (for CLI arguments, keys) */
int	msgid_valid(const char *id);
/* msgid_time_ms - the time encoded in an id, or -1 */
int64_t	msgid_time_ms(const char *id);
/* msgid_node - pointer to the node part of id, or NULL */
const char *msgid_node(const char *id);
/* msgid_key - object key for id (suffix ".eml" or ".env.json"); 0 ok, -1 too long */
int	msgid_key(const char *prefix, const char *id, const char *suffix, char *out, size_t outlen);
/* msgid_from_key - extract the id from a key ending in suffix; 0 ok, -1 not one of ours */
int	msgid_from_key(const char *key, const char *suffix, char *out, size_t outlen);

#endif
