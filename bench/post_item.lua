-- POST /items: a new item (unique SKU) per request, a fresh Idempotency-Key each time.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")
setup, done = common.setup, common.done

local n, prefix
function init(args)
  n = 0
  prefix = common.run .. "-item-" .. wrk.thread:get("id") .. "-"
end

function request()
  n = n + 1
  return common.post("/inventory/v1/items", prefix .. n, '{"sku":"' .. prefix .. n .. '","name":"Bench item"}')
end
