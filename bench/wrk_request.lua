-- Shared by bench/case.lua and bench/harvest.lua (loaded with dofile): thread ids, so a pool can
-- be split between wrk's threads, and the fixed request the environment describes —
-- METHOD (GET), HEADERS (lines "Name: value"), BODY (a form body; its Content-Type is set).
local M = {}

local counter = 0
function M.setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function M.from_env()
  local method = os.getenv("METHOD") or "GET"
  local headers = {}
  for line in string.gmatch(os.getenv("HEADERS") or "", "[^\n]+") do
    local k, v = string.match(line, "^([^:]+):%s*(.*)$")
    if k then headers[k] = v end
  end
  local body = os.getenv("BODY")
  if body and not headers["Content-Type"] then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
  end
  return method, headers, body
end

return M
