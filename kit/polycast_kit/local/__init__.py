"""The embedded runtime behind ``polycast local``: the whole pipeline on one machine.

- ``aws``            a moto server on loopback, with the wiring's resources;
- ``kinesis_poller`` the event source mapping (batches, checkpoints, bisect, retries);
- ``event_queues``   EventBridge rule targets (SQS) drained into functions;
- ``gateway``        the API Gateway WebSocket API and its ``@connections`` API;
- ``functions``      the Lambda handlers, loaded in-process with a Lambda-like context;
- ``containers``     the broadcaster's invocations in worker processes of their own;
- ``runtime``        all of it together: ``LocalRuntime``.

Nothing is imported here, so the CLI can use parts without pulling in moto.
"""
