-- wrk script: POST realistic comments (French and English, ham and spam, many
-- threads, authors and IPs). The site key comes from the KEY environment variable.
local key = os.getenv("KEY")
local counter = 0
-- Each run (START) and each wrk thread numbers its comments apart, so that no
-- e-mail or IP prefix repeats within a minute (runs with the rate limits on).
local start = tonumber(os.getenv("START") or "0")
local threads = 0
setup = function(thread)
  thread:set("thread_offset", threads * 10000000)
  threads = threads + 1
end
local bodies = {
  "Merci pour cet article très clair sur le marché de Noël, j'y serai samedi avec mes enfants.",
  "Je ne suis pas d'accord avec la conclusion : le budget des écoles mérite plus d'attention.",
  "Thank you for this well researched piece about the new bridge, the photos are great.",
  "I disagree with the council's decision, but the article explains both sides fairly.",
  "CLICK HERE to WIN a FREE iPhone!!! http://free-prizes.example/win subscribe to my channel",
  "Check out my channel for cheap followers www.subs4u.example, call 0800 123 456 now!!!",
  "Gagnez de l'argent facilement depuis chez vous, visitez http://argent-facile.example",
  "Bravo à l'équipe de foot pour cette belle victoire, quel match dimanche dernier !",
}
local names = {"Jean", "Marie", "Élodie", "François", "Sam", "Alex", "Chloé", "Lucas"}

local function json_escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

request = function()
  counter = counter + 1
  local n = start + (thread_offset or 0) + counter
  local body = bodies[(n % #bodies) + 1] .. " (" .. n .. ")"
  local payload = string.format(
    '{"thread": {"id": "article-%d", "url": "https://journal.example/a/%d", "title": "Article %d"},'
    .. '"author": {"name": "%s", "email": "reader%d@example.fr"}, "body": "%s",'
    .. '"client": {"ip": "%d.%d.%d.7", "user_agent": "Mozilla/5.0 bench"}}',
    n % 500, n % 500, n % 500, names[(n % #names) + 1], n, json_escape(body),
    10 + math.floor(n / 65536) % 200, math.floor(n / 256) % 256, n % 256)   -- its own /24 per request
  return wrk.format("POST", "/v1/comments",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, payload)
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests": %d, "seconds": %.3f, "p50_ms": %.2f, "p99_ms": %.2f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, errors))
end
