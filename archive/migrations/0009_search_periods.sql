-- Search with a date window at scale (bench/search_scale.py).
--
-- With 0007's indexes a two-word query over a 30-day window still walked the posting
-- lists of both words over the whole archive (150,000 matches of "putin call" in three
-- years, for 4,700 in the window) before the date index cut them down. Here each
-- article's search document carries two more lexemes, the UTC day and month it was
-- reported ('day 20250315', 'month 202503'; a lexeme with a space can never come from
-- a parsed text or query), and archive/search.py adds the days and months that cover
-- the window to the query as a second condition on the same index. GIN then reads the
-- words' posting lists only where the window's lexemes are: a few milliseconds instead
-- of thirty. The exact date filter stays, so the lexemes only narrow the index scan.
--
-- The lexemes live in the index expression, not in the stored `search` column: ranking
-- and snippets never see them, and no row is rewritten. Every search branch must match
-- on exactly this expression (archive/search.py SEARCH_DOCUMENT), with the predicates
-- of 0007 (CONFIGS there, text_search_config() in migration 1).
CREATE FUNCTION reported_periods(at timestamptz) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN at IS NULL OR NOT isfinite(at) THEN ''::tsvector
                 ELSE array_to_tsvector(ARRAY[
                     'day ' || (date_part('year', timezone('UTC', at)) * 10000
                                + date_part('month', timezone('UTC', at)) * 100
                                + date_part('day', timezone('UTC', at)))::bigint::text,
                     'month ' || (date_part('year', timezone('UTC', at)) * 100
                                  + date_part('month', timezone('UTC', at)))::bigint::text])
                 END $$;

-- GIN builds much faster with room to sort in; for this transaction only.
SET LOCAL maintenance_work_mem = '256MB';

DROP INDEX articles_search_en_idx, articles_search_ru_idx, articles_search_de_idx,
    articles_search_fr_idx, articles_search_es_idx, articles_search_tr_idx,
    articles_search_other_idx;
CREATE INDEX articles_search_en_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language = 'en';
CREATE INDEX articles_search_ru_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language = 'ru';
CREATE INDEX articles_search_de_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language = 'de';
CREATE INDEX articles_search_fr_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language = 'fr';
CREATE INDEX articles_search_es_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language = 'es';
CREATE INDEX articles_search_tr_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language = 'tr';
CREATE INDEX articles_search_other_idx ON articles
    USING gin ((search || reported_periods(coalesce(published_at, fetched_at))))
    WHERE language IS NULL OR NOT language = ANY ('{en,ru,de,fr,es,tr}'::text[]);
