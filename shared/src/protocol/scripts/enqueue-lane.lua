-- Adds a request to a lane (TENANT_LANES) other than the shard's default stream, atomically with
-- what makes the lane visible: its consumer group (from 0, when the lane is new), its id in the
-- shard's active set, and a touch of the shard's bell so an idle reader wakes. A lane with work is
-- therefore always in the set, and the dispatch script, which removes drained lanes, never races it.
-- All keys share the shard's hash tag (one slot).
-- KEYS[1] active set; ARGV[1] lane key; ARGV[2] lane id; ARGV[3] group; ARGV[4] bell key;
-- ARGV[5..] fields of the entry.
local lane = ARGV[1]
if redis.call('EXISTS', lane) == 0 then
  redis.call('XGROUP', 'CREATE', lane, ARGV[3], '0', 'MKSTREAM')
end
local id = redis.call('XADD', lane, '*', unpack(ARGV, 5))
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('XADD', ARGV[4], 'MAXLEN', '1', '*', 'b', '1')
return id
