-- Shared by the wrk scripts of `make bench` (loaded with dofile from each script).
-- Environment: SK_BENCH_KEY (test secret key), SK_BENCH_ITEMS_FILE (one item id per
-- line), SK_BENCH_RUN (a prefix that makes Idempotency-Keys unique across runs).
local M = {}

function M.items()
  local list = {}
  for line in io.lines(os.getenv("SK_BENCH_ITEMS_FILE")) do
    if #line > 0 then list[#list + 1] = line end
  end
  return list
end

M.key = os.getenv("SK_BENCH_KEY")
M.run = os.getenv("SK_BENCH_RUN") or tostring(os.time())

-- Threads number themselves in setup() so their Idempotency-Keys never collide.
local next_id = 0
function M.setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

-- An authenticated POST with the given Idempotency-Key.
function M.post(path, key, body)
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. M.key,
    ["Idempotency-Key"] = key,
    ["Content-Type"] = "application/json",
  }, body)
end

-- The same POST for any Idempotency-Key, formatted by wrk once: a request then costs
-- one concatenation. wrk.format builds and walks a header table on every call, and the
-- load generator's CPU is taken from the same cores the service under test runs on.
local KEY_SLOT = "@@idempotency-key@@"
function M.post_template(path, body)
  local text = M.post(path, KEY_SLOT, body)
  local at = text:find(KEY_SLOT, 1, true)
  local head, tail = text:sub(1, at - 1), text:sub(at + #KEY_SLOT)
  return function(key) return head .. key .. tail end
end

-- One line the runner parses, then wrk's own report.
function M.done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("SKBENCH requests=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.requests / seconds, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

return M
