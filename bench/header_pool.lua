-- wrk: GET with one pre-signed Authorization header per request from a pool file (OAuth 1.0a:
-- each header's nonce is accepted once), split between the threads so none is sent twice.
--   POOL=file THREADS=2 wrk -t2 -s bench/header_pool.lua URL
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

local headers = {}
local i = 0
function init(args)
  local n = 0
  local threads = tonumber(os.getenv("THREADS") or "1")
  for line in io.lines(os.getenv("POOL")) do
    if n % threads == id then
      headers[#headers + 1] = line
    end
    n = n + 1
  end
end

function request()
  i = i + 1
  return wrk.format("GET", nil, { ["Authorization"] = headers[i] or "OAuth pool-exhausted" })
end
