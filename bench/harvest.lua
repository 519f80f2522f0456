-- wrk script that makes a pool of single-use secrets at load speed, for bench/run.sh: it sends one
-- fixed request again and again and writes what each answer carries to OUT.<thread>:
--   TAKE=refresh  the "refresh_token" of a token endpoint's JSON answer;
--   TAKE=code     the code in an authorization endpoint's redirect (Location header).
-- Configured like bench/case.lua (METHOD, BODY, HEADERS); WANT is how many secrets in all (split
-- between the THREADS), after which each thread stops sending. wrk itself runs until its -d or a
-- SIGINT: `harvest` in bench/run.sh sends that when the files hold WANT lines.
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
local common = dofile(here .. "wrk_request.lua")
setup = common.setup
local method, headers, body = common.from_env()
local take = os.getenv("TAKE") or "refresh"

local out
local want
local made = 0
function init(args)
  local nthreads = tonumber(os.getenv("THREADS") or "1")
  want = math.ceil(tonumber(os.getenv("WANT")) / nthreads)
  out = assert(io.open(os.getenv("OUT") .. "." .. id, "w"))
  out:setvbuf("line") -- bench/run.sh counts the lines to know when the pool is full
end

function request()
  return wrk.format(method, nil, headers, body)
end

function response(status, hdrs, answer)
  if made >= want then return end
  local v
  if take == "code" then
    local location = hdrs["Location"] or hdrs["location"] or ""
    v = string.match(location, "[?&]code=([^&]+)")
  else
    v = string.match(answer or "", '"refresh_token"%s*:%s*"([^"]+)"')
  end
  if v then
    out:write(v, "\n")
    made = made + 1
    if made >= want then
      out:close()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  io.write(string.format("HARVEST requests=%d non2xx=%d\n", summary.requests, summary.errors.status))
end
