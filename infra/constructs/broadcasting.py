"""The ``polycast`` event bus, its archive, and the rules from the wiring.

Rules with a target function deliver to it with a retry policy and a dead-letter
queue (for events EventBridge could not deliver) and the function's own async
on-failure destination (for events it received but could not process), so no
segment is lost silently. Rules without a function are subscriptions handed to
``Analytics``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.nag import acknowledge
from infra.constructs.tagging import tag_wiring
from polycast import wiring

# A segment older than this is no longer live speech: drop it to the DLQ instead.
MAX_EVENT_AGE = Duration.minutes(5)
TARGET_RETRY_ATTEMPTS = 3
ASYNC_RETRY_ATTEMPTS = 1


class Broadcasting(Construct):
    """``bus`` named ``polycast`` (the wire contract), an archive for replay, the DLQ."""

    def __init__(self, scope: Construct, construct_id: str, *, archive_retention_days: int) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=wiring.BUS_NAME)
        self.archive = self.bus.archive(
            "Archive",
            description="Every polycast event, for replay (see docs/deploy.md)",
            event_pattern=events.EventPattern(source=[wiring.SOURCE]),
            retention=Duration.days(archive_retention_days),
        )
        self.dead_letters = sqs.Queue(
            self,
            "BroadcastDeadLetters",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the broadcaster rule and the broadcaster's "
            "async on-failure destination; an alarm watches its depth.",
        )
        self.rules: dict[str, events.Rule] = {}

    def add_rules(
        self, rules: Sequence[wiring.Rule], functions: Mapping[str, lambda_.Function]
    ) -> list[events.Rule]:
        """Create every wiring rule on the bus; return those without a function target."""
        subscriptions: list[events.Rule] = []
        for spec in rules:
            pattern = spec.event_pattern
            rule = events.Rule(
                self,
                spec.logical_id,
                event_bus=self.bus,
                description=spec.description,
                event_pattern=events.EventPattern(
                    source=pattern["source"], detail_type=pattern.get("detail-type")
                ),
            )
            tag_wiring(rule, spec.logical_id)
            self.rules[spec.logical_id] = rule
            if spec.target_function is None:
                subscriptions.append(rule)
                continue
            function = functions[spec.target_function.logical_id]
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    dead_letter_queue=self.dead_letters,
                    retry_attempts=TARGET_RETRY_ATTEMPTS,
                    max_event_age=MAX_EVENT_AGE,
                )
            )
            function.configure_async_invoke(
                retry_attempts=ASYNC_RETRY_ATTEMPTS,
                max_event_age=MAX_EVENT_AGE,
                on_failure=destinations.SqsDestination(self.dead_letters),
            )
        return subscriptions
