"""The script spark-submit runs for an app shipped as a PEX.

spark-submit needs a ``.py`` file as a Python application; the app itself is in the PEX,
which serves as the driver's Python (``PEX_INTERPRETER=1`` makes a PEX an interpreter with
the app on its path) and as the executors' (shipped with ``--files``)::

    PEX_INTERPRETER=1 spark-submit --master spark://HOST:7077 \\
        --conf spark.pyspark.driver.python=dist/src.apps.ingestion/ingestion.pex \\
        --files dist/src.apps.ingestion/ingestion.pex \\
        --conf spark.pyspark.python=./ingestion.pex \\
        --conf spark.executorEnv.PEX_INTERPRETER=1 \\
        --conf spark.executorEnv.PEX_ROOT=/tmp/pex \\
        src/apps/spark_submit.py ingestion run examples/pipelines/orders-append.toml

The first argument names the app (ingestion, recon or metadata); the rest are its
command line, exactly as for ``python3.11 ingestion.pex ...``. Under spark-submit the
master and configuration are spark-submit's; a pipeline's ``[spark] master`` is ignored.
docs/runbooks/deploy.md has the lines for standalone, YARN and Kubernetes.
"""

from __future__ import annotations

import importlib
import sys

APPS = ("ingestion", "recon", "metadata")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in APPS:
        given = repr(argv[0]) if argv else "nothing"
        print(
            f"spark_submit.py: the first argument names the app, one of {', '.join(APPS)}; "
            f"got {given}. Example: spark_submit.py ingestion run pipeline.toml",
            file=sys.stderr,
        )
        raise SystemExit(2)
    app = importlib.import_module(f"apps.{argv[0]}.main")
    app.cli(args=argv[1:], prog_name=argv[0])


if __name__ == "__main__":
    main(sys.argv[1:])
