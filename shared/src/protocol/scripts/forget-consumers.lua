-- Removes the consumers of a request stream that own nothing and have been idle longer than a
-- threshold (pods that are gone), never the caller. Deciding and deleting in one script on the
-- stream's own node means a consumer that still holds entries is never deleted (its entries
-- would become unclaimable). Returns the names removed.
-- KEYS[1] request stream; ARGV[1] group; ARGV[2] the calling consumer; ARGV[3] idle threshold (ms).
local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if not ok then
  return {}
end
local removed = {}
for _, consumer in ipairs(consumers) do
  local name, pending, idle
  for index = 1, #consumer, 2 do
    local field = consumer[index]
    if field == 'name' then name = consumer[index + 1] end
    if field == 'pending' then pending = consumer[index + 1] end
    if field == 'idle' then idle = consumer[index + 1] end
  end
  if name ~= ARGV[2] and pending == 0 and idle >= tonumber(ARGV[3]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    table.insert(removed, name)
  end
end
return removed
