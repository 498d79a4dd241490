"""The inspector web page (/__admin/ui): static assets shipped as package data (index.html, *.js, inspector.css),
and history.py, one engagement's causal history. Its routes are api/admin/inspector.py."""
