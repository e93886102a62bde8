"""Logging set-up shared by every Beat process: one line per event, with process id, and no
secret in any line (credentials.redact masks known secrets and pieces of them).

Every record, from the stdlib `logging` calls Beat is written with and from structlog loggers
alike, goes through one structlog pipeline (`ProcessorFormatter`): it merges the context bound
with core.logcontext (contextvars, so each asyncio task of a worker carries its
own task id, flow, attempt and source) and renders JSON lines, or text lines when stderr is a
terminal (LOG_FORMAT=auto; `json` or `text` force one). Text lines keep the layout Beat always
had (`time LEVEL [pid] logger: message`), with the bound fields appended as key=value.
"""

import json
import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from core.config import Settings, get_settings
from core.logcontext import bound_fields
from credentials import redact

LOG_FORMATS = ("auto", "json", "text")
# The fields every line has; anything else in the event is context, shown as key=value in text.
_CONTEXT_FIRST = ("task_id", "flow", "attempt", "source")
_OWN_FIELDS = ("event", "level", "logger", "timestamp", "pid", "exception", "_record",
               "_from_structlog")


def setup_logging(level: str = "INFO", settings: Settings | None = None,
                  log_format: str | None = None, stream: TextIO | None = None) -> None:
    """Route every log record to `stream` (stderr) through the structlog pipeline. The format
    comes from `log_format`, else LOG_FORMAT (auto: JSON unless the stream is a terminal)."""
    settings = settings or get_settings()
    stream = stream or sys.stderr
    chosen = log_format or settings.log_format
    as_json = chosen == "json" or (chosen == "auto" and not _is_terminal(stream))
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _render_json if as_json else _render_text],
        foreign_pre_chain=_shared_chain(as_json)))
    logging.basicConfig(level=level.upper(), force=True, handlers=[handler])
    _configure_structlog(as_json)
    # httpx2 and httpcore2: the openai SDK's HTTP client (a line per chat call otherwise).
    for noisy in ("asyncio", "alembic", "httpx", "httpcore", "httpx2", "httpcore2", "openai"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # During a database outage the pool logs a traceback a second; Beat's own lines say enough.
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)
    # aiormq and aio_pika log whole frames (secrets included) at DEBUG, and a traceback per
    # reconnect attempt: the relay and the listeners log one line per state change themselves.
    for noisy in ("aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    redact.remember_settings(settings)
    redact.install_on_handlers()


class RedactingFormatter(structlog.stdlib.ProcessorFormatter):
    """The structlog formatter whose finished line passes `redact.scrub`: a secret in a bound
    field or in a traceback is masked like one in the message."""

    def format(self, record: logging.LogRecord) -> str:
        return redact.scrub(super().format(record))


def _shared_chain(as_json: bool) -> list[Processor]:
    """What every event gets, whether it came from structlog or from stdlib logging."""
    return [
        structlog.contextvars.merge_contextvars,
        _merge_bound,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _add_pid,
        structlog.processors.TimeStamper(fmt="iso" if as_json else "%Y-%m-%d %H:%M:%S,%f",
                                         utc=as_json),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.format_exc_info,
    ]


def _configure_structlog(as_json: bool) -> None:
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *_shared_chain(as_json),
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True)


def _merge_bound(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    for key, value in bound_fields().items():
        event.setdefault(key, value)
    return event


def _add_pid(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    record = event.get("_record")
    event["pid"] = record.process if record is not None else os.getpid()
    return event


def _render_json(logger: WrappedLogger, name: str, event: EventDict) -> str:
    return json.dumps(event, default=str, ensure_ascii=False)


def _render_text(logger: WrappedLogger, name: str, event: MutableMapping[str, Any]) -> str:
    stamp = str(event.get("timestamp", ""))[:23]  # milliseconds, as logging's asctime
    line = (f"{stamp} {str(event.get('level', '')).upper()} [{event.get('pid')}] "
            f"{event.get('logger')}: {event.get('event')}")
    context = " ".join(f"{key}={event[key]}" for key in sorted(
        (key for key in event if key not in _OWN_FIELDS), key=_context_order))
    if context:
        line = f"{line} ({context})"
    exception = event.get("exception")
    return f"{line}\n{exception}" if exception else line


def _context_order(key: str) -> tuple[int, str]:
    return (_CONTEXT_FIRST.index(key), "") if key in _CONTEXT_FIRST else (len(_CONTEXT_FIRST), key)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
