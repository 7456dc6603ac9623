"""`make example` installs once and ends with the next steps; `.ci/install` picks a Python that
`pip install` works with (a venv when the system Python is externally managed, PEP 668).

The install itself is not run here: it would re-point this machine's fraisec installation.
`make example` runs in a copy of the repository whose install stamp is fresh, so the test sees
exactly what a second `make example` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / ".ci", root / ".ci")
    shutil.copytree(REPO / "examples" / "saas", root / "examples" / "saas",
                    ignore=shutil.ignore_patterns("build"))
    return root


def _make(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args, f"PYTHON={sys.executable}"],
                          cwd=root, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "CI": "true"})


def test_make_example_installs_only_when_its_inputs_changed(tmp_path):
    root = _copy(tmp_path)
    assert "bash .ci/install" in _make(root, "-n", "example").stdout  # never installed here
    stamp = root / "build" / ".installed-stamp"
    stamp.parent.mkdir()
    stamp.touch()
    assert "bash .ci/install" not in _make(root, "-n", "example").stdout
    later = time.time() + 5
    os.utime(root / "pyproject.toml", (later, later))  # a dependency changed: install again
    assert "bash .ci/install" in _make(root, "-n", "example").stdout


def test_make_example_compiles_and_prints_the_next_steps(tmp_path):
    root = _copy(tmp_path)
    stamp = root / "build" / ".installed-stamp"
    stamp.parent.mkdir()
    stamp.touch()
    done = _make(root, "example")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bash .ci/install" not in done.stdout
    assert (root / "examples" / "saas" / "build" / "schema.sql").is_file()
    tail = done.stdout.strip().splitlines()
    assert any(line.startswith("Done:") for line in tail) and "Next:" in done.stdout
    assert any("make test" in line and "12 minutes" in line for line in tail)


def _externally_managed(python: str) -> bool:
    out = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('stdlib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return (Path(out) / "EXTERNALLY-MANAGED").exists()


def test_install_uses_a_venv_for_an_externally_managed_python_only(tmp_path):
    root = _copy(tmp_path)

    def chosen(python: str) -> str:
        return subprocess.run(["bash", ".ci/install", "--print-python"], cwd=root, text=True,
                              capture_output=True, check=True,
                              env={**os.environ, "PYTHON": python}).stdout.strip()

    # This interpreter (the one running the tests: pip works with it) is used as it is.
    assert Path(chosen(sys.executable)).resolve() == Path(sys.executable).resolve()
    # Debian's own python3 (externally managed since Debian 12): a venv is made for it.
    system = "/usr/bin/python3"
    assert chosen(system) == (".venv/bin/python" if _externally_managed(system) else system)
    # Once the venv exists, it is the one used, whatever PYTHON says.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")],
                   check=True)
    assert chosen(sys.executable) == ".venv/bin/python"
