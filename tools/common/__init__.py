"""Helpers shared by several tools (command-line options, benchmark
setup); not tools themselves."""
