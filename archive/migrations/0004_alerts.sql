-- Alerts: the outbox. A rule's decision is written in the transaction that puts the
-- article in its story, so an alert exists exactly when its cause does; delivery to
-- each channel is tracked beside it and done later, by whichever process gets there.

CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    rule        text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('first_report', 'new_outlet')),
    -- The story at the time of the alert. No foreign key: a story merged into another
    -- is deleted, and its alerts stay (story_events tells where it went).
    story_id    bigint NOT NULL,
    outlet      text NOT NULL,
    article_id  bigint NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    payload     jsonb NOT NULL,       -- the message's facts, frozen when the alert fired
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (rule, story_id, outlet)   -- one alert per rule, story and outlet, ever
);

CREATE INDEX alerts_created_idx ON alerts (created_at DESC);

CREATE TABLE alert_deliveries (
    alert_id         bigint NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    channel          text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    delivered_at     timestamptz,
    PRIMARY KEY (alert_id, channel)
);

CREATE INDEX alert_deliveries_pending_idx ON alert_deliveries (channel, alert_id)
    WHERE status = 'pending';
