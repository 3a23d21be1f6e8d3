-- Polling for the daemon: intervals below a minute (tests, very busy feeds) and the
-- interval actually in use, adapted to the feed's posting rate and its own hints.

ALTER TABLE sources ALTER COLUMN interval_minutes TYPE double precision;
ALTER TABLE sources ADD COLUMN effective_interval_seconds double precision;
ALTER TABLE sources ADD COLUMN last_hint text;  -- why the interval is what it is
CREATE INDEX sources_next_poll_idx ON sources (next_poll_at);
