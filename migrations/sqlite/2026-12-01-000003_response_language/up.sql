-- The language the client answered in (a translation may be unvalidated).
ALTER TABLE responses ADD COLUMN language TEXT;
