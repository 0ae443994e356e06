-- wrk's side of bench/api_bench.py: one kind of request, built per request.
-- Arguments after `--`: path, token ("" for none), body, a file of customer ids (one a
-- line), a nonce, and a text every good answer contains. In the body, @CUSTOMER@ becomes a
-- random customer's id and @KEY@ a fresh idempotency key (nonce, thread, count).
-- A good answer: status 200, no "errors", the expected text. At the end one line
-- `WRK {json}` with the figures and one `WRK-SAMPLE` line with a failed answer, if any.

local threads = {}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path, token, template, nonce, expect = args[1], args[2], args[3], args[5], args[6]
  customers = {}
  for id in io.lines(args[4]) do
    customers[#customers + 1] = id
  end
  headers = { ["Content-Type"] = "application/json" }
  if token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  math.randomseed(os.time() * 1000 + number)
  sent, failures, sample = 0, 0, ""
end

function request()
  sent = sent + 1
  local key = nonce .. "-" .. number .. "-" .. sent
  local customer = customers[math.random(#customers)]
  local body = template:gsub("@CUSTOMER@", customer):gsub("@KEY@", key)
  return wrk.format("POST", path, headers, body)
end

function response(status, _, body)
  local good = status == 200 and not body:find('"errors"', 1, true)
    and body:find(expect, 1, true)
  if not good then
    failures = failures + 1
    if sample == "" then
      sample = status .. " " .. body:sub(1, 300):gsub("%s+", " ")
    end
  end
end

function done(summary, latency, _)
  local failed, sample = 0, ""
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
    if sample == "" then
      sample = thread:get("sample")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, '
      .. '"failed": %d, "socket_errors": %d, "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    failed, errors.connect + errors.read + errors.write + errors.timeout, errors.status
  ))
  io.write("WRK-SAMPLE " .. sample .. "\n")
end
