-- Weighted fair dispatch of one shard's lanes (TENANT_LANES; docs/architecture.md, "Tenants,
-- lanes and weighted fair scheduling"). Called by a proxy with its free terminal count `n`:
--   1. reads every lane's group lag (waiting) and pending count (in flight, fleet-wide: the PEL,
--      which a dead pod cannot leak) and sums them per tenant; drops drained lanes (no lag, nothing
--      pending) from the active set and deletes them, so an idle tenant costs nothing;
--   2. n times: picks the backlogged tenant (under its in-flight cap) with the least
--      (inflight + 1) / weight, ties to the name first; within it the lane whose next entry has the
--      earliest virtual time, entry time - (7 - urgency) * agingMs (strict priority, but a less
--      urgent entry older by more than the urgency gap times agingMs goes first: no starvation);
--   3. XREADGROUPs what it picked, COUNT per lane, never more than n in all.
-- Anticipation (hold = 1, when others are waiting): a tenant with requests running, none waiting
-- and fewer in flight than its weighted share of the busy + free terminals keeps one of the n
-- free terminals for a moment: a closed-loop client sends its next request right after its last
-- reply, and without this the terminal that reply freed has already gone to the backlogged
-- tenant (with equal service times, the client would then wait a whole service time each time).
-- The caller waits for the bell at most LANE_HOLD_MS, then dispatches again without holding.
-- All keys share the shard's hash tag. Reply: { bell last id, default lane last id (both only when
-- nothing was read, for the reader's idle XREAD), {tenant, waiting, inflight, ...}, {lane, id,
-- fields, ...} }.
-- KEYS[1] active set; ARGV[1] group; ARGV[2] consumer; ARGV[3] n; ARGV[4] lane key prefix;
-- ARGV[5] default lane (the shard stream); ARGV[6] bell; ARGV[7] max in flight per tenant (0 = off);
-- ARGV[8] agingMs; ARGV[9] hold (0 or 1); ARGV[10] k; ARGV[11..10+2k] tenant, weight pairs.
-- The reply's fifth element is the number of terminals held.
local group, consumer, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
local prefix, defaultLane, bell = ARGV[4], ARGV[5], ARGV[6]
local maxInflight, agingMs = tonumber(ARGV[7]), tonumber(ARGV[8])
local weights = {}
local holding = ARGV[9] == '1'
for index = 11, 10 + 2 * tonumber(ARGV[10]), 2 do weights[ARGV[index]] = tonumber(ARGV[index + 1]) end

local function field(list, name)
  for index = 1, #list, 2 do
    if list[index] == name then return list[index + 1] end
  end
end

-- lag, pending and last-delivered id of the group on `key`; nil when there is no such group.
local function groupState(key)
  -- One call per lane: a missing stream is an error reply, cheaper than asking EXISTS first.
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', key)
  if not ok then return nil end
  for _, info in ipairs(groups) do
    if field(info, 'name') == group then
      local lag = field(info, 'lag')
      if type(lag) ~= 'number' then
        -- Redis cannot tell (entries deleted inside the unread range): added - read.
        local added = tonumber(field(redis.call('XINFO', 'STREAM', key), 'entries-added')) or 0
        local read = tonumber(field(info, 'entries-read')) or 0
        lag = math.max(0, added - read)
      end
      return lag, field(info, 'pending'), field(info, 'last-delivered-id')
    end
  end
  return nil
end

local function idMs(id)
  return tonumber(string.match(id, '^(%d+)-'))
end

-- The id of the first entry after `after` (the next one a read would deliver), or nil.
local function nextId(key, after)
  local range = redis.call('XRANGE', key, '(' .. after, '+', 'COUNT', 1)
  if #range == 0 then return nil end
  return range[1][1]
end

