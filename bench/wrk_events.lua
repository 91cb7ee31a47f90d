-- Generates Cartwheel native event requests: each request names one of 50,000 people, so the
-- run exercises identity resolution (new contacts, then returning ones), not one hot row.
-- BATCH=1 posts to /v1/events; BATCH=n > 1 posts n events to /v1/events/batch.
local key = os.getenv("CW_KEY") or ""
local batch = tonumber(os.getenv("BATCH") or "1")
local people = tonumber(os.getenv("PEOPLE") or "50000")
local counter = 0
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }

local function event()
  counter = counter + 1
  return string.format(
    '{"name":"Viewed Product","contact":{"email":"person%d@bench.example"},' ..
    '"properties":{"sku":"TSH-%d","price":29.99,"viewedAt":"2026-04-02T12:00:00Z"}}',
    counter % people, counter % 997)
end

request = function()
  if batch <= 1 then
    return wrk.format("POST", "/v1/events", headers, event())
  end
  local events = {}
  for i = 1, batch do events[i] = event() end
  return wrk.format("POST", "/v1/events/batch", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end
