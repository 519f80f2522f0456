-- Content changes (posts, comments) move a second counter on the same row, so an instance can
-- keep list answers (SPEC §11: answers kept in memory) and drop them when the content they
-- were made from changes, without dropping its credentials, sites and roles each time a post
-- is written. Kept by triggers deferred to commit and announced by NOTIFY, like `n`
-- (migration 0008).
ALTER TABLE change_epoch ADD COLUMN content BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION gatehouse_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE change_epoch SET content = content + 1 WHERE id = 1;
    PERFORM pg_notify('gatehouse_changes', '');
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER posts_content_i AFTER INSERT ON posts
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_content_changed();

CREATE CONSTRAINT TRIGGER posts_content_u AFTER UPDATE ON posts
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_content_changed();

CREATE CONSTRAINT TRIGGER posts_content_d AFTER DELETE ON posts
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_content_changed();

CREATE CONSTRAINT TRIGGER comments_content_i AFTER INSERT ON comments
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_content_changed();

CREATE CONSTRAINT TRIGGER comments_content_u AFTER UPDATE ON comments
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_content_changed();

CREATE CONSTRAINT TRIGGER comments_content_d AFTER DELETE ON comments
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION gatehouse_content_changed();
