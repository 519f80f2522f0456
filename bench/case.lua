-- wrk script for every case of bench/run.sh, configured from the environment:
--   METHOD (GET), BODY (a fixed form body), HEADERS (lines "Name: value"),
--   POOL (a file of single-use values, split between threads so none is sent twice),
--   POOL_AS ("header:Name" puts each value in that header; "body" appends it to PREFIX as the body),
--   PREFIX, THREADS (wrk -t).
-- Prints one line: RESULT rps=… p50_ms=… p99_ms=… requests=… non2xx=… errors=… pool_left=…
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(here .. "wrk_request.lua")
setup = common.setup
local method, headers, body = common.from_env()

local pool = {}
local used = 0
local pool_as = os.getenv("POOL_AS") or ""
local prefix = os.getenv("PREFIX") or ""
function init(args)
  local file = os.getenv("POOL")
  if file then
    local n = 0
    local nthreads = tonumber(os.getenv("THREADS") or "1")
    for line in io.lines(file) do
      if n % nthreads == id then pool[#pool + 1] = line end
      n = n + 1
    end
  end
end

function request()
  if os.getenv("POOL") then
    used = used + 1
    local v = pool[used] or "pool-exhausted"
    if pool_as == "body" then
      local h = {}
      for k, x in pairs(headers) do h[k] = x end
      h["Content-Type"] = "application/x-www-form-urlencoded"
      return wrk.format(method, nil, h, prefix .. v)
    end
    local h = {}
    for k, x in pairs(headers) do h[k] = x end
    h[string.sub(pool_as, 8)] = v
    return wrk.format(method, nil, h, body)
  end
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d non2xx=%d errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout))
end
