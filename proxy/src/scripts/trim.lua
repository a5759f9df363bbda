-- Trims a request stream below the oldest entry that still matters, atomically and on the
-- stream's own node: the oldest pending entry, or, with nothing pending, the entry after the
-- group's last-delivered id. Reading the group and trimming in one script means the bound can
-- never come from another stream or go stale in between (with Redis Cluster the client may route
-- a key-less XINFO to any node). Returns the MINID used, or false when there is nothing to do.
-- KEYS[1] request stream; ARGV[1] group.
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then
  return false
end
local last
for _, group in ipairs(groups) do
  local name, lastDelivered
  for index = 1, #group, 2 do
    if group[index] == 'name' then name = group[index + 1] end
    if group[index] == 'last-delivered-id' then lastDelivered = group[index + 1] end
  end
  if name == ARGV[1] then last = lastDelivered end
end
if not last or last == '0-0' then
  return false
end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
local minId
if summary[1] > 0 then
  minId = summary[2]
else
  local ms, seq = string.match(last, '^(%d+)-(%d+)$')
  minId = ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end
redis.call('XTRIM', KEYS[1], 'MINID', minId)
return minId
