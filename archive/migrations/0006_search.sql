-- Search: articles are filtered and ordered by when they were reported (published,
-- else fetched), and filtered by outlet name whatever its case.

CREATE INDEX articles_reported_idx
    ON articles ((coalesce(published_at, fetched_at)) DESC, id DESC);
CREATE INDEX articles_outlet_name_idx
    ON articles (lower(outlet), (coalesce(published_at, fetched_at)) DESC);
