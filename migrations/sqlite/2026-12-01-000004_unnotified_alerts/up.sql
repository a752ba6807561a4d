-- The alerts a clinician has not been told about at their present severity
-- (looked up on every answer): few, however many open alerts they hold.
CREATE INDEX alerts_unnotified ON alerts (clinician_id) WHERE notified_severity IS NULL OR notified_severity <> severity;
