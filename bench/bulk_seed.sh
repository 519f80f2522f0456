#!/usr/bin/env bash
# Bulk loader for the load benchmark: adds N live credentials to a Gatehouse database that
# `serve --demo` created — N/5 each of user API keys, application passwords, log-in sessions,
# OAuth 2.0 access tokens and OAuth 1.0a access tokens, all the demo author's, with random keyed
# hashes (they match no secret: they are there to make the indexes as deep as a real deployment's).
# One SQL statement per kind (a recursive CTE on SQLite, generate_series on PostgreSQL), so a
# million rows take seconds to a minute, not hours.
# Usage: bench/bulk_seed.sh sqlite PATH_TO_DB N | bench/bulk_seed.sh postgres URL N
set -euo pipefail
backend=$1 target=$2 n=$3
per=$(( n / 5 ))
now=$(date +%s)
far=$(( now + 365 * 86400 ))
if [ "$backend" = sqlite ]; then
  rows="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $per)"
  hex="lower(hex(randomblob(32)))"
  uuid="lower(hex(randomblob(16)))"
  from="FROM n"
  i="i"
else
  rows=""
  hex="md5(random()::text) || md5(random()::text)"
  uuid="md5(random()::text)"
  from="FROM generate_series(1, $per) AS g(i)"
  i="g.i"
fi
author="(SELECT id FROM users WHERE login = 'author')"
sql="
BEGIN;
$rows INSERT INTO api_keys (kind, user_id, site_id, created_by, description, hash, key_version, created_at)
  SELECT 'user', $author, NULL, $author, 'bulk ' || $i, $hex, 1, $now $from;
$rows INSERT INTO app_passwords (uuid, user_id, app_id, name, hash, key_version, created_at)
  SELECT $uuid, $author, '', 'bulk ' || $i, $hex, 1, $now $from;
$rows INSERT INTO sessions (hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
  SELECT $hex, $author, $now, $now, $far, '127.0.0.1', 'bulk' $from;
INSERT INTO oauth2_grants (client_id, user_id, site_id, scope, flow, created_at, expires_at)
  VALUES ((SELECT MIN(id) FROM oauth2_clients), $author, NULL, 'global', 'password', $now, $far);
$rows INSERT INTO oauth2_tokens (hash, key_version, kind, grant_id, scope, created_at, expires_at)
  SELECT $hex, 1, 'access', (SELECT MAX(id) FROM oauth2_grants), 'global', $now, $far $from;
$rows INSERT INTO oauth1_tokens (hash, key_version, secret_sealed, secret_version, kind, consumer_id, user_id, created_at)
  SELECT $hex, 1, 'bulk', 1, 'access', (SELECT MIN(id) FROM oauth1_consumers), $author, $now $from;
COMMIT;
"
# No ANALYZE here: statistics taken now (one OAuth grant) go stale as the benchmark adds grants,
# and the planner then scanned every grant per look-up. Nothing analyzes a deployed SQLite
# database; on PostgreSQL bench/run.sh runs ANALYZE once its pools are made (as autovacuum would).
if [ "$backend" = sqlite ]; then
  printf '%s\n' "$sql" | sqlite3 -bail "$target"
else
  printf '%s\n' "$sql" | psql -q -v ON_ERROR_STOP=1 "$target"
fi
