"""The asyncio RPC client (gateway/rpc_client.py) against real nameko services, each a
process of its own: results, every kind of error, deadlines, context headers, concurrency,
the wire format of nameko's own client, and a broker restart."""

import asyncio
import contextlib
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import aio_pika
import pytest
from nameko.exceptions import MethodNotFound, RemoteError

from gateway.rpc_client import RpcClient
from services.chassis import errors
from tests.support import ROOT
from tests.support.actors import COUNTY
from tests.support.aio import run
from tests.support.broker import rabbitmqctl
from tests.support.net import free_port

TARGETS = "rpc_targets"


def client_of(service):
    return RpcClient(service.amqp_uri, timeout=5)


def test_the_module_loads_no_eventlet():
    # in a fresh interpreter: pytest loads eventlet to resolve the warning filters of pyproject.toml
    script = (
        "import sys, gateway.rpc_client\n"
        "loaded = [m for m in sys.modules if m == 'eventlet' or m.startswith('eventlet.')]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60)


def test_a_call_returns_the_result_of_args_and_kwargs_in_any_script(rpc_targets):
    async def main():
        async with client_of(rpc_targets) as client:
            by_call = await client.call(TARGETS, "echo", "晋中市", 7, [1.5, None], place={"县": "昔阳"}, on=True)
            by_proxy = await client.proxy(TARGETS).echo("和顺县", n=2)
            return by_call, by_proxy

    by_call, by_proxy = run(main())
    assert by_call == {"args": ["晋中市", 7, [1.5, None]], "kwargs": {"place": {"县": "昔阳"}, "on": True}}
    assert by_proxy == {"args": ["和顺县"], "kwargs": {"n": 2}}


def test_values_cross_as_nameko_serializes_them(rpc_targets):
    moment = datetime(2026, 11, 28, 10, 0, 0, 123456, tzinfo=UTC)
    key = uuid.uuid4()

    async def main():
        async with client_of(rpc_targets) as client:
            return await client.call(TARGETS, "echo", moment, Decimal("12.50"), key)

    # kombu's JSON both ways: the service got the objects and sent them back as such
    assert run(main())["args"] == [moment, Decimal("12.50"), key]


@pytest.mark.parametrize(
    "error", [errors.InvalidInput, errors.NotFound, errors.Conflict, errors.PermissionDenied, errors.ServiceUnavailable]
)
def test_each_chassis_error_comes_back_as_itself(rpc_targets, error):
    fields = {"name": ["名称不能为空。"], "parent.id": ["不存在。"]}

    async def main():
        async with client_of(rpc_targets) as client:
            await client.call(TARGETS, "fail", error.__name__, "center.something", "阵地有误", fields)

    with pytest.raises(error) as raised:
        run(main())
    assert type(raised.value) is error
    assert (raised.value.code, raised.value.message, raised.value.fields) == ("center.something", "阵地有误", fields)


def test_any_other_exception_comes_back_as_a_remote_error(rpc_targets):
    async def main():
        async with client_of(rpc_targets) as client:
            await client.call(TARGETS, "crash", "出错了")

    with pytest.raises(RemoteError) as raised:
        run(main())
    assert (raised.value.exc_type, raised.value.value) == ("ValueError", "出错了")


def test_nameko_s_own_registered_errors_come_back_as_themselves(rpc_targets):
    async def main():
        async with client_of(rpc_targets) as client:
            await client.call(TARGETS, "no_such_method")

    with pytest.raises(MethodNotFound):
        run(main())


def test_a_call_past_its_deadline_is_unavailable_at_the_deadline_and_forgotten(rpc_targets):
    async def main():
        async with client_of(rpc_targets) as client:
            started = time.monotonic()
            with pytest.raises(errors.ServiceUnavailable) as raised:
                await client.proxy(TARGETS, timeout=0.5).sleep(2)
            return time.monotonic() - started, raised.value, len(client._pending)

    elapsed, error, pending = run(main())
    assert error.code == "service.unavailable"
    assert error.message == f"服务 {TARGETS} 暂时不可用（响应超时）"
    # asyncio runs a timer up to its clock resolution early (BaseEventLoop._run_once)
    assert 0.49 <= elapsed < 1.0
    assert pending == 0


def test_a_service_nobody_serves_is_unavailable_at_once(rpc_targets):
    async def main():
        async with client_of(rpc_targets) as client:
            started = time.monotonic()
            with pytest.raises(errors.ServiceUnavailable) as raised:
                await client.call("nobody_serves_this", "get_center", 5)
            return time.monotonic() - started, raised.value, len(client._pending)

    elapsed, error, pending = run(main())
    assert error.code == "service.unavailable"
    assert error.message == "服务 nobody_serves_this 暂时不可用（没有可用实例）"
    assert elapsed < 0.3
    assert pending == 0


def test_a_request_nobody_consumed_expires_in_the_broker_at_its_deadline(rpc_targets):
    async def message_count(channel):
        return (await channel.declare_queue("rpc-stalled", passive=True)).declaration_result.message_count

    async def main():
        connection = await aio_pika.connect(rpc_targets.amqp_uri)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange("nameko-rpc", aio_pika.ExchangeType.TOPIC, durable=True)
            # a service whose queue is there but whose workers are gone
            queue = await channel.declare_queue("rpc-stalled", auto_delete=True)
            await queue.bind(exchange, "stalled.*")
            async with client_of(rpc_targets) as client:
                call = asyncio.ensure_future(client.call("stalled", "get_center", 5, timeout=1))
                await asyncio.sleep(0.3)
                queued = await message_count(channel)
                with pytest.raises(errors.ServiceUnavailable):
                    await call
            expired_within = time.monotonic() + 5
            while await message_count(channel) and time.monotonic() < expired_within:
                await asyncio.sleep(0.1)
            left = await message_count(channel)
            await queue.delete(if_unused=False, if_empty=False)
            return queued, left
        finally:
            await connection.close()

    queued, left = run(main())
    assert queued == 1
    assert left == 0, "the request outlived its deadline in the broker"


def test_the_context_reaches_the_service_and_its_logs(rpc_targets):
    request_id = f"req-{uuid.uuid4().hex}"

    async def main():
        async with client_of(rpc_targets) as client:
            before = time.time()
            received = await client.proxy(TARGETS, context={"request_id": request_id, "user_agent": "测试"}).context()
            return before, received

    before, received = run(main())
    assert received["request_id"] == request_id
    assert received["user_agent"] == "测试"
    # the stack nameko's standalone client starts: our call, then the service's own
    ours, theirs = received["call_id_stack"]
    assert ours.startswith("gateway.")
    assert theirs.startswith(f"{TARGETS}.context.")
    assert before < float(received["deadline"]) <= time.time() + 5
    deadline = time.monotonic() + 10
    while f"[{request_id}]" not in rpc_targets.log_path.read_text():
        assert time.monotonic() < deadline, "the request id never reached the service's log"
        time.sleep(0.1)


def test_the_earlier_deadline_wins(rpc_targets):
    callers_deadline = time.time() + 1

    async def main():
        async with client_of(rpc_targets) as client:
            return await client.proxy(TARGETS, context={"deadline": callers_deadline}, timeout=30).context()

    assert float(run(main())["deadline"]) == pytest.approx(callers_deadline, abs=0.001)


def test_two_hundred_concurrent_calls_on_one_client_each_get_their_own_answer(rpc_targets):
    async def main():
        async with client_of(rpc_targets) as client:
            proxy = client.proxy(TARGETS, timeout=20)
            return await asyncio.gather(*(proxy.echo(n, text=f"第{n}号") for n in range(200)))

    answers = run(main())
    assert answers == [{"args": [n], "kwargs": {"text": f"第{n}号"}} for n in range(200)]


def test_closing_the_client_fails_the_calls_still_waiting(rpc_targets):
    async def main():
        client = await client_of(rpc_targets).start()
        waiting = asyncio.ensure_future(client.proxy(TARGETS, timeout=20).sleep(3))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await client.close()
        with pytest.raises(errors.ServiceUnavailable) as raised:
            await waiting
        return time.monotonic() - started, raised.value

    elapsed, error = run(main())
    assert error.message == f"服务 {TARGETS} 暂时不可用（与消息代理的连接中断）"
    assert elapsed < 1.0


def test_a_client_that_cannot_reach_the_broker_does_not_start():
    client = RpcClient(f"amqp://guest:guest@127.0.0.1:{free_port()}/")
    with pytest.raises(ConnectionError):
        run(client.start())
    assert not client.connected


def test_requests_are_those_of_nameko_s_own_client(rpc_targets):
    """The same call by nameko's ClusterRpcClient and by ours, taken off the service's queue."""
    args = ("晋中市", 5)
    context = {"request_id": "req-compare"}
    nameko_script = (
        "import sys\n"
        "from nameko.exceptions import RpcTimeout\n"
        "from nameko.standalone.rpc import ClusterRpcClient\n"
        f"with ClusterRpcClient(context_data={context!r}, timeout=0.5, uri=sys.argv[1]) as client:\n"
        "    try:\n"
        f"        client.recorder.get_center(*{args!r}, flag=True)\n"
        "    except RpcTimeout:\n"
        "        pass\n"
    )

    async def main():
        connection = await aio_pika.connect(rpc_targets.amqp_uri)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange("nameko-rpc", aio_pika.ExchangeType.TOPIC, durable=True)
            queue = await channel.declare_queue("rpc-recorder", auto_delete=True)
            await queue.bind(exchange, "recorder.*")
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-c", nameko_script, rpc_targets.amqp_uri],
                cwd=ROOT,
                check=True,
                capture_output=True,
                timeout=60,
            )
            async with client_of(rpc_targets) as client:
                call = asyncio.ensure_future(
                    client.call("recorder", "get_center", *args, context=context, flag=True, timeout=3)
                )
                recorded = [await queue.get(no_ack=True, timeout=5), await queue.get(no_ack=True, timeout=5)]
                call.cancel()  # a caller gone (e.g. its HTTP client hung up): the call is forgotten
                with contextlib.suppress(asyncio.CancelledError):
                    await call
                assert not client._pending
            await queue.delete(if_unused=False, if_empty=False)
            return recorded
        finally:
            await connection.close()

    theirs, ours = run(main())
    for message in (theirs, ours):
        assert message.routing_key == "recorder.get_center"
        assert message.body == theirs.body
        assert (message.content_type, message.content_encoding) == ("application/json", "utf-8")
        assert (message.delivery_mode, message.priority) == (theirs.delivery_mode, theirs.priority)
        uuid.UUID(message.correlation_id)
        uuid.UUID(message.reply_to)  # the reply queue's routing key
        assert message.headers["nameko.request_id"] == "req-compare"
        assert len(message.headers["nameko.call_id_stack"]) == 1
    # ours adds the deadline, as the broker's expiration and as context for the service
    assert set(ours.headers) - set(theirs.headers) == {"nameko.deadline"}
    assert ours.expiration == 3


