"""Built-in library of replayable YAML scenarios."""
