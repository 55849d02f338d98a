"""Live probes, one module each: async, bounded by explicit timeouts, no Textual."""
