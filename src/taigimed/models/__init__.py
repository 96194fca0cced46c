"""Base models: the embedded SmolLM2 pulled from PyPI, the tiny random test model, hub ids and local folders."""