def test_the_centers_service_answers_and_refuses_as_itself(centers):
    data = {"code": "EDGE-1", "name": "边缘测试县新时代文明实践中心", "level": "center"}

    async def main():
        async with client_of(centers) as client:
            rpc = client.proxy("centers", context={"request_id": "req-centers"})
            created = await rpc.create_center(data, COUNTY)
            fetched = await rpc.get_center(created["id"])
            with pytest.raises(errors.NotFound) as missing:
                await rpc.get_center(created["id"] + 1000)
            with pytest.raises(errors.InvalidInput) as invalid:
                await rpc.create_center({**data, "code": "EDGE-2", "level": "nowhere"}, COUNTY)
            return created, fetched, missing.value, invalid.value

    created, fetched, missing, invalid = run(main())
    assert fetched == created
    assert (fetched["code"], fetched["name"]) == (data["code"], data["name"])
    assert (missing.code, missing.message) == ("center.not_found", f"阵地 {created['id'] + 1000} 不存在。")
    assert "level" in invalid.fields


@pytest.mark.broker_restart
def test_through_a_broker_restart_calls_fail_fast_then_work_again(lone_rpc_targets):
    async def main():
        async with client_of(lone_rpc_targets) as client:
            proxy = client.proxy(TARGETS, timeout=20)
            assert await proxy.echo("before") == {"args": ["before"], "kwargs": {}}
            in_flight = asyncio.ensure_future(proxy.sleep(10))
            failed_at = []
            in_flight.add_done_callback(lambda _: failed_at.append(time.monotonic()))
            await asyncio.sleep(0.3)
            stopping_started = time.monotonic()
            await asyncio.to_thread(rabbitmqctl, "stop_app")
            try:
                with pytest.raises(errors.ServiceUnavailable) as lost:
                    await in_flight
                in_flight_failed_after = failed_at[0] - stopping_started
                assert not client.connected
                during = []
                for _ in range(5):
                    started = time.monotonic()
                    with pytest.raises(errors.ServiceUnavailable) as refused:
                        await proxy.echo("during")
                    during.append((time.monotonic() - started, refused.value.message))
            finally:
                await asyncio.to_thread(rabbitmqctl, "start_app")
            back_after = await first_answer(proxy, within=60)
            assert client.connected
            after = await asyncio.gather(*(proxy.echo(n) for n in range(20)))
            return lost.value, in_flight_failed_after, during, back_after, after

    lost, in_flight_failed_after, during, back_after, after = run(main(), timeout=180)
    assert lost.message == f"服务 {TARGETS} 暂时不可用（与消息代理的连接中断）"
    assert in_flight_failed_after < 5  # when the connection went, not at the 20 s deadline
    for elapsed, message in during:
        assert elapsed < 0.1
        assert message == f"服务 {TARGETS} 暂时不可用（消息代理不可达）"
    assert back_after < 60
    assert after == [{"args": [n], "kwargs": {}} for n in range(20)]


async def first_answer(proxy, within):
    """Seconds until the service answers again (the client and the service both reconnect)."""
    started = time.monotonic()
    while True:
        try:
            await proxy.echo("after")
            return time.monotonic() - started
        except errors.ServiceUnavailable:
            if time.monotonic() - started > within:
                raise
            await asyncio.sleep(0.5)
