"""Deployment tools: ONNX export."""
