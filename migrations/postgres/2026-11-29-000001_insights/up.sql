-- Manager insights (PostgreSQL). Keep in step with migrations/sqlite.
--
-- The trends dashboard reads pre-aggregated cells: one row per period (a
-- week or a month in the clinic's time zone), breakdown and group. Cells are
-- recomputed a whole period at a time, because distinct-client counts (used
-- to suppress small cells) cannot be added up from smaller pieces.
--
-- Which periods need recomputing is recorded here by triggers, in the same
-- transaction as the change: each trigger notes the instants (UTC) that
-- place the changed row in a period. The application maps instants to
-- periods in the clinic's time zone. A NULL instant means "recompute
-- everything" (a clinician moved team, or this migration ran over existing
-- data). Inserts and deletes are noted once per statement, so bulk loads
-- stay fast.

CREATE TABLE insight_dirty (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE FUNCTION insight_appointments_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) SELECT DISTINCT starts_at FROM new_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_appointments_insert AFTER INSERT ON appointments
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_appointments_inserted();

CREATE FUNCTION insight_appointments_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) SELECT DISTINCT starts_at FROM old_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_appointments_delete AFTER DELETE ON appointments
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_appointments_deleted();

CREATE FUNCTION insight_appointments_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.starts_at);
    IF NEW.starts_at <> OLD.starts_at THEN
        INSERT INTO insight_dirty (at) VALUES (NEW.starts_at);
    END IF;
    INSERT INTO insight_dirty (at)
        SELECT sent_at FROM invitations WHERE appointment_id = NEW.id AND sent_at IS NOT NULL;
    INSERT INTO insight_dirty (at)
        SELECT r.submitted_at FROM responses r JOIN invitations i ON i.id = r.invitation_id
        WHERE i.appointment_id = NEW.id;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_appointments_update
AFTER UPDATE OF starts_at, status, clinician_id, client_id ON appointments
FOR EACH ROW EXECUTE FUNCTION insight_appointments_updated();

-- Invitations: counted by the time they were sent; the session they belong
-- to takes its instrument from them.
CREATE FUNCTION insight_invitations_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at)
        SELECT DISTINCT sent_at FROM new_rows WHERE sent_at IS NOT NULL
        UNION
        SELECT DISTINCT a.starts_at FROM new_rows n JOIN appointments a ON a.id = n.appointment_id;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_invitations_insert AFTER INSERT ON invitations
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_invitations_inserted();

CREATE FUNCTION insight_invitations_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at)
        SELECT DISTINCT sent_at FROM old_rows WHERE sent_at IS NOT NULL
        UNION
        SELECT DISTINCT a.starts_at FROM old_rows o JOIN appointments a ON a.id = o.appointment_id;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_invitations_delete AFTER DELETE ON invitations
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_invitations_deleted();

CREATE FUNCTION insight_invitations_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.sent_at IS NOT NULL THEN
        INSERT INTO insight_dirty (at) VALUES (OLD.sent_at);
    END IF;
    IF NEW.sent_at IS NOT NULL AND NEW.sent_at IS DISTINCT FROM OLD.sent_at THEN
        INSERT INTO insight_dirty (at) VALUES (NEW.sent_at);
    END IF;
    IF OLD.instrument_id <> NEW.instrument_id OR OLD.appointment_id <> NEW.appointment_id THEN
        INSERT INTO insight_dirty (at)
            SELECT starts_at FROM appointments WHERE id IN (OLD.appointment_id, NEW.appointment_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_invitations_update
AFTER UPDATE OF status, sent_at, instrument_id, appointment_id, client_id ON invitations
FOR EACH ROW EXECUTE FUNCTION insight_invitations_updated();

-- Answers: by the time they were submitted.
CREATE FUNCTION insight_responses_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) SELECT DISTINCT submitted_at FROM new_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_responses_insert AFTER INSERT ON responses
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_responses_inserted();

CREATE FUNCTION insight_responses_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) SELECT DISTINCT submitted_at FROM old_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_responses_delete AFTER DELETE ON responses
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_responses_deleted();

CREATE FUNCTION insight_responses_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.submitted_at);
    IF NEW.submitted_at <> OLD.submitted_at THEN
        INSERT INTO insight_dirty (at) VALUES (NEW.submitted_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_responses_update
AFTER UPDATE OF submitted_at, total, common_score, instrument_id, client_id, invitation_id ON responses
FOR EACH ROW EXECUTE FUNCTION insight_responses_updated();

-- Alerts, their signals and their repair log: by the time the alert opened.
CREATE FUNCTION insight_alerts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) SELECT DISTINCT opened_at FROM new_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_alerts_insert AFTER INSERT ON alerts
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_alerts_inserted();

CREATE FUNCTION insight_alerts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) SELECT DISTINCT opened_at FROM old_rows;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_alerts_delete AFTER DELETE ON alerts
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_alerts_deleted();

CREATE FUNCTION insight_alerts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) VALUES (OLD.opened_at);
    IF NEW.opened_at <> OLD.opened_at THEN
        INSERT INTO insight_dirty (at) VALUES (NEW.opened_at);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_alerts_update
AFTER UPDATE OF opened_at, status, outcome, recovered_at_session, clinician_id, client_id ON alerts
FOR EACH ROW EXECUTE FUNCTION insight_alerts_updated();

CREATE FUNCTION insight_alert_children_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at)
        SELECT DISTINCT a.opened_at FROM new_rows n JOIN alerts a ON a.id = n.alert_id;
    RETURN NULL;
END $$;

CREATE FUNCTION insight_alert_children_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at)
        SELECT DISTINCT a.opened_at FROM old_rows o JOIN alerts a ON a.id = o.alert_id;
    RETURN NULL;
END $$;

CREATE TRIGGER insight_alert_signals_insert AFTER INSERT ON alert_signals
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_alert_children_inserted();

CREATE TRIGGER insight_alert_signals_delete AFTER DELETE ON alert_signals
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_alert_children_deleted();

CREATE TRIGGER insight_alert_events_insert AFTER INSERT ON alert_events
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_alert_children_inserted();

CREATE TRIGGER insight_alert_events_delete AFTER DELETE ON alert_events
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION insight_alert_children_deleted();

-- A clinician moving team changes every team figure they contributed to.
CREATE FUNCTION insight_staff_team_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO insight_dirty (at) VALUES (NULL);
    RETURN NULL;
END $$;

CREATE TRIGGER insight_staff_team AFTER UPDATE OF team_id ON staff
FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION insight_staff_team_changed();
