"""docs/architecture.md stays a true map: it places every module and package
of moderation/ on a floor, and names no module that does not exist."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "moderation"
MAP = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
DIAGRAM = MAP.split("```")[1]


def top_level() -> set[str]:
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    # store/ and training/ are packages without an __init__.py of their own.
    packages |= {p.name for p in PACKAGE.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    return modules | packages


def test_every_module_is_on_the_map():
    named = set(re.findall(r"[A-Za-z0-9_]+", MAP))
    missing = sorted(name for name in top_level() if name not in named)
    assert not missing, f"docs/architecture.md does not place: {missing}"


def test_the_diagram_names_only_modules_that_exist():
    floor = ""
    for line in DIAGRAM.splitlines():
        if line[:1].isalpha():
            floor = line.split()[0]
        for name in re.findall(r"\b([a-z0-9_]+)\.py\b", line):
            where = PACKAGE / "services" if floor == "Services" else PACKAGE
            assert any(where.rglob(f"{name}.py")), f"{name}.py is on the map but not in {where}"
        for folder in re.findall(r"\b([a-z_]+)/", line):
            assert (PACKAGE / folder).is_dir(), f"{folder}/ is on the map but not in moderation/"


def test_every_service_is_on_the_map():
    services = {p.stem for p in (PACKAGE / "services").glob("*.py")} - {"__init__"}
    missing = sorted(name for name in services if f"{name}.py" not in DIAGRAM)
    assert not missing, f"services missing from the diagram: {missing}"
