"""HTTP edge: aiohttp handlers, wire models, problem+json."""
