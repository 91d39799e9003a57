-- wrk script: each request creates a pod with a unique name (thread id + counter).
-- The admin bearer token comes from BERTH_TOKEN.
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tid
end

function request()
  counter = counter + 1
  local name = "wrk-" .. thread_id .. "-" .. counter
  local body = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"' .. name ..
    '","namespace":"default","labels":{"app":"bench"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36","command":["sleep","3600"],"ports":[{"containerPort":80}]}]}}'
  return wrk.format("POST", "/api/v1/namespaces/default/pods",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BERTH_TOKEN") }, body)
end
