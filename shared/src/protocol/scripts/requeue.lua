-- Re-enqueues a request for another attempt, atomically: the copy is added and the original
-- acknowledged in one step, so a crash cannot lose the request or leave it twice in the queue.
-- Only the consumer that holds the original may do it: if the entry is no longer pending for
-- this consumer (someone reclaimed it), nothing happens and nil is returned.
-- KEYS[1] request stream; ARGV[1] group; ARGV[2] consumer; ARGV[3] original id;
-- ARGV[4..] fields of the new entry.
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
if #pending == 0 then
  return false
end
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
return id
