"""The ``polycast`` command: ``local``, ``demo``, ``produce``, ``listen``, ``events tail``,
``measure``. Each subcommand lives in its own module with ``register`` and ``run``."""
