-- Trims a request stream below the oldest entry that still matters, atomically and on the
-- stream's own node: the oldest pending entry, or, with nothing pending, the entry after the
-- group's last-delivered id. Reading the group and trimming in one script means the bound can
-- never come from another stream or go stale in between (with Redis Cluster the client may route
-- a key-less XINFO to any node). Returns the MINID used, or false when there is nothing to do.
-- KEYS[1] request stream; ARGV[1] group; ARGV[2] (optional) entries looked at per window (8 windows a call).
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
if summary[1] > 0 then
  -- One long request pins MINID at its entry, and every entry acknowledged after it would stay.
  -- Delete those (delivered, acknowledged) behind it, a bounded number of windows per call, so the
  -- stream holds O(pending + undelivered) entries however long one request runs. Each window is a
  -- page of live entries; the pending ones among them all lie between its first and last id, so
  -- XPENDING over that id range with the same count lists every one of them. Entries after
  -- last-delivered are undelivered and never touched.
  local page = tonumber(ARGV[2] or '2000')
  local cursor = minId
  for _ = 1, 8 do
    local window = redis.call('XRANGE', KEYS[1], '(' .. cursor, last, 'COUNT', page)
    if #window == 0 then break end
    local held = {}
    local first, final = window[1][1], window[#window][1]
    for _, entry in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], first, final, #window)) do
      held[entry[1]] = true
    end
    local acked = {}
    for _, entry in ipairs(window) do
      if not held[entry[1]] then table.insert(acked, entry[1]) end
    end
    if #acked > 0 then redis.call('XDEL', KEYS[1], unpack(acked)) end
    if #window < page then break end
    cursor = final
  end
end
return minId
