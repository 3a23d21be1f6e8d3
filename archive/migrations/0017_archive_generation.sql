-- The archive's generation: a number that grows with every committed transaction that
-- writes what the web pages show (articles, stories, their articles and events,
-- outlets). The web server keys its response cache on it (web/cache.py), so a cached
-- page is served only while nothing it shows has changed.
--
-- It is transactional: a reader sees the new number exactly when it sees the new rows.
-- (A sequence or max(id) would not do: a sequence moves before the commit, and ids are
-- handed out in another order than transactions commit.) The bump is a deferred
-- constraint trigger, so it runs at commit, once per transaction (a transaction-local
-- flag skips the other rows): the row lock on the counter is taken last and held only
-- for the commit itself, so writers neither wait on each other for long nor deadlock.
CREATE TABLE archive_generation (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    generation bigint NOT NULL
);
INSERT INTO archive_generation (generation) VALUES (1);

CREATE FUNCTION bump_archive_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('backchannel.generation_bumped', true), '') <> 'on' THEN
        PERFORM set_config('backchannel.generation_bumped', 'on', true);
        UPDATE archive_generation SET generation = generation + 1;
    END IF;
    RETURN NULL;
END $$;

-- On each table the web pages show: a row trigger at commit, and (TRUNCATE fires no
-- row trigger) a statement trigger for TRUNCATE, which is rare and locks the table
-- anyway.
DO $$
DECLARE
    shown text;
BEGIN
    FOREACH shown IN ARRAY ARRAY['articles', 'stories', 'story_articles', 'story_events',
                                 'outlets'] LOOP
        EXECUTE format('CREATE CONSTRAINT TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                       'EXECUTE FUNCTION bump_archive_generation()',
                       'archive_generation_' || shown, shown);
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION bump_archive_generation()',
                       'archive_generation_' || shown || '_truncate', shown);
    END LOOP;
END $$;
