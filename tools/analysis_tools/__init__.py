"""Analysis tools: metric tables, PR curves, thresholds, benchmarks."""
