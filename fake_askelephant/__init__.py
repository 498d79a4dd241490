"""Offline emulator of the AskElephant public API v2."""

__version__ = "0.1.0"
