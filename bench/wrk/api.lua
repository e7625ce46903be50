-- Query-API requests for wrk: get-by-id of a random order, or the first page of 100 PAID
-- orders, newest first, before a random time (list-fulfillment: 100 SHIPPED ones).
--   wrk … -s api.lua <url> -- <get-by-id|list|list-fulfillment> <storeId> <api key> <orders> <first created, ms> <seed>
-- Orders are O1 … O<orders>, created 90 s apart from <first created>.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local report = dofile(here .. "report.lua")

local kind, filter, base, orders, first_created_s
local headers = {}
local next_thread = 0

function setup(thread)
  report.setup(thread)
  thread:set("thread_tag", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  kind = args[1]
  assert(kind == "get-by-id" or kind == "list" or kind == "list-fulfillment", "kind must be get-by-id, list or list-fulfillment")
  filter = kind == "list" and "paymentStatus=PAID" or "fulfillmentStatus=SHIPPED"
  base = "/v1/stores/" .. args[2] .. "/orders"
  headers["Host"] = wrk.headers["Host"]
  headers["Authorization"] = "Bearer " .. args[3]
  orders = tonumber(args[4])
  first_created_s = math.floor(tonumber(args[5]) / 1000)
  math.randomseed(tonumber(args[6]) * 1000 + (thread_tag or 0))
end

function request()
  report.on_request()
  local n = math.random(1, orders)
  local path
  if kind == "get-by-id" then
    path = base .. "/O" .. n
  else
    path = base .. "?" .. filter .. "&sort=-createdAt&limit=100&createdTo=" ..
      os.date("!%Y-%m-%dT%H:%M:%S.000Z", first_created_s + n * 90)
  end
  return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
  report.done(summary, latency)
end
