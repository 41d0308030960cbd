"""``polycast bench``: each scenario against a baseline run in the same process.

The method and the results are in docs/performance.md.

``run_bench(names, size=...)`` returns one JSON-ready dict; ``plot.render`` draws it;
``cost.estimate`` turns its counted requests into dollars.
"""

from polycast_kit.bench.runner import SCENARIOS, machine, run_bench, table
from polycast_kit.bench.sizes import SIZES, Size

__all__ = ["SCENARIOS", "SIZES", "Size", "machine", "run_bench", "table"]
