"""The local stand-in for the recommender's schedule (an EventBridge Scheduler rule and a
Fargate task on AWS): ``flixstack up`` runs this child, which trains once the platform is
up and then every ``recommend_every_s`` seconds, so home rows follow what was watched
while it runs. ``flixstack train-recs`` trains once, on demand."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError

from flixstack.aws.clients import AwsClients
from flixstack.errors import FlixstackError
from flixstack.process import child_until_stopped
from flixstack.recommend import wiring
from flixstack.settings import get_settings
from flixstack.viewers.wiring import viewing

logger = logging.getLogger("flixstack.recommender")


def main() -> None:
    """``python -m flixstack.local.recommender``: train, wait, train ... until SIGTERM."""
    stop = child_until_stopped()
    settings = get_settings()
    clients = AwsClients(settings)
    trainer = wiring.trainer(settings, clients, viewing(settings, clients))
    while not stop.is_set():
        try:
            report = trainer.run()
            logger.info("trained: %s", report.as_json())
        except (FlixstackError, ValueError, BotoCoreError) as exc:  # nothing published, a race
            logger.warning("training skipped: %s", exc)
        stop.wait(settings.recommend_every_s)


if __name__ == "__main__":
    main()
