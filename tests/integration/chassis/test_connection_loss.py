"""A connection reset under a worker that is still busy does not kill the service.

nameko kills a container when a worker raises while settling its message, which a reset
socket makes the ack (or the RPC reply) do; a broker restart then took whole services down
in the middle of their work. The chassis' entrypoints log it instead: the broker delivers
the unsettled message again and the consumer reconnects by itself."""

import pytest
from kombu import Connection, Exchange
from nameko.amqp.publish import Publisher
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.consumer import reliable_event_handler
from services.chassis.events import SERIALIZER, make_event
from services.chassis.rpc import rpc
from tests.support.net import BlackHoleProxy
from tests.support.waiting import wait_for


class Busy:
    """Each worker ends by calling `finishing` once, if a test set it: the connection can be
    reset right before the worker settles its message, before the consumer notices."""

    name = "busy"
    handled = []
    finishing = None

    @rpc
    def echo(self, value):
        Busy.finish()
        return value

    @reliable_event_handler("busy_source", "thing.happened")
    def on_thing(self, event):
        Busy.handled.append(event["id"])
        Busy.finish()

    @staticmethod
    def finish():
        finishing, Busy.finishing = Busy.finishing, None
        if finishing is not None:
            finishing()


@pytest.fixture
def proxy(amqp_uri):
    broker = Connection(amqp_uri)
    proxy = BlackHoleProxy(broker.hostname, broker.port or 5672)
    yield proxy
    proxy.close()


@pytest.fixture
def busy_service(proxy, amqp_uri, nameko_config, container_factory):
    """The Busy service, connected to the broker through the proxy (the test's own clients
    name the broker's address)."""
    Busy.handled, Busy.finishing = [], None
    nameko_config["AMQP_URI"] = proxy.url(amqp_uri)
    container = container_factory(Busy)
    container.start()
    return container


def alive(container):
    return not container._died.ready()


def test_an_rpc_worker_whose_connection_was_reset_leaves_the_service_running(busy_service, proxy, amqp_uri):
    Busy.finishing = proxy.reset
    with ServiceRpcClient("busy", timeout=10, uri=amqp_uri) as busy:  # not through the proxy
        # the reply or the ack may be lost with the connection; the request is delivered again
        assert busy.echo("first") == "first"
        assert alive(busy_service)
        assert busy.echo("after") == "after"  # the consumer reconnected
    assert alive(busy_service)


def test_an_event_handler_whose_connection_was_reset_leaves_the_service_running(busy_service, proxy, amqp_uri):
    Busy.finishing = proxy.reset
    event = make_event("busy_source", "thing.happened", "1", {})
    Publisher(amqp_uri, serializer=SERIALIZER).publish(
        event, exchange=Exchange("busy_source.events", type="topic", durable=True), routing_key="thing.happened"
    )
    # delivered again after the reset (its ack was lost): the consumer kept consuming
    assert wait_for(lambda: Busy.handled.count(event["id"]) >= 2, timeout=20)
    assert alive(busy_service)
