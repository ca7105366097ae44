"""Print the activities service's events, one JSON line each, every event once.

Plain pika: any AMQP 0-9-1 client does the same (docs/events.md). Two ways to listen:

  # a durable queue of your own, bound to the topic exchange activities.events
  python examples/activity_subscriber.py --queue county-report --bind 'activity.*' --bind 'attendance.*'

  # history, from the stream activities.events.stream: from a time, or from an offset
  python examples/activity_subscriber.py --stream --since 2026-11-28T08:00:00+08:00
  python examples/activity_subscriber.py --stream --offset first

Delivery is at least once: the broker delivers again what was not acknowledged when a
connection dropped, and the service publishes an event again when it stopped between
publishing and recording it. So the example remembers the ids it printed (in memory, and in
the file `--seen` names, which survives a restart) and skips an event it already printed.
"""

import argparse
import json
import logging
import os
import sys
import time
from datetime import datetime

import pika
from pika.exceptions import AMQPConnectionError, ChannelClosedByBroker

EXCHANGE = "activities.events"
STREAM = "activities.events.stream"
DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
PREFETCH = 100  # a stream consumer must set one; a queue consumer should
RECONNECT_SECONDS = 2

log = logging.getLogger("activity_subscriber")


class Seen:
    """Ids of the events already printed: in memory, and appended to `path` (one a line)."""

    def __init__(self, path=None):
        self.ids = set()
        self.file = None
        if path:
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    self.ids = {line.strip() for line in f if line.strip()}
            self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the whole run)

    def __contains__(self, event_id):
        return event_id in self.ids

    def add(self, event_id):
        self.ids.add(event_id)
        if self.file:
            self.file.write(event_id + "\n")
            self.file.flush()


class Printer:
    """Prints each new event once; done after `count` of them."""

    def __init__(self, seen, since=None, count=None):
        self.seen = seen
        self.since = since
        self.count = count
        self.printed = 0

    def handle(self, body):
        try:
            event = json.loads(body)
            event_id, event_type = event["id"], event["type"]
        except (ValueError, TypeError, KeyError):
            log.warning("skipped a message that is not a CloudEvent: %.80r", body)
            return
        if event_id in self.seen:
            log.info("skipped %s %s: already printed", event_type, event_id)
            return
        if self.since and datetime.fromisoformat(event["time"]) < self.since:
            return  # a stream starts at a chunk, which may hold a few events of the second before
        line = {key: event.get(key) for key in ("type", "id", "subject", "time", "data")}
        print(json.dumps(line, ensure_ascii=False), flush=True)
        self.seen.add(event_id)  # printed, then remembered, then acknowledged: at least once
        self.printed += 1

    @property
    def done(self):
        return self.count is not None and self.printed >= self.count


def listen(url, args, printer):
    """Consume until done or idle; on a lost connection, connect again and go on."""
    offset = stream_offset(args) if args.stream else None
    while True:
        try:
            with pika.BlockingConnection(pika.URLParameters(url)) as connection:
                channel = connection.channel()
                channel.basic_qos(prefetch_count=PREFETCH)
                if args.stream:
                    queue, arguments = STREAM, {"x-stream-offset": offset}
                else:
                    queue, arguments = declare_queue(channel, args.queue, args.bind), None
                log.info("listening on %s%s", queue, f" from {offset}" if args.stream else "")
                for method, properties, body in channel.consume(
                    queue, arguments=arguments, inactivity_timeout=args.idle_seconds
                ):
                    if method is None:
                        log.info("no event for %ss: stopping", args.idle_seconds)
                        return
                    printer.handle(body)
                    channel.basic_ack(method.delivery_tag)
                    position = (properties.headers or {}).get("x-stream-offset")
                    if position is not None:  # a stream's: after a reconnection, go on from the next one
                        offset = position + 1
                    if printer.done:
                        return
        except AMQPConnectionError as lost:
            log.warning("connection lost (%s); connecting again in %ss", lost, RECONNECT_SECONDS)
            time.sleep(RECONNECT_SECONDS)


def declare_queue(channel, queue, bindings):
    """A durable queue of our own, bound to the exchange: it keeps what arrives while we are away."""
    channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
    channel.queue_declare(queue, durable=True)
    for routing_key in bindings or ["#"]:
        channel.queue_bind(queue, EXCHANGE, routing_key=routing_key)
    return queue


def stream_offset(args):
    """The x-stream-offset to start from: first, last, next, an offset, or a time."""
    if args.since:
        return args.since  # pika sends a datetime as an AMQP timestamp (whole seconds)
    return int(args.offset) if args.offset.isdigit() else args.offset


def aware_time(text):
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its offset, e.g. 2026-11-28T08:00:00+08:00")
    return moment


def offset_spec(text):
    if text in ("first", "last", "next") or text.isdigit():
        return text
    raise argparse.ArgumentTypeError("first, last, next or an offset (a whole number)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("AMQP_URI") or DEFAULT_URL, help="AMQP URL ($AMQP_URI)")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--queue", help=f"a durable queue of your own, bound to {EXCHANGE}")
    mode.add_argument("--stream", action="store_true", help=f"read {STREAM}")
    parser.add_argument("--bind", action="append", metavar="KEY", help="routing key to bind (repeatable; default #)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--since", type=aware_time, help="stream: events from this ISO 8601 time on")
    start.add_argument("--offset", type=offset_spec, help="stream: first, last, next or an offset")
    parser.add_argument("--seen", metavar="FILE", help="remember printed event ids in FILE across runs")
    parser.add_argument("--count", type=int, help="stop after printing this many events")
    parser.add_argument("--idle-seconds", type=float, help="stop when no event came for this long")
    args = parser.parse_args(argv)
    if args.stream and not (args.since or args.offset):
        parser.error("--stream needs --since or --offset")
    if not args.stream and (args.since or args.offset):
        parser.error("--since and --offset read the stream: add --stream")
    if args.stream and args.bind:
        parser.error("--bind binds a queue: the stream holds every event")
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("pika").setLevel(logging.WARNING)
    sys.stdout.reconfigure(encoding="utf-8")
    printer = Printer(Seen(args.seen), since=args.since, count=args.count)
    try:
        listen(args.url, args, printer)
    except ChannelClosedByBroker as refused:
        log.error("the broker refused: %s", refused)  # e.g. no stream yet: the service declares it
        return 2
    except KeyboardInterrupt:
        pass
    log.info("printed %d events", printer.printed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
