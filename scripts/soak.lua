-- The soak's mixed load for wrk (scripts/soak.py): POST, GET, list, PUT with If-Match and
-- DELETE with If-Match, on items each thread creates itself. Run with one connection per
-- thread (-t N -c N), so that each response answers the thread's last request.
--
-- SOAK_RATE (requests per second per thread; 0 = as fast as possible) paces each thread on a
-- fixed schedule, so a slow response does not lower the offered load. Every acknowledged write
-- is appended to SOAK_ACKS .. "-" .. thread number: "C id version", "U id version", "D id";
-- a PUT or DELETE is logged when sent ("P id", "X id") and "R id" notes any other answer, so
-- the check knows which one was still in flight when wrk stopped.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clock, soak_timespec* ts);
]]
local function now_ms()
  local ts = ffi.new("soak_timespec")
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
  table.insert(threads, thread)
end

local rate = tonumber(os.getenv("SOAK_RATE") or "0")
local items = {}   -- { id =, etag =, version = }
local pending = nil
local acks = nil
counts = {}        -- "op status" -> count, read back by done()
local next_at = nil
local body = '{"name":"Soak item","description":"Written by the soak test"}'
local puts = 0

function init(args)
  math.randomseed(thread_number * 7919 + os.time())
  local prefix = os.getenv("SOAK_ACKS")
  if prefix then
    acks = io.open(prefix .. "-" .. thread_number, "a")
  end
end

function delay()
  if rate <= 0 then
    return 0
  end
  local t = now_ms()
  if not next_at then
    next_at = t + math.random() * 1000 / rate
  end
  local wait = next_at - t
  next_at = next_at + 1000 / rate
  if wait < 0 then
    return 0
  end
  return wait
end

local function pick()
  return math.random(#items)
end

function request()
  local r = math.random()
  if #items == 0 or r < 0.20 then
    pending = { op = "post" }
    return wrk.format("POST", "/items", { ["Content-Type"] = "application/json" }, body)
  elseif r < 0.50 then
    local i = pick()
    pending = { op = "get", index = i }
    return wrk.format("GET", "/items/" .. items[i].id)
  elseif r < 0.62 then
    pending = { op = "list" }
    return wrk.format("GET", "/items?limit=20")
  elseif r < 0.88 then
    local i = pick()
    local item = items[i]
    -- One PUT in ten names a version the item has moved past: 412, as expected.
    local stale = item.version > 1 and math.random() < 0.1
    local etag = stale and item.first_etag or item.etag
    pending = { op = stale and "put-stale" or "put", index = i, id = item.id }
    if acks and not stale then acks:write("P ", item.id, "\n") end
    -- A new name each time: a PUT that changes nothing leaves the version as it is.
    puts = puts + 1
    local put_body = string.format('{"name":"Soak item %d.%d","description":"Replaced"}',
      thread_number, puts)
    return wrk.format("PUT", "/items/" .. item.id,
      { ["Content-Type"] = "application/json", ["If-Match"] = etag }, put_body)
  else
    local i = pick()
    local item = items[i]
    pending = { op = "delete", index = i, id = item.id }
    if acks then acks:write("X ", item.id, "\n") end
    return wrk.format("DELETE", "/items/" .. item.id, { ["If-Match"] = item.etag })
  end
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if string.lower(k) == name then
      return v
    end
  end
  return nil
end

function response(status, headers, resp_body)
  local p = pending
  pending = nil
  if not p then
    return
  end
  local key = p.op .. " " .. status
  counts[key] = (counts[key] or 0) + 1
  if p.op == "post" and status == 201 then
    local id = string.match(resp_body, '"id":"([^"]+)"')
    local version = tonumber(string.match(resp_body, '"version":(%d+)'))
    local etag = header(headers, "etag")
    if id and version and etag then
      table.insert(items, { id = id, etag = etag, first_etag = etag, version = version })
      if acks then acks:write("C ", id, " ", version, "\n") end
    end
  elseif p.op == "put" and status == 200 then
    local item = items[p.index]
    if item and item.id == p.id then
      item.version = tonumber(string.match(resp_body, '"version":(%d+)')) or item.version
      item.etag = header(headers, "etag") or item.etag
      if acks then acks:write("U ", item.id, " ", item.version, "\n") end
    end
  elseif p.op == "delete" and status == 200 then
    local item = items[p.index]
    if item and item.id == p.id then
      items[p.index] = items[#items]
      items[#items] = nil
      if acks then acks:write("D ", p.id, "\n") end
    end
  end
  if acks and (p.op == "put" or p.op == "delete") and status ~= 200 then
    acks:write("R ", p.id, "\n")
  end
  -- Keep each thread's working set small, so GETs and PUTs hit recent items.
  if #items > 200 then
    table.remove(items, 1)
  end
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    if c then
      for k, v in pairs(c) do
        merged[k] = (merged[k] or 0) + v
      end
    end
  end
  local parts = {}
  for k, v in pairs(merged) do
    table.insert(parts, string.format('"%s":%d', k, v))
  end
  io.write(string.format(
    'SOAK {"requests":%d,"seconds":%.3f,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},' ..
    '"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"statuses":{%s}}\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, table.concat(parts, ",")))
end
