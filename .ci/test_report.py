"""Print what some tests showed: each test whose module's name holds MATCH, its state, its
duration and what it printed (the cluster job: the spark-submit lines, the executors that
ran the tasks, the worker kill and the rerun; the dashboard: where its screenshots are).
Read from the JUnit reports (pytest's junit_logging).

    python3 .ci/test_report.py REPORT_DIR MATCH"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(report_dir: str, match: str) -> int:
    # The Spark files run as one batch: its report is named after another file.
    for report in sorted(Path(report_dir).glob("*.xml")):
        for case in ET.parse(report).getroot().iter("testcase"):
            if match not in (case.get("classname") or ""):
                continue
            failed = case.find("failure") is not None or case.find("error") is not None
            state = "FAILED" if failed else ("skipped" if case.find("skipped") is not None else "ok")
            print(f"--- {case.get('name')}: {state} in {float(case.get('time', 0)):.1f} s")
            out = case.find("system-out")
            said = [
                line
                for line in (out.text or "").splitlines()
                if out is not None and not line.strip("- ").startswith("Captured Out")
            ]
            if "".join(said).strip():
                print("\n".join(said).rstrip())
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
