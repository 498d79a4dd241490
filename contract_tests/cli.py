"""``askelephant-contract``: run the API suites against a base URL, or the receiver kit against a webhook URL.

    askelephant-contract api --target-url http://127.0.0.1:8787/api
    ASKELEPHANT_API_KEY=sk-apik_… askelephant-contract api --mode real \\
        --target-url https://app.askelephant.ai/api
    askelephant-contract receiver --url https://dialer.example.com/hooks/askelephant --secret whsec_… \\
        [--probe-url https://dialer.example.com/hooks/askelephant/probe]
    fake-askelephant proxy --upstream https://app.askelephant.ai/api --record session.jsonl   # then:
    askelephant-contract parity session.jsonl --target-url http://127.0.0.1:8787/api
    askelephant-contract list            # every check, by suite
    askelephant-contract schema engagement | openapi

Exit status: 0 all passed (skips allowed), 1 a check failed, 2 bad usage or unreachable target.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from contract_tests.checks import Budget, run_checks, select_checks
from contract_tests.http import LoopThread
from contract_tests.receiver import RECEIVER_CHECKS, ReceiverTarget, run_receiver_contract_sync
from contract_tests.report import Report
from contract_tests.schemas import list_schemas, load_schema, openapi_document
from contract_tests.target import Target, TargetError

SECRET_ENV = "ASKELEPHANT_WEBHOOK_SECRET"  # noqa: S105 - an env var name


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="askelephant-contract", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    api = sub.add_parser("api", help="run the API suites against --target-url")
    api.add_argument(
        "--target-url",
        required=True,
        help="the API's base URL, e.g. http://127.0.0.1:8787/api; for the emulator its root (http://127.0.0.1:8787) "
        "works too",
    )
    api.add_argument(
        "--mode",
        choices=["auto", "emulator", "real"],
        default="auto",
        help="auto: emulator if /__admin/health answers; real: read-only + idempotent creates only",
    )
    api.add_argument("--suite", action="append", help="only this suite (repeatable)")
    api.add_argument("--check", action="append", help="only this check (repeatable)")
    api.add_argument("--skip", action="append", help="leave this check out (repeatable), e.g. a known issue")
    api.add_argument("--max-examples", type=int, help="Hypothesis examples per property (default 25)")
    api.add_argument("--steps", type=int, help="state-machine steps per run (default 30)")
    api.add_argument("--concurrency", type=int, help="parallel creates in the race check (default 16)")
    api.add_argument("--no-shrink", action="store_true", help="report the first failing example unshrunk (faster)")
    _common(api)

    receiver = sub.add_parser("receiver", help="run the receiver kit against a webhook URL")
    receiver.add_argument("--url", required=True, help="the vendor's webhook endpoint")
    receiver.add_argument(
        "--secret", default=os.environ.get(SECRET_ENV), help=f"its whsec_ secret (default: ${SECRET_ENV})"
    )
    receiver.add_argument("--probe-url", help='GET ?svix_id=&event_id= -> {"processed": n}; enables once-only checks')
    receiver.add_argument("--timeout", type=float, default=15.0, help="2xx deadline in seconds (default 15)")
    receiver.add_argument("--check", action="append", help="only this check (repeatable)")
    _common(receiver)

    parity = sub.add_parser("parity", help="replay a `fake-askelephant proxy` recording against --target-url")
    parity.add_argument("recording", help="the JSON Lines file the proxy wrote")
    parity.add_argument("--target-url", required=True, help="the emulator's API base (or its root)")
    parity.add_argument("--api-key", help="the target's key (default: the emulator's default key)")

    sub.add_parser("list", help="list every check")
    schema = sub.add_parser("schema", help="print a JSON Schema, or 'openapi' for the bundled OpenAPI document")
    schema.add_argument("name", choices=[*list_schemas(), "openapi"])
    return parser


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit-xml", metavar="PATH", help="also write a JUnit XML report")
    p.add_argument("-v", "--verbose", action="store_true", help="describe each check and list skips")


def _finish(report: Report, args: argparse.Namespace) -> int:
    sys.stdout.write(report.to_text(verbose=args.verbose))
    if args.junit_xml:
        report.write_junit(args.junit_xml)
    return 0 if report.ok else 1


def run_api(args: argparse.Namespace) -> int:
    budget = Budget.from_env(
        max_examples=args.max_examples,
        stateful_steps=args.steps,
        concurrency=args.concurrency,
        shrink=False if args.no_shrink else None,
    )
    checks = select_checks(args.check, args.suite, args.skip)
    with LoopThread() as loop:
        target = Target.open(args.target_url, mode=args.mode, loop=loop)
        try:
            return _finish(run_checks(target, checks, budget), args)
        finally:
            target.close()


def run_receiver(args: argparse.Namespace) -> int:
    if not args.secret:
        raise TargetError(f"pass --secret or set {SECRET_ENV}")
    target = ReceiverTarget(args.url, args.secret, args.probe_url, args.timeout)
    return _finish(run_receiver_contract_sync(target, only=args.check), args)


def run_parity(args: argparse.Namespace) -> int:
    """Exit 0: no difference; 1: differences, one a line."""
    from pathlib import Path

    from contract_tests import parity
    from contract_tests.target import EMULATOR_DEFAULT_KEY, api_base_url

    try:
        recording = parity.load(Path(args.recording))
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot read the recording: {exc}") from exc
    try:
        found = parity.replay(recording, api_base_url(args.target_url), args.api_key or EMULATOR_DEFAULT_KEY)
    except (OSError, ValueError) as exc:
        raise TargetError(f"cannot replay against {args.target_url}: {exc}") from exc
    for difference in found:
        print(difference)
    print(f"{len(recording)} exchanges replayed, {len(found)} difference(s)")
    return 1 if found else 0


def list_checks() -> int:
    for check in select_checks():
        admin = "  [emulator only]" if check.needs_admin else ""
        print(f"api      {check.suite:<12} {check.name}{admin}\n           {check.description}")
    for rcheck in RECEIVER_CHECKS:
        print(f"receiver {'receiver':<12} {rcheck.name}\n           {rcheck.description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        try:
            return _main(argv)
        finally:  # --help's SystemExit too: a reader gone before the last buffered line is the same case
            sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()


def _reader_went_away() -> int:
    """`… | head` closed stdout: stop quietly with exit 1 instead of printing a traceback (the approach of every
    console script here, fake_askelephant.cli's too, from Python's "Note on SIGPIPE")."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the final flush at exit must not raise again
    return 1


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "api":
            return run_api(args)
        if args.command == "receiver":
            return run_receiver(args)
        if args.command == "parity":
            return run_parity(args)
        if args.command == "list":
            return list_checks()
        doc = openapi_document() if args.name == "openapi" else load_schema(args.name)
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    except (TargetError, KeyError) as exc:
        print(f"askelephant-contract: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
