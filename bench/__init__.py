"""`make bench`: throughput, latency and query counts against the load data."""
