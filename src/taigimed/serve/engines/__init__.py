"""Model engines behind one interface (TGI style): the built-in transformers engine and an
upstream OpenAI-compatible server."""
