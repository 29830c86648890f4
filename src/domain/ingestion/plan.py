"""The planner: what a run will do, and why, decided before anything is read."""

from __future__ import annotations

import itertools

import attrs

from domain.ingestion.spec import Mode, PipelineSpec
from domain.ingestion.state import PipelineState

# The window of an Iceberg source read by snapshot (no watermark column): ``after`` is the
# snapshot the last run read, and the run reads the rows the snapshots since appended.
SNAPSHOTS = "@snapshot"


@attrs.frozen
class Window:
    """The rows an incremental run reads: watermark at or after ``after`` minus ``lag``
    (rows at the committed watermark are read again and the ones already loaded skipped)."""

    column: str
    after: str | None  # the committed watermark; None reads everything
    lag: str | None = None


@attrs.frozen
class Probe:
    """What a cheap look at the source found before the run: an estimate of its rows and
    bytes, and the range of the column it can be split by (an integer key)."""

    rows: int | None = None
    bytes: int | None = None
    column: str | None = None
    lowest: int | None = None
    highest: int | None = None
    slots: int = 1  # tasks the engine runs at once
    files: bool = False  # a file source: the engine splits it by file blocks itself
    quote: str = '"'  # how the source's SQL quotes an identifier (MySQL: a backtick)


@attrs.frozen
class PastRun:
    """An earlier run of the pipeline as the metadata store recorded it."""

    rows_read: int
    read_seconds: float


@attrs.frozen
class Partitioning:
    """How the source is read in parallel: ``count`` ranges of ``column`` split at
    ``bounds`` (count - 1 of them), the first open below (and holding NULLs), the last
    open above; so every row falls in exactly one range, whatever the probe missed."""

    column: str
    lowest: int
    highest: int
    count: int
    fetch_size: int
    bounds: tuple[int, ...] = ()
    quote: str = '"'  # the source's identifier quote

    def predicates(self) -> list[str]:
        """One SQL condition per partition (quoted column), together covering every row
        exactly once."""
        q = self.quote
        column = q + self.column.replace(q, q + q) + q
        if not self.bounds:
            return ["1 = 1"]
        edges = list(self.bounds)
        parts = [f"{column} < {edges[0]} OR {column} IS NULL"]
        parts += [f"{column} >= {lo} AND {column} < {hi}" for lo, hi in itertools.pairwise(edges)]
        parts.append(f"{column} >= {edges[-1]}")
        return parts


# What one partition should hold: big enough that its query's start is noise, small enough
# that a slow one does not hold the run up; and what one fetch should bring (rows x bytes).
ROWS_PER_PARTITION = 250_000
FETCH_BYTES = 8 * 1024 * 1024
MAX_PARTITIONS = 64


