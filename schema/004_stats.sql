-- 004_stats.sql - read-side helpers for index_stats.c (applied after 003).
-- attempt_totals  attempts per (target, code) ever recorded, kept by a trigger
--                 on attempts, so /metrics reads a few rows instead of grouping
--                 the whole audit trail (millions of rows at a 1M backlog).
--                 Seeded from the attempts already present; monotonic, as a
--                 Prometheus counter should be, even if attempts are pruned.
-- messages_spool  count and bytes of spooled messages (object store down for
--                 hours: every message spooled) from the index alone; holds
--                 only the spooled rows, like messages_location.
CREATE TABLE attempt_totals (
	target		TEXT NOT NULL,
	code		INTEGER NOT NULL,
	count		INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (target, code)
) WITHOUT ROWID;
INSERT INTO attempt_totals (target, code, count)
	SELECT target, code, count(*) FROM attempts GROUP BY target, code;
CREATE TRIGGER attempt_totals_insert AFTER INSERT ON attempts BEGIN
	INSERT INTO attempt_totals (target, code, count) VALUES (NEW.target, NEW.code, 1)
		ON CONFLICT (target, code) DO UPDATE SET count = count + 1;
END;
CREATE INDEX messages_spool ON messages(location, size) WHERE location <> 0;
