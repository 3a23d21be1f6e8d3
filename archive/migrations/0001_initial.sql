-- Outlets, their sources with polling state, and the articles they published.

-- The text-search configuration for an article's language ('simple' when PostgreSQL
-- has no stemmer for it), used by the generated search column.
CREATE FUNCTION text_search_config(language text) RETURNS regconfig
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE language WHEN 'en' THEN 'english'::regconfig
                         WHEN 'ru' THEN 'russian'::regconfig
                         WHEN 'de' THEN 'german'::regconfig
                         WHEN 'fr' THEN 'french'::regconfig
                         WHEN 'es' THEN 'spanish'::regconfig
                         WHEN 'tr' THEN 'turkish'::regconfig
                         ELSE 'simple'::regconfig END $$;

CREATE TABLE outlets (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    domains     text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sources (
    id                    bigserial PRIMARY KEY,
    outlet_id             bigint NOT NULL REFERENCES outlets(id),
    kind                  text NOT NULL CHECK (kind IN ('feed', 'sitemap', 'section')),
    url                   text NOT NULL UNIQUE,
    interval_minutes      integer NOT NULL DEFAULT 5 CHECK (interval_minutes > 0),
    etag                  text,
    last_modified         text,
    body_sha256           text,
    last_polled_at        timestamptz,
    last_success_at       timestamptz,
    last_status           integer,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    last_error            text,
    next_poll_at          timestamptz NOT NULL DEFAULT now(),
    created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE articles (
    id              bigserial PRIMARY KEY,
    url             text NOT NULL UNIQUE,
    canonical_url   text,
    outlet_id       bigint NOT NULL REFERENCES outlets(id),
    outlet          text NOT NULL,
    source_id       bigint REFERENCES sources(id) ON DELETE SET NULL,
    title           text,
    published_at    timestamptz,
    text            text NOT NULL DEFAULT '',
    language        text,
    authors         text[] NOT NULL DEFAULT '{}',
    site_name       text,
    fetched_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    http_status     integer,
    content_type    text,
    raw_page        bytea,           -- the page as fetched, zlib-compressed
    content_sha256  text NOT NULL,   -- fingerprint of the extracted title and text
    feed_entry_ids  text[] NOT NULL DEFAULT '{}',
    search          tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(text_search_config(language), coalesce(title, '')), 'A')
        || setweight(to_tsvector(text_search_config(language), left(text, 500000)), 'B')
    ) STORED
);

CREATE INDEX articles_search_idx ON articles USING gin (search);
CREATE INDEX articles_published_idx ON articles (published_at DESC);
CREATE INDEX articles_outlet_idx ON articles (outlet_id, published_at DESC);
CREATE INDEX articles_fingerprint_idx ON articles (content_sha256);
