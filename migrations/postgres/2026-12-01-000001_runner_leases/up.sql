-- Which job runner holds a claimed message, so a restarted runner can take
-- back at once what a dead one on the same host had claimed.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
