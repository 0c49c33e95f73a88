-- 008_auth.sql - sender authentication verdicts at ingest (applied after 007).
-- auth_spf, auth_dkim, auth_dmarc  RFC 8601 result words of ingest/auth.c
--                  ("pass", "fail", "temperror", ...; dkim: "pass" if any
--                  signature passed); '' when the message was not verified
--                  ([auth] verify = no, or stored before this version).
-- messages_auth_dmarc  DMARC failures and errors at a glance (the passes and
--                  unverified rows stay out of the partial index).
ALTER TABLE messages ADD COLUMN auth_spf TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN auth_dkim TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN auth_dmarc TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_auth_dmarc ON messages(auth_dmarc, received_ms)
	WHERE auth_dmarc NOT IN ('', 'pass', 'none');
