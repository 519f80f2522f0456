-- The authorization endpoint's remembered consent (a live authorization_code grant of this user,
-- client and scope, newest first) was found through the user's index alone, so it read every
-- grant the user had with any client: with tens of thousands of password-grant families of one
-- user and client, each authorize request scanned them all. This index answers it by reading the
-- newest matching grant; its first column also serves every look-up by user, so the user-only
-- index goes (one index fewer to write per new grant).
CREATE INDEX oauth2_grants_consent ON oauth2_grants (user_id, client_id, flow, scope, id);
DROP INDEX oauth2_grants_user;
