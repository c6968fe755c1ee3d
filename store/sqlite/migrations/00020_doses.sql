-- +goose Up
-- doses: every vaccine dose given, one row per (beneficiary, dose number).
-- Booking reads it for eligibility (beneficiary_ref, number, vaccine, date);
-- the issuer writes it together with a pending certificate.
CREATE TABLE doses (
    id              TEXT PRIMARY KEY,
    beneficiary_ref TEXT NOT NULL,
    number          INTEGER NOT NULL CHECK (number >= 1),
    vaccine         TEXT NOT NULL,            -- vaccine catalog code, e.g. COVISHIELD
    date            TEXT NOT NULL,            -- the day the dose was given, YYYY-MM-DD
    lot             TEXT NOT NULL,
    centre_id       TEXT NOT NULL,
    performer       TEXT NOT NULL,            -- who gave it, as printed (the centre's name)
    recorded_by     TEXT NOT NULL,            -- audit actor: user:<id>, cli:<user>
    recorded_at     INTEGER NOT NULL,         -- unix microseconds
    UNIQUE (beneficiary_ref, number)
);

-- +goose Down
DROP TABLE doses;
