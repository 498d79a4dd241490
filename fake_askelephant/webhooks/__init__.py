"""Svix-compatible webhook delivery (webhooks.md): events in, signed POSTs out, retried on the virtual clock.

delivery.py    the Dispatcher: fan-out to endpoints, the retry ladder, disabling, resend, the attempt log
endpoints.py   endpoints: URL, event types, secrets and rotation, header style
hazards.py     opt-in misbehaviour per endpoint (duplicates, out-of-order, stale, wrong secret, altered body)
signing.py     Svix / Standard Webhooks signatures and verification (stdlib hmac)
transport.py   the Sender seam; sender.py HttpSender (aiohttp), sink.py the built-in sink and SinkSender
"""
