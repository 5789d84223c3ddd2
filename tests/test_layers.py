"""The floors stay apart, read from the source with ast (late imports inside
functions included):

- the services (moderation/services/) and the ground below them (domain, rules,
  scoring, review, store, records) import no aiohttp, moderation.api, moderation.web,
  moderation.keys or moderation.metrics (the /metrics endpoint; the registry they
  may report to is moderation.telemetry);
- store/ imports nothing of moderation but domain and itself.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "moderation"
FORBIDDEN = ("aiohttp", "moderation.api", "moderation.web", "moderation.keys", "moderation.metrics")



def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_path(name: str) -> Path | None:
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def imports_of(path: Path) -> set[str]:
    """Every module *path* imports (absolute names; ``from pkg import mod`` names pkg.mod)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names
                         if module_path(f"{target}.{alias.name}") is not None)
    return found


def forbidden(names: set[str]) -> set[str]:
    return {f for f in FORBIDDEN for n in names if n == f or n.startswith(f + ".")}


SERVICES = sorted(module_name(p) for p in (PACKAGE / "services").glob("*.py"))


@pytest.mark.parametrize("name", SERVICES)
def test_services_import_no_http_directly(name):
    found = forbidden(imports_of(module_path(name)))
    assert not found, f"{name} imports {sorted(found)}"


def reach(start: str) -> dict[str, str]:
    """Every module *start* reaches, with one module that imports it (moderation
    modules followed)."""
    seen, todo = {start: ""}, [start]
    while todo:
        current = todo.pop()
        path = module_path(current)
        if path is None:
            continue
        imported_names = imports_of(path)
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        imported_names |= {n.rsplit(".", k)[0] for n in imported_names for k in range(1, n.count(".") + 1)}
        for imported in imported_names:
            if imported not in seen:
                seen[imported] = current
                if imported.startswith("moderation"):
                    todo.append(imported)
    return seen


@pytest.mark.parametrize("name", SERVICES)
def test_services_reach_no_http_through_their_imports(name):
    reached = reach(name)
    leaks = {module: via for module, via in reached.items() if forbidden({module})}
    assert not leaks, f"reached (module: imported by): {leaks}"


GROUND = sorted(
    [module_name(PACKAGE / f"{name}.py") for name in
     ("domain", "validation", "guard", "policy", "surge", "telemetry", "config")]
    + [module_name(p) for folder in ("scoring", "review", "store", "records") for p in (PACKAGE / folder).glob("*.py")])

@pytest.mark.parametrize("name", GROUND)
def test_the_ground_imports_no_http(name):
    assert not forbidden(imports_of(module_path(name))), f"{name} imports {sorted(forbidden(imports_of(module_path(name))))}"


@pytest.mark.parametrize("name", [n for n in GROUND if n.startswith("moderation.store.")])
def test_the_store_imports_only_the_domain_and_itself(name):
    found = {n for n in imports_of(module_path(name)) if n.startswith("moderation")
             and n != "moderation.domain" and not n.startswith("moderation.store")}
    assert not found, f"{name} imports {sorted(found)}"


@pytest.mark.parametrize("name", sorted(module_name(p) for p in (PACKAGE / "web").glob("*.py")))
def test_the_pages_do_not_import_the_json_api(name):
    found = {n for n in imports_of(module_path(name)) if n == "moderation.api" or n.startswith("moderation.api.")}
    assert not found, f"{name} imports {sorted(found)}"
