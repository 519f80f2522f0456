-- Revocation notification (SPEC §11): one counter that every change able to end or alter a
-- cached credential, user, role or site moves, so every instance sees it by polling one row
-- (and is woken by NOTIFY). Kept by triggers, so no write path can forget
-- it. Uses of a credential (last_used_at, last_ip, last_seen_at) and flash messages do not move
-- it; neither do new credentials (a miss is never cached) or refresh-token rotation.
CREATE TABLE change_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT  NOT NULL
);
INSERT INTO change_epoch (id, n) VALUES (1, 0);

-- PostgreSQL: the counter moves in a constraint trigger deferred to commit, so the counter's
-- row lock is always the last lock a transaction takes (two revoking transactions cannot
-- deadlock over it), and NOTIFY wakes every listening instance when the change commits.
CREATE FUNCTION gatehouse_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_epoch SET n = n + 1 WHERE id = 1;
    PERFORM pg_notify('gatehouse_changes', '');
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER users_changed_u AFTER UPDATE ON users
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER users_changed_d AFTER DELETE ON users
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER sites_changed_i AFTER INSERT ON sites
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER sites_changed_u AFTER UPDATE ON sites
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER sites_changed_d AFTER DELETE ON sites
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER memberships_changed_i AFTER INSERT ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER memberships_changed_u AFTER UPDATE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER memberships_changed_d AFTER DELETE ON memberships
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER api_keys_changed_u AFTER UPDATE OF kind, user_id, site_id, created_by, description, scopes, methods, expires_at, hash, key_version, revoked_at ON api_keys
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER api_keys_changed_d AFTER DELETE ON api_keys
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER app_passwords_changed_u AFTER UPDATE OF uuid, user_id, app_id, name, hash, key_version ON app_passwords
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER app_passwords_changed_d AFTER DELETE ON app_passwords
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER sessions_changed_u AFTER UPDATE OF hash, user_id, expires_at, revoked_at ON sessions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER sessions_changed_d AFTER DELETE ON sessions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER oauth2_clients_changed_u AFTER UPDATE ON oauth2_clients
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER oauth2_clients_changed_d AFTER DELETE ON oauth2_clients
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER oauth2_grants_changed_u AFTER UPDATE OF client_id, user_id, site_id, scope, flow, expires_at, revoked_at ON oauth2_grants
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER oauth2_grants_changed_d AFTER DELETE ON oauth2_grants
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER oauth2_tokens_changed_u AFTER UPDATE OF hash, key_version, kind, grant_id, scope, expires_at, revoked_at, rotated_at ON oauth2_tokens
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.kind = 'access' OR NEW.kind = 'access')
    EXECUTE FUNCTION gatehouse_changed();

CREATE CONSTRAINT TRIGGER oauth2_tokens_changed_d AFTER DELETE ON oauth2_tokens
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.kind = 'access')
    EXECUTE FUNCTION gatehouse_changed();
