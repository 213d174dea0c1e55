"""Visualization tools: Grad-CAM of an attribute value."""
