"""monitor: canary analysis against Prometheus, drift report."""
