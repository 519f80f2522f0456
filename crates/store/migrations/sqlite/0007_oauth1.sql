-- OAuth 1.0a (SPEC §8, RFC 5849). Consumer and token secrets sign requests, so the server must
-- use them: they are stored sealed (XChaCha20-Poly1305 under their own subkey, bound to their
-- record, with the key version that sealed them), never in clear. Token keys and verifiers are
-- stored as keyed hashes. A consumer's key is public (it travels in every request).
CREATE TABLE oauth1_consumers (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    consumer_key   TEXT    NOT NULL UNIQUE,
    secret_sealed  TEXT    NOT NULL,
    secret_version BIGINT  NOT NULL,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    callback       TEXT,
    owner_id       BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX oauth1_consumers_owner ON oauth1_consumers(owner_id);

-- Request (temporary) and access tokens. A request token is approved once (user_id and
-- verifier_hash set by one conditional UPDATE) and exchanged once (used_at, likewise).
CREATE TABLE oauth1_tokens (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    hash           TEXT    NOT NULL UNIQUE,
    key_version    BIGINT  NOT NULL,
    secret_sealed  TEXT    NOT NULL,
    secret_version BIGINT  NOT NULL,
    kind           TEXT    NOT NULL,
    consumer_id    BIGINT  NOT NULL REFERENCES oauth1_consumers(id) ON DELETE CASCADE,
    user_id        BIGINT  REFERENCES users(id) ON DELETE CASCADE,
    callback       TEXT,
    verifier_hash  TEXT,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT,
    authorized_at  BIGINT,
    used_at        BIGINT,
    revoked_at     BIGINT,
    last_used_at   BIGINT,
    last_ip        TEXT
);
CREATE INDEX oauth1_tokens_user ON oauth1_tokens(user_id);
CREATE INDEX oauth1_tokens_consumer ON oauth1_tokens(consumer_id);

-- Nonces seen, per (consumer, token, timestamp), kept until timestamp + 600 s: one
-- INSERT … ON CONFLICT DO NOTHING decides, so a replay is refused across instances.
CREATE TABLE oauth1_nonces (
    consumer_id BIGINT NOT NULL,
    token       TEXT   NOT NULL,
    ts          BIGINT NOT NULL,
    nonce       TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (consumer_id, token, ts, nonce)
);
CREATE INDEX oauth1_nonces_expiry ON oauth1_nonces(expires_at);
