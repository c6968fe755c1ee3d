-- +goose Up
-- beneficiaries: people registered under an account (at most four). The ID
-- number is never stored in clear: id_hash (HMAC) finds duplicates, id_masked
-- is shown, id_sealed (AES-GCM under a server secret) is opened only for the
-- owner or a travel certificate.
CREATE TABLE beneficiaries (
    ref_id      TEXT PRIMARY KEY CHECK (length(ref_id) = 14),
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    gender      TEXT NOT NULL CHECK (gender IN ('male', 'female', 'other')),
    birth_date  TEXT NOT NULL,              -- YYYY-MM-DD
    id_type     TEXT NOT NULL,
    id_hash     TEXT NOT NULL UNIQUE,
    id_masked   TEXT NOT NULL,
    id_sealed   BLOB NOT NULL,
    corrections INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL            -- unix microseconds
);
CREATE INDEX beneficiaries_account ON beneficiaries (account_id);

-- +goose Down
DROP TABLE beneficiaries;
