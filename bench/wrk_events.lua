-- Generates Cartwheel native event requests: each request names one of 50,000 people, so the
-- run exercises identity resolution (new contacts, then returning ones), not one hot row.
-- BATCH=1 posts to /v1/events; BATCH=n > 1 posts n events to /v1/events/batch.
-- FORMAT=segment posts BATCH tracking-spec messages to /v1/batch instead (the same event, the
-- person as userId, a messageId each as the libraries send), authenticated by CW_WRITE_AUTH.
-- START=n begins the sequence at its n-th event: loads given starts far apart (more events
-- apart than a load sends) view different products of the same people.
local key = os.getenv("CW_KEY") or ""
local batch = tonumber(os.getenv("BATCH") or "1")
local people = tonumber(os.getenv("PEOPLE") or "50000")
local format = os.getenv("FORMAT") or "native"
local counter = tonumber(os.getenv("START") or "0")
local headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
if format == "segment" then
  headers["Authorization"] = os.getenv("CW_WRITE_AUTH") or ""
end
local run = tostring(math.random(1, 1000000000))

local function message()
  counter = counter + 1
  return string.format(
    '{"type":"track","userId":"person%d","event":"Viewed Product","messageId":"%s-%d",' ..
    '"properties":{"sku":"TSH-%d","price":29.99,"viewedAt":"2026-04-02T12:00:00Z"},' ..
    '"context":{"library":{"name":"analytics-python","version":"2.3.0"}},' ..
    '"timestamp":"2026-04-02T12:00:00Z"}',
    counter % people, run, counter, counter % 997)
end

local function event()
  counter = counter + 1
  return string.format(
    '{"name":"Viewed Product","contact":{"email":"person%d@bench.example"},' ..
    '"properties":{"sku":"TSH-%d","price":29.99,"viewedAt":"2026-04-02T12:00:00Z"}}',
    counter % people, counter % 997)
end

request = function()
  if format == "segment" then
    local messages = {}
    for i = 1, batch do messages[i] = message() end
    return wrk.format("POST", "/v1/batch", headers,
      '{"batch":[' .. table.concat(messages, ",") .. '],"sentAt":"2026-04-02T12:00:01Z"}')
  end
  if batch <= 1 then
    return wrk.format("POST", "/v1/events", headers, event())
  end
  local events = {}
  for i = 1, batch do events[i] = event() end
  return wrk.format("POST", "/v1/events/batch", headers, '{"events":[' .. table.concat(events, ",") .. ']}')
end
