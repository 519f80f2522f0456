-- Account-password checks counted while in flight (SPEC §11: counted things are decided by one
-- atomic statement in the database): an attempt takes a place in its pair's budget before its
-- Argon2id check and gives it back when settled, so a burst of parallel guesses cannot all pass a
-- budget read before any failure is written. `pending_until` lets the places of an instance that
-- died mid-check lapse.
ALTER TABLE throttle ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE throttle ADD COLUMN pending_until BIGINT NOT NULL DEFAULT 0;
