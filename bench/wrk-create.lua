-- wrk script for the raw ceiling of akua-sim: the same POST /v1/machines/{id}/drift_reports that
-- akua-driftd sends (headers, body {"trigger":"schedule"}), spread over the simulator's machines,
-- with a unique idempotency key per request so that every request creates a report (no replays).
-- Environment: BENCH_TOKEN, BENCH_MACHINES (count), BENCH_PREFIX (id prefix), BENCH_NONCE (per run).
local token = os.getenv("BENCH_TOKEN") or "sk_akua_bench"
local machines = tonumber(os.getenv("BENCH_MACHINES") or "1000")
local prefix = os.getenv("BENCH_PREFIX") or "mch_sim_"
local nonce = os.getenv("BENCH_NONCE") or tostring(os.time())
local body = '{"trigger":"schedule"}'

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local counter = 0
function request()
  counter = counter + 1
  local index = ((counter * 7919 + (tid or 0) * 104729) % machines) + 1
  local id = string.format("%s%06d", prefix, index)
  local key = string.format("v1.b.%s.%d.%d", nonce, tid or 0, counter)
  return wrk.format("POST", "/v1/machines/" .. id .. "/drift_reports", {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/json",
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "akua-driftd/bench",
    ["idempotency-key"] = key,
  }, body)
end

-- No response() callback: wrk reports 4xx/5xx as "Non-2xx or 3xx responses" and the harness fails on any.
