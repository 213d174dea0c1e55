"""Dataset tools: convert and check public datasets, generate the
synthetic catalog."""
