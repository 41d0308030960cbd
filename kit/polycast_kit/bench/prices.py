"""Published AWS prices used by ``polycast cost`` (us-east-1, on-demand, no free tier).

Update the table and ``AS_OF`` together; every figure is per unit named in the
field. Sources: aws.amazon.com/<service>/pricing for each service. Prices are
list prices as published for us-east-1 (DynamoDB on-demand after the
November 2024 reduction); volume tiers beyond the first are ignored, which
overstates cost for very large deployments.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

AS_OF = "2025-06"
REGION = "us-east-1"


@dataclass(frozen=True)
class Prices:
    kinesis_shard_hour: float = 0.015
    kinesis_put_payload_unit_per_million: float = 0.014  # 25 KB units
    lambda_gb_second: float = 0.0000166667  # x86
    lambda_request_per_million: float = 0.20
    eventbridge_event_per_million: float = 1.00  # custom events, 64 KB units
    dynamodb_wru_per_million: float = 0.625  # on-demand
    dynamodb_rru_per_million: float = 0.125  # on-demand
    websocket_message_per_million: float = 1.00  # first billion; 32 KB units
    websocket_connection_minute_per_million: float = 0.25
    translate_char_per_million: float = 15.00
    polly_neural_char_per_million: float = 16.00
    polly_standard_char_per_million: float = 4.00
    s3_put_per_thousand: float = 0.005
    s3_get_per_thousand: float = 0.0004
    logs_ingest_per_gb: float = 0.50  # CloudWatch Logs, standard class

    def to_json(self) -> dict[str, Any]:
        return {"asOf": AS_OF, "region": REGION, **asdict(self)}


PRICES = Prices()
