"""What one gateway process keeps, all of it rebuilt from the services at start: the RPC
client, the identity service's public keys (in the token verifier), the accounts model every
token is checked against and the centers read model, each model with its feed. Nothing here
is the only copy of anything, so a replica can be started, stopped or added at any time."""

import asyncio
import json
import logging

import aio_pika

from services.centers.contract import CENTER_PROPERTIES
from services.centers.contract import SERVICE as CENTERS
from services.chassis.errors import ServiceUnavailable
from services.identity.contract import ACCOUNT_CHANGED, TOKEN_REVOKED
from services.identity.contract import SERVICE as IDENTITY

from .accounts_model import AccountModel
from .read_model import CenterReadModel
from .rpc_client import RpcClient
from .tokens import TokenVerifier

log = logging.getLogger(__name__)

RETRY_SECONDS = 2  # how soon a failed fetch is retried
KEYS_REFRESH_SECONDS = 300  # a rotated key is trusted (or dropped) within this long


class GatewayState:
    def __init__(self, amqp_uri, rpc_timeout=5.0):
        self.amqp_uri = amqp_uri
        self.rpc = RpcClient(amqp_uri, timeout=rpc_timeout, name="gateway")
        self.accounts = AccountModel()
        self.tokens = TokenVerifier(accounts=self.accounts)
        self.read_model = CenterReadModel()
        self._tasks = []
        self._events_connection = None

    async def start(self):
        await self.rpc.start()
        await self._follow_center_events()
        await self._follow_identity_events()  # bound before the snapshot, so no change falls between
        self._tasks = [
            asyncio.create_task(self._every(RETRY_SECONDS, self._refresh_keys), name="public keys"),
            asyncio.create_task(self._every(RETRY_SECONDS, self._resync_accounts), name="accounts snapshot"),
            asyncio.create_task(self._every(RETRY_SECONDS, self._resync_centers), name="centers snapshot"),
        ]

    async def stop(self):
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._events_connection is not None:
            await self._events_connection.close()
        await self.rpc.close()

    def unanswering_services(self):
        """Services this replica refuses calls to for now. They do not make it unready: every
        replica shares them, and reads from the read model still work without them."""
        return self.rpc.breaker.open_circuits()

    def readiness(self):
        """Problems that make this replica unready, as {check: reason}; empty when ready."""
        problems = {}
        if not self.rpc.connected:
            problems["broker"] = "not connected"
        if not self.tokens.ready:
            problems["public_keys"] = "the identity service's public keys have not been fetched yet"
        if not self.accounts.ready:
            problems["accounts"] = "the identity service's accounts have not been loaded yet"
        return problems

    async def _every(self, seconds, step):
        while True:
            try:
                await step()
            except ServiceUnavailable as exc:
                log.warning("%s; retrying in %ss", exc, seconds)
            except Exception:  # a background feed must outlive any one failure
                log.exception("%s failed; retrying in %ss", step.__name__, seconds)
            await asyncio.sleep(seconds)

    async def _refresh_keys(self):
        if self.tokens.refresh_due(KEYS_REFRESH_SECONDS):
            self.tokens.use_keys(await self.rpc.proxy(IDENTITY).public_keys())

    async def _resync_centers(self):
        """Load the snapshot soon after start, then every minute, which heals anything a
        missed event left stale; page by page, so one reply stays small."""
        if not self.read_model.resync_due():
            return
        self.read_model.load(await all_pages(self.rpc.proxy(CENTERS).snapshot, 0, "next_after_id"))

    async def _resync_accounts(self):
        """Load every account's state and the revoked tokens soon after start, then every
        RESYNC_SECONDS of the model, which heals anything a missed event left stale."""
        if not self.accounts.resync_due():
            self.accounts.prune()
            return
        started_at = self.accounts.now()
        identity = self.rpc.proxy(IDENTITY)
        accounts = await all_pages(identity.accounts_snapshot, 0, "next_after_id")
        revoked = await all_pages(identity.revoked_tokens, "", "next_after_jti")
        self.accounts.load(accounts, revoked, started_at)

    async def _follow_identity_events(self):
        """`account.changed` and `token.revoked`, on a queue of this replica's own (every
        replica gets every event), so that a deactivation, a role change or a logout is
        refused by every replica within the event's delivery, normally milliseconds."""
        await self._broadcast(IDENTITY, (ACCOUNT_CHANGED, TOKEN_REVOKED), self._on_identity_event)

    async def _on_identity_event(self, message):
        try:
            event = json.loads(message.body)
            data = event["data"]
            if event["type"] == ACCOUNT_CHANGED:
                self.accounts.apply_event(data)
            elif event["type"] == TOKEN_REVOKED:
                self.accounts.revoke(str(data["jti"]), int(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an identity event that is not a CloudEvent it knows: %r", message.body[:200])

    async def _follow_center_events(self):
        """Every replica gets every `center.*` event on a queue of its own (a broadcast), so
        each keeps its read model current; the robust channel re-binds it after a broker
        restart, and the periodic resync heals what was missed meanwhile."""
        self._events_connection = await aio_pika.connect_robust(self.amqp_uri)
        await self._broadcast(CENTERS, ("center.*",), self._on_center_event)

    async def _broadcast(self, service, routing_keys, on_message):
        """`service`'s events of `routing_keys` on an exclusive queue of this replica's own."""
        channel = await self._events_connection.channel()
        exchange = await channel.declare_exchange(f"{service}.events", aio_pika.ExchangeType.TOPIC, durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for routing_key in routing_keys:
            await queue.bind(exchange, routing_key=routing_key)
        await queue.consume(on_message, no_ack=True)

    async def _on_center_event(self, message):
        try:
            data = json.loads(message.body)["data"]
            # the center as the service shows it: an event's own fields (previous_status,
            # previous_parent_id) are not the center's
            self.read_model.apply({name: data[name] for name in CENTER_PROPERTIES})
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a center event that is not a CloudEvent with a center: %r", message.body[:200])


async def all_pages(fetch, first, next_key):
    """Every item of a paged snapshot: `fetch(after)` until its `next_key` is None."""
    items, after = [], first
    while after is not None:
        page = await fetch(after)
        items += page["items"]
        after = page[next_key]
    return items
