#!/usr/bin/env bash
# HTTP load benchmark: a release server with demo data on 127.0.0.1 (port chosen by the OS), wrk
# against a baseline (/healthz: no database, no credential) and against each credential kind, all
# in the same run; reported as requests/s and as a ratio to the baseline. Needs wrk, and python3
# with requests-oauthlib for the OAuth 1.0a case.
# Usage: bench/http.sh [seconds-per-endpoint]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
cargo build --release --quiet --bin gatehouse
bin="${CARGO_TARGET_DIR:-target}/release/gatehouse"
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
# Codes live 10 minutes here (a setting, for the benchmark only), so a pool can be made first.
GATEHOUSE_OAUTH_CODE_TTL_SECS=600 GATEHOUSE_LOG_LEVEL=warn "$bin" --data-dir "$work" serve --demo --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 300); do grep -q "is listening" "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'listening on http://[0-9.:]*' "$work/out" | sed 's/listening on //')
[ -n "$base" ] || { cat "$work/err" >&2; exit 1; }
user_key=$(grep -o "author's API key: *gak_[A-Za-z0-9]*" "$work/out" | grep -o 'gak_.*')
site_key=$(grep -o 'site read-only key: *gsk_[A-Za-z0-9]*' "$work/out" | grep -o 'gsk_.*')
app_pw=$(grep -E '^  editor ' "$work/out" | awk '{print $3$4$5$6$7$8}')
basic=$(printf 'editor:%s' "$app_pw" | base64 -w0)
# OAuth 2.0: the demo's confidential client, a client_credentials access token from it.
client_id=$(grep -o 'web app (confidential): client_id [0-9]*' "$work/out" | awk '{print $NF}')
client_secret=$(grep -o 'client_secret gcs_[A-Za-z0-9]*' "$work/out" | awk '{print $2}')
client_basic="Basic $(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)"
access=$(curl -s -H "Authorization: $client_basic" -d grant_type=client_credentials -d scope=global "$base/oauth/token" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

post() { # name path body
  local out rps non2xx
  out=$(BODY="$3" AUTH="$client_basic" wrk -t2 -c32 -d"${secs}s" -s bench/post_form.lua "$base$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%s %s %s\n' "$1" "$rps" "${non2xx:-0}"
}
# Pools of single-use secrets (POOL_SIZE each): refresh tokens from the password grant of a
# bench client owned by editor (with editor's application password: one HMAC each), and codes
# from the authorization endpoint with remembered consent (editor's session).
pool_size="${POOL_SIZE:-6000}"
bench=$("$bin" --data-dir "$work" client add --name Bench --owner editor --redirect-uri https://bench.example/cb \
  --grant authorization_code --grant refresh_token --grant password --json)
bench_id=$(echo "$bench" | sed 's/.*"client_id":"\([0-9]*\)".*/\1/')
bench_secret=$(echo "$bench" | sed 's/.*"client_secret":"\([^"]*\)".*/\1/')
bench_basic="Basic $(printf '%s:%s' "$bench_id" "$bench_secret" | base64 -w0)"
seq "$pool_size" | xargs -P4 -I{} curl -s -H "Authorization: $bench_basic" \
  --data-urlencode grant_type=password --data-urlencode username=editor --data-urlencode "password=$app_pw" \
  -d scope=global "$base/oauth/token" | grep -o '"refresh_token":"[^"]*"' | cut -d'"' -f4 >"$work/refresh.pool"
editor_pw=$(grep -E '^  editor ' "$work/out" | awk '{print $2}')
jar="$work/jar"
csrf=$(curl -s -c "$jar" "$base/login" | grep -o 'name="_csrf" value="[^"]*"' | head -1 | cut -d'"' -f4)
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode log=editor --data-urlencode "pwd=$editor_pw" --data-urlencode "_csrf=$csrf" "$base/login"
authorize="$base/oauth/authorize?client_id=$bench_id&response_type=code&scope=global&state=b"
consent=$(curl -s -b "$jar" "$authorize")
form=$(echo "$consent" | sed -n '/action="\/oauth\/authorize"/,/<\/form>/p' | grep -o 'name="[^"]*" value="[^"]*"' | grep -v '"decision"' | sed 's/name="\([^"]*\)" value="\([^"]*\)"/-d \1=\2/' | sed 's/&#x2f;/\//g')
# Allow once and redeem that code: the grant it makes is the consent remembered from then on.
# shellcheck disable=SC2086
first=$(curl -s -b "$jar" -o /dev/null -w '%{redirect_url}' $form -d decision=allow "$base/oauth/authorize" | grep -o 'code=[^&]*' | cut -d= -f2)
curl -s -o /dev/null -H "Authorization: $bench_basic" -d grant_type=authorization_code -d "code=$first" "$base/oauth/token"
seq "$pool_size" | xargs -P4 -I{} curl -s -b "$jar" -o /dev/null -w '%{redirect_url}\n' "$authorize" \
  | grep -o 'code=[^&]*' | cut -d= -f2 >"$work/code.pool"
# OAuth 1.0a: the demo's desktop client, approved by editor; signed GET users/me headers, each
# with its own nonce (python3 with requests-oauthlib signs them before the clock starts).
oauth1_key=$(grep -o 'desktop client (oob): key [A-Za-z0-9]*' "$work/out" | awk '{print $NF}')
oauth1_secret=$(grep -o 'desktop client (oob): key [A-Za-z0-9]*, secret [A-Za-z0-9]*' "$work/out" | awk '{print $NF}')
oauth1_pool_size="${OAUTH1_POOL_SIZE:-60000}"
python3 bench/oauth1_pool.py "$base" "$oauth1_key" "$oauth1_secret" editor "$editor_pw" /wp-json/wp/v2/users/me "$oauth1_pool_size" "$work/oauth1.pool"
signed_pool() { # name path poolfile
  local out rps non2xx
  out=$(POOL="$3" POOL_AS=header:Authorization THREADS=2 wrk -t2 -c32 -d2s -s bench/case.lua "$base$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%s %s %s\n' "$1 ($(wc -l <"$3") pre-signed, 2s)" "$rps" "${non2xx:-0}"
}
pool() { # name path prefix poolfile
  local out rps non2xx
  out=$(POOL="$4" PREFIX="$3" AUTH="$bench_basic" THREADS=2 wrk -t2 -c32 -d2s -s bench/pool.lua "$base$2")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%s %s %s\n' "$1 ($(wc -l <"$4") pooled, 2s)" "$rps" "${non2xx:-0}"
}
run() { # name path [header]
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c32 -d"${secs}s" -H "$3" "$base$2"); else out=$(wrk -t2 -c32 -d"${secs}s" "$base$2"); fi
  local rps non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  printf '%s %s %s\n' "$1" "$rps" "${non2xx:-0}"
}
results=$(
  run "baseline: GET /healthz" /healthz
  run "anonymous: GET posts" "/wp-json/wp/v2/posts?per_page=5"
  run "site key: GET posts" "/wp-json/wp/v2/posts?per_page=5" "Authorization: Bearer $site_key"
  run "user API key: GET users/me" /wp-json/wp/v2/users/me "Authorization: ApiKey $user_key"
  run "application password: GET users/me" /wp-json/wp/v2/users/me "Authorization: Basic $basic"
  run "OAuth access token: GET users/me" /wp-json/wp/v2/users/me "Authorization: Bearer $access"
  signed_pool "OAuth 1.0a signed: GET users/me" /wp-json/wp/v2/users/me "$work/oauth1.pool"
  post "token: client_credentials" /oauth/token "grant_type=client_credentials&scope=global"
  post "introspection" /oauth/introspect "token=$access"
  pool "token: refresh_token" /oauth/token "grant_type=refresh_token&refresh_token=" "$work/refresh.pool"
  pool "token: authorization_code" /oauth/token "grant_type=authorization_code&code=" "$work/code.pool"
)
baseline=$(echo "$results" | head -1 | awk '{print $(NF-1)}')
echo "wrk -t2 -c32 -d${secs}s per endpoint against $base ($(nproc) CPUs)"
printf '%-40s %12s %10s %8s\n' endpoint "req/s" "vs base" non-2xx
echo "$results" | while read -r line; do
  non=$(echo "$line" | awk '{print $NF}'); rps=$(echo "$line" | awk '{print $(NF-1)}')
  name=$(echo "$line" | awk '{$NF=""; $(NF-1)=""; print}' | sed 's/ *$//')
  printf '%-40s %12s %9.3fx %8s\n' "$name" "$rps" "$(echo "$rps / $baseline" | bc -l)" "$non"
done
