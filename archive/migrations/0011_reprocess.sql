-- `backchannel reprocess` re-runs extraction, classification and story grouping over
-- the stored raw pages. Each article records which extractor produced its text, as it
-- already records its classifier, so that only what an older version made is redone.
ALTER TABLE articles ADD COLUMN extractor_version text;

-- A run's progress, committed with every batch: a run that was killed continues after
-- the last article it finished when started again with the same arguments.
CREATE TABLE reprocess_runs (
    id               bigserial PRIMARY KEY,
    stage            text NOT NULL CHECK (stage IN ('extract', 'classify', 'stories')),
    selection        jsonb NOT NULL,          -- the filters and code versions of the run
    last_article_id  bigint NOT NULL DEFAULT 0,
    counts           jsonb NOT NULL DEFAULT '{}',
    started_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);

CREATE INDEX reprocess_runs_open_idx ON reprocess_runs (stage) WHERE finished_at IS NULL;

-- Stories follow their articles: an article leaves a story it no longer belongs to
-- ('remove'), moves to another ('move'), a story of two contacts is split ('split'),
-- and an emptied story is deleted ('delete'); every change is logged here.
ALTER TABLE story_events DROP CONSTRAINT story_events_kind_check;
ALTER TABLE story_events ADD CONSTRAINT story_events_kind_check
    CHECK (kind IN ('merge', 'split', 'move', 'remove', 'delete'));
ALTER TABLE story_events ALTER COLUMN other_id DROP NOT NULL;
