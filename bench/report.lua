-- Shared by every wrk run of scripts/bench.sh: one machine-readable summary line at the end, a
-- JSON object after "BENCH_RESULT ", so the script never parses wrk's human units (us/ms/s,
-- k/M). wrk counts an answer of 400 or more as a status error (`non2xx`); our routes answer
-- 200 or 201 here, and nginx 200, so any other count means the run failed.
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"rps": %.1f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"requests": %d, "non2xx": %d, "socket_errors": %d, "seconds": %.3f}\n',
    summary.requests / seconds, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, seconds))
end
