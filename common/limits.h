/*
 * limits.h - every fixed limit of mxspool, in one place, with its source.
 *
 * Limits that an operator may change are configurable; the value here is
 * then the default, and the config key is named.  The hard *_MAX values
 * bound buffers and cannot be raised without a rebuild.
 */
#ifndef MXS_LIMITS_H
#define MXS_LIMITS_H

/* RFC 5321 4.5.3.1.1: local-part 64 octets; 4.5.3.1.2: domain 255 octets;
 * 4.5.3.1.3: path 256 octets including the angle brackets. */
#define MXS_LOCALPART_MAX	64
#define MXS_DOMAIN_MAX		255
#define MXS_PATH_MAX		256
#define MXS_ADDR_MAX		(MXS_LOCALPART_MAX + 1 + MXS_DOMAIN_MAX)

/* RFC 5321 4.5.3.1.4: command line 512 octets including CRLF; SMTP extensions
 * (SIZE, DSN's ORCPT/ENVID, SMTPUTF8) lengthen MAIL/RCPT, so allow more
 * (RFC 1869 4.1.2 permits it). Config: [ingest] max_line_length. */
#define SMTP_CMDLINE_MAX	2048
/* RFC 5321 4.5.3.2.7 gives the server 5 minutes of idle time per command ([ingest] timeout);
 * a whole command line, from its first byte, must arrive within this (Postfix
 * smtpd_per_request_deadline): a real client sends one in a single segment.
 * Config: [ingest] command_deadline (seconds). */
#define SMTP_CMD_DEADLINE_DEFAULT	60
/* RFC 5321 4.5.3.1.6: text line 1000 octets including CRLF. We accept longer
 * lines up to this default (senders do send them); config: [ingest] max_data_line. */
#define SMTP_DATALINE_DEFAULT	8192
/* RFC 5321 4.5.3.1.5: reply line 512 octets; the replay client tolerates more
 * but bounds a whole multi-line reply (hostile or broken primaries). */
#define SMTP_REPLYLINE_MAX	4096
#define SMTP_REPLY_MAX		65536
#define SMTP_REPLY_LINES_MAX	64
/* RFC 5321 4.5.3.1.8: at least 100 recipients must be buffered. Config:
 * [ingest] max_recipients (default 100, as Postfix smtpd_recipient_limit 1000
 * is a large-site default; we are a backup MX). */
#define SMTP_RCPT_DEFAULT	100
#define SMTP_RCPT_MAX		10000
/* RFC 5321 4.5.3.1.10: recipients over the limit get 452 4.5.3 and the client
 * sends them in another transaction, so they are not errors; only this many per
 * transaction are free (Postfix smtpd_recipient_overshoot_limit, 1000).
 * Config: [ingest] recipient_overshoot_limit. */
#define SMTP_RCPT_OVERSHOOT_DEFAULT	1000
#define SMTP_RCPT_OVERSHOOT_MAX		1000000
/* Non-mail commands (NOOP RSET VRFY HELP HELO EHLO) allowed between two accepted messages;
 * one more gets 421 4.7.0 and the session ends (Postfix smtpd_junk_command_limit, 100).
 * Config: [ingest] junk_command_limit. */
#define SMTP_JUNK_DEFAULT	100
#define SMTP_JUNK_MAX		100000
/* RFC 3030 2: BDAT chunk-size is 1*DIGIT.  A chunk is always read to its end (over
 * max_message_size: discarded, 552), so a size is only refused when it is beyond this
 * (501 and the session ends: such a chunk cannot be skipped). */
#define SMTP_BDAT_CHUNK_MAX	(1LL << 40)
/* RFC 3461 4.2: ENVID is at most 100 characters; 4.2 ORCPT at most 500. */
#define DSN_ENVID_MAX		100
#define DSN_ORCPT_MAX		500
/* Default maximum message size (Postfix message_size_limit is 10240000);
 * config: [ingest] max_message_size. */
#define SMTP_MSGSIZE_DEFAULT	(50LL * 1024 * 1024)
/* [spool] max_size default: the fallback spool while the object store is down */
#define STORE_PREFIX_DEFAULT	"mail"	/* [storage] prefix: first segment of every key */
#define STORE_SPOOL_MAX_DEFAULT	(1LL << 30)

