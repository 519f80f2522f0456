-- Content changes (posts, comments) move a second counter on the same row, so an instance can
-- keep list answers (SPEC §11: answers kept in memory) and drop them when the content they
-- were made from changes, without dropping its credentials, sites and roles each time a post
-- is written. Kept by triggers, like `n` (migration 0008).
ALTER TABLE change_epoch ADD COLUMN content BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER posts_content_i AFTER INSERT ON posts
BEGIN UPDATE change_epoch SET content = content + 1 WHERE id = 1; END;
CREATE TRIGGER posts_content_u AFTER UPDATE ON posts
BEGIN UPDATE change_epoch SET content = content + 1 WHERE id = 1; END;
CREATE TRIGGER posts_content_d AFTER DELETE ON posts
BEGIN UPDATE change_epoch SET content = content + 1 WHERE id = 1; END;

CREATE TRIGGER comments_content_i AFTER INSERT ON comments
BEGIN UPDATE change_epoch SET content = content + 1 WHERE id = 1; END;
CREATE TRIGGER comments_content_u AFTER UPDATE ON comments
BEGIN UPDATE change_epoch SET content = content + 1 WHERE id = 1; END;
CREATE TRIGGER comments_content_d AFTER DELETE ON comments
BEGIN UPDATE change_epoch SET content = content + 1 WHERE id = 1; END;
