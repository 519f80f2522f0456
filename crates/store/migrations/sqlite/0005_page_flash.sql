-- The id of the one-time page message (flash) waiting for this session's next page; the message
-- itself travels sealed in a cookie. Taking it clears it in one statement, so it is shown once.
ALTER TABLE sessions ADD COLUMN flash_id TEXT;
