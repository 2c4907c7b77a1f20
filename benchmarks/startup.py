"""Time from a fresh Python process to ``import dcffnet`` and to the first tracked box.

    python benchmarks/startup.py [--runs 5] [--backend auto]

Each run starts a new interpreter (``python -X importtime`` is not used: it slows imports) that
measures, with ``time.perf_counter`` from its first line:
``import dcffnet``; ``dcffnet.Tracker()`` (bundled default); ``init`` on the first frame of the
bundled example clip; the first ``update``. It also reports whether ``torch`` was imported by then.
``process`` is the whole child process as the parent sees it: interpreter start, all of the
above, and exit. Prints the median of each over the runs (seconds) and one line per run. Run it
from another source tree (``PYTHONPATH=OTHER/TREE``) to compare versions in one session.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import time, sys, json
t0 = time.perf_counter()
import dcffnet
t_import = time.perf_counter() - t0
torch_after_import = "torch" in sys.modules
import cv2
from pathlib import Path
clip = Path(dcffnet.__file__).resolve().parents[1] / "examples" / "assets" / "vtest_150.mp4"
cap = cv2.VideoCapture(str(clip))
ok0, f0 = cap.read(); ok1, f1 = cap.read()
assert ok0 and ok1, clip
t1 = time.perf_counter()
tracker = dcffnet.Tracker(backend=BACKEND)
t_build = time.perf_counter() - t1
t2 = time.perf_counter()
tracker.init(f0, (290.0, 220.0, 40.0, 80.0))
t_init = time.perf_counter() - t2
t3 = time.perf_counter()
tracker.update(f1)
t_update = time.perf_counter() - t3
print(json.dumps({"import": t_import, "torch_after_import": torch_after_import, "build": t_build,
                  "init": t_init, "first_update": t_update, "first_box": t_import + t_build + t_init + t_update,
                  "torch_loaded": "torch" in sys.modules, "backend": tracker.backend}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    rows = []
    for _ in range(args.runs):
        code = CHILD.replace("BACKEND", repr(args.backend))
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - start
        rows.append({**json.loads(out.stdout.strip().splitlines()[-1]), "process": wall})
        print(json.dumps(rows[-1]))
    keys = ("import", "build", "init", "first_update", "first_box", "process")
    print("median seconds: " + ", ".join(f"{k} {statistics.median(r[k] for r in rows):.3f}" for k in keys))
    print(f"torch imported by `import dcffnet`: {rows[0]['torch_after_import']}; "
          f"by the first box: {rows[0]['torch_loaded']}; backend: {rows[0]['backend']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
