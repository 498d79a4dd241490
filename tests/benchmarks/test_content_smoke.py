"""benchmarks/bench_content.py runs end to end on a tiny store (no timing asserted): every engagement's content is
derived, and its baseline builds as many entry dicts as the transcripts hold."""

from __future__ import annotations

import asyncio

from benchmarks.bench_content import filled, measure


def test_content_benchmark_derives_every_engagement() -> None:
    em, engagements = asyncio.run(filled(30))
    result = measure(em, engagements, repeat=1)
    assert result["engagements"] == 30
    assert 14 <= result["entries_per_engagement"] <= 60  # the generator's range of lines per call
    assert result["content_us"] > 0 and result["baseline_us"] > 0 and len(result["repeats_us"]) == 1
    statuses = {e.processing_status for e in engagements}
    assert statuses == {"COMPLETED"}  # content was derived from completed pipelines, not skipped