def split(
    column: str, lowest: int, highest: int, count: int, fetch_size: int, quote: str = '"'
) -> Partitioning:
    """``count`` (at most the number of values in the range) ranges of equal width."""
    width = highest - lowest + 1
    count = max(1, min(count, width))
    bounds = tuple(lowest + (width * i) // count for i in range(1, count))
    return Partitioning(column, lowest, highest, len(bounds) + 1, fetch_size, bounds, quote)


def partitioning(
    probe: Probe, history: tuple[PastRun, ...], slots: int
) -> tuple[Partitioning | None, int, list[str]]:
    """The source's partitioning, the write parallelism and a sentence for each."""
    reasons: list[str] = []
    rows = probe.rows
    if history:
        recent = history[-5:]
        seconds = sum(r.read_seconds for r in recent)
        throughput = sum(r.rows_read for r in recent) / seconds if seconds > 0 else None
        if throughput:
            reasons.append(
                f"the last {len(recent)} run(s) read {throughput:,.0f} rows/s"
                + (f": this one should take about {rows / throughput:,.0f}s" if rows else "")
            )
    if rows is None or probe.column is None or probe.lowest is None or probe.highest is None:
        reasons.append(
            "the source is read as one partition: "
            + (
                "it has no integer key to split it by"
                if probe.column is None
                else "its size is not known"
            )
        )
        return None, max(1, slots), reasons
    row_bytes = (probe.bytes or rows * 100) / max(rows, 1)
    fetch = int(min(100_000, max(1_000, FETCH_BYTES // max(int(row_bytes), 1))))
    wanted = max(1, -(-rows // ROWS_PER_PARTITION))
    count = min(wanted, MAX_PARTITIONS, max(rows, 1))
    plan = split(probe.column, probe.lowest, probe.highest, count, fetch, probe.quote)
    reasons.append(
        f"the source is read in {plan.count} partition(s) of {probe.column} between "
        f"{probe.lowest:,} and {probe.highest:,} (about {rows // plan.count:,} of its "
        f"~{rows:,} rows each), {fetch:,} rows per fetch for rows of ~{row_bytes:,.0f} bytes"
    )
    parallel = max(1, min(plan.count, slots))
    reasons.append(f"{parallel} partition(s) are read and written at a time ({slots} task slot(s))")
    return plan, parallel, reasons


@attrs.frozen
class Plan:
    """What a run does; every decision comes with its reason, one sentence each."""

    strategy: Mode
    reasons: tuple[str, ...]
    window: Window | None = None
    partitioning: Partitioning | None = None
    parallelism: int = 1
    # The target is replaced by this run's batch, under its schema, in one commit (an
    # operator's --rebuild): the engine writes as if there were no target, and replaces it.
    rebuild: bool = False


def plan(
    spec: PipelineSpec,
    state: PipelineState | None,
    *,
    full_refresh: bool = False,
    probe: Probe | None = None,
    history: tuple[PastRun, ...] = (),
    rebuild: bool = False,
) -> Plan:
    """The next run of ``spec``: its strategy and read window from its state, its
    partitioning and parallelism from the probe of the source and the earlier runs; with
    ``rebuild``, as the first run into a target it then replaces."""
    decided = _strategy(spec, None if rebuild else state, full_refresh=full_refresh)
    if rebuild:
        decided = attrs.evolve(
            decided,
            reasons=(
                "rebuild (--rebuild): the target is replaced by this run's batch, under the "
                "batch's schema, in one commit; the drift gate is not asked, the target's "
                "rows and history so far are not kept",
                decided.reasons[0],  # the mode's own reason, as in a first run
                *decided.reasons[2:],  # (not "no earlier run is committed")
            ),
            rebuild=True,
        )
    if probe is None:
        return decided
    if probe.files:
        reason = (
            "the file source is split by the engine into one task per file block, "
            f"{probe.slots} at a time"
        )
        return attrs.evolve(
            decided, reasons=(*decided.reasons, reason), parallelism=max(1, probe.slots)
        )
    parts, parallel, reasons = partitioning(probe, history, probe.slots)
    return attrs.evolve(
        decided, reasons=decided.reasons + tuple(reasons), partitioning=parts, parallelism=parallel
    )


def _strategy(
    spec: PipelineSpec, state: PipelineState | None, *, full_refresh: bool = False
) -> Plan:
    """Decide the strategy and read window of the next run of ``spec`` from its state."""
    reasons = []
    if state is None:
        reasons.append("no earlier run is committed: the target is built from scratch")
    else:
        reasons.append(
            f"the last committed run is {state.last_run_id} at "
            f"{state.committed_at:%Y-%m-%d %H:%M:%S}Z ({state.rows_written:,} rows)"
        )
    if spec.target.is_iceberg:
        replaces = spec.mode is not Mode.APPEND or full_refresh
        reasons.append(
            f"commit: one {'replace' if replaces else 'append'} snapshot of the iceberg table "
            f"{spec.target.subject}, naming this run; nothing of it is visible before, and a "
            f"commit that lands first refuses it"
        )
    if spec.mode is Mode.FULL:
        reasons.insert(0, "full: the pipeline's mode replaces the whole target each run")
        return Plan(Mode.FULL, tuple(reasons))
    if full_refresh:
        reasons.insert(0, "full: --full-refresh asks to replace the whole target")
        return Plan(Mode.FULL, tuple(reasons))
    if spec.mode is Mode.SCD1:
        order = (
            f"the greatest {spec.sequence} wins (business order)"
            if spec.sequence
            else "a key may appear once per batch (no sequence column)"
        )
        deletes = ""
        if spec.deletes is not None and spec.deletes.missing_keys:
            deletes = "; the batch is a full extract: a key it does not hold is deleted"
        elif spec.deletes is not None:
            deletes = f"; rows with {spec.deletes.column} = {spec.deletes.value} remove their key"
        reasons.insert(
            0,
            f"scd1: one row per key ({', '.join(spec.keys)}), the batch's row replacing the "
            f"target's; {order}{deletes}",
        )
        return Plan(Mode.SCD1, tuple(reasons))
    if spec.mode is Mode.SCD2 and spec.sequence is None:
        reasons.insert(
            0,
            f"scd2: a version per real change of a key ({', '.join(spec.keys)}), valid from the "
            f"load time of the run that brought it (no sequence column: each run stamps its "
            f"batch with loaded_at; a key twice in one batch is refused as ambiguous)",
        )
        return Plan(Mode.SCD2, tuple(reasons))
    if spec.mode is Mode.SCD2:
        reasons.insert(
            0,
            f"scd2: a version per real change of a key ({', '.join(spec.keys)}), valid from its "
            f"{spec.sequence} to the next change's; the history of every key in the batch is "
            f"rebuilt in {spec.sequence} order, so late batches land where they belong",
        )
        return Plan(Mode.SCD2, tuple(reasons))
    if spec.by_snapshot:
        after = None if state is None else state.watermark
        reasons.insert(
            0,
            (
                "append: every row of the source table is read (no snapshot read yet)"
                if after is None
                else f"append: the rows the source table's snapshots appended after snapshot "
                f"{after} (the last run's) are read; a snapshot that replaced or deleted rows "
                f"since stops the run (--full-refresh reads the table whole)"
            ),
        )
        return Plan(Mode.APPEND, tuple(reasons), Window(SNAPSHOTS, after))
    assert spec.watermark is not None  # the spec refuses append without one
    column = spec.watermark.column
    after = None if state is None else state.watermark
    if after is None:
        reasons.insert(0, f"append: every source row is read (no committed {column} yet)")
    else:
        lag = f" minus the lag of {spec.watermark.lag}" if spec.watermark.lag else ""
        reasons.insert(
            0,
            f"append: rows with {column} at or after the committed {after}{lag} are read; "
            f"those the target already holds are skipped, so late rows at the boundary load "
            f"once and none twice",
        )
    reasons.append(
        f"rows with a NULL {column} are handled by null_cursor = "
        f"{spec.watermark.null_cursor.value}"
    )
    return Plan(Mode.APPEND, tuple(reasons), Window(column, after, spec.watermark.lag))
