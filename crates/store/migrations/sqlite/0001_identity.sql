-- Users, their login identifiers, sites, roles, posts, comments, throttle counters, audit log.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    display_name  TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    network_admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL
);

-- Logins and emails share one case-insensitive namespace (SPEC §1): either logs in.
CREATE TABLE user_identifiers (
    ident   TEXT    NOT NULL PRIMARY KEY,
    kind    TEXT    NOT NULL,
    user_id BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE
);
CREATE INDEX user_identifiers_user ON user_identifiers(user_id);

CREATE TABLE sites (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    host         TEXT    NOT NULL UNIQUE,
    require_auth BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id     BIGINT  NOT NULL REFERENCES users(id),
    created_at   BIGINT  NOT NULL
);

CREATE TABLE memberships (
    site_id BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role    TEXT   NOT NULL,
    PRIMARY KEY (site_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id       BIGINT  NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    author_id     BIGINT  NOT NULL REFERENCES users(id),
    title         TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    excerpt       TEXT    NOT NULL,
    slug          TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    comments_open BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    BIGINT  NOT NULL,
    modified_at   BIGINT  NOT NULL
);
CREATE INDEX posts_site_status ON posts(site_id, status, created_at);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id     BIGINT  NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    post_id     BIGINT  NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    parent      BIGINT  NOT NULL DEFAULT 0,
    author_id   BIGINT  REFERENCES users(id),
    author_name TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX comments_site_post ON comments(site_id, post_id, status);

CREATE TABLE throttle (
    key           TEXT   NOT NULL PRIMARY KEY,
    failures      BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      BIGINT NOT NULL,
    event   TEXT   NOT NULL,
    user_id BIGINT,
    login   TEXT,
    address TEXT,
    detail  TEXT   NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
