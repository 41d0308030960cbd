"""The Polycast kit: everything that runs on a developer's or an organizer's machine.

It depends on the shipped ``polycast`` package (the Lambda layer), never the reverse:

- ``cli``          the ``polycast`` command;
- ``local``        the embedded runtime behind ``polycast local`` (moto, the gateway, the
                   Kinesis poller, the bus drains), running the real handlers in-process;
- ``engines``      the local engines behind the Translate and Polly ports (Apertium, espeak-ng);
- ``testing``      hand-written in-memory fakes of every port, for tests and the harnesses;
- ``bench``        ``polycast bench`` scenarios;
- ``reliability``  the fault-injection harness behind ``polycast reliability``.
"""
