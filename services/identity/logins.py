"""The login policy of one identity process: failed attempts are limited per client address
and per username separately, and password hashing is bounded. Plain Python (threading is
eventlet's in the service, real threads in unit tests); the policy is in docs/identity-rpc.md.

Three token buckets, spent by failed attempts only (a refused attempt spends nothing):
- per (username, address): a guesser at one address gets a few tries at one account;
- per address, whatever the username: spraying many usernames from one address is limited;
- per username, whatever the address: guessing one account from many addresses is limited.
An address from which the username logged in successfully lately (a *known* address) is held
only to its own (username, address) bucket, so a burst of wrong passwords from elsewhere does
not lock the owner out; from an unknown address the username's bucket refills within seconds.
"""

import ipaddress
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager

from services.chassis.errors import RateLimited
from services.identity.ratelimit import RateLimiter

PER_PAIR = (5, 12)  # (failures allowed at once, seconds to regain one)
PER_ADDRESS = (20, 6)
PER_USERNAME = (10, 6)
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600
MAX_KEYS = 100_000


def address_key(address):
    """The unit an address is limited as: an IPv4 address, an IPv6 /64 (one host usually owns a
    whole /64); anything else (no address known) as given."""
    try:
        ip = ipaddress.ip_address(str(address).strip())
    except ValueError:
        return str(address)[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _limiter(capacity_and_seconds, clock):
    capacity, seconds = capacity_and_seconds
    return RateLimiter(capacity=capacity, refill_per_second=1 / seconds, max_keys=MAX_KEYS, clock=clock)


class LoginGuard:
    def __init__(
        self,
        per_pair=PER_PAIR,
        per_address=PER_ADDRESS,
        per_username=PER_USERNAME,
        known_seconds=KNOWN_ADDRESS_SECONDS,
        clock=time.monotonic,
    ):
        self._pair = _limiter(per_pair, clock)
        self._address = _limiter(per_address, clock)
        self._username = _limiter(per_username, clock)
        self._known = OrderedDict()  # (username, address) -> when it last logged in
        self._known_seconds = known_seconds
        self._clock = clock

    def retry_after(self, username, address):
        """0 when an attempt may proceed, else whole seconds until one may."""
        address = address_key(address)
        waits = [self._pair.retry_after((username, address))]
        if not self._is_known(username, address):
            waits += [self._address.retry_after(address), self._username.retry_after(username)]
        return max(waits)

    def failed(self, username, address):
        address = address_key(address)
        self._pair.hit((username, address))
        self._address.hit(address)
        self._username.hit(username)

    def succeeded(self, username, address):
        key = (username, address_key(address))
        self._known.pop(key, None)
        self._known[key] = self._clock()
        while len(self._known) > MAX_KEYS:
            self._known.popitem(last=False)

    def _is_known(self, username, address):
        since = self._known.get((username, address))
        return since is not None and self._clock() - since < self._known_seconds


class HashingGate:
    """At most `concurrency` password hashes at once and `queue` more logins waiting for one;
    a login beyond that is refused at once (`RateLimited auth.busy`) instead of queueing
    without bound: argon2id takes tens of milliseconds of CPU and 64 MiB of memory each."""

    def __init__(self, concurrency=1, queue=4):
        self._slots = threading.BoundedSemaphore(concurrency)
        self._limit = concurrency + queue
        self._admitted = 0
        self._lock = threading.Lock()

    @contextmanager
    def login(self):
        """A slot for a login, or RateLimited at once when `concurrency + queue` are in."""
        with self._lock:
            if self._admitted >= self._limit:
                raise RateLimited("auth.busy", "登录请求过多，请稍后再试", retry_after=1)
            self._admitted += 1
        try:
            with self._slots:
                yield
        finally:
            with self._lock:
                self._admitted -= 1

    @contextmanager
    def slot(self):
        """A slot that waits however long it takes (creating an account, which admins do)."""
        with self._slots:
            yield
