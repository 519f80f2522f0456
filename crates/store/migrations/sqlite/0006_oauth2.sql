-- OAuth 2.0 (SPEC §3). A client's public id is its row id. Secrets (client secrets, codes, access
-- and refresh tokens) are stored only as HMAC-SHA256 under a purpose subkey, never in clear.
CREATE TABLE oauth2_clients (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    owner_id       BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    confidential   BOOLEAN NOT NULL,
    secret_hash    TEXT    UNIQUE,
    secret_version BIGINT,
    -- Registered redirect URIs, one per line, as registered (matched as parsed URLs).
    redirect_uris  TEXT    NOT NULL,
    -- Granted grant types, space-separated.
    grants         TEXT    NOT NULL,
    -- Access-token lifetime in seconds; 0 = until revoked (no refresh token).
    access_ttl     BIGINT  NOT NULL,
    -- A resource server that may introspect any client's tokens.
    introspect_any BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX oauth2_clients_owner ON oauth2_clients(owner_id);

-- One authorization: what a user (or, for client_credentials, the client's owner) allowed a
-- client — scope and site — and the family of tokens issued under it. Revoking it ends them all.
CREATE TABLE oauth2_grants (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id    BIGINT NOT NULL REFERENCES oauth2_clients(id) ON DELETE CASCADE,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id      BIGINT REFERENCES sites(id) ON DELETE CASCADE,
    scope        TEXT   NOT NULL,
    -- How it was granted: authorization_code, implicit, password, client_credentials.
    flow         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    -- The family ends here whatever is refreshed (a year after it began).
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT,
    last_ip      TEXT
);
CREATE INDEX oauth2_grants_user ON oauth2_grants(user_id);
CREATE INDEX oauth2_grants_client ON oauth2_grants(client_id);

-- Authorization codes: single use (used_at set by one conditional UPDATE), short-lived.
CREATE TABLE oauth2_codes (
    hash           TEXT   NOT NULL PRIMARY KEY,
    key_version    BIGINT NOT NULL,
    client_id      BIGINT NOT NULL REFERENCES oauth2_clients(id) ON DELETE CASCADE,
    user_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    site_id        BIGINT REFERENCES sites(id) ON DELETE CASCADE,
    scope          TEXT   NOT NULL,
    redirect_uri   TEXT,
    code_challenge TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT,
    -- The grant the code was redeemed for: a second use revokes it.
    grant_id       BIGINT REFERENCES oauth2_grants(id) ON DELETE CASCADE,
    -- When a second use was seen: the grant is revoked as soon as it is recorded.
    replayed_at    BIGINT
);

-- Access and refresh tokens. A refresh token is rotated by one conditional UPDATE (rotated_at).
CREATE TABLE oauth2_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hash        TEXT   NOT NULL UNIQUE,
    key_version BIGINT NOT NULL,
    kind        TEXT   NOT NULL,
    grant_id    BIGINT NOT NULL REFERENCES oauth2_grants(id) ON DELETE CASCADE,
    scope       TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT,
    rotated_at  BIGINT
);
CREATE INDEX oauth2_tokens_grant ON oauth2_tokens(grant_id);
