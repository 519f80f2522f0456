-- The server key's fingerprint per version, API keys and application passwords.
-- Secrets are stored only as HMAC-SHA256 under a purpose subkey (hash), never in clear.
CREATE TABLE server_keys (
    version     BIGINT NOT NULL PRIMARY KEY,
    fingerprint TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    user_id      BIGINT  REFERENCES users(id) ON DELETE CASCADE,
    site_id      BIGINT  REFERENCES sites(id) ON DELETE CASCADE,
    created_by   BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    description  TEXT    NOT NULL,
    scopes       TEXT,
    methods      TEXT,
    expires_at   BIGINT,
    hash         TEXT    NOT NULL UNIQUE,
    key_version  BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    last_ip      TEXT
);
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE INDEX api_keys_created_by ON api_keys(created_by);

CREATE TABLE app_passwords (
    uuid         TEXT   NOT NULL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    app_id       TEXT   NOT NULL,
    name         TEXT   NOT NULL,
    hash         TEXT   NOT NULL UNIQUE,
    key_version  BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    last_ip      TEXT,
    UNIQUE (user_id, name)
);
