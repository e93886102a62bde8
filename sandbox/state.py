"""What one sandbox app holds: its world, key quotas, faults in force and call counts."""

from dataclasses import dataclass
from typing import cast

from starlette.requests import Request

from sandbox.faults import FaultBook, Faults, Usage
from sandbox.quota import QuotaBook
from sandbox.youtube.world import World


@dataclass
class SandboxState:
    world: World
    quota: QuotaBook
    faults: FaultBook
    usage: Usage
    initial_faults: Faults | None
    initial_keys: dict[str, int]

    def reset(self) -> None:
        """Back to how the app started: counts zeroed, quotas unspent, initial faults."""
        self.usage.reset()
        self.quota = QuotaBook(self.initial_keys, self.quota.clock)
        self.faults.clear()
        if self.initial_faults is not None:
            self.faults.set(self.initial_faults)


def state_of(request: Request) -> SandboxState:
    return cast(SandboxState, request.app.state.sandbox)
