"""Base models: embedded SmolLM2 from PyPI, the tiny random test model, hub ids, local folders."""
