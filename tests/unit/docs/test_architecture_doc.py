"""docs/architecture.md's generated part (the layers' picture, the ports' table) is what the
code says today; when it is not, the fix is one command."""

from __future__ import annotations

import architecture


def test_the_architecture_page_is_current() -> None:
    page = architecture.PAGE.read_text()
    assert (
        architecture.rewritten(page, architecture.generate()) == page
    ), "docs/architecture.md is stale: run `./pants run tools/architecture.py` and commit it"


def test_the_picture_shows_no_import_against_the_law() -> None:
    generated = architecture.generate()
    arrows = [
        line.split() for line in generated.splitlines() if line.startswith("  ") and "-->|" in line
    ]
    assert any(a[0] == "apps" and a[2].startswith("adapters") for a in arrows), arrows
    for source, _, target in arrows:
        assert not (source in ("domain", "ports") and target.startswith(("adapters", "apps")))
        assert not (source.startswith("adapters") and target.startswith("apps"))
