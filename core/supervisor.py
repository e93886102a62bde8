"""The worker supervisor: forks worker processes per flow (or per platform), restarts dead
ones, stops gracefully.

It holds no event loop and no connection itself, so forking is safe. One extra child runs queue
maintenance (leader-elected across hosts).
"""

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from core.config import Settings
from core.consumers import run_consumer_process
from core.flows import Flow
from core.maintenance import run_maintenance_process
from core.metrics import process_gone
from core.metrics_exporter import run_metrics_process
from core.process import stop_signal_note
from core.relay import run_relay_process
from core.worker_runtime import run_worker_process

log = logging.getLogger(__name__)

_ctx = multiprocessing.get_context("fork")
ORPHAN_CHECK_S = 1.0  # how often a child checks that its supervisor still lives


@dataclass
class Slot:
    """One child the supervisor keeps alive."""

    name: str
    target: Callable[..., None]
    args: tuple[Any, ...]
    process: BaseProcess | None = None
    started: float = 0.0
    restarts: int = 0
    not_before: float = 0.0

    def start(self) -> None:
        self.process = _ctx.Process(target=_in_own_process_group, args=(self.target, *self.args),
                                    name=self.name, daemon=False)
        self.process.start()
        self.started = time.monotonic()
        log.info("started %s (pid %s)", self.name, self.process.pid)


def plan_slots(flows: list[Flow], settings: Settings, maintenance: bool = True) -> list[Slot]:
    """One slot per process of each flow (processes x concurrency from the registry), plus
    maintenance and, with AMQP_URL set, the outbox relay and the AMQP listeners (all three
    leader-elected or idempotent, so every host may run them; only with `maintenance`)."""
    slots = [Slot(f"worker-{name}-{i}", run_worker_process, (group, settings))
             for name, group in worker_groups(flows, settings.worker_processes_per)
             for i in range(max(f.processes for f in group))]
    if settings.worker_metrics_port is not None:
        slots.append(Slot("metrics", run_metrics_process, (settings,)))
    if maintenance:
        slots.append(Slot("maintenance", run_maintenance_process, (settings,)))
        if settings.amqp_url:
            slots.append(Slot("relay", run_relay_process, (settings,)))
            slots.append(Slot("listeners", run_consumer_process, (settings,)))
    return slots


def worker_groups(flows: list[Flow], per: str) -> list[tuple[str, list[Flow]]]:
    """The flows each set of worker processes runs, by name: one flow each, or (`platform`)
    all of a platform's flows together (flows of no platform are grouped as `core`)."""
    if per == "flow":
        return [(f.name, [f]) for f in flows]
    groups: dict[str, list[Flow]] = {}
    for f in flows:
        groups.setdefault((f.platform or "core").lower(), []).append(f)
    return list(groups.items())


def _in_own_process_group(target: Callable[..., None], *args: Any) -> None:
    """A child leaves the terminal's process group: Ctrl-C reaches the supervisor alone, which
    tells each child once per Ctrl-C (a child that also got the terminal's SIGINT would count
    one Ctrl-C as two). Out of that group, nothing would stop it if the supervisor died
    (SIGKILL, OOM): it stops itself as on SIGTERM once its parent is gone."""
    os.setpgid(0, 0)
    _stop_when_orphaned(os.getppid())
    target(*args)


def _stop_when_orphaned(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(ORPHAN_CHECK_S)
        log.warning("the supervisor (pid %d) is gone: stopping", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


class Supervisor:
    def __init__(self, slots: list[Slot], grace: float) -> None:
        self.slots = slots
        self.grace = grace
        self.stopping = False
        self.signals = 0
        self.stop_signal = signal.SIGTERM
        self.told: set[int] = set()  # children the stop signal reached

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The first stop signal lets running tasks finish within the grace period; the second
        hands them back to the queue now. Each is passed on to the children as it came."""
        self.signals += 1
        note = stop_signal_note(signum, self.signals, self.grace)
        if note:
            log.info("supervisor %s", note)
        self.stopping = True
        self.stop_signal = signal.Signals(signum)
        self._signal_children(signum)

    def _signal_children(self, signum: int) -> None:
        for slot in self.slots:
            if slot.process is not None and slot.process.is_alive() and slot.process.pid:
                _signal(slot.process.pid, signum)
                self.told.add(slot.process.pid)

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        for slot in self.slots:
            slot.start()
        while not self.stopping:
            self._restart_dead()
            time.sleep(0.2)
        self._stop_all()

    def _restart_dead(self) -> None:
        now = time.monotonic()
        for slot in self.slots:
            if slot.process is None or slot.process.is_alive() or now < slot.not_before:
                continue
            code = slot.process.exitcode
            slot.process.join()
            if slot.process.pid:
                process_gone(slot.process.pid)
            # A child that keeps dying young waits longer before the next start.
            young = now - slot.started < 10
            slot.restarts = slot.restarts + 1 if young else 0
            delay = min(30.0, 0.5 * 2 ** slot.restarts) if young else 0.0
            log.warning("%s (pid %s) exited with %s; restarting in %.1fs", slot.name,
                        slot.process.pid, code, delay)
            slot.process = None
            slot.not_before = now + delay
        for slot in self.slots:
            if slot.process is None and now >= slot.not_before and not self.stopping:
                slot.start()

    def _stop_all(self) -> None:
        """Wait for the children the stop signal was passed to; kill those past the grace."""
        alive = [s.process for s in self.slots if s.process is not None and s.process.is_alive()]
        for process in alive:  # started while the signal was being passed on
            if process.pid and process.pid not in self.told:
                _signal(process.pid, self.stop_signal)
        deadline = time.monotonic() + self.grace + 10
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in alive:
            if process.is_alive() and process.pid:
                log.error("%s did not stop in time: killing it", process.name)
                _signal(process.pid, signal.SIGKILL)
                process.join()
        for process in alive:
            if process.pid:
                process_gone(process.pid)
        log.info("all workers stopped")


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
