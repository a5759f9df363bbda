-- Replays a dead letter, atomically: the request goes back onto a request stream or a tenant's
-- lane (a fresh attempt and deadline, built by the caller), its stored outcome turns back to
-- pending, and only then is the dead letter deleted. If the dead letter is already gone (another
-- operator replayed or deleted it), nothing happens and nil is returned, so one letter is never
-- replayed twice.
-- KEYS[1] dead-letter stream; KEYS[2] request stream or lane; KEYS[3] result key;
-- with a lane, KEYS[4] the shard's active-lane set and KEYS[5] its bell.
-- ARGV[1] dead-letter id; ARGV[2] result TTL in seconds (0: not stored); ARGV[3] pending record;
-- ARGV[4] the consumer group ('' for a request stream); ARGV[5] the lane's id in the active set;
-- ARGV[6..] fields of the new request entry.
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  return false
end
local lane = ARGV[4] ~= ''
if lane then
  -- What makes a lane visible to dispatch, as the ingress's enqueue does: its group (from 0;
  -- BUSYGROUP when it exists), then, after the entry, its id in the active set and the bell.
  local created = redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[4], '0', 'MKSTREAM')
  if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then
    return redis.error_reply(created.err)
  end
end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 6))
if lane then
  redis.call('SADD', KEYS[4], ARGV[5])
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', '1', '*', 'b', '1')
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'EX', ARGV[2])
end
redis.call('XDEL', KEYS[1], ARGV[1])
return id
