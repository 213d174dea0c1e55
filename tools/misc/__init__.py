"""Miscellaneous tools: attribute extraction on images."""
