-- Revocation notification (SPEC §11): one counter that every change able to end or alter a
-- cached credential, user, role or site moves, so every instance (and a server sharing this
-- file with the CLI) sees it by polling one row. Kept by triggers, so no write path can forget
-- it. Uses of a credential (last_used_at, last_ip, last_seen_at) and flash messages do not move
-- it; neither do new credentials (a miss is never cached) or refresh-token rotation.
CREATE TABLE change_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT  NOT NULL
);
INSERT INTO change_epoch (id, n) VALUES (1, 0);

CREATE TRIGGER users_changed_u AFTER UPDATE ON users
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER users_changed_d AFTER DELETE ON users
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER sites_changed_i AFTER INSERT ON sites
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER sites_changed_u AFTER UPDATE ON sites
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER sites_changed_d AFTER DELETE ON sites
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER memberships_changed_i AFTER INSERT ON memberships
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER memberships_changed_u AFTER UPDATE ON memberships
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER memberships_changed_d AFTER DELETE ON memberships
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER api_keys_changed_u AFTER UPDATE OF
    kind, user_id, site_id, created_by, description, scopes, methods, expires_at, hash,
    key_version, revoked_at ON api_keys
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER api_keys_changed_d AFTER DELETE ON api_keys
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER app_passwords_changed_u AFTER UPDATE OF
    uuid, user_id, app_id, name, hash, key_version ON app_passwords
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER app_passwords_changed_d AFTER DELETE ON app_passwords
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER sessions_changed_u AFTER UPDATE OF
    hash, user_id, expires_at, revoked_at ON sessions
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER sessions_changed_d AFTER DELETE ON sessions
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER oauth2_clients_changed_u AFTER UPDATE ON oauth2_clients
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER oauth2_clients_changed_d AFTER DELETE ON oauth2_clients
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER oauth2_grants_changed_u AFTER UPDATE OF
    client_id, user_id, site_id, scope, flow, expires_at, revoked_at ON oauth2_grants
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER oauth2_grants_changed_d AFTER DELETE ON oauth2_grants
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;

-- Only access tokens are cached; a refresh token's rotation is single-use state, never cached.
CREATE TRIGGER oauth2_tokens_changed_u AFTER UPDATE OF
    hash, key_version, kind, grant_id, scope, expires_at, revoked_at, rotated_at ON oauth2_tokens
    WHEN OLD.kind = 'access' OR NEW.kind = 'access'
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER oauth2_tokens_changed_d AFTER DELETE ON oauth2_tokens
    WHEN OLD.kind = 'access'
BEGIN UPDATE change_epoch SET n = n + 1 WHERE id = 1; END;
