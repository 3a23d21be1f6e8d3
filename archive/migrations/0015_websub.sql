-- WebSub: a feed's subscription at its hub, so the hub pushes new items to the daemon
-- instead of the daemon polling for them. One subscription per source. The secret
-- signs the hub's deliveries (X-Hub-Signature); it is never shown or logged.
CREATE TABLE websub_subscriptions (
    id                bigserial PRIMARY KEY,
    source_id         bigint NOT NULL UNIQUE REFERENCES sources(id) ON DELETE CASCADE,
    hub               text NOT NULL,
    topic             text NOT NULL,
    secret            text NOT NULL,
    -- requested: asked, waiting for the hub's verification; active: verified, pushing
    -- until lease_expires_at; denied / failed / expired: polling only, retried later
    state             text NOT NULL DEFAULT 'requested'
                      CHECK (state IN ('requested', 'active', 'denied', 'failed', 'expired')),
    lease_seconds     integer,
    lease_expires_at  timestamptz,
    requested_at      timestamptz NOT NULL DEFAULT now(),
    verified_at       timestamptz,
    last_push_at      timestamptz,
    pushes            integer NOT NULL DEFAULT 0,
    ignored_pushes    integer NOT NULL DEFAULT 0,  -- unsigned or wrongly signed
    last_error        text
);
CREATE INDEX websub_subscriptions_lease_idx ON websub_subscriptions (lease_expires_at);
