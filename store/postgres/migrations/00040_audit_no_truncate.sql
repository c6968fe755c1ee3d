-- +goose Up
-- The row trigger of 00001 does not fire on TRUNCATE: refuse it too, so the
-- append-only log cannot be emptied in one statement.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TRIGGER audit_log_no_truncate ON audit_log;
