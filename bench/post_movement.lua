-- Single-movement POST: one sale of one unit of a random item, a fresh Idempotency-Key
-- for every request (no replays).
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")
setup, done = common.setup, common.done

local posts, n, prefix
function init(args)
  posts = {}
  for k, item in ipairs(common.items()) do
    posts[k] = common.post_template("/inventory/v1/movements",
      '{"item_id":"' .. item .. '","qty":-1,"type":"sale","reason":"order_fulfilled"}')
  end
  n = 0
  prefix = common.run .. "-post-" .. wrk.thread:get("id") .. "-"
  math.randomseed(tonumber(wrk.thread:get("id")) * 7919 + os.time())
end

function request()
  n = n + 1
  return posts[math.random(#posts)](prefix .. n)
end
