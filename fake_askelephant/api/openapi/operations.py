"""What the generator cannot read off a route: its models, query parameters and the statuses it can answer.

One `Operation` per public route, keyed by the handler's name (which is also the operationId). The generator
walks the app's router, so a served route without an entry here, or an entry without a route, fails
`tests/emulator/test_openapi_document.py` with the route named. Query parameters are built from the same
constants the parsers in queries.py, listing.py and crm_filters.py use.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ...core.crm import CRM_OBJECT_TYPES, MAX_CRM_ENTRIES
from ...core.models import ENGAGEMENT_TYPES, PROCESSING_STATUSES
from ...core.paging import DEFAULT_LIMIT, DEFAULT_ORDER, MAX_LIMIT, ORDERS
from ...core.records import dataclass
from .. import schemas as body
from ..queries import ENGAGEMENT_FILTERS, EXPANDS, MAX_CRM_ID, MAX_IN, SCOPED_ENGAGEMENT_FILTERS
from . import resources as out
from .patterns import DOMAIN_PATTERN, REQUEST_DATETIME_PATTERN, id_pattern


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict[str, Any]
    description: str = ""
    explode: bool | None = None
    location: str = "query"
    content: bool = False  # JSON text (OpenAPI `content`), not a plain value


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    status: int  # the success status
    response: type[BaseModel] | None  # None: no body (204)
    body: type[BaseModel] | None = None
    form: bool = False  # body form-encoded (OAuth), not JSON
    query: tuple[Param, ...] = ()
    errors: tuple[int, ...] = ()  # beyond the ones every route of its kind can answer
    replay: bool = False  # 200 with the same resource when the idempotency key repeats
    conditional: bool = False  # ETag, and 304 for a matching If-None-Match
    location: bool = False  # Location header on the success status
    public: bool = False  # no credential (the token endpoint)
    description: str = ""


def _range(fld: str, ops: tuple[str, ...]) -> tuple[Param, ...]:
    return tuple(
        Param(
            f"filter[{fld}][{op}]",
            {"type": "string", "format": "date-time", "pattern": REQUEST_DATETIME_PATTERN},
            f"{fld} {op} this instant (ISO-8601 with Z or an offset).",
        )
        for op in ops
    )


def _enum_filter(fld: str, values: tuple[str, ...]) -> tuple[Param, ...]:
    return (
        Param(f"filter[{fld}][eq]", {"type": "string", "enum": list(values)}),
        Param(
            f"filter[{fld}][in]",
            {"type": "array", "items": {"type": "string", "enum": list(values)}, "minItems": 1},
            "Comma-separated.",
            explode=False,
        ),
    )


def _id_filter(fld: str, prefix: str) -> tuple[Param, ...]:
    item = {"type": "string", "pattern": id_pattern(prefix)}
    return (
        Param(f"filter[{fld}][eq]", item),
        Param(
            f"filter[{fld}][in]",
            {"type": "array", "items": item, "maxItems": MAX_IN},
            f"Comma-separated, at most {MAX_IN}.",
            explode=False,
        ),
    )


PAGING = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}),
    Param(
        "cursor",
        {"type": "string"},
        "The next_cursor of the previous page; only values the API issued are valid (others: 400); empty: none.",
    ),
    Param("order_by", {"type": "string", "enum": list(ORDERS), "default": DEFAULT_ORDER}),
)
SEARCH = Param("search", {"type": "string"}, "Case-insensitive substring match.")
UPDATED_AT = _range("updated_at", ("gt", "gte", "lt", "lte"))


def _crm(types: tuple[str, ...]) -> Param:
    entry = {
        "type": "object",
        "required": ["id", "object_type"],
        "properties": {
            "id": {
                "anyOf": [{"type": "string", "minLength": 1, "maxLength": MAX_CRM_ID}, {"type": "integer"}],
                "description": "The CRM's id of the record (a number is read as its decimal text).",
            },
            "object_type": {"type": "string", "enum": list(types)},
        },
        "additionalProperties": False,
    }
    return Param(
        "filter[crm_associations][eq]",
        {"type": "array", "items": entry, "maxItems": MAX_CRM_ENTRIES},
        "CRM associations as a JSON array; the indexed form "
        "filter[crm_associations][eq][0][id]=…&filter[crm_associations][eq][0][object_type]=… is accepted too.",
        content=True,
    )


def _expand(name: str = "expand") -> Param:
    return Param(
        name,
        {"type": "array", "items": {"type": "string", "enum": list(EXPANDS)}},
        "Comma-separated; companies, contacts and owner need companies:read, contacts:read, users:read.",
        explode=False,
    )


ENGAGEMENT_QUERY = (
    *PAGING,
    SEARCH,
    *_enum_filter("engagement_type", ENGAGEMENT_TYPES),
    *_enum_filter("processing_status", PROCESSING_STATUSES),
    *_id_filter("company_ids", "cmp"),
    *_id_filter("contact_ids", "cnt"),
    *_range("start_at", ENGAGEMENT_FILTERS["start_at"]),
    *_range("updated_at", ENGAGEMENT_FILTERS["updated_at"]),
    _crm(CRM_OBJECT_TYPES),
    _expand(),
)

# A contact's or company's engagements: the engagement list's query without the id and CRM filters.
SCOPED_ENGAGEMENT_QUERY = (
    *PAGING,
    SEARCH,
    *_enum_filter("engagement_type", ENGAGEMENT_TYPES),
    *_enum_filter("processing_status", PROCESSING_STATUSES),
    *_range("start_at", SCOPED_ENGAGEMENT_FILTERS["start_at"]),
    *_range("updated_at", SCOPED_ENGAGEMENT_FILTERS["updated_at"]),
    _expand(),
)

ENGAGEMENTS, CONTACTS, COMPANIES, USERS, TAGS, COMMENTS, OAUTH = (
    "Engagements",
    "Contacts",
    "Companies",
    "Users",
    "Tags",
    "Transcript comments",
    "OAuth",
)

OPERATIONS: dict[str, Operation] = {
    "create_engagement": Operation(
        "Submit a call or meeting; external_id makes retries safe (201 new, 200 replay).",
        ENGAGEMENTS,
        201,
        out.Engagement,
        body=body.EngagementCreateIn,
        replay=True,
        location=True,
    ),
    "list_engagements": Operation(
        "List engagements, newest update first by default.",
        ENGAGEMENTS,
        200,
        out.EngagementList,
        query=ENGAGEMENT_QUERY,
    ),
    "get_engagement": Operation(
        "Retrieve an engagement, with the expansions asked for.",
        ENGAGEMENTS,
        200,
        out.Engagement,
        query=(_expand(),),
        errors=(404,),
        conditional=True,
    ),
    "get_transcript_timeline": Operation(
        "The transcript timeline: speakers and timed entries (404 until transcribed).",
        ENGAGEMENTS,
        200,
        out.TranscriptTimeline,
        errors=(404,),
    ),
    "replace_engagement_contacts": Operation(
        "Replace the engagement's contacts (422 names an id that is no contact of the workspace).",
        ENGAGEMENTS,
        200,
        out.Engagement,
        body=body.ReplaceContactsIn,
        errors=(404,),
    ),
    "replace_engagement_tags": Operation(
        "Replace the engagement's tags (422 names an id that is no tag of the workspace).",
        ENGAGEMENTS,
        200,
        out.Engagement,
        body=body.ReplaceTagsIn,
        errors=(404,),
    ),
    "create_transcript_comment": Operation(
        "Comment on the transcript's primary timeline (404 until the transcript exists).",
        COMMENTS,
        201,
        out.TranscriptComment,
        body=body.TranscriptCommentIn,
        errors=(404,),
    ),
    "get_transcript_comment": Operation(
        "Retrieve a transcript comment (404 also when its engagement is hidden from the caller).",
        COMMENTS,
        200,
        out.TranscriptComment,
        errors=(404,),
        conditional=True,
    ),
    "update_transcript_comment": Operation(
        "Update a transcript comment's body, anchor or status (resolved records who and when).",
        COMMENTS,
        200,
        out.TranscriptComment,
        body=body.TranscriptCommentPatchIn,
        errors=(404,),
    ),
    "delete_transcript_comment": Operation(
        "Delete a transcript comment.", COMMENTS, 200, out.DeleteConfirmation, errors=(404,)
    ),
    "list_contacts": Operation(
        "List contacts; search matches name and email.",
        CONTACTS,
        200,
        out.ContactList,
        query=(*PAGING, SEARCH, *UPDATED_AT, _crm(("contact",))),
    ),
    "create_contact": Operation(
        "Create a contact (409: another contact holds an email; 422: unknown company_id).",
        CONTACTS,
        201,
        out.Contact,
        body=body.ContactCreateIn,
        errors=(409,),
    ),
    "get_contact": Operation("Retrieve a contact.", CONTACTS, 200, out.Contact, errors=(404,), conditional=True),
    "delete_contact": Operation(
        "Delete a contact; engagements let go of it.", CONTACTS, 200, out.DeleteConfirmation, errors=(404,)
    ),
    "clear_contact_crm_association": Operation(
        "Clear the contact's CRM association.", CONTACTS, 200, out.Contact, errors=(404,)
    ),
    "list_contact_engagements": Operation(
        "The engagements the contact took part in.",
        CONTACTS,
        200,
        out.EngagementList,
        query=SCOPED_ENGAGEMENT_QUERY,
        errors=(404,),
    ),
    "update_contact": Operation(
        "Update a contact; null clears a text field (409: another contact holds an email; 422: unknown company_id).",
        CONTACTS,
        200,
        out.Contact,
        body=body.ContactPatchIn,
        errors=(404, 409),
    ),
    "set_contact_crm_association": Operation(
        "Replace the contact's CRM association.",
        CONTACTS,
        200,
        out.Contact,
        body=body.CrmAssociationIn,
        errors=(404,),
    ),
    "list_companies": Operation(
        "List companies; search matches the name.",
        COMPANIES,
        200,
        out.CompanyList,
        query=(
            *PAGING,
            SEARCH,
            *UPDATED_AT,
            Param(
                "filter[domain][eq]",
                {"type": "string", "pattern": DOMAIN_PATTERN},
                "A domain (or a URL around one), normalised like created ones.",
            ),
            _crm(("company",)),
        ),
    ),
    "create_company": Operation(
        "Create a company (domains normalised: https://www.Acme.com/ → acme.com; 409 when one is taken).",
        COMPANIES,
        201,
        out.Company,
        body=body.CompanyCreateIn,
        errors=(409,),
    ),
    "get_company": Operation("Retrieve a company.", COMPANIES, 200, out.Company, errors=(404,), conditional=True),
    "update_company": Operation(
        "Update a company; null clears name or description; domains replace the list (409: a domain is taken).",
        COMPANIES,
        200,
        out.Company,
        body=body.CompanyPatchIn,
        errors=(404, 409),
    ),
    "delete_company": Operation(
        "Delete a company; its contacts and engagements let go of it.",
        COMPANIES,
        200,
        out.DeleteConfirmation,
        errors=(404,),
    ),
    "set_company_crm_association": Operation(
        "Replace the company's CRM association.",
        COMPANIES,
        200,
        out.Company,
        body=body.CrmAssociationIn,
        errors=(404,),
    ),
    "clear_company_crm_association": Operation(
        "Clear the company's CRM association.", COMPANIES, 200, out.Company, errors=(404,)
    ),
    "list_company_engagements": Operation(
        "The engagements related to the company.",
        COMPANIES,
        200,
        out.EngagementList,
        query=SCOPED_ENGAGEMENT_QUERY,
        errors=(404,),
    ),
    "list_users": Operation(
        "List the workspace's users; search matches name and email.",
        USERS,
        200,
        out.UserList,
        query=(*PAGING, SEARCH, *UPDATED_AT),
    ),
    "get_user": Operation("Retrieve a user.", USERS, 200, out.User, errors=(404,), conditional=True),
    "list_tags": Operation("List tags.", TAGS, 200, out.TagList, query=(*PAGING, *UPDATED_AT)),
    "create_tag": Operation(
        "Create a tag (409: a tag has the name, any case).", TAGS, 201, out.Tag, body=body.TagIn, errors=(409,)
    ),
    "update_tag": Operation(
        "Update a tag (the path is the emulator's: no page gives one).",
        TAGS,
        200,
        out.Tag,
        body=body.TagPatchIn,
        errors=(404, 409),
    ),
    "delete_tag": Operation(
        "Soft-delete a tag; engagements carrying it let go of it.", TAGS, 200, out.DeleteConfirmation, errors=(404,)
    ),
    "issue_token": Operation(
        "OAuth 2.0 token: client credentials, authorization code with PKCE, refresh token (RFC 6749, RFC 7636); "
        "the client in the body or HTTP Basic.",
        OAUTH,
        200,
        out.OAuthToken,
        body=out.TokenRequest,
        form=True,
        public=True,
    ),
}
