"""The links report job: route every input link (following share links), de-duplicate by
(platform, kind, id), refresh each unique item as an ordinary task on the queue (its Refresh,
under its idempotency key, so more workers make it faster and a refresh already queued is
shared), wait for them, re-enqueue once the ones that failed with a retryable error, refresh the
authors of posts whose author is not stored (their followers), read the stored rows, have the
thumbnails that are not stored yet stored (the registry's asset flow: the assets worker) and
build one ReportRow per input link.

Entry point: `await run_report(pool, settings, links, progress=..., timeout=...)`.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.config import Settings
from core.errors import NotFound, NotVisible
from core.links import Link, Router
from core.lookups import Figures, InvalidId, LinkFigures, Lookup, Lookups, Refresh
from core.platforms import FollowRedirect, NotALink, Platform, registry
from core.queue import NewTask, Queue, Status, Task
from core.reports import report as r
from core.reports.report import ReportRow
from core.validation import RESERVED_KEY_PREFIX

REPORT_PRIORITY = 50  # below a live API refresh (100), above background collection
log = logging.getLogger(__name__)
ROUTE_CONCURRENCY = 8
READ_CONCURRENCY = 8
POLL_S = 0.25
# Thumbnail tasks that no worker has taken this long after they were queued mean no assets
# worker runs: the report keeps the platforms' image URLs rather than wait until its deadline
# (the tasks stay queued; a later report shows the stored copies).
THUMBNAIL_GRACE_S = 10.0
# Error kinds that a retry cannot fix (core/errors.py Permanent, and the platforms' own
# Permanent kinds: a deleted or private item).
PERMANENT_KINDS = frozenset({NotFound.kind, NotVisible.kind, "deleted", "private", "bad_params",
                             "permanent"})
GONE_KINDS = frozenset({NotFound.kind, "deleted"})
ACTIVE = (Status.PENDING, Status.PROCESSING)

# (phase, done, total): "routing", "refreshing", "retrying", "authors", "reading", "thumbnails"
OnProgress = Callable[[str, int, int], None]


@dataclass
class Item:
    """One unique (platform, kind, id) and its refresh."""

    link: Link
    api_name: str
    lookup: Lookup
    figures: Figures
    task: Task | None = None
    first_row: int = 0  # the report row (header = row 1) of its first input line
    outcome: tuple[str, LinkFigures | None] | None = None  # once read


@dataclass
class Routed:
    """Where one input line went: an Item, or a status saying why it has no numbers."""

    text: str
    item: Item | None = None
    status: str = ""
    platform: str | None = None


@dataclass
class Job:
    pool: Any
    settings: Settings
    progress: OnProgress = field(default=lambda phase, done, total: None)
    platforms: dict[str, Platform] = field(default_factory=dict)
    lookups: dict[str, Lookups | None] = field(default_factory=dict)


async def run_report(pool: Any, settings: Settings, links: Sequence[str],
                     progress: OnProgress | None = None, timeout: float = 600.0,
                     thumbnails: bool = True) -> list[ReportRow]:
    """One ReportRow per link, in order. Refreshes that are still queued or running after
    `timeout` seconds answer "timed out" (their tasks go on: a later report shares them).
    With `thumbnails`, thumbnails not stored yet are stored first (store_thumbnails);
    without, the report carries the stored copies there are and the platforms' URLs."""
    job = Job(pool, settings, progress or (lambda phase, done, total: None),
              registry(settings))
    deadline = time.monotonic() + timeout
    clock = Phases(len(links))
    routed = await route_all(job, links)
    items = unique_items(routed)
    clock.done("routed", len(items))
    queue = Queue(pool)
    await refresh(queue, items, deadline, "refreshing", job.progress)
    clock.done("refreshed", len(items))
    again = [i for i in items if retryable(i.task)]
    await refresh(queue, again, deadline, "retrying", job.progress)
    clock.done("retried", len(again))
    await read_all(job, items)
    authors, waiting = missing_authors(items)
    clock.done("read", len(items))
    if authors:
        await refresh(queue, authors, deadline, "authors", job.progress)
        await read_all(job, waiting)  # their followers are stored now
        clock.done("refreshed authors", len(authors))
    if thumbnails:
        stored = await store_thumbnails(job, queue, items, deadline)
        clock.done("stored thumbnails", stored)
    return build_rows(routed)


class Phases:
    """Logs how long each phase of a report took, so a slow report says where its time went."""

    def __init__(self, links: int) -> None:
        self.links = links
        self.last = time.monotonic()

    def done(self, what: str, count: int) -> None:
        now = time.monotonic()
        log.info("links report of %d links: %s %d in %.2fs", self.links, what, count,
                 now - self.last)
        self.last = now


