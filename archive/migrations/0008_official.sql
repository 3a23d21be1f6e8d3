-- The governments' own word: outlets marked official (the Kremlin "ru", the White House
-- "us"), each official article's stance on the contact it reports, stories that an
-- official readout confirms or an official denial answers, and alerts when a story's
-- status changes.

ALTER TABLE outlets ADD COLUMN official text CHECK (official IN ('ru', 'us'));

ALTER TABLE articles ADD COLUMN official_stance text
    CHECK (official_stance IN ('confirms', 'denies'));

ALTER TABLE stories DROP CONSTRAINT stories_status_check;
ALTER TABLE stories ADD CONSTRAINT stories_status_check
    CHECK (status IN ('unconfirmed', 'confirmed', 'denied'));
ALTER TABLE stories
    ADD COLUMN status_article_id bigint REFERENCES articles(id) ON DELETE SET NULL,
    ADD COLUMN status_changed_at timestamptz;

ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_check
    CHECK (kind IN ('first_report', 'new_outlet', 'status_change'));
ALTER TABLE alerts ADD COLUMN status text;  -- for a status change: the story's new status
ALTER TABLE alerts DROP CONSTRAINT alerts_rule_story_id_outlet_key;
-- One alert per rule, story and outlet for new outlets; one per rule, story and new
-- status for status changes.
CREATE UNIQUE INDEX alerts_outlet_once ON alerts (rule, story_id, outlet)
    WHERE kind <> 'status_change';
CREATE UNIQUE INDEX alerts_status_once ON alerts (rule, story_id, status)
    WHERE kind = 'status_change';
