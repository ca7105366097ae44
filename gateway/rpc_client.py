"""An asyncio client for nameko RPC: the gateway calls unchanged nameko services with it.

It speaks the protocol of nameko's own clients (docs/rpc-protocol.md) on aio-pika: a
request on the `nameko-rpc` exchange, the reply on a queue of the client's own, errors
rebuilt through nameko's exception registry. Every call has a deadline; whatever keeps
a call from being answered (no consumer, deadline passed, broker unreachable, connection
lost) raises ServiceUnavailable (`service.unavailable`), the gateway's 503.

    client = RpcClient(amqp_uri, timeout=5.0)
    await client.start()
    centers = client.proxy("centers", context={"request_id": request_id})
    center = await centers.get_center(5)
    await client.close()

Many calls share one connection, one channel and one reply queue; each waits on a future
filed under its correlation id. Imports neither eventlet nor anything that does, so it runs
on an asyncio loop (uvloop in the gateway).
"""

import asyncio
import time
import uuid

import aio_pika
from aio_pika.exceptions import AMQPError, ChannelInvalidStateError, DeliveryError, PublishError
from kombu.utils import json  # nameko's JSON serializer: datetimes, decimals and UUIDs cross as nameko sends them
from nameko.exceptions import deserialize

from services.chassis.context import DEADLINE
from services.chassis.errors import ServiceUnavailable, unavailable

from .circuit import CircuitBreaker, CircuitOpen

RPC_EXCHANGE = "nameko-rpc"  # nameko's default `rpc_exchange`
HEADER_PREFIX = "nameko"  # context data travels as `nameko.<key>` headers
CALL_ID_STACK = "call_id_stack"  # nameko's context key: the chain of calls, shown in services' logs
REPLY_QUEUE_EXPIRES_MS = 300_000  # as nameko's reply queues: gone five minutes after their client
PERSISTENT = 2  # nameko publishes requests as persistent messages

# a pending call's future gets this instead of a reply when the connection goes
_CONNECTION_LOST = object()


