-- 006_nodes.sql - the ingest nodes that commit into this index, and since when
-- (applied after 005).  The ingest registers its node when it starts (INSERT OR IGNORE:
-- the first start counts).  An object of a registered node with no row whose id is
-- younger than since_ms was written while this index was the node's and never committed:
-- never acknowledged, an orphan.  One older, or of a node never registered here (another
-- host's gateway being adopted), is not: a lost index, or messages to adopt.  docs/index.md.
CREATE TABLE IF NOT EXISTS index_nodes (
	node		TEXT PRIMARY KEY,
	since_ms	INTEGER NOT NULL
) WITHOUT ROWID;
