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


def test_the_readme_layout_is_current_and_a_stale_line_is_caught() -> None:
    readme = architecture.README.read_text()
    assert (
        architecture.readme_rewritten(readme) == readme
    ), "README.md's Layout is stale: run `./pants run tools/architecture.py` and commit it"
    start = readme.index(architecture.LAYOUT_BEGIN)
    planted = readme[:start] + readme[start:].replace("src/ports/", "src/ports/stale.py", 1)
    assert planted != readme
    assert architecture.readme_rewritten(planted) != planted
    assert architecture.readme_rewritten(planted) == readme


def test_every_package_says_what_it_holds() -> None:
    assert "(no docstring: write one)" not in architecture.layout()
