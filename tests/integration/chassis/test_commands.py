"""`@command` and `@rpc` on the callee's side: a request whose caller has given up is not
done, and a command retried with its idempotency key is done once, on SQLite and PostgreSQL."""

import time

import pytest
from nameko.standalone.rpc import ServiceRpcClient

from services.chassis.errors import InvalidInput, ServiceUnavailable
from tests.support.notes import NotesService


@pytest.fixture
def notes_service(start_service, notes_db):
    start_service(NotesService, notes_db)


def notes(**context):
    return ServiceRpcClient("notes", context_data=context, timeout=10)


def keyed(key, fingerprint="request-1"):
    return notes(idempotency_key=f"account-1/{key}", idempotency_fingerprint=fingerprint)


def test_a_retried_command_is_done_once_and_answered_alike(notes_service):
    with keyed("k1") as client:
        first = client.add("你好")
    with keyed("k1") as client:
        assert client.add("你好") == first
    with keyed("k2") as client:
        assert client.add("你好") != first  # another key is another request
    with notes() as client:
        assert client.texts() == ["你好", "你好"]


def test_a_command_may_read_before_it_writes(notes_service):
    """The read joins the command's transaction: on SQLite, with its one connection, asking
    for a second one waited until the pool gave up (30 s, then a 500)."""
    with keyed("read-then-write") as client:
        first = client.add_once("读后写")
    with keyed("read-then-write-again") as client:
        assert client.add_once("读后写") == first
    with notes() as client:
        assert client.texts() == ["读后写"]


def test_a_key_used_for_another_request_is_refused(notes_service):
    with keyed("k1") as client:
        client.add("一")
    with keyed("k1", fingerprint="request-2") as client, pytest.raises(InvalidInput) as refused:
        client.add("二")
    assert refused.value.code == "idempotency.key_reused"
    with notes() as client:
        assert client.texts() == ["一"]


def test_a_refused_command_records_neither_its_change_nor_its_key(notes_service):
    with keyed("k1") as client, pytest.raises(InvalidInput):
        client.add("refuse me")
    with notes() as client:
        assert client.texts() == []
        assert client.add("then this") > 0


def test_work_whose_caller_gave_up_is_not_done(notes_service):
    with notes(deadline=time.time() - 1) as client, pytest.raises(ServiceUnavailable) as refused:
        client.add("too late")
    assert refused.value.code == "rpc.deadline_passed"
    with notes(deadline=time.time() + 30) as client:
        client.add("in time")
        assert client.texts() == ["in time"]
