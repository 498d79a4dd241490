"""The inspector web page (/__admin/ui): static assets shipped as package data, and the history it shows."""
