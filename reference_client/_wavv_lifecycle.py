"""Which WAVV call moment triggers which API call (dialer-flow.md §7).

The AskElephant page's WAVV event table is not public text, so this mapping is ours; the
moment names are descriptive, not WAVV event identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class WavvMoment(StrEnum):
    CALL_STARTED = "call_started"
    CALL_RINGING = "call_ringing"
    CALL_ANSWERED = "call_answered"
    CALL_ENDED_NO_RECORDING = "call_ended_no_recording"
    RECORDING_AVAILABLE = "recording_available"
    CALL_RESYNCED = "call_resynced"
    """An upload retried or the call synced again."""
    DISPOSITION_SAVED = "disposition_saved"
    LEAD_MATCHED_CONTACT = "lead_matched_contact"
    TRANSCRIPT_WEBHOOK = "transcript_webhook"
    ENGAGEMENT_FAILED = "engagement_failed"
    """A ``v1.engagement.updated`` event with ``processing_status`` FAILED."""
    CALL_DELETED = "call_deleted"


class ApiAction(StrEnum):
    NONE = "none"
    CREATE_ENGAGEMENT = "create_engagement"
    """POST /v2/engagements with ``engagement_from_wavv(call)``; store the returned id with the call."""
    REPLACE_ENGAGEMENT_CONTACTS = "replace_engagement_contacts"
    """Optional PUT /v2/engagements/{id}/contacts (lower priority; not in this client)."""
    WAIT_FOR_INSIGHTS = "wait_for_insights"
    """``AskElephantClient.wait_for_insights`` in the background, after acknowledging the webhook."""


@dataclass(frozen=True)
class LifecycleStep:
    moment: WavvMoment
    action: ApiAction
    note: str


_STEPS = (
    LifecycleStep(WavvMoment.CALL_STARTED, ApiAction.NONE, "keep call id, agent and lead"),
    LifecycleStep(WavvMoment.CALL_RINGING, ApiAction.NONE, "keep call id, agent and lead"),
    LifecycleStep(
        WavvMoment.CALL_ANSWERED,
        ApiAction.NONE,
        "optionally resolve the agent once via GET /v2/users?search=<email> (users:read)",
    ),
    LifecycleStep(
        WavvMoment.CALL_ENDED_NO_RECORDING,
        ApiAction.NONE,
        "wait for the recording; with only a diarized transcript, submit transcript_timeline instead",
    ),
    LifecycleStep(
        WavvMoment.RECORDING_AVAILABLE, ApiAction.CREATE_ENGAGEMENT, "201 or 200: store the id with the call"
    ),
    LifecycleStep(
        WavvMoment.CALL_RESYNCED,
        ApiAction.CREATE_ENGAGEMENT,
        "same external_id, so the API answers 200 with the original engagement",
    ),
    LifecycleStep(
        WavvMoment.DISPOSITION_SAVED,
        ApiAction.NONE,
        "no public engagement update; put what is known into the title at submission",
    ),
    LifecycleStep(WavvMoment.LEAD_MATCHED_CONTACT, ApiAction.REPLACE_ENGAGEMENT_CONTACTS, "optional; lower priority"),
    LifecycleStep(
        WavvMoment.TRANSCRIPT_WEBHOOK,
        ApiAction.WAIT_FOR_INSIGHTS,
        "acknowledge first; fetch ?expand=action_items,signals after 30-60 s and show them in the call view",
    ),
    LifecycleStep(
        WavvMoment.ENGAGEMENT_FAILED,
        ApiAction.NONE,
        "show 'analysis failed'; resubmitting the same external_id returns the failed engagement",
    ),
    LifecycleStep(WavvMoment.CALL_DELETED, ApiAction.NONE, "there is no public delete route"),
)

WAVV_LIFECYCLE = MappingProxyType({step.moment: step for step in _STEPS})
"""Every ``WavvMoment`` → the ``LifecycleStep`` saying what to call, if anything."""


def api_action_for(moment: WavvMoment | str) -> LifecycleStep:
    """The step for a WAVV moment; raises ValueError for an unknown moment name."""
    return WAVV_LIFECYCLE[WavvMoment(moment)]
