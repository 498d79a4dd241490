"""Real audio bytes for media tests: what the emulator's media fetcher (mutagen) reads as a recording."""

from __future__ import annotations

import io
import wave


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """A real, tiny WAV: mono 8-bit silence, so mutagen reads an exact length."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(rate)
        w.writeframes(b"\x80" * int(seconds * rate))
    return buffer.getvalue()
