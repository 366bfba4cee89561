#include "broker/redis_scripts.hpp"

#include <openssl/evp.h>

namespace huddle::broker {

namespace {

// Drops a room's history entries written before `cutoff` (ms, Redis's clock, field 't'; entries
// without it count as old). Entries are in time order: one clock, Redis's, stamped them all.
constexpr std::string_view kDropOlder = R"lua(
local function drop_older(log, cutoff)
  local from, count = '-', 1
  while true do
    local batch = redis.call('XRANGE', log, from, '+', 'COUNT', count)
    for i, entry in ipairs(batch) do
      local fields, t = entry[2], 0
      for f = 1, #fields, 2 do
        if fields[f] == 't' then t = tonumber(fields[f + 1]) end
      end
      if t >= cutoff then
        if from ~= '-' or i > 1 then redis.call('XTRIM', log, 'MINID', entry[1]) end
        return
      end
    end
    if #batch < count then
      if #batch > 0 or from ~= '-' then redis.call('XTRIM', log, 'MAXLEN', 0) end
      return
    end
    from, count = '(' .. batch[#batch][1], 100
  end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
)lua";

// The envelope header is built here as in envelope.cpp: "h1 <offset> <epoch> <origin>\n".
constexpr std::string_view kPublish = R"lua(
local meta, log, channel, idem = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if ARGV[6] == '1' then
  local seen = redis.call('GET', idem)
  if seen then
    return {'dup', seen, redis.call('HGET', meta, 'epoch') or ''}
  end
end
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  -- A new room, or its history is gone (Redis lost it): a new epoch tells clients to resync.
  epoch = ARGV[1]
  redis.call('DEL', log)
  redis.call('HSET', meta, 'epoch', epoch, 'last', 0)
end
local offset = redis.call('HINCRBY', meta, 'last', 1)
local now = now_ms()
redis.call('XADD', log, 'MAXLEN', '~', ARGV[4], offset .. '-0', 'p', ARGV[3], 't', now)
if tonumber(ARGV[7]) > 0 then
  drop_older(log, now - tonumber(ARGV[7]))
end
if ARGV[6] == '1' then
  redis.call('SET', idem, offset, 'EX', ARGV[5])
end
redis.call('PUBLISH', channel, 'h1 ' .. offset .. ' ' .. epoch .. ' ' .. ARGV[2] .. '\n' .. ARGV[3])
return {'ok', offset, epoch}
)lua";

constexpr std::string_view kHistory = R"lua(
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'last')
if not meta[1] then
  return {'', '0', '0', {}}
end
if tonumber(ARGV[3]) > 0 then
  drop_older(KEYS[2], now_ms() - tonumber(ARGV[3]))
end
local oldest = '0'
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #first > 0 then
  oldest = first[1][1]
end
local entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-0', '+', 'COUNT', ARGV[2])
return {meta[1], meta[2], oldest, entries}
)lua";

constexpr std::string_view kPresenceSet = R"lua(
local field = ARGV[1] .. ' ' .. ARGV[2]
local old = tonumber(redis.call('HGET', KEYS[2], field) or '0')
local new = tonumber(ARGV[3])
local after = redis.call('HINCRBY', KEYS[3], ARGV[2], new - old)
local before = after - (new - old)
if new == 0 then
  redis.call('HDEL', KEYS[2], field)
else
  redis.call('HSET', KEYS[2], field, new)
  redis.call('SADD', KEYS[5], ARGV[5])
end
if after <= 0 then
  redis.call('HDEL', KEYS[3], ARGV[2])
  redis.call('HDEL', KEYS[4], ARGV[2])
  after = 0
elseif ARGV[4] ~= '' then
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
end
if before < 0 then
  before = 0
end
return {before, after}
)lua";

constexpr std::string_view kPresenceList = R"lua(
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
)lua";

constexpr std::string_view kHeartbeat = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('SET', KEYS[2], now, 'PX', ARGV[2])
local lost = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], node)
  local rooms_key = ARGV[3] .. ':noderooms:' .. node
  local start = node .. ' '
  for _, room in ipairs(redis.call('SMEMBERS', rooms_key)) do
    local base = ARGV[3] .. ':{' .. room .. '}:'
    local flat = redis.call('HGETALL', base .. 'pnode')
    local gone = {room}
    for i = 1, #flat, 2 do
      if string.sub(flat[i], 1, #start) == start then
        local user = string.sub(flat[i], #start + 1)
        redis.call('HDEL', base .. 'pnode', flat[i])
        local left = redis.call('HINCRBY', base .. 'puser', user, -tonumber(flat[i + 1]))
        if left <= 0 then
          redis.call('HDEL', base .. 'puser', user)
          redis.call('HDEL', base .. 'pinfo', user)
          table.insert(gone, user)
        end
      end
    end
    if #gone > 1 then
      table.insert(lost, gone)
    end
  end
  redis.call('DEL', rooms_key)
end
return {added, lost}
)lua";

constexpr std::string_view kLiveNodes = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
)lua";

std::string sha1_hex(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha1(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < size; ++i) {
        hex += kHex[digest[i] >> 4];
        hex += kHex[digest[i] & 15];
    }
    return hex;
}

}  // namespace

RedisScript make_script(std::string body) {
    RedisScript script{std::move(body), {}};
    script.sha1 = sha1_hex(script.body);
    return script;
}

const RedisScript& publish_script() {
    static const RedisScript script = make_script(std::string(kDropOlder) + std::string(kPublish));
    return script;
}
const RedisScript& history_script() {
    static const RedisScript script = make_script(std::string(kDropOlder) + std::string(kHistory));
    return script;
}
const RedisScript& presence_set_script() {
    static const RedisScript script = make_script(std::string(kPresenceSet));
    return script;
}
const RedisScript& presence_list_script() {
    static const RedisScript script = make_script(std::string(kPresenceList));
    return script;
}
const RedisScript& heartbeat_script() {
    static const RedisScript script = make_script(std::string(kHeartbeat));
    return script;
}

const RedisScript& live_nodes_script() {
    static const RedisScript script = make_script(std::string(kLiveNodes));
    return script;
}

}  // namespace huddle::broker
