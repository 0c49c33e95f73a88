-- 005_forget.sql - forgetting old history (applied after 004).
-- messages_forget  the purged messages in purge order, so the once-a-minute
--                  housekeeping (index_replay_forget: [replay] forget_after)
--                  finds the rows to drop without scanning the whole table;
--                  holds only the purged rows.
CREATE INDEX messages_forget ON messages(purged_ms) WHERE purged_ms IS NOT NULL;
