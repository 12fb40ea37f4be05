-- GET /items/{id}/stock of a random item.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")
setup, done = common.setup, common.done

local requests  -- formatted once per item
function init(args)
  requests = {}
  for k, item in ipairs(common.items()) do
    requests[k] = wrk.format("GET", "/inventory/v1/items/" .. item .. "/stock", { ["Authorization"] = "Bearer " .. common.key })
  end
  math.randomseed(tonumber(wrk.thread:get("id")) * 104729 + os.time())
end

function request()
  return requests[math.random(#requests)]
end
