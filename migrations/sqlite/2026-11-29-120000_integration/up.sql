-- Integration API: webhook endpoints (SQLite). Keep in step with migrations/postgres.

-- Where signed events are POSTed. The secret is needed to sign every
-- delivery, so it is kept sealed (AES-GCM with the server key), not hashed.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    -- Comma-separated event types, e.g. 'alert.opened,alert.changed'.
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    disabled_at TIMESTAMP
);