/* Message id: 26-char ULID, '.', node id. */
#define MSGID_NODE_MAX		32
#define MSGID_MAX		(26 + 1 + MSGID_NODE_MAX + 1)
/* Object keys: prefix/node/yyyy/mm/dd/id.eml */
#define OBJKEY_PREFIX_MAX	128
#define OBJKEY_MAX		512

/* S3: user metadata is limited to 2 KB in total (AWS S3 user guide,
 * "Object metadata"); envelopes larger than this go in a sidecar object. */
#define S3_META_INLINE_MAX	1800
/* S3 multipart: parts are 5 MiB to 5 GiB, at most 10,000 parts. */
#define S3_PART_MIN		(5LL * 1024 * 1024)
#define S3_PARTS_MAX		10000
/* Bounded error/response bodies read from S3 (XML error documents, listings). */
#define S3_RESPONSE_MAX		(4 * 1024 * 1024)

/* Object metadata pairs kept per object (both backends). */
#define OBJMETA_MAX		16
#define OBJMETA_NAME_MAX	64

/* HTTP request bodies (status/control endpoint). */
#define HTTP_BODY_MAX		4096

/* Error text buffers passed down for a one-line reason. */
#define ERRSTR_MAX		256

/* One user metadata value (both backends); S3 bounds all user metadata of an
 * object to 2 KB (AWS S3 user guide, "Object metadata"). */
#define OBJMETA_VALUE_MAX	2048

/* HTTP status endpoint ([http] keys): concurrent connections, idle timeout
 * (seconds), domains listed in /status and /metrics (label cardinality), the
 * window of "recent" delivery errors and of the backlog chart (seconds). */
#define HTTP_CONN_DEFAULT	32
#define HTTP_CONN_MAX		1024
#define HTTP_TIMEOUT_DEFAULT	30
#define HTTP_DOMAINS_DEFAULT	50
#define HTTP_DOMAINS_MAX	10000
#define HTTP_ERRWINDOW_DEFAULT	3600
#define HTTP_HISTORY_DEFAULT	(6 * 3600)
/* Bearer token of the control API ([http] token). */
#define HTTP_TOKEN_MAX		256

/* ingest: default command line cap ([ingest] max_line_length, 512 .. SMTP_CMDLINE_MAX) and
 * the largest accepted data line setting (DATA is streamed, so this bounds no buffer). */
#define SMTP_CMDLINE_DEFAULT	SMTP_CMDLINE_MAX
#define SMTP_DATALINE_MAX	(1024 * 1024)

/* ingest: emptied staging files kept open for the next messages (ingest/staging.c);
 * one per session in DATA is the working set, beyond this they are closed. */
#define STAGING_IDLE_MAX	256

/* spool: a .tmp.* file of the fallback spool not written for this long (s) is a crash's
 * leftover, removed at open; younger ones may be another process's spool_put */
#define SPOOL_TMP_STALE		3600

/* File paths.  A configured path ([general] index, [spool] dir, [ingest] tls_cert, ...)
 * is at most CONFIG_PATH_MAX octets (common/config_schema.c refuses a longer one);
 * a spool file is <[spool] dir>/<id><suffix>, the longest ".tmp.<id>.XXXXXX" while it
 * is written (common/spool.c).  Buffers hold one of these plus the NUL: a path that
 * does not fit is an error where it is built, never cut short. */
#define CONFIG_PATH_MAX		1023
#define SPOOL_PATH_MAX		(CONFIG_PATH_MAX + 1 + MSGID_MAX + 16)

/* ingest: a callout cache (the index) that cannot be opened is tried again after this */
#define VERIFY_CACHE_RETRY_MS	(10 * 1000)

/* storage: an unindexed object or a file-store temp file ("[storage] orphan_age") younger
 * than this may belong to a commit in progress, in this or another process of the node;
 * a commit takes at most the S3 timeouts and retries plus the index busy wait. */
#define ORPHAN_AGE_DEFAULT	3600
/* an orphan stays in the reconciled date prefixes (RECONCILE_DAYS) at least a day, so it
 * must become old enough well within that: at most 12h */
#define ORPHAN_AGE_MAX		(12 * 3600)
/* orphan_age is at least this many commit_deadlines: a commit holds its object without a
 * row for up to one, then waits for the index; the object's time is the store's clock */
