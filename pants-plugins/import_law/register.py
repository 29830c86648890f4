"""A `lint` check for the import law of the hexagon.

The law itself is written as visibility rules (`__dependencies_rules__` in the root BUILD
file). Pants 2.17 applies them only when a goal computes dependencies, which `lint` with
black and ruff never does; this linter computes every Python target's dependencies so that
`./pants lint ::` reports each broken rule with the import that broke it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from pants.backend.python.target_types import PythonSourceField
from pants.core.goals.lint import LintResult, LintTargetsRequest
from pants.core.util_rules.partitions import PartitionerType
from pants.engine.addresses import Addresses
from pants.engine.internals.dep_rules import DependencyRuleActionDeniedError
from pants.engine.rules import Get, MultiGet, collect_rules, rule
from pants.engine.target import Dependencies, DependenciesRequest, FieldSet
from pants.option.option_types import SkipOption
from pants.option.subsystem import Subsystem


class ImportLaw(Subsystem):
    options_scope = "import-law"
    name = "import-law"
    help = "Checks Python imports against the dependency rules of the BUILD files."

    skip = SkipOption("lint")


@dataclass(frozen=True)
class ImportLawFieldSet(FieldSet):
    required_fields = (PythonSourceField, Dependencies)

    source: PythonSourceField
    dependencies: Dependencies


class ImportLawRequest(LintTargetsRequest):
    field_set_type = ImportLawFieldSet
    tool_subsystem = ImportLaw
    partitioner_type = PartitionerType.DEFAULT_SINGLE_PARTITION


@dataclass(frozen=True)
class _Checked:
    address: str
    violation: str | None


@rule(desc="Check the import law of one target")
async def check_one(field_set: ImportLawFieldSet) -> _Checked:
    try:
        await Get(Addresses, DependenciesRequest(field_set.dependencies))
    except DependencyRuleActionDeniedError as denied:
        return _Checked(field_set.address.spec, str(denied))
    except Exception as failure:  # the engine may wrap the rule error
        if "dependency violation" not in str(failure):
            raise
        return _Checked(field_set.address.spec, str(failure))
    return _Checked(field_set.address.spec, None)


@rule(desc="Check the import law")
async def import_law_lint(request: ImportLawRequest.Batch[ImportLawFieldSet, Any]) -> LintResult:
    checked = await MultiGet(Get(_Checked, ImportLawFieldSet, fs) for fs in request.elements)
    violations = [c.violation for c in checked if c.violation]
    stdout = "\n\n".join(violations)
    if violations:
        stdout += (
            "\n\nThe import law (root BUILD file): domain and ports may import only the standard "
            "library, attrs and each other; adapters may not import apps. Move the code that "
            "needs the library into an adapter behind a port."
        )
    return LintResult(
        exit_code=1 if violations else 0,
        stdout=stdout,
        stderr="",
        linter_name=request.tool_name,
    )


def rules() -> Iterable:
    return [*collect_rules(), *ImportLawRequest.rules()]
