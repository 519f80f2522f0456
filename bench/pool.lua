-- wrk: POST one single-use secret per request from a pool file (refresh tokens, codes), split
-- between the threads so no secret is sent twice.
--   POOL=file PREFIX='grant_type=refresh_token&refresh_token=' AUTH='Basic …' THREADS=2 \
--   wrk -t2 -s bench/pool.lua URL
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local tokens = {}
local i = 0
function init(args)
  local n = 0
  local threads = tonumber(os.getenv("THREADS") or "1")
  for line in io.lines(os.getenv("POOL")) do
    if n % threads == id then
      tokens[#tokens + 1] = line
    end
    n = n + 1
  end
end

function request()
  i = i + 1
  local t = tokens[i] or "pool-exhausted"
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = os.getenv("AUTH"),
  }, os.getenv("PREFIX") .. t)
end
