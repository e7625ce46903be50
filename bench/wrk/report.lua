-- Shared by the wrk scripts of bench/: measures wrk's own CPU and prints one machine-readable
-- line at the end, which bench/lib/run-wrk.ts parses. Loaded with dofile() by each script.
local report = {}

-- utime + stime of a /proc stat file, in clock ticks (fields 14 and 15; the command name in
-- field 2 may hold spaces, so count from the last ')').
function report.cpu_ticks(path)
  local f = io.open(path, "r")
  if not f then return 0 end
  local stat = f:read("*a")
  f:close()
  local rest = stat:sub(stat:find("%)[^)]*$") + 2)
  local fields = {}
  for field in rest:gmatch("%S+") do fields[#fields + 1] = field end
  -- rest starts at field 3 (state), so utime (14) is rest's 12th, stime (15) its 13th.
  return tonumber(fields[12]) + tonumber(fields[13])
end

local threads = {}

-- Main state: keep every thread so done() can read the globals it set.
function report.setup(thread)
  threads[#threads + 1] = thread
end

-- Worker state: call on every request; the first call notes the process's CPU time so far
-- (wrk's start-up, e.g. reading templates, is not the run's load).
function report.on_request()
  if started_ticks == nil then
    started_ticks = report.cpu_ticks("/proc/self/stat")
  end
  sent = (sent or 0) + 1
end

local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
end

-- Main state: one line, `WRK_RESULT {json}`, with the summary, percentiles (µs), wrk's CPU
-- (ticks since the first request of the earliest thread) and what each thread sent.
function report.done(summary, latency, extra)
  local ticks_now = report.cpu_ticks("/proc/self/stat")
  local first
  local per_thread = {}
  for _, thread in ipairs(threads) do
    local t = thread:get("started_ticks")
    if t and (first == nil or t < first) then first = t end
    per_thread[#per_thread + 1] = tostring(thread:get("sent") or 0)
  end
  local e = summary.errors
  local parts = {
    '"durationUs":' .. summary.duration,
    '"requests":' .. summary.requests,
    '"bytes":' .. summary.bytes,
    '"errors":{"connect":' .. e.connect .. ',"read":' .. e.read .. ',"write":' .. e.write ..
      ',"status":' .. e.status .. ',"timeout":' .. e.timeout .. '}',
    '"latencyUs":{"mean":' .. latency.mean .. ',"max":' .. latency.max ..
      ',"p50":' .. latency:percentile(50) .. ',"p90":' .. latency:percentile(90) ..
      ',"p99":' .. latency:percentile(99) .. ',"p999":' .. latency:percentile(99.9) .. '}',
    '"cpuTicks":' .. (ticks_now - (first or ticks_now)),
    '"sentPerThread":[' .. table.concat(per_thread, ",") .. ']',
  }
  for name, value in pairs(extra or {}) do
    parts[#parts + 1] = json_string(name) .. ':' .. json_string(value)
  end
  io.write("WRK_RESULT {" .. table.concat(parts, ",") .. "}\n")
end

return report
