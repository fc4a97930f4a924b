"""The local stand-in for the recommender's schedule (an EventBridge Scheduler rule and a
Fargate task on AWS): ``flixstack up`` runs this child, which trains once the platform is
up and then every ``recommend_every_s`` seconds, so home rows follow what was watched
while it runs. ``flixstack train-recs`` trains once, on demand."""

from __future__ import annotations

import logging
import signal
import threading

from flixstack.aws.clients import AwsClients
from flixstack.errors import FlixstackError
from flixstack.process import exit_with_parent
from flixstack.recommend import wiring
from flixstack.settings import get_settings
from flixstack.viewers.wiring import viewing

logger = logging.getLogger("flixstack.recommender")


def main() -> None:
    """``python -m flixstack.local.recommender``: train, wait, train ... until SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    exit_with_parent(signal.SIGTERM)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = get_settings()
    clients = AwsClients(settings)
    trainer = wiring.trainer(settings, clients, viewing(settings, clients))
    while not stop.is_set():
        try:
            report = trainer.run()
            logger.info("trained: %s", report.as_json())
        except (FlixstackError, ValueError) as exc:  # nothing published yet, a race: next time
            logger.warning("training skipped: %s", exc)
        stop.wait(settings.recommend_every_s)


if __name__ == "__main__":
    main()