class RpcClient:
    """Calls nameko services over one robust AMQP connection.

    `timeout` is the default deadline of a call in seconds; `name` names the reply queue
    (`rpc.reply-<name>-<uuid>`) and the calls in services' `call_id_stack`.
    """

    def __init__(self, amqp_uri, timeout=5.0, name="gateway", reconnect_interval=1.0, breaker=None):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.name = name
        self.reconnect_interval = reconnect_interval
        self.breaker = breaker or CircuitBreaker()
        self._reply_to = str(uuid.uuid4())  # the reply queue's routing key, as nameko names it
        self._pending = {}  # correlation id -> future of the reply body
        self._connection = None
        self._channel = None  # held here: the robust connection keeps only a weak reference
        self._exchange = None

    async def start(self):
        """Connect, declare the exchange and the reply queue, and consume replies. Raises the
        connection error when the broker cannot be reached."""
        self._connection = await aio_pika.connect_robust(
            self.amqp_uri,
            timeout=self.timeout,
            reconnect_interval=self.reconnect_interval,
            client_properties={"connection_name": f"{self.name} rpc client"},
        )
        try:
            self._connection.close_callbacks.add(self._fail_pending_calls)
            # confirms + on_return_raises: a request no queue takes fails its publish at once
            self._channel = self._connection.channel(publisher_confirms=True, on_return_raises=True)
            await self._channel.initialize()
            exchange = await self._channel.declare_exchange(RPC_EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
            # declared through the robust channel, the queue, its binding and its consumer are
            # declared again after a reconnection
            queue = await self._channel.declare_queue(
                f"rpc.reply-{self.name}-{self._reply_to}",
                durable=True,
                arguments={"x-expires": REPLY_QUEUE_EXPIRES_MS},
            )
            await queue.bind(exchange, routing_key=self._reply_to)
            await queue.consume(self._on_reply, no_ack=True)
        except BaseException:
            await self.close()
            raise
        self._exchange = exchange
        return self

    async def close(self):
        """Close the connection; calls still waiting fail with ServiceUnavailable."""
        connection, self._connection, self._channel, self._exchange = self._connection, None, None, None
        if connection is not None:
            await connection.close()

    @property
    def connected(self):
        """Whether calls can be sent now: started, connected, the channel open (not during an
        outage or a reconnection)."""
        return self._exchange is not None and self._connection.connected.is_set() and not self._channel.is_closed

    async def __aenter__(self):
        return await self.start()

    async def __aexit__(self, *exc_info):
        await self.close()

    def proxy(self, service, context=None, timeout=None):
        """Calls to `service` carrying `context` (e.g. {"request_id": ...}), each with
        `timeout` (default: the client's): `await proxy.method(*args, **kwargs)`."""
        return ServiceProxy(self, service, context, timeout)

    def call(self, service, method, *args, context=None, timeout=None, **kwargs):
        """`await client.call("centers", "get_center", 5)`: the method's result, or its error
        rebuilt (chassis errors as themselves, others as nameko's RemoteError), or
        ServiceUnavailable. `context` and `timeout` are the client's; use a proxy to send
        keyword arguments of those names."""
        return self._call(service, method, args, kwargs, context or {}, timeout)

    async def _call(self, service, method, args, kwargs, context, timeout):
        if timeout is None:
            timeout = self.timeout
        wait = self.breaker.retry_after(service)
        if wait:
            raise CircuitOpen(service, wait)
        try:
            async with asyncio.timeout(timeout):
                body = await self._round_trip(service, method, args, kwargs, context, timeout)
        except TimeoutError:
            self.breaker.unanswered(service)
            raise unavailable(service, "响应超时") from None
        except ServiceUnavailable:
            # no consumer counts against the service; a broker outage (failing fast anyway)
            # does not, so that calls work again as soon as the broker is back
            if self.connected:
                self.breaker.unanswered(service)
            raise
        self.breaker.answered(service)
        response = json.loads(body)
        if response.get("error"):
            raise deserialize(response["error"])
        return response["result"]

    async def _round_trip(self, service, method, args, kwargs, context, timeout):
        """The reply's body (its caller bounds the wait); ServiceUnavailable when no reply
        can come: no consumer, no broker, connection lost."""
        exchange = self._exchange
        if exchange is None:
            raise RuntimeError("RpcClient is not started, or already closed")
        correlation_id = str(uuid.uuid4())
        message = aio_pika.Message(
            json.dumps({"args": args, "kwargs": kwargs}).encode(),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=PERSISTENT,
            priority=0,
            correlation_id=correlation_id,
            reply_to=self._reply_to,
            expiration=timeout,  # the request dies in the broker when nobody waits for its reply
            headers=self._headers(context, correlation_id, timeout),
        )
        # filed before publishing: the reply may arrive before the broker's confirm
        reply = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = reply
        try:
            await self._publish(exchange, service, method, message)
            body = await reply
        finally:
            self._pending.pop(correlation_id, None)
        if body is _CONNECTION_LOST:
            raise unavailable(service, "与消息代理的连接中断")
        return body

    def _headers(self, context, correlation_id, timeout):
        headers = {f"{HEADER_PREFIX}.{key}": value for key, value in context.items() if value is not None}
        # as nameko's standalone client: a call stack that starts with this call
        headers[f"{HEADER_PREFIX}.{CALL_ID_STACK}"] = [f"{self.name}.{self._reply_to}.{correlation_id}"]
        ours = time.time() + timeout
        given = context.get(DEADLINE)
        deadline = ours if given is None else min(float(given), ours)
        # as text: aio-pika would send a float as a 32-bit AMQP float, epoch seconds to the nearest minute or two
        headers[f"{HEADER_PREFIX}.{DEADLINE}"] = f"{deadline:.3f}"
        return headers

    async def _publish(self, exchange, service, method, message):
        # during an outage a call fails now rather than waiting for the reconnection
        if not self.connected:
            raise unavailable(service, "消息代理不可达")
        try:
            await exchange.publish(message, f"{service}.{method}", mandatory=True)
        except PublishError as exc:  # returned: no queue is bound for the service
            raise unavailable(service, "没有可用实例") from exc
        except DeliveryError as exc:  # nacked: the broker could not take it
            raise unavailable(service, "消息代理拒收请求") from exc
        except (AMQPError, ChannelInvalidStateError, ConnectionError, OSError) as exc:
            raise unavailable(service, "消息代理不可达") from exc

    async def _on_reply(self, message):
        reply = self._pending.get(message.correlation_id)
        if reply is not None and not reply.done():  # else: its call has already given up
            reply.set_result(message.body)

    def _fail_pending_calls(self, connection, exc):
        # a reply may never come now (the broker may be gone for long): fail calls in flight at
        # once rather than at their deadlines; the gateway answers 503 and the client may retry
        for reply in self._pending.values():
            if not reply.done():
                reply.set_result(_CONNECTION_LOST)


class ServiceProxy:
    """`await proxy.method(*args, **kwargs)` calls `method` of one service with the context and
    deadline the proxy was made with; every argument goes to the remote method."""

    __slots__ = ("_client", "_service", "_context", "_timeout")

    def __init__(self, client, service, context=None, timeout=None):
        self._client = client
        self._service = service
        self._context = context or {}
        self._timeout = timeout

    def __getattr__(self, method):
        if method.startswith("_"):
            raise AttributeError(method)
        client, service, context, timeout = self._client, self._service, self._context, self._timeout

        def call(*args, **kwargs):
            return client._call(service, method, args, kwargs, context, timeout)

        return call
