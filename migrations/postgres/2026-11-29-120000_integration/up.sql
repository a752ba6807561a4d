-- Integration API: webhook endpoints (PostgreSQL). Keep in step with migrations/sqlite.

-- Where signed events are POSTed. The secret is needed to sign every
-- delivery, so it is kept sealed (AES-GCM with the server key), not hashed.
CREATE TABLE webhook_endpoints (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- Comma-separated event types, e.g. 'alert.opened,alert.changed'.
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);