# -- routing --------------------------------------------------------------------------------------

async def route_all(job: Job, links: Sequence[str]) -> list[Routed]:
    router = Router(job.platforms)
    gate = asyncio.Semaphore(ROUTE_CONCURRENCY)
    done = 0

    async def one(text: str) -> Routed:
        nonlocal done
        async with gate:
            routed = await route(job, router, text)
        done += 1
        job.progress("routing", done, len(links))
        return routed

    return list(await asyncio.gather(*(one(text) for text in links)))


async def route(job: Job, router: Router, text: str) -> Routed:
    """The item `text` links to, or the status saying why it links to none."""
    try:
        router.resolve(text)
    except FollowRedirect as share:
        try:
            link = await router.resolve_following(text, job.settings)
        except NotALink as exc:
            return Routed(text, status=f"{r.NEEDS_RESOLUTION}: {exc}", platform=share.platform)
        return item_of(job, text, link)
    except NotALink as exc:
        reason = str(exc)
        if reason.startswith(r.UNSUPPORTED_PLATFORM):
            return Routed(text, status=r.UNSUPPORTED_PLATFORM)
        return Routed(text, status=f"{r.UNSUPPORTED_URL}: {reason}")
    return item_of(job, text, router.resolve(text))


def item_of(job: Job, text: str, link: Link) -> Routed:
    if link.platform not in job.lookups:
        job.lookups[link.platform] = job.platforms[link.platform].load_lookups()
    lookups = job.lookups[link.platform]
    if lookups is None or lookups.link is None or lookups.figures is None:
        return Routed(text, status=r.UNSUPPORTED_PLATFORM, platform=link.platform)
    try:
        lookup = lookups.link(link.kind, link.id)
    except InvalidId as exc:
        return Routed(text, status=f"{r.UNSUPPORTED_URL}: {exc}", platform=link.platform)
    api_name = job.platforms[link.platform].api_name
    return Routed(text, Item(link, api_name, lookup, lookups.figures), platform=link.platform)


def unique_items(routed: list[Routed]) -> list[Item]:
    """One Item per (platform, kind, id); every line that repeats one shares its Item."""
    by_key: dict[tuple[str, str, str], Item] = {}
    for number, line in enumerate(routed, start=2):
        if line.item is None:
            continue
        link = line.item.link
        key = (link.platform, link.kind, link.id)
        if key not in by_key:
            line.item.first_row = number
            by_key[key] = line.item
        line.item = by_key[key]
    return list(by_key.values())


# -- refreshing ----------------------------------------------------------------------------------

def task_of(item: Item) -> NewTask:
    refresh = item.lookup.refresh
    return NewTask(flow=refresh.flow, params=refresh.params, platform=item.api_name,
                   priority=REPORT_PRIORITY, idempotency_key=RESERVED_KEY_PREFIX + refresh.key)


async def refresh(queue: Queue, items: list[Item], deadline: float, phase: str,
                  progress: OnProgress, unclaimed_grace: float | None = None) -> None:
    """Enqueue the items' refreshes and wait for them until `deadline` (wait_all)."""
    if not items or time.monotonic() >= deadline:
        return
    enqueued = await queue.enqueue_many([task_of(item) for item in items])
    for item, (task, _) in zip(items, enqueued, strict=True):
        item.task = task
    await wait_all(queue, items, deadline, phase, progress, unclaimed_grace)


async def wait_all(queue: Queue, items: list[Item], deadline: float, phase: str,
                   progress: OnProgress, unclaimed_grace: float | None = None) -> None:
    """Until every item's task has finished or `deadline`; or, given `unclaimed_grace`, until
    that many seconds have passed without a worker taking any of them (no worker serves it)."""
    grace_ends = time.monotonic() + unclaimed_grace if unclaimed_grace is not None else None
    while True:
        active = [item for item in items if item.task and item.task.status in ACTIVE]
        progress(phase, len(items) - len(active), len(items))
        if not active or time.monotonic() >= deadline:
            return
        if grace_ends is not None and time.monotonic() >= grace_ends:
            if not any(item.task and item.task.picked_at for item in items):
                log.warning("no worker took the %d %s tasks (%s) in %.0fs: the report goes "
                            "on without them", len(items), phase, items[0].lookup.refresh.flow,
                            unclaimed_grace)
                return
            grace_ends = None
        await asyncio.sleep(POLL_S)
        found = await queue.get_many([item.task.id for item in active if item.task])
        for item in active:
            assert item.task is not None
            item.task = found.get(item.task.id, item.task)


