-- Where a sitemap source's next read starts (crawler/spiders/sitemaps.py): entries dated
-- before `window_start` less an hour are not taken. It moves only after a complete pass
-- (every page taken was fetched and stored, or failed for good), so a page that failed
-- for a passing reason is taken again on the next pass, however old its entry. Until
-- now the window followed `last_success_at`, which a poll with such a failure advances.
ALTER TABLE sources ADD COLUMN window_start timestamptz;
UPDATE sources SET window_start = last_success_at;
