DROP INDEX sign_in_failures_address_at;
ALTER TABLE sign_in_failures DROP COLUMN address;
ALTER TABLE staff DROP COLUMN session_generation;
