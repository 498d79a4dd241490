"""Domain core: state, clock, pipeline and events. Knows nothing of HTTP."""
