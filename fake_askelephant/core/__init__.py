"""Domain core: the virtual clock and scheduler, the store, the services per resource, the pipeline, events.

It knows nothing of HTTP and depends on nothing outside itself: the standard library, plus two packages a
domain needs by design (tests/test_architecture.py enforces the rule):

- orjson, behind jsonutil.py, the one JSON codec: an event's body bytes are what gets signed and delivered
  (webhooks.md §2), and list cursors are JSON, so the domain owns those bytes;
- faker, in content.py (imported on first use): the seeded call content (names, companies, phrases) the
  pipeline generates is the emulator's domain.

The composition root that wires core to the edges is fake_askelephant/emulator.py.
"""
