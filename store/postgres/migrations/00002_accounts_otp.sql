-- +goose Up
-- accounts: one per mobile number. Citizens get one at their first login;
-- vaccinators and admins are made with `vaxcert users add`.
CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    mobile     TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('citizen', 'vaccinator', 'admin')),
    centres    TEXT[] NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL
);

-- otp_txns: OTPs sent. Only an HMAC of each OTP is kept (mac); rate_key and
-- client_key are what the per-mobile and per-client caps count.
CREATE TABLE otp_txns (
    id         TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('login', 'beneficiary')),
    mobile     TEXT NOT NULL DEFAULT '',
    rate_key   TEXT NOT NULL,
    client_key TEXT NOT NULL DEFAULT '',
    subject    TEXT NOT NULL DEFAULT '',
    mac        BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    TIMESTAMPTZ
);
CREATE INDEX otp_txns_rate ON otp_txns (rate_key, created_at);
CREATE INDEX otp_txns_client ON otp_txns (client_key, created_at);
CREATE INDEX otp_txns_created ON otp_txns (created_at);

-- +goose Down
DROP TABLE otp_txns;
DROP TABLE accounts;
