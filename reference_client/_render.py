"""Terminal rendering for the CLI (rich); nothing here talks to the network.

Server-supplied text goes through ``escape`` so a title like "[red]x" is shown, not interpreted.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reference_client._insights import InsightsOutcome, InsightsResult
from reference_client._models import EngagementOut, TranscriptTimelineOut, WebhookEventOut, format_datetime


def engagement_summary(engagement: EngagementOut) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("id", engagement.id),
        ("title", engagement.title),
        ("type", engagement.engagement_type),
        ("status", engagement.processing_status),
        ("start_at", format_datetime(engagement.start_at)),
        ("duration", "-" if engagement.duration_seconds is None else f"{engagement.duration_seconds} s"),
        ("external_url", engagement.external_url or "-"),
        ("owner", engagement.owner_user_id),
    ]
    if engagement.action_items is not None:
        rows.append(("action_items", str(len(engagement.action_items))))
    if engagement.signals is not None:
        rows.append(("signals", str(len(engagement.signals))))
    for key, value in rows:
        table.add_row(key, escape(str(value)))
    return table


def engagement_list(engagements: list[EngagementOut]) -> Table:
    table = Table("id", "status", "updated_at", "title")
    for e in engagements:
        table.add_row(e.id, e.processing_status, format_datetime(e.updated_at), escape(e.title))
    return table


def print_insights(console: Console, result: InsightsResult) -> None:
    """Action items and signals as tables, with a line saying why the wait ended."""
    status = result.engagement.processing_status
    verdicts = {
        InsightsOutcome.READY: "[green]insights ready[/]",
        InsightsOutcome.FINAL: f"[yellow]processing {status}; empty lists mean none[/]",
        InsightsOutcome.TIMED_OUT: "[yellow]deadline passed; insights still pending, showing what exists[/]",
    }
    console.print(f"{verdicts[result.outcome]} after {result.polls} fetch(es)")
    items = Table("action item", "description", "assignee", "due", title="Action items", title_justify="left")
    for item in result.action_items:
        due = format_datetime(item.due_at) if item.due_at else "-"
        items.add_row(escape(item.title), escape(item.description or ""), item.assignee_user_id or "-", due)
    signals = Table("type", "label", "quote", "confidence", title="Signals", title_justify="left")
    for signal in result.signals:
        confidence = "-" if signal.confidence is None else f"{signal.confidence:.2f}"
        signals.add_row(escape(signal.type), escape(signal.label or ""), escape(signal.quote or ""), confidence)
    console.print(items if result.action_items else "[dim]no action items[/]")
    console.print(signals if result.signals else "[dim]no signals[/]")


def print_timeline_excerpt(console: Console, timeline: TranscriptTimelineOut, lines: int = 4) -> None:
    names = {s.speaker_index: s.name or f"speaker {s.speaker_index}" for s in timeline.speakers}
    console.print(f"transcript: {len(timeline.speakers)} speaker(s), {len(timeline.entries)} entries")
    for entry in timeline.entries[:lines]:
        who = escape(names.get(entry.speaker_index, "?"))
        console.print(f"  [dim]{entry.start_seconds:7.1f}s[/] {who}: {escape(entry.text)}")


def event_line(event: WebhookEventOut) -> str:
    obj = event.data.object
    parts = [format_datetime(event.created_at), event.type, str(obj.get("id", "-"))]
    if "processing_status" in obj:
        parts.append(str(obj["processing_status"]))
    if "title" in obj:
        parts.append(repr(obj["title"]))
    return "  ".join(parts)
