"""Layers hold: the model imports no Qt and nothing of the studio; data I/O is numpy only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def _lint_imports(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _LINT, "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts_are_kept():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_the_contract_catches_a_model_that_imports_qt(tmp_path):
    """The same contract, on a copy of the layout whose model imports Qt and the studio."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (tmp_path / "model").mkdir()
    (tmp_path / "kvae_studio").mkdir()
    (tmp_path / "kvae_studio" / "__init__.py").write_text("")
    (tmp_path / "model" / "__init__.py").write_text("")
    for name in ("model_file.py", "config.py", "training_options.py"):  # named by a contract
        (tmp_path / "model" / name).write_text("")
    (tmp_path / "model" / "view.py").write_text("import PySide6.QtWidgets\nimport kvae_studio\n")
    lines = ["[tool.importlinter]", *_toml_pairs(config, skip="contracts")]
    for contract in config["contracts"]:  # those about the model: the copy has no app
        sources = contract.get("source_modules", [])
        if sources and all(m.split(".")[0] == "model" for m in sources):
            lines += ["[[tool.importlinter.contracts]]", *_toml_pairs(contract)]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "model.view -> PySide6" in result.stdout
    assert "model.view -> kvae_studio" in result.stdout


def test_the_contracts_catch_qt_below_the_window_and_a_layer_upside_down(tmp_path):
    """The studio's contracts, on a copy of its layout where the document imports Qt and
    a service imports the window: both are reported, the model's contract still holds."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    files = {
        "model/__init__.py": "",
        "model/model_file.py": "",
        "model/config.py": "",
        "model/training_options.py": "",
        "kvae_studio/__init__.py": "",
        "kvae_studio/colors.py": "",
        "kvae_studio/app/__init__.py": "",
        "kvae_studio/app/window.py": "import PySide6.QtWidgets\nimport kvae_studio.document\n",
        "kvae_studio/commands/__init__.py": "",
        "kvae_studio/document/__init__.py": "",
        "kvae_studio/document/canvas.py": "import PySide6.QtGui\n",
        "kvae_studio/services/__init__.py": "",
        "kvae_studio/services/training.py": "import kvae_studio.app.window\n",
        "kvae_studio/sim/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    lines = ["[tool.importlinter]", *_toml_pairs(config, skip="contracts")]
    for contract in config["contracts"]:
        lines += ["[[tool.importlinter.contracts]]", *_toml_pairs(contract)]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "kvae_studio.document.canvas -> PySide6" in result.stdout
    assert "kvae_studio.services.training -> kvae_studio.app.window" in result.stdout
    assert "The model has no Qt and does not know the studio KEPT" in result.stdout


def _toml_pairs(table: dict, skip: str = "") -> list[str]:
    return [f"{k} = {json.dumps(v)}" for k, v in table.items() if k != skip]


def test_data_io_is_pure_numpy():
    """model/data.py must load in a process that has no torch and no Qt (nor may the
    model modules it imports)."""
    imported, todo, seen = set(), ["model.data"], set()
    while todo:
        module = todo.pop()
        seen.add(module)
        tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                imported.add(name.split(".")[0])
                if name.startswith("model.") and name not in seen:
                    todo.append(name)
    third_party = imported - set(sys.stdlib_module_names) - {"__future__", "model"}
    assert third_party == {"numpy"}


def test_the_simulator_has_no_window():
    """kvae_studio.sim renders with numpy: no pygame, no Qt, no torch."""
    code = textwrap.dedent(
        """
        import sys
        from kvae_studio.sim import simulate
        simulate("pong", 2, 3)
        bad = {"pygame", "PySide6", "pyqtgraph", "torch"} & {m.split(".")[0] for m in sys.modules}
        print(sorted(bad))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
