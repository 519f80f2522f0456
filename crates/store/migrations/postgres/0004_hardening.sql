-- Whether a post's or comment's HTML was written by someone holding `unfiltered_html` (a network
-- admin). Rendered fields of everything else are sanitised; existing rows default to sanitised.
ALTER TABLE posts ADD COLUMN unfiltered BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE comments ADD COLUMN unfiltered BOOLEAN NOT NULL DEFAULT FALSE;
-- The account an audited action was done to, when that is not the actor (an administrator
-- creating another user's application password). Both see the event.
ALTER TABLE audit_log ADD COLUMN target_user_id BIGINT;
CREATE INDEX audit_log_user ON audit_log(user_id);
CREATE INDEX audit_log_target ON audit_log(target_user_id);
