#!/usr/bin/env bash
# The load benchmark (issue 12), one command: `bench/run.sh`. It builds release binaries, and for
# each database (SQLite, PostgreSQL) and each scale (1,000 and 1,000,000 live credentials, bulk
# seeded by bench/bulk_seed.sh) starts `gatehouse serve --demo` on 127.0.0.1, drives every case
# with wrk at 2 and 50 connections, and measures in the same run:
#   - the baseline: bench/baseline (minimal axum, a fixed JSON body the size of users/me);
#   - the reference OAuth server ../shared/peers/oidc-provider (node-oidc-provider, in memory)
#     for the token endpoint and introspection;
#   - bare Argon2id verification at Gatehouse's parameters (the ceiling for log-in).
# Per case: requests/s, p50 and p99 latency, server CPU seconds, peak RSS (VmHWM, reset before
# each case), non-2xx count, and the ratio to the baseline at the same connection count.
# Output: a Markdown report on stdout and in bench/results/latest.md (with the machine), and the
# raw measurements beside it (latest.tsv; `python3 bench/report.py latest.tsv ARGON2 SECS` redoes the report).
# Loopback only; every run bounded in time. Needs wrk, curl, python3 with requests-oauthlib,
# sqlite3, psql (PostgreSQL at $BENCH_POSTGRES_URL), node + npm for the peer.
# Knobs: SECS (per case, 3), CONNS ("2 50"), BACKENDS ("sqlite postgres"),
#        SCALES ("1000 1000000"), BENCH_POSTGRES_URL, OUT (bench/results/latest.md),
#        KEEP (set: keep the scratch directory with each server's log), BENCH_LOG_LEVEL (warn).
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${SECS:-3}"
conns_list="${CONNS:-2 50}"
backends="${BACKENDS:-sqlite postgres}"
scales="${SCALES:-1000 1000000}"
pg_url="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
out_md="${OUT:-bench/results/latest.md}"
for tool in wrk curl python3 sqlite3 psql node npm; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh needs $tool" >&2; exit 1; }
done
cargo build --release --quiet --bin gatehouse --bin bench-baseline
target="${CARGO_TARGET_DIR:-target}/release"
bin="$target/gatehouse"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then echo "kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
tick=$(getconf CLK_TCK)
rows="$work/rows"
: >"$rows"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# idle PID: waits (up to 5 s) until the server has finished what the previous case left queued
# (requests still running after wrk stopped, e.g. Argon2id checks waiting their turn), so each case
# starts from an idle server: less than 2 ticks of CPU in 200 ms.
# A server still busy after that is reported (with its busiest threads) and measured anyway.
idle() {
  local a b
  for _ in $(seq 1 25); do
    a=$(cpu_ticks "$1"); sleep 0.2; b=$(cpu_ticks "$1")
    [ $((b - a)) -lt 2 ] && return 0
  done
  echo "bench: server $1 still busy after 5 s; its busiest threads:" >&2
  top -H -b -n 1 -p "$1" | sed -n '7,12p' >&2
  return 0
}
# measure PID LABEL URL CONNS [env assignments for bench/case.lua …]: one bounded wrk run.
measure() {
  local pid=$1 label=$2 url=$3 conns=$4; shift 4
  local threads=2; [ "$conns" -lt 2 ] && threads=1
  idle "$pid"
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
  local before after res
  before=$(cpu_ticks "$pid")
  res=$(env "$@" THREADS=$threads wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s bench/case.lua "$url" | grep '^RESULT' || echo "RESULT rps=0 p50_ms=0 p99_ms=0 requests=0 non2xx=0 errors=1")
  after=$(cpu_ticks "$pid")
  local rss; rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  printf '%s\t%s\t%s\t%s\n' "$label" "$conns" "$(echo "$res" | sed 's/^RESULT //')" \
    "cpu_s=$(echo "($after - $before) / $tick" | bc -l | xargs printf '%.2f') rss_kb=$rss${EXTRA_METRIC:+ $EXTRA_METRIC}" >>"$rows"
}
# harvest FILE WANT URL [env assignments for bench/harvest.lua …]: a pool of WANT single-use
# secrets in FILE, made by wrk at 50 connections (at most 120 s).
harvest() {
  local file=$1 want=$2 url=$3 w; shift 3
  rm -f "$file" "$file".[0-9]*
  env "$@" OUT="$file" WANT="$want" THREADS=2 wrk -t2 -c50 -d120s -s bench/harvest.lua "$url" >"$file.log" &
  w=$!
  for _ in $(seq 1 1200); do
    [ "$(cat "$file".[0-9]* 2>/dev/null | wc -l)" -ge "$want" ] && break
    kill -0 "$w" 2>/dev/null || break
    sleep 0.1
  done
  kill -INT "$w" 2>/dev/null || true
  wait "$w" || true
  cat "$file".[0-9]* >"$file"
  local made; made=$(wc -l <"$file")
  [ "$made" -ge "$want" ] || echo "bench: pool $file holds $made of $want (see $file.log)" >&2
}
wait_for() { # FILE PATTERN
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1
}

