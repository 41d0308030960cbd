"""Session sweeper Lambda: on a schedule (every minute), ends idle and overlong sessions.

Thin: the rules live in ``polycast.services.session_sweeper``. Input is the
EventBridge Scheduled Event (its contents do not matter); the answer counts what
one pass did: ``{"ended", "idle", "maxDuration", "kept", "failed"}``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import utils as logging_utils
from aws_lambda_powertools.utilities.typing import LambdaContext

from polycast import wiring
from polycast.composition import session_sweeper_dependencies
from polycast.config import Settings
from polycast.edge import PerContainer
from polycast.services.session_sweeper import SessionSweeper
from polycast.tracing import lambda_tracer

SERVICE = wiring.SESSION_SWEEPER.service_name
logger = Logger(service=SERVICE)
tracer = lambda_tracer(SERVICE)  # X-Ray deployed; nothing imported when tracing is off
logging_utils.copy_config_to_registered_loggers(
    source_logger=logger, include={"polycast.services.session_sweeper"}
)

sweeper: PerContainer[SessionSweeper] = PerContainer(
    lambda: session_sweeper_dependencies(Settings.from_env())
)


@tracer.capture_lambda_handler
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = sweeper().sweep().to_json()
    if result["ended"] or result["failed"]:
        logger.info("sweep done", extra=result)
    return result
