-- Manager insights (SQLite). Keep in step with migrations/postgres.
--
-- The trends dashboard reads pre-aggregated cells: one row per period (a
-- week or a month in the clinic's time zone), breakdown and group. Cells are
-- recomputed a whole period at a time, because distinct-client counts (used
-- to suppress small cells) cannot be added up from smaller pieces.
--
-- Which periods need recomputing is recorded here by triggers, in the same
-- transaction as the change: each trigger notes the instants (UTC) that
-- place the changed row in a period. The application maps instants to
-- periods (it knows the clinic's time zone; SQLite does not). A NULL instant
-- means "recompute everything" (a clinician moved team, or this migration
-- ran over existing data).

CREATE TABLE insight_dirty (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    at TIMESTAMP
);

INSERT INTO insight_dirty (at) VALUES (NULL);

CREATE TABLE insight_cells (
    period_kind TEXT NOT NULL CHECK (period_kind IN ('week', 'month')),
    breakdown TEXT NOT NULL CHECK (breakdown IN ('clinic', 'team', 'instrument', 'clinician')),
    period_start DATE NOT NULL,
    group_id BIGINT NOT NULL,
    invitations_sent BIGINT NOT NULL,
    invitation_clients BIGINT NOT NULL,
    invitations_closed BIGINT NOT NULL,
    invitations_answered BIGINT NOT NULL,
    closed_clients BIGINT NOT NULL,
    scored BIGINT NOT NULL,
    scored_clients BIGINT NOT NULL,
    total_sum DOUBLE PRECISION NOT NULL,
    common_sum DOUBLE PRECISION NOT NULL,
    -- The one instrument every scored answer used; NULL when mixed or none.
    native_instrument_id BIGINT,
    cutoff_scored BIGINT NOT NULL,
    low_scores BIGINT NOT NULL,
    cutoff_clients BIGINT NOT NULL,
    sessions BIGINT NOT NULL,
    session_clients BIGINT NOT NULL,
    alerts BIGINT NOT NULL,
    alert_clients BIGINT NOT NULL,
    recovered BIGINT NOT NULL,
    acknowledged BIGINT NOT NULL,
    acknowledged_clients BIGINT NOT NULL,
    median_hours_to_acknowledge DOUBLE PRECISION,
    with_outcome BIGINT NOT NULL,
    repaired BIGINT NOT NULL,
    outcome_clients BIGINT NOT NULL,
    PRIMARY KEY (period_kind, breakdown, period_start, group_id)
);

CREATE TABLE insight_rule_cells (
    period_kind TEXT NOT NULL CHECK (period_kind IN ('week', 'month')),
    breakdown TEXT NOT NULL CHECK (breakdown IN ('clinic', 'team', 'instrument', 'clinician')),
    period_start DATE NOT NULL,
    group_id BIGINT NOT NULL,
    rule TEXT NOT NULL,
    alerts BIGINT NOT NULL,
    alert_clients BIGINT NOT NULL,
    with_outcome BIGINT NOT NULL,
    not_a_rupture BIGINT NOT NULL,
    outcome_clients BIGINT NOT NULL,
    PRIMARY KEY (period_kind, breakdown, period_start, group_id, rule)
);

-- Recomputing a period reads its rows by these times.
CREATE INDEX insight_appointments_starts ON appointments (starts_at, status);
CREATE INDEX insight_invitations_sent ON invitations (sent_at);
CREATE INDEX insight_responses_submitted ON responses (submitted_at);
CREATE INDEX insight_alerts_opened ON alerts (opened_at);
CREATE INDEX insight_alert_events_kind ON alert_events (alert_id, kind, created_at);
-- The page's caseload per clinician counts current clients only.
CREATE INDEX insight_clients_active ON clients (clinician_id) WHERE erased_at IS NULL;

-- Appointments: sessions by start; a change of clinician also moves the
-- invitation and the answer that hang off the appointment.
CREATE TRIGGER insight_appointments_insert AFTER INSERT ON appointments BEGIN
    INSERT INTO insight_dirty (at) VALUES (NEW.starts_at);
END;

CREATE TRIGGER insight_appointments_update
AFTER UPDATE OF starts_at, status, clinician_id, client_id ON appointments BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.starts_at);
    INSERT INTO insight_dirty (at) SELECT NEW.starts_at WHERE NEW.starts_at <> OLD.starts_at;
    INSERT INTO insight_dirty (at)
        SELECT sent_at FROM invitations WHERE appointment_id = NEW.id AND sent_at IS NOT NULL;
    INSERT INTO insight_dirty (at)
        SELECT r.submitted_at FROM responses r JOIN invitations i ON i.id = r.invitation_id
        WHERE i.appointment_id = NEW.id;
END;

CREATE TRIGGER insight_appointments_delete AFTER DELETE ON appointments BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.starts_at);
END;

