-- 007_drill.sql - failover drill canaries (applied after 006).
-- messages.drill  1: a canary sent by `mxspool-replay drill` (X-Mxspool-Drill header),
--                 never real mail: held, counted apart, purged when the drill ends.
ALTER TABLE messages ADD COLUMN drill INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_drill ON messages(drill) WHERE drill <> 0;
