"""Small programs the benchmarks run in fresh processes: sff and hand-written, same work."""
