"""The wiring's schedules: one EventBridge rule on the default bus per ``wiring.SCHEDULES``.

A scheduled pass repeats on its own, so a failed or missed invocation is not retried
for long or kept in a queue: the next pass is the retry, and the function's error
alarm (``Observability``) says when passes keep failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.constructs.tagging import tag_wiring
from polycast import wiring

# Delivery retries within one period; an older invocation is superseded by the next one.
TARGET_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE = Duration.minutes(1)


class Schedules(Construct):
    """``rules`` maps each schedule's logical id to its rule."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        schedules: Sequence[wiring.Schedule],
        functions: Mapping[str, lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.rules: dict[str, events.Rule] = {}
        for spec in schedules:
            function = functions[spec.function.logical_id]
            rule = events.Rule(
                self,
                spec.logical_id,
                description=f"{spec.function.logical_id}: {spec.description}"[:512],
                schedule=events.Schedule.expression(spec.expression),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function, retry_attempts=TARGET_RETRY_ATTEMPTS, max_event_age=MAX_EVENT_AGE
                )
            )
            # The asynchronous invocation: no Lambda retries of a pass either.
            function.configure_async_invoke(retry_attempts=0, max_event_age=MAX_EVENT_AGE)
            tag_wiring(rule, spec.logical_id)
            self.rules[spec.logical_id] = rule
