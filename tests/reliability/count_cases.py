"""Count the hostile cases one default run of the reliability suite executes (docs/reliability.md).

    python tests/reliability/count_cases.py [PYTEST ARGS]   # default: tests/reliability tests/test_properties.py

Runs pytest in this process and counts, over the tests that pass: every example hypothesis ran
(``passing`` test cases of each phase, from its statistics; invalid ones, which the test rejected
before running, are not counted) plus one for every other test item (a parametrized case or a
single scenario). Prints the two counts, their sum, and per-file totals. Honours
``DCFFNET_PROPERTY_EXAMPLES`` like the suites themselves.
"""

from __future__ import annotations

import collections
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ["tests/reliability", "tests/test_properties.py"]
_PASSING = re.compile(r"- (\d+) passing")


class CaseCounter:
    """A pytest plugin: generated examples and other test items of the passing tests, per file."""

    def __init__(self) -> None:
        self.examples: collections.Counter[str] = collections.Counter()
        self.items: collections.Counter[str] = collections.Counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        if report.when != "call" or not report.passed:
            return
        where = item.nodeid.split("::")[0]
        stats = getattr(item, "hypothesis_statistics", None)  # set by hypothesis' pytest plugin
        if stats:
            self.examples[where] += sum(int(n) for n in _PASSING.findall(stats))
        else:
            self.items[where] += 1


def main(argv: list[str]) -> int:
    counter = CaseCounter()
    code = pytest.main(["-q", "-p", "no:cacheprovider", *(argv or DEFAULT)], plugins=[counter])
    examples, items = sum(counter.examples.values()), sum(counter.items.values())
    for where in sorted(set(counter.examples) | set(counter.items)):
        print(f"{where}: {counter.examples[where]} generated examples, {counter.items[where]} other cases")
    print(f"hostile cases: {examples} generated examples + {items} other cases = {examples + items}")
    return int(code)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
