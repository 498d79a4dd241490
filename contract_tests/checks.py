"""The API suites' check registry and runner: budgets, skips, failures turned into results."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from contract_tests.report import CheckResult, Outcome, Report, timer
from contract_tests.target import AdminUnavailable, Target

EXAMPLES_ENV = "ASKELEPHANT_CONTRACT_EXAMPLES"
# Run order: cheap, basic behaviour first, so a broken target fails fast and readably.
SUITE_ORDER = ("create", "reads", "lists", "pipeline", "concurrency", "stateful", "fuzz", "webhooks")
STEPS_ENV = "ASKELEPHANT_CONTRACT_STEPS"

__all__ = [
    "API_CHECKS",
    "ApiCheck",
    "Budget",
    "CheckSkipped",
    "api_check",
    "hypothesis_settings",
    "run_checks",
]


class CheckSkipped(Exception):
    """A check does not apply to this target (e.g. needs ``/__admin`` and the target is the real API)."""


@dataclass(frozen=True)
class Budget:
    """How hard to try. Defaults keep a full run against a local emulator to seconds.

    ``max_examples``: Hypothesis examples per property (env ``ASKELEPHANT_CONTRACT_EXAMPLES``);
    ``stateful_steps``: rule calls per state-machine run (env ``ASKELEPHANT_CONTRACT_STEPS``);
    ``concurrency``: parallel creates in the race check; ``shrink``: let Hypothesis minimise failures.
    """

    max_examples: int = 25
    stateful_steps: int = 30
    concurrency: int = 16
    shrink: bool = True

    @classmethod
    def from_env(cls, **overrides: Any) -> Budget:
        budget = cls(
            max_examples=int(os.environ.get(EXAMPLES_ENV, cls.max_examples)),
            stateful_steps=int(os.environ.get(STEPS_ENV, cls.stateful_steps)),
        )
        return replace(budget, **{k: v for k, v in overrides.items() if v is not None})


def hypothesis_settings(budget: Budget, *, examples: int | None = None, **extra: Any) -> settings:
    """Settings for one property: no deadline (network), no example database (targets change between runs)."""
    phases = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
    if budget.shrink:
        phases.append(Phase.shrink)
    return settings(
        max_examples=examples if examples is not None else budget.max_examples,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        print_blob=False,
        **extra,
    )


CheckFunc = Callable[[Target, Budget], None]


@dataclass(frozen=True)
class ApiCheck:
    """One named behaviour of the API; ``func`` raises ``AssertionError`` when the target breaks it."""

    suite: str
    name: str
    func: CheckFunc
    needs_admin: bool
    description: str


API_CHECKS: list[ApiCheck] = []


def api_check(suite: str, *, needs_admin: bool = False) -> Callable[[CheckFunc], CheckFunc]:
    """Register ``func`` as check ``func.__name__`` minus ``check_``, described by its docstring."""

    def register(func: CheckFunc) -> CheckFunc:
        name = func.__name__.removeprefix("check_")
        doc = (func.__doc__ or "").strip().splitlines()
        API_CHECKS.append(ApiCheck(suite, name, func, needs_admin, doc[0] if doc else ""))
        return func

    return register


def run_check(check: ApiCheck, target: Target, budget: Budget) -> CheckResult:
    """Run one check; assertion failures -> ``failed``, other exceptions -> ``error``."""
    outcome: Outcome
    with timer() as elapsed:
        try:
            if check.needs_admin and not target.is_emulator:
                raise CheckSkipped("needs the emulator's /__admin (clock, keys or webhooks)")
            check.func(target, budget)
        except CheckSkipped as exc:
            outcome, message = "skipped", str(exc)
        except AdminUnavailable as exc:
            outcome, message = "skipped", str(exc)
        except AssertionError as exc:
            outcome, message = "failed", _describe(exc)
        except Exception as exc:
            outcome, message = "error", _describe(exc) + "\n" + "".join(traceback.format_exception(exc)[-6:])
        else:
            outcome, message = "passed", ""
    return CheckResult(check.suite, check.name, outcome, elapsed[0], message, check.description)


def _describe(exc: BaseException) -> str:
    """The message plus Hypothesis' notes (the falsifying example)."""
    parts = [f"{type(exc).__name__}: {exc}"]
    parts += [str(n) for n in getattr(exc, "__notes__", [])]
    return "\n".join(parts)


def select_checks(
    names: Iterable[str] | None = None, suites: Iterable[str] | None = None, skip: Iterable[str] | None = None
) -> list[ApiCheck]:
    """Registered checks filtered by exact name and/or suite, minus ``skip``; unknown names raise ``KeyError``."""
    _load_suites()
    chosen = sorted(
        API_CHECKS, key=lambda c: SUITE_ORDER.index(c.suite) if c.suite in SUITE_ORDER else len(SUITE_ORDER)
    )
    if suites:
        wanted = _known(suites, {c.suite for c in API_CHECKS}, "unknown suite(s)")
        chosen = [c for c in chosen if c.suite in wanted]
    if names:
        wanted = _known(names, {c.name for c in API_CHECKS}, "unknown check(s)")
        chosen = [c for c in chosen if c.name in wanted]
    if skip:
        unwanted = _known(skip, {c.name for c in API_CHECKS}, "unknown check(s) to skip")
        chosen = [c for c in chosen if c.name not in unwanted]
    return chosen


def _known(given: Iterable[str], known: set[str], problem: str) -> set[str]:
    """``given`` as a set; ``KeyError(f"{problem}: a, b")`` naming any that are not in ``known``."""
    wanted = set(given)
    unknown = wanted - known
    if unknown:
        raise KeyError(f"{problem}: {', '.join(sorted(unknown))}")
    return wanted


def run_checks(target: Target, checks: Iterable[ApiCheck], budget: Budget) -> Report:
    """Run ``checks`` in order against ``target`` and collect a :class:`Report`."""
    report = Report("AskElephant API contract", f"{target.base_url} ({target.mode})")
    for check in checks:
        report.results.append(run_check(check, target, budget))
    return report


def _load_suites() -> None:
    # Importing the suite modules registers their checks.
    import contract_tests.api_suites  # noqa: F401
