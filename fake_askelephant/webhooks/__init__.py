"""Svix-compatible webhook delivery: endpoints, signing, retries on the virtual clock, sink, hazards."""
