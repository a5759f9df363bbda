-- The fleet-wide pause toward the backend (429 / 503 + Retry-After): only ever lengthened, so a
-- short Retry-After from one call cannot cut a longer one from another.
-- KEYS[1] the pause key; ARGV[1] pause length, ms. Returns the pause left, ms.
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[1])
if left < wanted then
  redis.call('SET', KEYS[1], '1', 'PX', wanted)
  return wanted
end
return left
