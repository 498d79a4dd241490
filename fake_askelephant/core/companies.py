"""Company use cases: list, get, create with unique domains, admin delete (api.md §10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .crm import association_matches
from .directory import with_one_primary
from .directory_service import DirectoryService, link_contacts
from .models import Company, CompanyDomain, CrmAssociation, Principal
from .paging import ListQuery, Page, list_page, search_hit
from .records import dataclass


@dataclass(frozen=True)
class CompanyDraft:
    """Domains arrive normalised (core/directory.py normalize_domain)."""

    domains: tuple[CompanyDomain, ...]
    name: str | None = None
    description: str | None = None
    industry: str | None = None
    website: str | None = None
    number_of_employees: int | None = None
    logo_url: str | None = None
    crm_association: CrmAssociation | None = None


# What PATCH /v2/companies/{id} may change (its page was not captured: the create fields, emulator choice).
PATCHABLE = ("name", "description", "domains")


class CompanyService(DirectoryService):
    def list_companies(self, principal: Principal, query: ListQuery, domain: str | None = None) -> Page[Company]:
        """search = name (api.md §8); `domain` normalised by the edge; CRM entries match the stored association."""
        refs = query.crm_associations

        def matches(c: Company) -> bool:
            if domain is not None and all(d.domain != domain for d in c.domains):
                return False
            if refs is not None and not association_matches(c.crm_association, refs):
                return False
            return search_hit(query.search, c.name)

        return list_page(self._directory(principal.workspace_id).companies.values(), query, matches)

    def get_company(self, principal: Principal, company_id: str) -> Company:
        return self._find(self._directory(principal.workspace_id).companies, "company", company_id)

    def create_company(
        self, workspace_id: str, draft: CompanyDraft, *, emit: bool = True, company_id: str | None = None
    ) -> Company:
        """409 when another company already holds one of the domains (emulator choice)."""
        d = self._directory(workspace_id)
        self._check_unclaimed((x.domain for x in draft.domains), d.company_with_domain, None, "Domain")
        now = self._now_ms()
        company = Company(
            id=company_id or self._ids.new("cmp"),
            workspace_id=workspace_id,
            created_at=now,
            updated_at=now,
            name=draft.name,
            domains=with_one_primary(draft.domains),
            description=draft.description,
            industry=draft.industry,
            website=draft.website,
            number_of_employees=draft.number_of_employees,
            logo_url=draft.logo_url,
            crm_association=draft.crm_association,
        )
        d.put_company(company)
        self._changes.created(company, emit=emit)
        return company

    def patch_company(self, principal: Principal, company_id: str, changes: Mapping[str, Any]) -> Company:
        """PATCH /v2/companies/{id}: name, description, domains; a domain another company holds → 409."""
        company = self.get_company(principal, company_id)
        return self.update_company(company, {k: v for k, v in changes.items() if k in PATCHABLE})

    def set_crm_association(self, principal: Principal, company_id: str, association: CrmAssociation | None) -> Company:
        """Replaces the company's single association, or clears it with None (api.md §10)."""
        company = self.get_company(principal, company_id)
        self._changes.change(company, crm_association=association)
        return company

    def update_company(self, company: Company, changes: Mapping[str, Any], *, emit: bool = True) -> Company:
        """PATCH and seed data re-applied to an existing company."""
        d = self._directory(company.workspace_id)
        fields = dict(changes)
        if "domains" in fields:
            self._check_unclaimed((x.domain for x in fields["domains"]), d.company_with_domain, company.id, "Domain")
            fields["domains"] = with_one_primary(fields["domains"])
        return self._change_indexed(company, fields, emit=emit, unindex=d.unindex_company, index=d.index_company)

    def delete_company(self, company: Company) -> None:
        """`DELETE /v2/companies/{id}` and the admin delete: contacts lose it as their company, engagements as a
        related company; then v1.company.deleted."""
        d = self._directory(company.workspace_id)

        def remove() -> None:
            d.remove_company(company)
            for contact in list(d.contacts.values()):
                if contact.company_id == company.id:
                    self._changes.change(contact, company_id=None)

        self._delete(
            company,
            remove=remove,
            linked=lambda e: company.id in e.company_ids,
            unlink=lambda e: link_contacts(self._changes, d, e, e.contact_ids),
        )
