-- Rapport foundation schema (SQLite). Keep in step with migrations/postgres.
-- Every time is UTC, stored as diesel's Timestamp text.

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE staff (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('clinician', 'manager', 'admin')),
    team_id BIGINT REFERENCES teams(id),
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    sees_team BOOLEAN NOT NULL DEFAULT 0,
    notify_high TEXT NOT NULL DEFAULT 'immediate' CHECK (notify_high IN ('immediate', 'digest', 'off')),
    notify_other TEXT NOT NULL DEFAULT 'digest' CHECK (notify_other IN ('immediate', 'digest', 'off')),
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP
);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    clinician_id BIGINT NOT NULL REFERENCES staff(id),
    name TEXT NOT NULL,
    email TEXT,
    language TEXT NOT NULL DEFAULT 'en',
    time_zone TEXT,
    opted_out BOOLEAN NOT NULL DEFAULT 0,
    opted_out_at TIMESTAMP,
    invitations_paused BOOLEAN NOT NULL DEFAULT 0,
    pause_reason TEXT,
    easy_read BOOLEAN NOT NULL DEFAULT 0,
    source TEXT,
    external_id TEXT,
    erased_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (source, external_id)
);
CREATE INDEX clients_clinician ON clients (clinician_id);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    clinician_id BIGINT NOT NULL REFERENCES staff(id),
    starts_at TIMESTAMP NOT NULL,
    ends_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'attended', 'cancelled', 'no_show')),
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_at >= starts_at),
    UNIQUE (source, external_id)
);
CREATE INDEX appointments_client ON appointments (client_id, starts_at);
CREATE INDEX appointments_clinician ON appointments (clinician_id, starts_at);

CREATE TABLE instruments (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    definition TEXT NOT NULL,
    is_default BOOLEAN NOT NULL DEFAULT 0,
    published_at TIMESTAMP NOT NULL,
    UNIQUE (slug, version)
);

CREATE TABLE invitations (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    appointment_id BIGINT NOT NULL UNIQUE REFERENCES appointments(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    instrument_id BIGINT NOT NULL REFERENCES instruments(id),
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'sent', 'answered', 'expired', 'cancelled')),
    send_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    reminder_at TIMESTAMP NOT NULL,
    reminded_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    answered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX invitations_client ON invitations (client_id);
CREATE INDEX invitations_due ON invitations (status, send_at);

-- Each emailed link carries its own random token; only its SHA-256 is kept.
CREATE TABLE link_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('survey', 'unsubscribe')),
    invitation_id BIGINT NOT NULL REFERENCES invitations(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX link_tokens_invitation ON link_tokens (invitation_id);

CREATE TABLE responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    invitation_id BIGINT NOT NULL UNIQUE REFERENCES invitations(id),
    client_id BIGINT NOT NULL REFERENCES clients(id),
    instrument_id BIGINT NOT NULL REFERENCES instruments(id),
    answers TEXT NOT NULL,
    total DOUBLE PRECISION,
    common_score DOUBLE PRECISION,
    scores TEXT NOT NULL,
    screener_uncomfortable BOOLEAN,
    comment TEXT,
    submitted_at TIMESTAMP NOT NULL
);
CREATE INDEX responses_client ON responses (client_id, submitted_at);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    client_id BIGINT NOT NULL REFERENCES clients(id),
    clinician_id BIGINT NOT NULL REFERENCES staff(id),
    opened_at_session INTEGER NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'closed')),
    outcome TEXT CHECK (outcome IN ('repaired', 'not_repaired', 'not_a_rupture')),
    recovered_at_session INTEGER,
    closed_after_session INTEGER,
    -- The severity the clinician was last told about (NULL: not yet).
    notified_severity TEXT,
    opened_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (client_id, opened_at_session)
);
CREATE INDEX alerts_clinician ON alerts (clinician_id, status);

CREATE TABLE alert_signals (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    rule TEXT NOT NULL,
    rule_version INTEGER NOT NULL,
    session INTEGER NOT NULL,
    from_session INTEGER,
    known_at_session INTEGER NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    explanation TEXT NOT NULL,
    inputs TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (alert_id, rule, session)
);

-- Immutable: rows are only ever inserted.
CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    alert_id BIGINT NOT NULL REFERENCES alerts(id),
    kind TEXT NOT NULL CHECK (kind IN ('opened', 'severity_raised', 'acknowledged', 'discussed', 'outcome')),
    outcome TEXT CHECK (outcome IN ('repaired', 'not_repaired', 'not_a_rupture')),
    note TEXT,
    staff_id BIGINT REFERENCES staff(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'reminder', 'alert_notice', 'alert_digest', 'webhook')),
    recipient TEXT NOT NULL,
    invitation_id BIGINT REFERENCES invitations(id),
    staff_id BIGINT REFERENCES staff(id),
    payload TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_invitation ON outbox (invitation_id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at TIMESTAMP NOT NULL,
    staff_id BIGINT REFERENCES staff(id),
    api_key_id BIGINT REFERENCES api_keys(id),
    action TEXT NOT NULL,
    client_id BIGINT REFERENCES clients(id),
    alert_id BIGINT REFERENCES alerts(id),
    detail TEXT
);
CREATE INDEX audit_log_client ON audit_log (client_id, at);

CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    email TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);
