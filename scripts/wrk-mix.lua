-- wrk script: requests the paths given after `--` in turn, counts every non-2xx response
-- (wrk itself counts 3xx as success) and prints one JSON line, prefixed WRK_JSON, at the end.
local paths = {}
local index = 0
local threads = {}
non2xx = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, path in ipairs(args) do paths[i] = path end
  if #paths == 0 then paths[1] = "/" end
  index = math.random(#paths) - 1
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do failed = failed + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, failed,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
