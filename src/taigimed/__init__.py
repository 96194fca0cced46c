"""TaigiMed: a Taiwanese Hokkien (Taigi) medical-information LLM and the MLOps system around it."""

__version__ = "0.1.0"
