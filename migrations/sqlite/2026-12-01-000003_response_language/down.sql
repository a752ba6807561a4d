ALTER TABLE responses DROP COLUMN language;
