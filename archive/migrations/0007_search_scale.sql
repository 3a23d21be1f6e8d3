-- Search at scale (bench/search_scale.py).
--
-- archive/search.py matches each article with the parse of the query in its own
-- language: one OR branch per text-search configuration, each
-- `a.language = 'xx' AND a.search @@ websearch_to_tsquery('config', q)`. With a single
-- GIN index over every language, each of the seven branches scanned the whole index
-- for its terms (the same posting lists seven times), and because the bitmap no longer
-- knew the language, every matching row was filtered again, reading its tsvector once
-- more before ranking read it. One partial index per branch, with the branch's own
-- language condition as predicate, is scanned for that language only, and the planner
-- drops the filter. The predicates must stay those of search.py's branches (CONFIGS
-- there, text_search_config() in migration 1); a language filter for a language
-- without its own configuration ('uk') is proven to fall under the last one.
CREATE INDEX articles_search_en_idx ON articles USING gin (search) WHERE language = 'en';
CREATE INDEX articles_search_ru_idx ON articles USING gin (search) WHERE language = 'ru';
CREATE INDEX articles_search_de_idx ON articles USING gin (search) WHERE language = 'de';
CREATE INDEX articles_search_fr_idx ON articles USING gin (search) WHERE language = 'fr';
CREATE INDEX articles_search_es_idx ON articles USING gin (search) WHERE language = 'es';
CREATE INDEX articles_search_tr_idx ON articles USING gin (search) WHERE language = 'tr';
CREATE INDEX articles_search_other_idx ON articles USING gin (search)
    WHERE language IS NULL OR NOT language = ANY ('{en,ru,de,fr,es,tr}'::text[]);
DROP INDEX articles_search_idx;

-- The stories page orders by first report, newest first, missing dates last, then id:
-- read in that order from an index instead of sorting every story for each page.
CREATE INDEX stories_page_idx ON stories (first_reported_at DESC NULLS LAST, id DESC);
