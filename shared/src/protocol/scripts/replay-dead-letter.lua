-- Replays a dead letter, atomically: the request goes back onto a request stream (a fresh attempt
-- and deadline, built by the caller), its stored outcome turns back to pending, and only then is
-- the dead letter deleted. If the dead letter is already gone (another operator replayed or
-- deleted it), nothing happens and nil is returned, so one letter is never replayed twice.
-- KEYS[1] dead-letter stream; KEYS[2] request stream; KEYS[3] result key.
-- ARGV[1] dead-letter id; ARGV[2] result TTL in seconds (0: not stored); ARGV[3] pending record;
-- ARGV[4..] fields of the new request entry.
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return false
end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[2])
end
redis.call('XDEL', KEYS[1], ARGV[1])
return id