#define ORPHAN_AGE_COMMITS	2
/* storage: the start-up reconcile looks at this many days of the node's date prefixes
 * (today and yesterday, UTC: a crash just before midnight leaves yesterday's orphans) */
#define RECONCILE_DAYS		2
/* ingest: the reconcile runs at start-up and then this often (s), so the orphans of a
 * crash just before a restart (younger than orphan_age then) are taken too */
#define RECONCILE_INTERVAL	3600

/* messages/s accepted for a rate from the config, the CLI and the control table */
#define RATE_MAX		100000.0

/* DNS (common/dns.c).  RFC 1035 2.3.4: a name is at most 255 octets on the
 * wire, 253 characters in text without the final dot; a label 63 octets.
 * A lookup waits DNS_TIMEOUT_DEFAULT seconds (config: [dns] timeout); an
 * answer keeps at most DNS_RR_MAX records, a TXT record at most DNS_TXT_MAX
 * octets (its strings concatenated, RFC 7208 3.3). */
#define DNS_NAME_MAX		253
#define DNS_LABEL_MAX		63
#define DNS_TIMEOUT_DEFAULT	5
#define DNS_TIMEOUT_MAX		60
/* a lookup with a stop flag (dns_set_stop) looks at it this often, milliseconds */
#define DNS_STOP_POLL_MS	200
/* dns_open()'s key of a shared resolver: nameserver|timeout|trust_anchor path */
#define DNS_KEY_MAX		(128 + 4096)
#define DNS_RR_MAX		64
/* addresses of one SMTP peer name tried in turn (common/smtpc.c) */
#define SMTPC_ADDRS_MAX		16
#define DNS_TXT_MAX		4096
/* PTR names of one address confirmed by a forward lookup (RFC 7208 4.6.4: 10) */
#define DNS_VERIFY_NAMES_MAX	10

/* DNSBL/DNSWL screening (common/dnsbl.c), as Postfix postscreen: at most
 * DNSBL_SITES_MAX entries in [dnsbl] sites (one bit each in a cache entry),
 * weights within +-DNSBL_WEIGHT_MAX, DNSBL_ALLOW_MAX allowlisted networks and
 * DNSBL_ALLOW_NAMES_MAX allowlisted names (each one a verified reverse name).
 * The lookups of one client share one deadline ([dnsbl] timeout, postscreen
 * waits 10 s; the client waits for our greeting up to 5 minutes, RFC 5321
 * 4.5.3.2.1).  Results are cached per address for the answers' TTL within
 * [min_ttl, max_ttl] (postscreen_dnsbl_min_ttl 60 s, max_ttl 1 h).  An error
 * answer (127.255.255.0/24) or a dead list is logged at most once per zone
 * per DNSBL_ERROR_LOG_INTERVAL seconds. */
#define DNSBL_SITES_MAX		32
#define DNSBL_WEIGHT_MAX	1000
#define DNSBL_ALLOW_MAX		256
#define DNSBL_ALLOW_NAMES_MAX	64
#define DNSBL_TIMEOUT_DEFAULT	5
#define DNSBL_CACHE_DEFAULT	10000
#define DNSBL_CACHE_MAX		1000000
#define DNSBL_MIN_TTL_DEFAULT	60
#define DNSBL_MAX_TTL_DEFAULT	3600
#define DNSBL_ERROR_LOG_INTERVAL 300

/* SPF (common/spf.c), RFC 7208 4.6.4: at most 10 terms that cause DNS
 * lookups (include, a, mx, ptr, exists, redirect), at most 2 lookups that
 * return no answer (void lookups), at most 10 MX names and 10 PTR names
 * looked at per mechanism.  SPF_EXPAND_MAX bounds a macro expansion (7.3
 * truncates a domain to 253 characters after it). */
#define SPF_LOOKUP_MAX		10
#define SPF_VOID_MAX		2
#define SPF_MXPTR_MAX		10
#define SPF_EXPAND_MAX		1024
#define SPF_TERMS_MAX		128
/* A whole SPF check: no lookup starts after this many seconds (RFC 7208
 * 4.6.4 suggests at least 20 s; the SMTP client waits 5 min for RCPT, RFC 5321
 * 4.5.3.2.3). */
