"""The direction of dependencies holds: ui/cli → services → persistence → domain."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "imtui"

FORBIDDEN = {
    "domain": ("imtui.persistence", "imtui.services", "imtui.ui", "textual", "sqlalchemy", "sqlmodel"),
    "persistence": ("imtui.services", "imtui.ui", "textual"),
    "services": ("imtui.ui", "textual"),
    "ui": ("sqlalchemy", "sqlmodel", "imtui.persistence"),
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer):
    """No module of a layer imports a layer above it (or Textual below the UI, SQL in the UI)."""
    offenders = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert not offenders, "\n".join(offenders)
