-- The classifier's decision, stored with each article so it can be re-run
-- (`backchannel reclassify`) when the rules change.

ALTER TABLE articles
    ADD COLUMN contact_story       boolean,
    ADD COLUMN call_status         text CHECK (call_status IN ('unconfirmed', 'confirmed', 'none')),
    ADD COLUMN evidence            text,
    ADD COLUMN classifier_version  text,
    ADD COLUMN classified_at       timestamptz;

CREATE INDEX articles_call_status_idx ON articles (call_status, published_at DESC)
    WHERE contact_story;
