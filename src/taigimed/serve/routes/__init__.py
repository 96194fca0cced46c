"""Thin HTTP and WebSocket routes; the work happens in ``taigimed.serve.generation``."""
