-- POST /movements/batch with 1000 movements per request (sales, receipts and returns of
-- 10 random items), a fresh Idempotency-Key for every request. Requests are formatted
-- once per thread; the runner reports movements/s as requests/s × 1000.
local dir = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local common = dofile(dir .. "common.lua")
setup, done = common.setup, common.done

local BATCH = 1000
local bodies, n, prefix

local function batch_body(items)
  local picked = {}
  for k = 1, 10 do picked[k] = items[math.random(#items)] end
  local parts = {}
  for k = 1, BATCH do
    local item = picked[(k % 10) + 1]
    local r = k % 4
    if r == 0 then
      parts[k] = '{"item_id":"' .. item .. '","qty":3,"type":"receipt","unit_cost":"' .. (1 + k % 17) .. '.25"}'
    elseif r == 3 then
      parts[k] = '{"item_id":"' .. item .. '","qty":1,"type":"return"}'
    else
      parts[k] = '{"item_id":"' .. item .. '","qty":-2,"type":"sale","reference":"till-' .. k .. '"}'
    end
  end
  return '{"movements":[' .. table.concat(parts, ",") .. ']}'
end

function init(args)
  local items = common.items()
  math.randomseed(tonumber(wrk.thread:get("id")) * 1299709 + os.time())
  bodies = {}
  for b = 1, 16 do bodies[b] = common.post_template("/inventory/v1/movements/batch", batch_body(items)) end
  n = 0
  prefix = common.run .. "-batch-" .. wrk.thread:get("id") .. "-"
end

function request()
  n = n + 1
  return bodies[(n % #bodies) + 1](prefix .. n)
end