# --- the ceilings: the baseline server, the reference OAuth server, bare Argon2id ----------------
"$target/bench-baseline" >"$work/baseline.out" &
pids+=($!); base_pid=$!
wait_for "$work/baseline.out" "listening on"
base_url=$(grep -o 'http://[0-9.:]*' "$work/baseline.out")
argon2=$("$target/bench-baseline" argon2 "$secs" | sed 's/argon2id_per_s=//')

peer_dir="$work/oidc-provider"
peer_pid=""
if cp -r ../shared/peers/oidc-provider "$peer_dir" 2>/dev/null && (cd "$peer_dir" && npm ci --no-audit --no-fund --silent >/dev/null 2>&1); then
  if curl -s -o /dev/null http://127.0.0.1:19401/; then
    echo "port 19401 is taken (a reference server left by an earlier run?); stop it first" >&2; exit 1
  fi
  (cd "$peer_dir" && PORT=19401 node server.mjs >"$work/peer.log" 2>&1) &
  pids+=($!); peer_pid=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:19401/.well-known/openid-configuration && break; sleep 0.1; done
  peer_pid=$(pgrep -f "node server.mjs" | head -1)
  pids+=("$peer_pid") # node itself, not only the subshell that started it
  peer_basic=$(printf 'bench-client:bench-secret-0123456789abcdef' | base64 -w0)
  peer_token=$(curl -s -u bench-client:bench-secret-0123456789abcdef -d grant_type=client_credentials -d scope=read http://127.0.0.1:19401/token | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  # Warmed up first (unmeasured): node's JIT compiles the hot paths during the first seconds,
  # and a cold start would flatter the comparison.
  env METHOD=POST "HEADERS=Authorization: Basic $peer_basic" BODY="grant_type=client_credentials&scope=read" \
    wrk -t2 -c50 -d2s -s bench/case.lua http://127.0.0.1:19401/token >/dev/null
  env METHOD=POST "HEADERS=Authorization: Basic $peer_basic" BODY="token=$peer_token&token_type_hint=access_token" \
    wrk -t2 -c50 -d2s -s bench/case.lua http://127.0.0.1:19401/token/introspection >/dev/null
else
  echo "node-oidc-provider could not be installed (npm ci); its rows are left out" >&2
fi
# ceilings CONNS [SUFFIX]: the baseline and the reference server at CONNS connections. With SUFFIX
# ("|sqlite|1000") they are measured again before that database and scale, and its cases are
# compared with those: the machine's other tenants move every rate over a run.
ceilings() {
  measure "$base_pid" "baseline|bare axum, fixed JSON${2:-}" "$base_url/" "$1"
  if [ -n "$peer_pid" ]; then
    measure "$peer_pid" "peer|node-oidc-provider: token (client_credentials)${2:-}" http://127.0.0.1:19401/token "$1" \
      METHOD=POST "HEADERS=Authorization: Basic $peer_basic" BODY="grant_type=client_credentials&scope=read"
    measure "$peer_pid" "peer|node-oidc-provider: introspection${2:-}" http://127.0.0.1:19401/token/introspection "$1" \
      METHOD=POST "HEADERS=Authorization: Basic $peer_basic" BODY="token=$peer_token&token_type_hint=access_token"
  fi
}
for c in $conns_list; do ceilings "$c"; done

# --- Gatehouse, per database and scale -------------------------------------------------------------
export GATEHOUSE_SECRET_KEY
GATEHOUSE_SECRET_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
for backend in $backends; do
  for scale in $scales; do
    run="$work/$backend-$scale"; mkdir -p "$run"
    if [ "$backend" = sqlite ]; then
      db_args=(--data-dir "$run")
      seed_target="$run/gatehouse.db"
    else
      db="gatehouse_bench_$$_$scale"
      psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
      seed_target="${pg_url%/*}/$db"
      db_args=(--data-dir "$run" --database-url "$seed_target")
    fi
    GATEHOUSE_OAUTH_CODE_TTL_SECS=600 GATEHOUSE_LOG_LEVEL="${BENCH_LOG_LEVEL:-warn}" "$bin" "${db_args[@]}" serve --demo --listen 127.0.0.1:0 >"$run/out" 2>"$run/err" &
    pids+=($!); pid=$!
    wait_for "$run/out" "is listening"
    url=$(grep -o 'listening on http://[0-9.:]*' "$run/out" | sed 's/listening on //')
    # Live credentials: the demo's own, then the bulk filler up to the scale.
    bench/bulk_seed.sh "$backend" "$seed_target" "$scale"
    # Flush what the seeding (and earlier runs' databases) left dirty, so the kernel's writeback
    # does not slow this run's commits (PostgreSQL's WAL flush waits behind it).
    sync
    user_key=$(grep -o "author's API key: *gak_[A-Za-z0-9]*" "$run/out" | grep -o 'gak_.*')
    site_key=$(grep -o 'site read-only key: *gsk_[A-Za-z0-9]*' "$run/out" | grep -o 'gsk_.*')
    editor_pw=$(grep -E '^  editor ' "$run/out" | awk '{print $2}')
    app_pw=$(grep -E '^  editor ' "$run/out" | awk '{print $3$4$5$6$7$8}')
    basic=$(printf 'editor:%s' "$app_pw" | base64 -w0)
    client_id=$(grep -o 'web app (confidential): client_id [0-9]*' "$run/out" | awk '{print $NF}')
    client_secret=$(grep -o 'client_secret gcs_[A-Za-z0-9]*' "$run/out" | awk '{print $2}')
    client_basic=$(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)
    access=$(curl -s -H "Authorization: Basic $client_basic" -d grant_type=client_credentials -d scope=global "$url/oauth/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
    # A bench client of editor's with the password grant, for the refresh pool and that case.
    bench=$("$bin" "${db_args[@]}" client add --name Bench --owner editor --redirect-uri https://bench.example/cb \
      --grant authorization_code --grant refresh_token --grant password --json)
    bench_id=$(echo "$bench" | sed 's/.*"client_id":"\([0-9]*\)".*/\1/')
    bench_secret=$(echo "$bench" | sed 's/.*"client_secret":"\([^"]*\)".*/\1/')
    bench_basic=$(printf '%s:%s' "$bench_id" "$bench_secret" | base64 -w0)
    # A session for the cookie case and the code pool (consent remembered after one Allow).
    jar="$run/jar"
    csrf=$(curl -s -c "$jar" "$url/login" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
    curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode log=editor --data-urlencode "pwd=$editor_pw" --data-urlencode "_csrf=$csrf" "$url/login"
    session=$(grep gatehouse_session "$jar" | awk '{print $NF}')
    nonce=$(curl -s -b "$jar" "$url/wp-admin/admin-ajax.php?action=rest-nonce")
    authorize="$url/oauth/authorize?client_id=$bench_id&response_type=code&scope=global&state=b"
    form=$(curl -s -b "$jar" "$authorize" | sed -n '/action="\/oauth\/authorize"/,/<\/form>/p' | grep -o 'name="[^"]*" value="[^"]*"' | grep -v '"decision"' | sed 's/name="\([^"]*\)" value="\([^"]*\)"/-d \1=\2/' | sed 's/&#x2f;/\//g')
    # shellcheck disable=SC2086
    first=$(curl -s -b "$jar" -o /dev/null -w '%{redirect_url}' $form -d decision=allow "$url/oauth/authorize" | grep -o 'code=[^&]*' | cut -d= -f2)
    curl -s -o /dev/null -H "Authorization: Basic $bench_basic" -d grant_type=authorization_code -d "code=$first" "$url/oauth/token"
    # A log-in form: its pre-session cookie and CSRF token, posted again and again.
    login_jar="$run/login_jar"
    login_csrf=$(curl -s -c "$login_jar" "$url/wp-login.php" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
    login_cookie="gatehouse_login=$(grep gatehouse_login "$login_jar" | awk '{print $NF}')"
    # OAuth 1.0a: the demo's desktop client approved by editor, pre-signed headers.
    o1_key=$(grep -o 'desktop client (oob): key [A-Za-z0-9]*' "$run/out" | awk '{print $NF}')
    o1_secret=$(grep -o 'desktop client (oob): key [A-Za-z0-9]*, secret [A-Za-z0-9]*' "$run/out" | awk '{print $NF}')
    for c in $conns_list; do
      # Single-use pools, made at load speed and sized for this connection count (more
      # connections, more requests): refresh tokens from the password grant with editor's
      # application password (one HMAC each), codes from the authorization endpoint with
      # remembered consent.
      n=$(( c > 10 ? 45000 : 12000 ))
      harvest "$run/refresh.$c" "$n" "$url/oauth/token" TAKE=refresh METHOD=POST "HEADERS=Authorization: Basic $bench_basic" \
        BODY="grant_type=password&username=editor&password=$app_pw&scope=global"
      harvest "$run/code.$c" "$n" "$authorize" TAKE=code "HEADERS=Cookie: gatehouse_session=$session"
      python3 bench/oauth1_pool.py "$url" "$o1_key" "$o1_secret" editor "$editor_pw" /wp-json/wp/v2/users/me 60000 "$run/oauth1.$c"
      # PostgreSQL plans by its statistics, which autovacuum refreshes as tables grow. This
      # machine's PostgreSQL runs with autovacuum off, so statistics taken before the pools
      # (one OAuth grant) would stay: the planner then filtered every grant of a client per
      # look-up and the token endpoint fell from ≈ 5k to ≈ 600/s. ANALYZE here does what
      # autovacuum (on by default) does within a minute.
      if [ "$backend" = postgres ]; then psql -q "$seed_target" -c ANALYZE; fi
      label() { echo "$backend|$scale|$1"; }
      ceilings "$c" "|$backend|$scale"
      me="$url/wp-json/wp/v2/users/me"
      measure "$pid" "$(label 'anonymous: GET /wp-json/')" "$url/wp-json/" "$c"
      measure "$pid" "$(label 'anonymous: GET posts?per_page=10')" "$url/wp-json/wp/v2/posts?per_page=10" "$c"
      measure "$pid" "$(label 'site key: GET posts?per_page=10')" "$url/wp-json/wp/v2/posts?per_page=10" "$c" "HEADERS=Authorization: Bearer $site_key"
      measure "$pid" "$(label 'API key (ApiKey): GET users/me')" "$me" "$c" "HEADERS=Authorization: ApiKey $user_key"
      measure "$pid" "$(label 'API key (Bearer): GET users/me')" "$me" "$c" "HEADERS=Authorization: Bearer $user_key"
      measure "$pid" "$(label 'OAuth 2.0 access token: GET users/me')" "$me" "$c" "HEADERS=Authorization: Bearer $access"
      measure "$pid" "$(label 'application password: GET users/me')" "$me" "$c" "HEADERS=Authorization: Basic $basic"
      measure "$pid" "$(label 'OAuth 1.0a (pre-signed): GET users/me')" "$me" "$c" POOL="$run/oauth1.$c" POOL_AS=header:Authorization
      measure "$pid" "$(label 'cookie + nonce: GET users/me')" "$me" "$c" "HEADERS=Cookie: gatehouse_session=$session
X-WP-Nonce: $nonce"
      measure "$pid" "$(label 'API key: GET /v1/sites')" "$url/v1/sites" "$c" "HEADERS=Authorization: ApiKey $user_key"
      measure "$pid" "$(label 'token: client_credentials')" "$url/oauth/token" "$c" METHOD=POST "HEADERS=Authorization: Basic $client_basic" BODY="grant_type=client_credentials&scope=global"
      measure "$pid" "$(label 'token: refresh_token (pool)')" "$url/oauth/token" "$c" METHOD=POST "HEADERS=Authorization: Basic $bench_basic" POOL="$run/refresh.$c" POOL_AS=body PREFIX="grant_type=refresh_token&refresh_token="
      measure "$pid" "$(label 'token: authorization_code (pool)')" "$url/oauth/token" "$c" METHOD=POST "HEADERS=Authorization: Basic $bench_basic" POOL="$run/code.$c" POOL_AS=body PREFIX="grant_type=authorization_code&code="
      measure "$pid" "$(label 'introspection')" "$url/oauth/introspect" "$c" METHOD=POST "HEADERS=Authorization: Basic $client_basic" BODY="token=$access"
    done
    # Argon2id cases last: each verification holds 19 MiB, and the allocator keeps some of it, so
    # they would raise every later case's peak RSS.
    # Each is compared with bare Argon2id measured just before it (the machine's other tenants
    # move that ceiling by a factor of two over a run).
    for c in $conns_list; do
      idle "$pid"
      EXTRA_METRIC="bare_argon2=$("$target/bench-baseline" argon2 "$secs" | sed 's/argon2id_per_s=//')" \
        measure "$pid" "$backend|$scale|token: password grant (Argon2id)" "$url/oauth/token" "$c" METHOD=POST "HEADERS=Authorization: Basic $bench_basic" \
        BODY="grant_type=password&username=editor&password=$editor_pw&scope=global"
      idle "$pid"
      EXTRA_METRIC="bare_argon2=$("$target/bench-baseline" argon2 "$secs" | sed 's/argon2id_per_s=//')" \
        measure "$pid" "$backend|$scale|log-in form (Argon2id)" "$url/wp-login.php" "$c" METHOD=POST "HEADERS=Cookie: $login_cookie" \
        BODY="log=editor&pwd=$editor_pw&_csrf=$login_csrf"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
    [ "$backend" = postgres ] && psql -q "$pg_url" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  done
done

# --- the report ------------------------------------------------------------------------------------
python3 bench/report.py "$rows" "$argon2" "$secs" >"$work/report.md"
mkdir -p "$(dirname "$out_md")"
cp "$work/report.md" "$out_md"
cp "$rows" "${out_md%.md}.tsv"
cat "$out_md"
