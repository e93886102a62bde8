"""A bare AMQP 0-9-1 publisher on a plain socket (frames by pamqp): a producer that sends the
properties it is given and nothing else. aio-pika (through aiormq) gives every message it
publishes a random message_id; many other clients set none, and this one stands for them."""

import asyncio
from typing import Any
from urllib.parse import unquote, urlsplit

from pamqp import commands, frame, header
from pamqp.body import ContentBody
from pamqp.exceptions import UnmarshalingException

CHANNEL = 1


class _Wire:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.buffer = reader, writer, b""

    def send(self, *frames: Any, channel: int = 0) -> None:
        for value in frames:
            self.writer.write(frame.marshal(value, channel))

    async def expect(self, kind: type) -> Any:
        """The next frame, which must be a `kind`."""
        while True:
            try:
                used, _, value = frame.unmarshal(self.buffer)
            except UnmarshalingException:
                chunk = await asyncio.wait_for(self.reader.read(65536), 10)
                assert chunk, "the broker closed the connection"
                self.buffer += chunk
                continue
            self.buffer = self.buffer[used:]
            assert isinstance(value, kind), f"expected {kind.__name__}, got {value!r}"
            return value


async def publish_bare(amqp_url: str, exchange: str, routing_key: str, body: bytes,
                       **properties: Any) -> None:
    """Publish one message with exactly these Basic properties, and wait for its confirm."""
    url = urlsplit(amqp_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port or 5672)
    wire = _Wire(reader, writer)
    try:
        writer.write(header.ProtocolHeader().marshal())
        await wire.expect(commands.Connection.Start)
        login = f"\0{unquote(url.username or 'guest')}\0{unquote(url.password or 'guest')}"
        wire.send(commands.Connection.StartOk(client_properties={}, mechanism="PLAIN",
                                              response=login, locale="en_US"))
        tune = await wire.expect(commands.Connection.Tune)
        wire.send(commands.Connection.TuneOk(tune.channel_max, tune.frame_max, 0),
                  commands.Connection.Open(virtual_host=unquote(url.path[1:]) or "/"))
        await wire.expect(commands.Connection.OpenOk)
        wire.send(commands.Channel.Open(), commands.Confirm.Select(), channel=CHANNEL)
        await wire.expect(commands.Channel.OpenOk)
        await wire.expect(commands.Confirm.SelectOk)
        wire.send(commands.Basic.Publish(exchange=exchange, routing_key=routing_key),
                  header.ContentHeader(0, len(body), commands.Basic.Properties(**properties)),
                  ContentBody(body), channel=CHANNEL)
        await wire.expect(commands.Basic.Ack)
        wire.send(commands.Connection.Close(reply_code=200, reply_text="done", class_id=0,
                                              method_id=0))
        await wire.expect(commands.Connection.CloseOk)
    finally:
        writer.close()
