"""Receiver contract kit: judges a vendor's webhook endpoint the way AskElephant's deliveries exercise it."""

from contract_tests.receiver.kit import (
    RECEIVER_CHECKS,
    ReceiverCheck,
    ReceiverTarget,
    run_receiver_contract,
    run_receiver_contract_sync,
)

__all__ = [
    "RECEIVER_CHECKS",
    "ReceiverCheck",
    "ReceiverTarget",
    "run_receiver_contract",
    "run_receiver_contract_sync",
]
