"""Hypothesis strategies written from the spec: create payloads, URLs, query parameters, webhook events."""
