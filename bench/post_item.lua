-- POST /items with a fixed valid body: every request creates a new, durable item.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")

wrk.method = "POST"
wrk.body = '{"name":"Bench Item","description":"Created by wrk for the POST benchmark"}'
wrk.headers["Content-Type"] = "application/json"
