-- Signed, Ecwid-shaped webhooks for wrk, each with a fresh eventId.
--   wrk … -s ingest.lua <url> -- <client secret> <templates file> <eventId prefix, 8 hex>
-- The templates file (written by bench/lib/ingest-templates.ts) holds one webhook per line:
-- `path<TAB>body after "eventCreated":`, the body of buildWebhook with eventId and eventCreated
-- cut off. Each request signs `${eventCreated}.${eventId}` with HMAC-SHA256 through OpenSSL,
-- which wrk is linked with (LuaJIT's FFI), so signing costs about a microsecond.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local report = dofile(here .. "report.lua")
local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len, const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
]]
local C = ffi.C
local sha256 = C.EVP_sha256()
local mac = ffi.new("unsigned char[32]")
local mac_len = ffi.new("unsigned int[1]")
local b64 = ffi.new("unsigned char[48]")

local secret, prefix
local templates = {}
local counter = 0
local headers = {}
local next_thread = 0

function setup(thread)
  report.setup(thread)
  -- Each thread its own eventId space: thread index in the id.
  thread:set("thread_tag", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  secret, prefix = args[1], args[3]
  for line in io.lines(args[2]) do
    local path, rest = line:match("^([^\t]+)\t(.+)$")
    templates[#templates + 1] = { path = path, rest = rest }
  end
  assert(#templates > 0, "no templates in " .. args[2])
  headers["Host"] = wrk.headers["Host"]
  headers["Content-Type"] = "application/json; charset=UTF-8"
end

local created, created_at_counter = 0, -math.huge

function request()
  report.on_request()
  counter = counter + 1
  if counter - created_at_counter >= 256 then
    created, created_at_counter = os.time(), counter
  end
  -- thread_tag: a global set by setup() in the main state (thread:set), before init().
  local event_id = string.format("%s-%04x-4000-8000-%012x", prefix, thread_tag, counter)
  local signed = created .. "." .. event_id
  C.HMAC(sha256, secret, #secret, signed, #signed, mac, mac_len)
  headers["X-Ecwid-Webhook-Signature"] = ffi.string(b64, C.EVP_EncodeBlock(b64, mac, 32))
  local t = templates[(counter - 1) % #templates + 1]
  return wrk.format("POST", t.path, headers, '{"eventId":"' .. event_id .. '","eventCreated":' .. created .. t.rest)
end

function done(summary, latency, requests)
  report.done(summary, latency)
end
