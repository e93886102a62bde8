-- Beat's rate limiter: check every limit of one call, then commit all or none, on Redis time.
--
-- KEYS[i]   one key per limit; all carry the same hash tag, so one Cluster slot.
-- ARGV[1]   cost (slots the call takes from every limit)
-- ARGV[2]   '1' to commit when every limit has room, '0' to only look (peek: writes nothing)
-- ARGV[3i], ARGV[3i+1], ARGV[3i+2]   limit i: max grants, window in microseconds, and its mode:
--           '0' sliding, '1' aligned to UTC, 'Z<start in us>' a calendar window starting there
--           (a time zone's day, computed by the caller)
--
-- Sliding limits keep a log (ZSET, score = grant time in us, trimmed on every grant): a grant at
-- s counts while now < s + window. Aligned limits keep a HASH {start, used} for the window that
-- now falls in (start = now - now % window, so whole days are UTC days).
-- Returns {granted 1/0, wait in us until the refusing limit frees enough slots (the longest
-- wait among refusing limits), index of that limit (0 if granted), server time in us}.
-- Times are integer microseconds (below 2^53, exact in Lua's doubles); they go to Redis through
-- %d, since Lua's `..` and Redis' own number formatting may print them in e-notation.

if redis.replicate_commands then redis.replicate_commands() end -- Redis < 5: needed for TIME

local function int(x) return string.format('%d', x) end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local cost = tonumber(ARGV[1])

local function window_start(mode, window)
  if mode == '1' then return now - now % window end
  return tonumber(string.sub(mode, 2))
end

local wait, refused = 0, 0
local seen = {} -- per limit: used slots (aligned) or log length (sliding)

for i = 1, #KEYS do
  local limit, window = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local free_at = now
  if ARGV[3 * i + 2] ~= '0' then
    local start = window_start(ARGV[3 * i + 2], window)
    local state = redis.call('HMGET', KEYS[i], 'start', 'used')
    seen[i] = (tonumber(state[1]) == start) and tonumber(state[2]) or 0
    if seen[i] + cost > limit then free_at = start + window end
  else
    -- The log may still hold expired grants. With k = length + cost - limit, there is room
    -- iff the k-th oldest grant has expired; if not, room comes exactly when it expires.
    seen[i] = redis.call('ZCARD', KEYS[i])
    local k = seen[i] + cost - limit
    if k > 0 then
      local kth = redis.call('ZRANGE', KEYS[i], k - 1, k - 1, 'WITHSCORES')
      free_at = tonumber(kth[2]) + window
    end
  end
  if free_at - now > wait then
    wait, refused = free_at - now, i
  end
end

if refused == 0 and ARGV[2] == '1' then
  local at = int(now)
  for i = 1, #KEYS do
    local window = tonumber(ARGV[3 * i + 1])
    if ARGV[3 * i + 2] ~= '0' then
      local start = window_start(ARGV[3 * i + 2], window)
      redis.call('HSET', KEYS[i], 'start', int(start), 'used', int(seen[i] + cost))
      redis.call('PEXPIRE', KEYS[i], int(math.ceil((start + window - now) / 1000) + 1000))
    else
      local n = seen[i] - redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', int(now - window))
      local entries = {}
      for j = 1, cost do
        -- unique members: within one microsecond n grows with every grant
        entries[2 * j - 1] = at
        entries[2 * j] = at .. ':' .. (n + j)
      end
      redis.call('ZADD', KEYS[i], unpack(entries))
      redis.call('PEXPIRE', KEYS[i], int(math.ceil(window / 1000) + 1))
    end
  end
end

return {refused == 0 and 1 or 0, wait, refused, now}
