-- wrk script for benchmarks/manifest_throughput.py: GET /api/v1/agent/manifest as many
-- stations in turn, each with its own token and (mode 304) its current ETag.
--
--   wrk -t1 -c16 -d20s -s benchmarks/manifest.lua http://127.0.0.1:PORT -- STATIONS_FILE MODE
--
-- STATIONS_FILE: one "token etag" per line. MODE: "304" sends If-None-Match with the ETag,
-- "200" sends none (a full manifest every time), "401" sends no token either (the floor: no
-- database work at all). done() prints one RESULT line for the script.

local stations = {}
local mode = "304"
local next_one = 0
statuses = {}

function init(args)
  mode = args[2] or "304"
  for line in io.lines(args[1]) do
    local token, etag = line:match("^(%S+)%s+(%S+)$")
    if token then
      stations[#stations + 1] = { token, etag }
    end
  end
  assert(#stations > 0, "no stations in " .. args[1])
  -- Threads start at different stations (thread_id is set by setup()).
  next_one = math.floor((thread_id or 0) * #stations / (thread_count or 1))
end

function request()
  next_one = next_one % #stations + 1
  local station = stations[next_one]
  local headers = {}
  if mode ~= "401" then
    headers["Authorization"] = "Bearer " .. station[1]
  end
  if mode == "304" then
    headers["If-None-Match"] = '"' .. station[2] .. '"'
  end
  return wrk.format("GET", "/api/v1/agent/manifest", headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads - 1)
  thread:set("thread_count", tonumber(os.getenv("WRK_THREADS") or "1"))
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = status .. ":" .. n
  end
  local errors = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d statuses=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, errors.connect, errors.read, errors.write,
    errors.timeout, table.concat(parts, ",")))
end
