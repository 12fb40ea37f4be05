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
  return wrk.format("POST", "/inventory/v1/items", {
    ["Authorization"] = "Bearer " .. common.key,
    ["Idempotency-Key"] = prefix .. n,
    ["Content-Type"] = "application/json",
  }, '{"sku":"' .. prefix .. n .. '","name":"Bench item"}')
end
