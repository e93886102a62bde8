-- Beat's rate limiter, read-only: how much of each limit is used now, on Redis time (the same
-- keys and state as ratelimit.lua; writes nothing).
--
-- KEYS[i]   one key per limit
-- ARGV[2i-1], ARGV[2i]   limit i: window in microseconds, and its mode ('0' sliding, '1'
--                        aligned to UTC, 'Z<start in us>' a calendar window starting there)
-- Returns {server time in us, then per limit: used slots, and when the window resets (aligned)
-- or the oldest counted grant expires (sliding; 0 when none is counted)}.

if redis.replicate_commands then redis.replicate_commands() end

local function int(x) return string.format('%d', x) end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local reply = {now}

for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i - 1])
  local used, frees = 0, 0
  local mode = ARGV[2 * i]
  if mode ~= '0' then
    local start = mode == '1' and (now - now % window) or tonumber(string.sub(mode, 2))
    local state = redis.call('HMGET', KEYS[i], 'start', 'used')
    if tonumber(state[1]) == start then used = tonumber(state[2]) end
    frees = start + window
  else
    local counted = redis.call('ZRANGEBYSCORE', KEYS[i], '(' .. int(now - window), '+inf',
                               'WITHSCORES', 'LIMIT', 0, 1)
    used = redis.call('ZCOUNT', KEYS[i], '(' .. int(now - window), '+inf')
    if #counted > 0 then frees = tonumber(counted[2]) + window end
  end
  reply[#reply + 1] = used
  reply[#reply + 1] = frees
end

return reply
