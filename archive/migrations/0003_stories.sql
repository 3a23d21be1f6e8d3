-- Stories: the articles of all outlets that report one alleged contact, with syndicated
-- copies marked, and the MinHash signatures that find those copies.

CREATE TABLE article_signatures (
    article_id   bigint PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
    signature    bytea NOT NULL,            -- crawler.copies.signature()
    bands        bigint[] NOT NULL,         -- LSH band keys: any overlap = copy candidate
    computed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX article_signatures_bands_idx ON article_signatures USING gin (bands);

CREATE TABLE stories (
    id                 bigserial PRIMARY KEY,
    title              text,
    status             text NOT NULL CHECK (status IN ('unconfirmed', 'confirmed')),
    first_article_id   bigint REFERENCES articles(id) ON DELETE SET NULL,
    first_outlet       text,
    first_reported_at  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stories_first_reported_idx ON stories (first_reported_at DESC);

CREATE TABLE story_articles (
    story_id    bigint NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    article_id  bigint NOT NULL UNIQUE REFERENCES articles(id) ON DELETE CASCADE,
    outlet      text NOT NULL,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    is_copy_of  bigint REFERENCES articles(id) ON DELETE SET NULL,
    wire        text,
    PRIMARY KEY (story_id, article_id)
);

CREATE INDEX story_articles_outlet_idx ON story_articles (story_id, outlet);

-- Every merge (and any later split) of stories, so that a story id that disappears can
-- be traced to the story that absorbed it.
CREATE TABLE story_events (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('merge', 'split')),
    story_id    bigint NOT NULL,            -- the story that remains
    other_id    bigint NOT NULL,            -- the story merged into it, or split from it
    article_id  bigint,                     -- the article that caused it
    detail      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX story_events_story_idx ON story_events (story_id);
