"""Print what the cluster job showed (tests/integration/spark/test_cluster.py): each test,
its duration and what it printed: the spark-submit lines, the executors that ran the tasks,
the worker kill and the rerun. Read from the JUnit reports (pytest's junit_logging)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(report_dir: str) -> int:
    # The Spark files run as one batch: its report is named after another file.
    for report in sorted(Path(report_dir).glob("*.xml")):
        for case in ET.parse(report).getroot().iter("testcase"):
            if "test_cluster" not in (case.get("classname") or ""):
                continue
            failed = case.find("failure") is not None or case.find("error") is not None
            state = "FAILED" if failed else ("skipped" if case.find("skipped") is not None else "ok")
            print(f"--- {case.get('name')}: {state} in {float(case.get('time', 0)):.1f} s")
            out = case.find("system-out")
            if out is not None and out.text:
                print(out.text.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist/test/reports"))
