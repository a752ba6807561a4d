-- Bumped when a member of staff signs out, changes or is given a new
-- password, or is deactivated: every session cookie issued before stops
-- working at once, wherever it was copied.
ALTER TABLE staff ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0;
-- Sign-in attempts are limited per client address as well as per account.
ALTER TABLE sign_in_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX sign_in_failures_address_at ON sign_in_failures (address, at);
