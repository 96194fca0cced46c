"""`taigimed pipeline run`: every step with content-hash caching, resume and gate retries.

``taigimed.pipeline.run.run_pipeline(cfg, workdir)`` is the entry point; see docs/pipeline.md.
"""
