"""``anju ingest mqtt``: subscribe to the broker and store telemetry (docs/facilities.md)."""

from __future__ import annotations

import os
import signal
import socket
import threading

from django.core.management.base import BaseCommand, CommandError

from anju.facilities.mqtt import DEFAULT_URL, TOPIC, MqttIngest


class Command(BaseCommand):
    help = "Ingest device telemetry: anju ingest mqtt [--url mqtt://127.0.0.1:1883] …"

    def add_arguments(self, parser):
        parser.add_argument("source", choices=["mqtt"], help="where telemetry comes from")
        parser.add_argument(
            "--url", default=DEFAULT_URL, help="broker, mqtt://[user:password@]host[:port]"
        )
        parser.add_argument("--topic", default=TOPIC)
        parser.add_argument(
            "--client-id",
            default=f"anju-ingest-{socket.gethostname()}",
            help="stable id: the broker keeps QoS 1 messages for it while it is down",
        )
        parser.add_argument(
            "--shared", action="store_true", help="shared subscription: several ingesters"
        )
        parser.add_argument("--flush-ms", type=int, default=200)
        parser.add_argument("--log-every", type=float, default=60.0, help="seconds")
        parser.add_argument(
            "--max-seconds", type=float, default=0, help="stop after this long (tests, benches)"
        )

    def handle(self, *args, **o):
        if o["flush_ms"] < 10 or o["flush_ms"] > 60000:
            raise CommandError("--flush-ms must be between 10 and 60000")
        stop = threading.Event()

        def on_signal(signum, frame):
            self.stdout.write(f"signal {signum}: flushing and stopping")
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if o["max_seconds"]:
            threading.Timer(o["max_seconds"], stop.set).start()
        try:
            runner = MqttIngest(
                url=o["url"],
                client_id=o["client_id"],
                topic=o["topic"],
                shared=o["shared"],
                flush_interval=o["flush_ms"] / 1000,
                log_every=o["log_every"],
                say=lambda line: self.stdout.write(line),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"anju ingest mqtt: pid {os.getpid()}, {o['url']}, topic {o['topic']}")
        runner.run(stop)
