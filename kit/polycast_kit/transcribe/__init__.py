"""The local half of speech recognition: Amazon Transcribe's streaming protocol, offline.

* :mod:`.eventstream` — AWS event-stream frames (encoder; strict decoder on botocore);
* :mod:`.presigned` — checks a presigned URL's SigV4 signature and expiry;
* :mod:`.recognizer` — pocketsphinx answering with Transcribe-shaped results;
* :mod:`.route` — the aiohttp WebSocket endpoint the local gateway mounts;
* :mod:`.client` and :mod:`.wav` — the Python client (``polycast speak``).

The protocol and the figures are in docs/speech-recognition.md.
"""
