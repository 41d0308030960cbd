"""Sender on the API Gateway Management API (PostToConnection / DeleteConnection).

The same boto3 client talks to API Gateway when deployed and to the local gateway's
``@connections`` API (``API_GATEWAY_ENDPOINT``) when run on a laptop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from polycast.errors import ConnectionGone, PolycastError, TransientError

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

_GONE_CODES = frozenset({"GoneException"})
_TRANSIENT_CODES = frozenset(
    {"LimitExceededException", "TooManyRequestsException", "ThrottlingException"}
)


def sender_error(exc: ClientError) -> PolycastError:
    """410 → ConnectionGone; 429 and 5xx → TransientError; the rest is final."""
    code = exc.response.get("Error", {}).get("Code", "")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    if code in _GONE_CODES or status == 410:
        return ConnectionGone("connection gone (410)")
    if code in _TRANSIENT_CODES or status == 429 or status >= 500:
        return TransientError(f"PostToConnection: {code or status}")
    return PolycastError(f"PostToConnection: {code or status}")


class ApiGatewaySender:
    def __init__(self, client: ApiGatewayManagementApiClient) -> None:
        self._client = client

    def post(self, connection_id: str, data: bytes) -> None:
        try:
            self._client.post_to_connection(ConnectionId=connection_id, Data=data)
        except ClientError as exc:
            raise sender_error(exc) from exc
        except BotoCoreError as exc:  # connection reset, read timeout: worth a retry
            raise TransientError(f"PostToConnection: {type(exc).__name__}") from exc

    def close(self, connection_id: str) -> None:
        """Close a listener's connection; one already gone is not an error."""
        try:
            self._client.delete_connection(ConnectionId=connection_id)
        except ClientError as exc:
            err = sender_error(exc)
            if not isinstance(err, ConnectionGone):
                raise err from exc
        except BotoCoreError as exc:
            raise TransientError(f"DeleteConnection: {type(exc).__name__}") from exc
