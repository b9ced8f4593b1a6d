-- GET of whatever URL wrk is given (nginx's fixed body, GET /items/{id}).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
