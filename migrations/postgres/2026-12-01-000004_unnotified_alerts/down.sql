DROP INDEX alerts_unnotified;
