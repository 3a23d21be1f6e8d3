-- Discovery (issue 18): news searches as sources, and outlets that grow by themselves.
-- A search's source row has no outlet (its results belong to many); it is named by
-- `search_name` and remembers the end of its last complete window, so that the next
-- poll asks the engine only for what was seen since.
ALTER TABLE sources DROP CONSTRAINT sources_kind_check;
ALTER TABLE sources ADD CONSTRAINT sources_kind_check
    CHECK (kind IN ('feed', 'sitemap', 'section', 'search'));
ALTER TABLE sources ALTER COLUMN outlet_id DROP NOT NULL;
ALTER TABLE sources ADD COLUMN search_name text;
ALTER TABLE sources ADD COLUMN search_window_end timestamptz;
ALTER TABLE sources ADD CONSTRAINT sources_search_has_name
    CHECK ((kind = 'search') = (search_name IS NOT NULL AND outlet_id IS NULL));
-- A feed an outlet was promoted to (`backchannel outlets follow`): polled like a
-- listed one, though the user's sources file does not list it.
ALTER TABLE sources ADD COLUMN followed boolean NOT NULL DEFAULT false;

-- An outlet created by an article from a site no sources file lists.
ALTER TABLE outlets ADD COLUMN discovered_at timestamptz;
ALTER TABLE outlets ADD COLUMN found_by text;  -- the search that found it
CREATE INDEX outlets_domains_idx ON outlets USING gin (domains);
