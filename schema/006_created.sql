-- 006_created.sql - facts about the index file itself (applied after 005).
-- index_meta 'created_ms'  when this index was created, ms since the epoch (an index
--                          upgraded to 006 counts from its upgrade).  An object with no
--                          row whose id is younger was written while this index existed
--                          and never committed: never acknowledged, an orphan.  One older
--                          means the index was lost or replaced.  See docs/index.md.
-- Not in control: that table is the operator's and is shown by status.
CREATE TABLE IF NOT EXISTS index_meta (
	key		TEXT PRIMARY KEY,
	value		TEXT NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO index_meta(key, value)
	VALUES ('created_ms', CAST(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
		AS TEXT));
