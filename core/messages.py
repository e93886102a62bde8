"""AMQP messages as the listeners see them: Beat's headers on a retried or dead-lettered copy,
the body read as a JSON object, the event id a message is deduplicated by, and copies that keep
everything but the broker's death records."""

import json
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

ATTEMPTS_HEADER = "x-beat-attempts"
ERROR_HEADER = "x-beat-error"
LAST_ERROR_HEADER = "x-beat-last-error"
CONSUMER_HEADER = "x-beat-consumer"
EXCHANGE_HEADER = "x-beat-exchange"
ROUTING_KEY_HEADER = "x-beat-routing-key"
# RabbitMQ's own dead-letter bookkeeping; our headers replace it on the copies we publish.
BROKER_HEADERS = ("x-death", "x-first-death-", "x-last-death-")
MAX_REASON = 1000
MAX_EVENT_ID = 512  # characters; ids are a primary key, whose entries must stay small


class MalformedMessage(ValueError):
    """The body is not a JSON object."""


class NoEventId(ValueError):
    """Neither the body's `event_id` nor the AMQP `message_id` gives the message an id."""


def parse_body(raw: bytes) -> dict[str, Any]:
    """The message body as a JSON object (MalformedMessage says why it is not one)."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage(f"body is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise MalformedMessage(f"body is a JSON {type(body).__name__}, not an object")
    return body


def message_event_id(body: dict[str, Any], message_id: str | None) -> str:
    """The id a message is deduplicated by: the body's `event_id` (a string or an integer),
    else the AMQP `message_id`; NoEventId says why there is none."""
    given = body.get("event_id")
    if given is None or given == "":
        if not message_id:
            raise NoEventId("the body has no event_id and the message no message_id; "
                            "give one of them, kept when the message is sent again")
        return _checked_id(message_id, "message_id")
    if isinstance(given, bool) or not isinstance(given, str | int):
        raise NoEventId(f"event_id is a JSON {type(given).__name__}, not a string or integer")
    return _checked_id(str(given), "event_id")


def _checked_id(event_id: str, name: str) -> str:
    if len(event_id) > MAX_EVENT_ID:
        raise NoEventId(f"{name} is longer than {MAX_EVENT_ID} characters")
    if "\x00" in event_id:
        raise NoEventId(f"{name} holds a NUL character")
    return event_id


def previous_attempts(message: AbstractIncomingMessage) -> int:
    value = (message.headers or {}).get(ATTEMPTS_HEADER)
    return max(0, value) if isinstance(value, int) else 0


def copied_headers(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The message's headers without the broker's death records, remembering where it came from
    (a retried copy arrives from the default exchange)."""
    headers = {k: v for k, v in (message.headers or {}).items()
               if not k.startswith(BROKER_HEADERS)}
    headers.setdefault(EXCHANGE_HEADER, message.exchange or "")
    headers.setdefault(ROUTING_KEY_HEADER, message.routing_key or "")
    return headers


def copy_message(message: AbstractIncomingMessage, headers: dict[str, Any],
          expiration: float | None = None) -> aio_pika.Message:
    return aio_pika.Message(
        message.body, headers=headers, content_type=message.content_type,
        content_encoding=message.content_encoding, message_id=message.message_id,
        correlation_id=message.correlation_id, type=message.type, app_id=message.app_id,
        timestamp=message.timestamp, priority=message.priority, expiration=expiration,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
