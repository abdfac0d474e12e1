-- wrk prints this one JSON line at the end of a run (latencies in microseconds).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non_2xx_or_errors": %d, ' ..
    '"p50": %d, "p95": %d, "p99": %d, "min": %d, "max": %d}\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.min, latency.max))
end
