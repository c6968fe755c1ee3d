-- +goose Up
CREATE TABLE states (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE districts (
    id       INTEGER PRIMARY KEY,
    state_id INTEGER NOT NULL REFERENCES states (id),
    name     TEXT NOT NULL
);
CREATE INDEX districts_state ON districts (state_id);

CREATE TABLE centres (
    id          TEXT PRIMARY KEY,            -- decimal digits (Co-WIN center_id)
    name        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    block       TEXT NOT NULL DEFAULT '',
    pincode     TEXT NOT NULL,
    district_id INTEGER NOT NULL REFERENCES districts (id),
    lat         REAL NOT NULL DEFAULT 0,
    lng         REAL NOT NULL DEFAULT 0,
    fee_type    TEXT NOT NULL DEFAULT 'Free' CHECK (fee_type IN ('Free', 'Paid')),
    open_from   TEXT NOT NULL DEFAULT '09:00',
    open_to     TEXT NOT NULL DEFAULT '17:00'
);
CREATE INDEX centres_pincode ON centres (pincode);
CREATE INDEX centres_district ON centres (district_id);

-- sessions: capacity is kept per kind of dose; avail_* are what is left and
-- are only ever changed by one conditional UPDATE (never below zero).
CREATE TABLE sessions (
    id               TEXT PRIMARY KEY,
    centre_id        TEXT NOT NULL REFERENCES centres (id),
    date             TEXT NOT NULL,          -- YYYY-MM-DD
    vaccine          TEXT NOT NULL,
    min_age          INTEGER NOT NULL,
    max_age          INTEGER NOT NULL DEFAULT 0,
    fee              INTEGER NOT NULL DEFAULT 0,
    slots            TEXT NOT NULL,          -- JSON array
    cap_dose1        INTEGER NOT NULL CHECK (cap_dose1 >= 0),
    cap_dose2        INTEGER NOT NULL CHECK (cap_dose2 >= 0),
    cap_precaution   INTEGER NOT NULL CHECK (cap_precaution >= 0),
    avail_dose1      INTEGER NOT NULL CHECK (avail_dose1 BETWEEN 0 AND cap_dose1),
    avail_dose2      INTEGER NOT NULL CHECK (avail_dose2 BETWEEN 0 AND cap_dose2),
    avail_precaution INTEGER NOT NULL CHECK (avail_precaution BETWEEN 0 AND cap_precaution)
);
CREATE INDEX sessions_centre_date ON sessions (centre_id, date);
CREATE INDEX sessions_date ON sessions (date);

-- appointments: status booked -> cancelled (by the citizen) or completed (by
-- the issuer when the dose is recorded). One open appointment per beneficiary.
CREATE TABLE appointments (
    id              TEXT PRIMARY KEY,
    beneficiary_ref TEXT NOT NULL REFERENCES beneficiaries (ref_id),
    session_id      TEXT NOT NULL REFERENCES sessions (id),
    dose_number     INTEGER NOT NULL CHECK (dose_number >= 1),
    bucket          TEXT NOT NULL CHECK (bucket IN ('dose1', 'dose2', 'precaution')),
    slot            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed')),
    created_at      INTEGER NOT NULL,        -- unix microseconds
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX appointments_one_open ON appointments (beneficiary_ref) WHERE status = 'booked';
CREATE INDEX appointments_beneficiary ON appointments (beneficiary_ref);
CREATE INDEX appointments_session ON appointments (session_id);

-- +goose Down
DROP TABLE appointments;
DROP TABLE sessions;
DROP TABLE centres;
DROP TABLE districts;
DROP TABLE states;
