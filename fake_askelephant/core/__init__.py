"""Domain core: the virtual clock and scheduler, the store, a service per resource, the pipeline, events.

  clock.py           VirtualClock and the Scheduler of pending work; timefmt.py epoch ms ⇄ ISO-8601
  ids.py seeded.py   seeded ids (ULIDs), token streams and the Draws stream; jsonutil.py the one JSON codec
  models.py          the records (dataclasses) and their vocabularies (Literal aliases); records.py the
                     `dataclass` every module uses (shared eq/hash/repr: cheaper to create, same behaviour)
  store.py           workspaces, users, keys, engagements; engagement_order.py the kept list order and its
                     filter indexes (sorted_keys.py the chunked sorted keys under both)
  directory.py       a workspace's contacts, companies and tags; directory_service.py their services' base
  engagements.py contacts.py companies.py tags.py users.py oauth.py   the services (use cases)
  pipeline.py rules.py                the staged AI pipeline, rules armed before a create
  content.py derived.py vocabulary.py generated call content: how it is made, derived when read, its words
  changes.py events.py views.py       stored changes → events; envelopes and the bus; the wire views
  paging.py crm.py scopes.py policies.py errors.py   lists, CRM filters, scopes, URL policies, errors
  faults.py seed_data.py releaser.py  fault rules, seed data, freeing what a reset dropped

It knows nothing of HTTP and depends on nothing outside itself: the standard library, plus two packages a
domain needs by design (tests/test_architecture.py enforces the rule):

- orjson, behind jsonutil.py, the one JSON codec: an event's body bytes are what gets signed and delivered
  (webhooks.md §2), and list cursors are JSON, so the domain owns those bytes;
- idna, in urlhost.py: the media_url policy (api.md §5.4) judges the host a client connects to, which is the
  host after UTS #46 mapping (full-width digits, ideographic full stops), as WHATWG URL parsers read it.

Generated call content (names, companies, phrases) comes from the core's own word lists (vocabulary.py), not
faker: one seed gives the same content whatever else is installed.

The composition root that builds these and wires them to webhook delivery is fake_askelephant/emulator.py.
"""
