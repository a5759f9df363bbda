-- The fleet-wide rate limit toward the backend: GCRA on one key, by Redis's own clock, so every
-- proxy shares one budget whatever its clock says. The key holds the theoretical arrival time
-- (TAT, epoch ms) of the next token.
-- KEYS[1] the rate-limit key; ARGV[1] emission interval ms (1000 / RATE_LIMIT_RPS);
-- ARGV[2] burst (RATE_LIMIT_BURST, tokens); ARGV[3] tokens wanted (≥ 1), or minus the tokens
-- given back (taken, then not used).
-- Returns {granted, waitMs}: waitMs is how long until one token is free when none was granted.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if wanted < 0 then
  tat = tat + wanted * interval
  if tat <= now then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
  end
  return {0, 0}
end
local ceiling = now + burst * interval
local granted = math.floor((ceiling - tat) / interval + 1e-9)
if granted > wanted then granted = wanted end
if granted <= 0 then
  return {0, math.max(1, math.ceil(tat + interval - ceiling))}
end
tat = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
return {granted, 0}