-- Invitations: counted by the time they were sent; the session they belong
-- to takes its instrument from them.
CREATE TRIGGER insight_invitations_insert AFTER INSERT ON invitations BEGIN
    INSERT INTO insight_dirty (at) SELECT NEW.sent_at WHERE NEW.sent_at IS NOT NULL;
    INSERT INTO insight_dirty (at) SELECT starts_at FROM appointments WHERE id = NEW.appointment_id;
END;

CREATE TRIGGER insight_invitations_update
AFTER UPDATE OF status, sent_at, instrument_id, appointment_id, client_id ON invitations BEGIN
    INSERT INTO insight_dirty (at) SELECT OLD.sent_at WHERE OLD.sent_at IS NOT NULL;
    INSERT INTO insight_dirty (at)
        SELECT NEW.sent_at WHERE NEW.sent_at IS NOT NULL AND NEW.sent_at IS NOT OLD.sent_at;
    INSERT INTO insight_dirty (at)
        SELECT starts_at FROM appointments
        WHERE id IN (OLD.appointment_id, NEW.appointment_id)
          AND (OLD.instrument_id <> NEW.instrument_id OR OLD.appointment_id <> NEW.appointment_id);
END;

CREATE TRIGGER insight_invitations_delete AFTER DELETE ON invitations BEGIN
    INSERT INTO insight_dirty (at) SELECT OLD.sent_at WHERE OLD.sent_at IS NOT NULL;
    INSERT INTO insight_dirty (at) SELECT starts_at FROM appointments WHERE id = OLD.appointment_id;
END;

-- Answers: by the time they were submitted.
CREATE TRIGGER insight_responses_insert AFTER INSERT ON responses BEGIN
    INSERT INTO insight_dirty (at) VALUES (NEW.submitted_at);
END;

CREATE TRIGGER insight_responses_update
AFTER UPDATE OF submitted_at, total, common_score, instrument_id, client_id, invitation_id ON responses BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.submitted_at);
    INSERT INTO insight_dirty (at) SELECT NEW.submitted_at WHERE NEW.submitted_at <> OLD.submitted_at;
END;

CREATE TRIGGER insight_responses_delete AFTER DELETE ON responses BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.submitted_at);
END;

-- Alerts, their signals and their repair log: by the time the alert opened.
CREATE TRIGGER insight_alerts_insert AFTER INSERT ON alerts BEGIN
    INSERT INTO insight_dirty (at) VALUES (NEW.opened_at);
END;

CREATE TRIGGER insight_alerts_update
AFTER UPDATE OF opened_at, status, outcome, recovered_at_session, clinician_id, client_id ON alerts BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.opened_at);
    INSERT INTO insight_dirty (at) SELECT NEW.opened_at WHERE NEW.opened_at <> OLD.opened_at;
END;

CREATE TRIGGER insight_alerts_delete AFTER DELETE ON alerts BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.opened_at);
END;

CREATE TRIGGER insight_alert_signals_insert AFTER INSERT ON alert_signals BEGIN
    INSERT INTO insight_dirty (at) SELECT opened_at FROM alerts WHERE id = NEW.alert_id;
END;

CREATE TRIGGER insight_alert_signals_delete AFTER DELETE ON alert_signals BEGIN
    INSERT INTO insight_dirty (at) SELECT opened_at FROM alerts WHERE id = OLD.alert_id;
END;

CREATE TRIGGER insight_alert_events_insert AFTER INSERT ON alert_events BEGIN
    INSERT INTO insight_dirty (at) SELECT opened_at FROM alerts WHERE id = NEW.alert_id;
END;

CREATE TRIGGER insight_alert_events_delete AFTER DELETE ON alert_events BEGIN
    INSERT INTO insight_dirty (at) SELECT opened_at FROM alerts WHERE id = OLD.alert_id;
END;

-- A clinician moving team changes every team figure they contributed to.
CREATE TRIGGER insight_staff_team AFTER UPDATE OF team_id ON staff
WHEN OLD.team_id IS NOT NEW.team_id BEGIN
    INSERT INTO insight_dirty (at) VALUES (NULL);
END;
