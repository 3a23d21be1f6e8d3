-- Curation by the archive's users (`backchannel stories merge|split|set-status|rename`):
-- what a person decided is kept by later re-processing. An article a person placed in
-- a story is pinned there; a story's status or title set by hand overrides the one
-- computed from its articles until it is set back to `auto`.
ALTER TABLE story_articles ADD COLUMN pinned boolean NOT NULL DEFAULT false;
ALTER TABLE stories
    ADD COLUMN status_override text
        CHECK (status_override IN ('unconfirmed', 'confirmed', 'denied')),
    ADD COLUMN title_override text,
    ADD COLUMN note text;

ALTER TABLE story_events DROP CONSTRAINT story_events_kind_check;
ALTER TABLE story_events ADD CONSTRAINT story_events_kind_check
    CHECK (kind IN ('merge', 'split', 'move', 'remove', 'delete', 'rename', 'status'));
