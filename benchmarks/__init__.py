"""Benchmarks: the emulator side by side with a bare aiohttp app in the same run (`python -m benchmarks`)."""