def missing_authors(items: list[Item]) -> tuple[list[Item], list[Item]]:
    """The authors to refresh: one Item per author of a post read ok whose author's row is
    not stored (its followers come from there; `LinkFigures.author_refresh`), unless the
    report refreshed that author already; and the posts that wait for them."""
    taken = {item.lookup.refresh.key for item in items}
    found: dict[str, Item] = {}
    waiting = []
    for item in items:
        figures = item.outcome[1] if item.outcome else None
        author = figures.author_refresh if figures else None
        if author is None or author.key in taken:
            continue
        waiting.append(item)
        if author.key not in found:
            link = Link("", item.link.platform, "author", author.key)
            found[author.key] = Item(link, item.api_name, Lookup(_nothing, author),
                                     item.figures)
    return list(found.values()), waiting


async def _nothing(pool: Any) -> None:
    """An author Item's own row is never read: the posts read it through their figures."""


# -- thumbnails -----------------------------------------------------------------------------------

async def store_thumbnails(job: Job, queue: Queue, items: list[Item], deadline: float) -> int:
    """Have the asset flow store the thumbnails of the items read ok whose thumbnail is still
    the platform's own URL, then read those items again (their figures now name the stored
    copies). Without an asset flow in the registry, or when no worker takes its tasks, the
    report carries the platforms' URLs. Answers how many were stored."""
    asset = next((p for p in job.platforms.values() if p.asset_flow), None)
    if asset is None or asset.asset_flow is None:
        return 0
    wanted = thumbnail_items(items, asset.asset_flow, asset.api_name)
    await refresh(queue, [task_item for task_item, _ in wanted], deadline, "thumbnails",
                  job.progress, THUMBNAIL_GRACE_S)
    stored = [item for task_item, item in wanted
              if task_item.task is not None and task_item.task.status == Status.COMPLETE]
    await read_all(job, stored)
    return len(stored)


def thumbnail_items(items: list[Item], flow: str, api_name: str) -> list[tuple[Item, Item]]:
    """(an asset task's Item, the item) for each item read ok whose thumbnail is not stored."""
    wanted = []
    for item in items:
        figures = item.outcome[1] if item.outcome else None
        if figures is None or not figures.thumbnail_url or figures.thumbnail_stored:
            continue
        link = item.link
        params = {"url": figures.thumbnail_url, "platform": item.api_name, "kind": link.kind,
                  "id": link.id}
        key = f"asset:{link.platform}:{link.kind}:{link.id}"
        task_item = Item(link, api_name, Lookup(_nothing, Refresh(flow, params, key)),
                         item.figures)
        wanted.append((task_item, item))
    return wanted


def retryable(task: Task | None) -> bool:
    """A finished refresh worth a second pass: it failed, but not for good."""
    if task is None or task.status in ACTIVE or task.status == Status.COMPLETE:
        return False
    return task.status != Status.FAILED or task.error_kind not in PERMANENT_KINDS


# -- reading -------------------------------------------------------------------------------------

async def read_all(job: Job, items: list[Item]) -> None:
    """Each item's outcome (status and figures), read a few at a time."""
    gate = asyncio.Semaphore(READ_CONCURRENCY)
    done = 0

    async def one(item: Item) -> None:
        nonlocal done
        async with gate:
            item.outcome = await outcome(job.pool, item)
        done += 1
        job.progress("reading", done, len(items))

    await asyncio.gather(*(one(item) for item in items))


def build_rows(routed: list[Routed]) -> list[ReportRow]:
    rows = []
    for number, line in enumerate(routed, start=2):
        if line.item is None:
            rows.append(ReportRow(line.text.strip(), line.status, line.platform))
            continue
        assert line.item.outcome is not None
        status, figures = line.item.outcome
        if status == r.OK and line.item.first_row != number:
            status = f"ok (duplicate of row {line.item.first_row})"
        rows.append(ReportRow(line.text.strip(), status, line.platform, figures))
    return rows


async def outcome(pool: Any, item: Item) -> tuple[str, LinkFigures | None]:
    """The item's status and, when refreshed and stored, its figures."""
    task = item.task
    if task is None or task.status in ACTIVE:
        return r.TIMED_OUT, None
    if task.status != Status.COMPLETE:
        return failure(task), None
    row = await item.lookup.fetch(pool)
    if row is None:
        return f"{r.SOURCE_FAILED}: refreshed, but nothing is stored for it", None
    return r.OK, await item.figures(pool, row)


def failure(task: Task) -> str:
    if task.error_kind in GONE_KINDS:
        return r.NOT_FOUND
    if task.error_kind == "private":
        return r.PRIVATE
    if task.error_kind == NotVisible.kind:
        return r.NOT_VISIBLE
    error = (task.last_error or task.error_kind or task.status.value).replace("\n", " ")
    return f"{r.SOURCE_FAILED}: {error}"
