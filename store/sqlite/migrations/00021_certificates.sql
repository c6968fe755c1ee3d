-- +goose Up
-- What the certificate documents print about the dose's place.
ALTER TABLE doses ADD COLUMN district TEXT NOT NULL DEFAULT '';
ALTER TABLE doses ADD COLUMN state TEXT NOT NULL DEFAULT '';

-- certificates: every SMART Health Card issued, or being issued. A row is
-- stored 'pending' with the exact payload to sign (without its rid, which
-- depends on the signing key) before anything is signed, and becomes
-- 'issued' by one compare-and-set once the card is signed and verified.
CREATE TABLE certificates (
    id              TEXT PRIMARY KEY,
    beneficiary_ref TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'issued')),
    course          TEXT NOT NULL,               -- provisional | final | precaution
    dose_count      INTEGER NOT NULL,
    reason          TEXT NOT NULL,               -- dose | correction | reissue
    dose_id         TEXT NOT NULL DEFAULT '',
    payload         TEXT NOT NULL,               -- minified SHC payload, rid left out
    details         TEXT NOT NULL,               -- JSON: what the documents print
    nbf             INTEGER NOT NULL,            -- seconds; increases per beneficiary
    kid             TEXT NOT NULL DEFAULT '',
    rid             TEXT NOT NULL DEFAULT '',
    jws             TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,            -- unix microseconds
    issued_at       INTEGER,
    revoked_at      INTEGER,
    revoke_reason   TEXT NOT NULL DEFAULT '',
    UNIQUE (beneficiary_ref, nbf)
);
CREATE INDEX certificates_pending ON certificates (created_at) WHERE status = 'pending';
CREATE INDEX certificates_created ON certificates (created_at);

-- idempotency_keys: a retried request with the same key gets the first
-- answer (the dose and certificate it made).
CREATE TABLE idempotency_keys (
    scope          TEXT NOT NULL,
    key            TEXT NOT NULL,
    request_hash   TEXT NOT NULL,
    dose_id        TEXT NOT NULL,
    certificate_id TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- revocations: the CRL entries "rid.cutoff" of each key.
CREATE TABLE revocations (
    kid        TEXT NOT NULL,
    rid        TEXT NOT NULL,
    cutoff     INTEGER NOT NULL,                 -- cards with an earlier nbf are revoked
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kid, rid)
);

-- crl_versions: each key's CRL counter (ctr, and the JWK's crlVersion). A
-- key without a row has an empty CRL at ctr 1.
CREATE TABLE crl_versions (
    kid TEXT PRIMARY KEY,
    ctr INTEGER NOT NULL
);

-- +goose Down
DROP TABLE crl_versions;
DROP TABLE revocations;
DROP TABLE idempotency_keys;
DROP TABLE certificates;
ALTER TABLE doses DROP COLUMN state;
ALTER TABLE doses DROP COLUMN district;
