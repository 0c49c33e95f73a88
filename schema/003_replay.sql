-- 003_replay.sql - replay queue additions (applied after 001/002 by index_open).
--   note             why the replay worker or the operator set the state
--                    (e.g. "lifetime exceeded, no dsn_relay: held"); NULL if none
--   expires_ms       delivery deadline; NULL means received_ms + [replay] max_lifetime.
--                    `release` of a message held at its deadline moves it on.
--   last_attempt_ms  time of the last delivery attempt (drain flushes every message
--                    not attempted since the drain began)
ALTER TABLE messages ADD COLUMN note TEXT;
ALTER TABLE messages ADD COLUMN expires_ms INTEGER;
ALTER TABLE messages ADD COLUMN last_attempt_ms INTEGER;
-- active leases by owner (crash recovery releases a dead worker's leases)
CREATE INDEX messages_lease ON messages(lease_owner) WHERE lease_owner IS NOT NULL;
