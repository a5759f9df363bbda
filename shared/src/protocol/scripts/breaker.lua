-- The fleet's circuit breaker toward the backend, on one hash, by Redis's clock.
-- Fields: state (0 closed, 1 half-open, 2 open), until (epoch ms the open state ends), start, ok,
-- fail (the closed state's current window), second, probes (probes granted in that second),
-- good (probe successes while half-open).
-- KEYS[1] the breaker key. ARGV[1] op: 'read' | 'report' | 'probe' | 'giveback'.
-- report: ARGV[2] ok calls, ARGV[3] failed calls, ARGV[4] window ms, ARGV[5] minimum calls,
--         ARGV[6] failure rate percent, ARGV[7] open ms, ARGV[8] probes needed to close.
-- probe:  ARGV[2] probes wanted, ARGV[3] probes per second.
-- giveback: ARGV[2] probes granted this second that made no call (their request had expired).
-- Returns {state, ms left open, probes granted}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local h = redis.call('HGETALL', KEYS[1])
local s = {}
for i = 1, #h, 2 do s[h[i]] = tonumber(h[i + 1]) end
local state = s.state or 0
local untilMs = s['until'] or 0
local op = ARGV[1]
local granted = 0
local changed = false

if state == 2 and now >= untilMs then
  state = 1; s.good = 0; s.second = 0; s.probes = 0; changed = true
end

if op == 'report' then
  local ok, fail = tonumber(ARGV[2]), tonumber(ARGV[3])
  local windowMs, minCalls, rate = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
  local openMs, needed = tonumber(ARGV[7]), tonumber(ARGV[8])
  if state == 0 then
    if now - (s.start or 0) >= windowMs then s.start = now; s.ok = 0; s.fail = 0 end
    s.ok = (s.ok or 0) + ok
    s.fail = (s.fail or 0) + fail
    local calls = s.ok + s.fail
    if calls >= minCalls and s.fail * 100 >= rate * calls then
      state = 2; untilMs = now + openMs
    end
  elseif state == 1 then
    if fail > 0 then
      state = 2; untilMs = now + openMs
    elseif ok > 0 then
      s.good = (s.good or 0) + ok
      if s.good >= needed then state = 0; s.start = now; s.ok = 0; s.fail = 0 end
    end
  end
  -- While open, reports are of calls that started before it opened: ignored.
  changed = true
  redis.call('PEXPIRE', KEYS[1], math.max(windowMs, openMs) * 10)
elseif op == 'probe' and state == 1 then
  local second = math.floor(now / 1000)
  if s.second ~= second then s.second = second; s.probes = 0 end
  granted = math.max(0, math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - (s.probes or 0)))
  s.probes = (s.probes or 0) + granted
  changed = true
end

if op == 'giveback' and state == 1 and s.second == math.floor(now / 1000) then
  s.probes = math.max(0, (s.probes or 0) - tonumber(ARGV[2]))
  changed = true
end

if changed then
  redis.call('HSET', KEYS[1], 'state', state, 'until', untilMs, 'start', s.start or now,
    'ok', s.ok or 0, 'fail', s.fail or 0, 'second', s.second or 0, 'probes', s.probes or 0,
    'good', s.good or 0)
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], 3600000) end
end
local left = 0
if state == 2 then left = untilMs - now end
return {state, left, granted}
