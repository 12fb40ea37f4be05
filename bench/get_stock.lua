-- GET /items/{id}/stock of a random item.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")
setup, done = common.setup, common.done

local items
function init(args)
  items = common.items()
  math.randomseed(tonumber(wrk.thread:get("id")) * 104729 + os.time())
end

function request()
  return wrk.format("GET", "/inventory/v1/items/" .. items[math.random(#items)] .. "/stock", {
    ["Authorization"] = "Bearer " .. common.key,
  })
end
