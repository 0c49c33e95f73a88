-- 009_fleet.sql - the fleet (docs/storage.md "The fleet"), applied after 008.
-- fleet_ledger  recipient outcomes not yet written to this node's ledger in the
--               bucket.  The trigger below adds a row when a recipient reaches a
--               final state while the control key fleet_ledger is '1' (serve and
--               drain set it from [fleet] ledger).  batch is NULL until a writer
--               reserves the row for ledger object <batch> (the seq of the object);
--               the rows of a batch are deleted once its PUT succeeded, so a batch
--               reserved by a killed writer is put again by the next one, with the
--               same rows.  The next seq and the acknowledged claim epoch are
--               control keys (fleet_ledger_seq, fleet_epoch).
-- messages.state 'adopted' and recipients.state 'adopted': another node's
--               adoption took them (a final state: that node delivers them).
CREATE TABLE IF NOT EXISTS fleet_ledger (
	rowid		INTEGER PRIMARY KEY,
	message_id	TEXT NOT NULL,
	rcpt		TEXT NOT NULL,
	outcome		TEXT NOT NULL,
	at_ms		INTEGER NOT NULL,
	batch		INTEGER
);
CREATE INDEX IF NOT EXISTS fleet_ledger_batch ON fleet_ledger(batch) WHERE batch IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS fleet_ledger_mark AFTER UPDATE OF state ON recipients
	WHEN NEW.state <> OLD.state
	 AND NEW.state IN ('delivered', 'quarantine', 'expired', 'deleted')
	 AND EXISTS (SELECT 1 FROM control WHERE key = 'fleet_ledger' AND value = '1')
BEGIN
	INSERT INTO fleet_ledger (message_id, rcpt, outcome, at_ms)
	VALUES (NEW.message_id, NEW.rcpt, NEW.state,
	    COALESCE(NEW.updated_ms, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)));
END;