#define SPF_TIMEOUT_DEFAULT	20

/* ARC (RFC 8617): instances per chain (4.2.1: i= is 1..50) */
#define ARC_INSTANCE_MAX	50
/* ARC sealing reads at most this much header block (a bigger one is delivered unsealed) */
#define ARC_HEADER_MAX		(1024 * 1024)
/* header fields of a message that sealing looks at (RFC 5322 sets no limit) */
#define ARC_FIELDS_MAX		2000

/* storage: the end-to-end budget of one message's object store attempts ([storage]
 * commit_deadline, seconds), then the fallback spool.  RFC 5321 §4.5.3.2.6 gives the
 * sender 10 minutes for the reply after end-of-data; well under one minute keeps a hung
 * store from making senders time out and retry (duplicates).  The circuit breaker
 * ([storage] breaker_failures) opens after that many consecutive failures; one probe
 * ([storage] probe_timeout) every probe_interval seconds closes it again. */
#define STORE_COMMIT_DEADLINE_DEFAULT	30
#define STORE_COMMIT_DEADLINE_MAX	540
#define STORE_BREAKER_FAILURES_DEFAULT	3
#define STORE_PROBE_INTERVAL_DEFAULT	5
#define STORE_PROBE_TIMEOUT_DEFAULT	5
/* of commit_deadline, what the object store leaves for the spool and index (ms, at most) */
#define STORE_SPOOL_ALLOWANCE_MS	2000
/* free space the index's file system needs for /healthz to call it writable */
#define STORE_INDEX_FS_MIN		(1024 * 1024)

/* readiness check (replay/check*.c): one result's evidence/fix text; results of the
 * gateway-wide checks and of each [domain] section (every domain of the file is checked:
 * a report holds CHECK_RESULTS_MAX + CHECK_RESULTS_DOMAIN_MAX per domain, and one cut
 * short says so and FAILs); fleet gateway hostnames ([check] gateways); a DER public
 * key (RFC 6698 2.1.3); an MTA-STS policy body (RFC 8461 3.2: "SHOULD" stay small) */
#define CHECK_EVIDENCE_MAX	512
#define CHECK_RESULTS_MAX	1024
#define CHECK_RESULTS_DOMAIN_MAX	64
#define CHECK_GATEWAYS_MAX	16
#define CHECK_SPKI_MAX		2048
#define CHECK_STS_POLICY_MAX	(64 * 1024)

/* Verification at ingest (ingest/auth.c).  AUTH_TIMEOUT_DEFAULT bounds all
 * the lookups of one message (SPF, DKIM keys, DMARC) after end-of-data: the
 * client waits 10 minutes for the reply (RFC 5321 4.5.3.2.6).  At most
 * AUTH_DKIM_MAX signatures are reported (every one is verified, within the
 * deadline); a header field is inspected in its first
 * AUTH_FIELD_MAX octets (From:, Authentication-Results: authserv-id);
 * AUTH_HEADER_MAX bounds our Authentication-Results: header (RFC 8601),
 * enough for AUTH_DKIM_MAX signatures of the longest names. */
#define AUTH_TIMEOUT_DEFAULT	30
#define AUTH_TIMEOUT_MAX	300
#define AUTH_DKIM_MAX		8
#define AUTH_FIELD_MAX		2048
#define AUTH_HEADER_MAX		8192

/* The fleet ([fleet], docs/storage.md): a heartbeat a minute costs one PUT per
 * process; a node is stale after three missed ones; the ledger is written every
 * 10 s or 1000 outcomes (one PUT per batch); each bucket call of the fleet ends
 * within call_deadline, so a hanging store never holds mail. */
#define FLEET_HEARTBEAT_DEFAULT	60
#define FLEET_STALE_DEFAULT	180
#define FLEET_LEDGER_INT_DEFAULT	10
#define FLEET_LEDGER_BATCH_DEFAULT	1000
#define FLEET_LEDGER_BATCH_MAX	100000
#define FLEET_CALL_DEFAULT	10
/* claims of one node and nodes of one fleet read in one view */
#define FLEET_CLAIMS_MAX	1000
#define FLEET_NODES_MAX		1000

#endif
