"""Waiting for something to become true, bounded, without blocking the eventlet hub."""

import time

import eventlet


def wait_for(predicate, timeout=15.0, interval=0.05, what=None):
    """The first truthy value of `predicate()`; AssertionError when `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        eventlet.sleep(interval)
