-- Requests for bench/bench.py (`wrk -s bench/wrk.lua`), chosen by environment variables:
--   BENCH_MODE      get (default) | eligibility | settlement
--   BENCH_TOKEN     bearer token sent on every request (optional)
--   BENCH_IDS_FILE  resident ID numbers, one a line, used round-robin by the POST modes
--   BENCH_HOSPITAL, BENCH_DISCHARGED_ON, BENCH_RUN   settlement body: hospital, date, run prefix of encounter ids
-- When done it prints one line `BENCH_JSON {...}`: counts, socket errors, latency percentiles, statuses seen.

local mode = os.getenv("BENCH_MODE") or "get"
local token = os.getenv("BENCH_TOKEN")
local hospital = os.getenv("BENCH_HOSPITAL") or ""
local discharged = os.getenv("BENCH_DISCHARGED_ON") or "2020-06-30"
local run = os.getenv("BENCH_RUN") or "run"

if token then wrk.headers["Authorization"] = "Bearer " .. token end
if mode ~= "get" then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local ids = {}
local counter = 0
statuses = {}   -- global: read by done() through thread:get
sample = nil    -- the first answer that was not 2xx (status and start of the body)
tid = 0

local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  threads[#threads + 1] = thread
end

function init(args)
  local path = os.getenv("BENCH_IDS_FILE")
  if path then
    for line in io.lines(path) do
      if line ~= "" then ids[#ids + 1] = line end
    end
  end
end

function request()
  if mode == "get" then
    return wrk.format()
  end
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  if mode == "eligibility" then
    return wrk.format(nil, nil, nil, '{"id_number":"' .. id .. '"}')
  end
  local body = string.format(
    '{"encounter_id":"B-%s-%d-%d","id_number":"%s","hospital_code":"%s","total_cost":"5200.00",' ..
    '"eligible_cost":"5000.00","diagnoses":["J18.9"],"discharged_on":"%s"}',
    run, tid, counter, id, hospital, discharged)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and sample == nil then
    sample = tostring(status) .. " " .. string.sub(body or "", 1, 300)
  end
end

local function json_string(s)
  return '"' .. string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local merged, first = {}, nil
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses")
    if seen then
      for status, count in pairs(seen) do
        merged[tostring(status)] = (merged[tostring(status)] or 0) + count
      end
    end
    first = first or thread:get("sample")
  end
  local parts = {}
  for status, count in pairs(merged) do parts[#parts + 1] = string.format('"%s":%d', status, count) end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"statuses":{%s},"sample":%s}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    table.concat(parts, ","), first and json_string(first) or "null"))
end