local tenants, order = {}, {}
local function addLane(id, key)
  local tenant, urgency = string.match(id, '^(.+):(%d)$')
  if not tenant then
    redis.call('SREM', KEYS[1], id)
    return
  end
  local lag, pending, last = groupState(key)
  if lag == nil then
    if key ~= defaultLane then redis.call('SREM', KEYS[1], id) end
    return
  end
  if lag == 0 and pending == 0 and key ~= defaultLane then
    redis.call('SREM', KEYS[1], id)
    redis.call('DEL', key)
    return
  end
  local state = tenants[tenant]
  if not state then
    state = { name = tenant, waiting = 0, inflight = 0, weight = weights[tenant] or 1, lanes = {} }
    tenants[tenant] = state
    table.insert(order, tenant)
  end
  state.waiting = state.waiting + lag
  state.inflight = state.inflight + pending
  if lag > 0 then
    table.insert(state.lanes, { key = key, urgency = tonumber(urgency), left = lag, last = last, picks = 0 })
  end
end

addLane('default:3', defaultLane)
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do addLane(id, prefix .. id) end
table.sort(order)
-- Most urgent first: the entries of one read start in urgency order.
for _, name in ipairs(order) do
  table.sort(tenants[name].lanes, function(a, b) return a.urgency < b.urgency end)
end

-- The lane of `state` to take one entry from: the earliest virtual time of its next entry.
local function chooseLane(state)
  local best, bestTime
  local live = 0
  for _, lane in ipairs(state.lanes) do
    if lane.left > 0 then live = live + 1 end
  end
  for _, lane in ipairs(state.lanes) do
    if lane.left > 0 then
      if live == 1 then return lane end
      if lane.head == nil then lane.head = nextId(lane.key, lane.last) or '0-0' end
      local time = idMs(lane.head) - (7 - lane.urgency) * agingMs
      if best == nil or time < bestTime then best, bestTime = lane, time end
    end
  end
  return best
end

-- Terminals kept for anticipated requests (see the top): one per under-share tenant, none waiting.
local held = 0
if holding and n > 0 then
  local busy, totalWeight = 0, 0
  for _, name in ipairs(order) do
    local state = tenants[name]
    busy = busy + state.inflight
    -- Shares are among the tenants with work (the default lane is always looked at, even idle).
    if state.waiting > 0 or state.inflight > 0 then totalWeight = totalWeight + state.weight end
  end
  for _, name in ipairs(order) do
    local state = tenants[name]
    if state.waiting == 0 and state.inflight > 0 and (state.inflight + 1) * totalWeight <= (busy + n) * state.weight then
      held = held + 1
    end
  end
  held = math.min(held, n)
end

for _ = 1, n - held do
  local chosen, score
  for _, name in ipairs(order) do
    local state = tenants[name]
    if state.waiting > 0 and (maxInflight == 0 or state.inflight < maxInflight) then
      local candidate = (state.inflight + 1) / state.weight
      if chosen == nil or candidate < score then chosen, score = state, candidate end
    end
  end
  if chosen == nil then break end
  local lane = chooseLane(chosen)
  if lane == nil then break end
  lane.left = lane.left - 1
  lane.picks = lane.picks + 1
  -- The lane's next entry moves on: the one after the current head.
  if lane.head ~= nil then
    lane.last = lane.head
    lane.head = nil
  end
  chosen.waiting = chosen.waiting - 1
  chosen.inflight = chosen.inflight + 1
end

local counts, entries = {}, {}
for _, name in ipairs(order) do
  local state = tenants[name]
  if state.waiting > 0 or state.inflight > 0 then
    table.insert(counts, name)
    table.insert(counts, state.waiting)
    table.insert(counts, state.inflight)
  end
  for _, lane in ipairs(state.lanes) do
    if lane.picks > 0 then
      local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', lane.picks, 'STREAMS', lane.key, '>')
      if read then
        for _, entry in ipairs(read[1][2]) do
          table.insert(entries, lane.key)
          table.insert(entries, entry[1])
          table.insert(entries, entry[2])
        end
      end
    end
  end
end

local function lastId(key)
  local newest = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  if #newest == 0 then return '0-0' end
  return newest[1][1]
end

-- Held only what someone waiting would have taken.
local waitingLeft = 0
for _, name in ipairs(order) do waitingLeft = waitingLeft + tenants[name].waiting end
if waitingLeft == 0 then held = 0 end
-- n = 0 only counts (the gauges): no read of any entry, no wait to prepare.
if n == 0 or (#entries > 0 and held == 0) then return { '', '', counts, entries, 0 } end
return { lastId(bell), lastId(defaultLane), counts, entries, held }
