"""The edit loop's figures: how long the commands a user runs again and again take (issue 15).

Prints, for each command, the median wall time of several runs (plain subprocesses, as a user
types them), warm (the embedded shadow server running, from an earlier command) and cold (no
server running: a start, as after the keep-alive ran out; the kept states are still there),
once on an empty cache (the cluster is created); and the CPU of ``fraisec compile``
(no ``db/``) on seed 000's schema against the FraiseQL SDK's own ``export_schema`` on the same
file, run interleaved in the same loop (the yardstick). Not a test: nothing is asserted.

    python3 bench/loop_bench.py [--runs 5] [--sdk-python PATH]

The SDK is looked for as ``--sdk-python``, ``$FRAISEC_SDK_PYTHON``, ``/tmp/sdkvenv/bin/python``
(``python3 -m venv /tmp/sdkvenv && /tmp/sdkvenv/bin/pip install fraiseql==2.18.0``), or this
interpreter; without it that line says so. The ratio is against the SDK run by this interpreter
(its site-packages on PYTHONPATH), which pays the same start-up as fraisec; the SDK in its own
venv (a leaner start-up: no site .pth files) is printed beside it. fraisec's bytecode is compiled
first: an installed package has it, and PYTHONDONTWRITEBYTECODE would otherwise make every run
compile every module again. The benchmark uses a cache directory of its own (its own shadow
server, stopped at the end).
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
SEED = REPO / "tests" / "fixtures" / "seed000" / "schema.py"
SAAS = REPO / "examples" / "saas"
sys.path.insert(0, str(SRC))

TARGETS = {"migrate diff": 1.5, "compile (db/)": 1.5, "check": 2.0, "migrate diff, 100 files": 3.0}
EXTRA_VIEW = "CREATE VIEW app.v_project_count WITH (security_invoker = true) AS SELECT count(*) AS projects FROM app.tb_project;\n"


def env_for(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(PYTHONPATH=str(SRC), FRAISEC_CACHE_DIR=str(cache), CI="1")
    return env


def run(args: list[str], cwd: Path, env: dict[str, str], check: bool = True) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child: user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and result.returncode not in (0, 3):  # 3: check found differences (still a run)
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fraisec(*args: str) -> list[str]:
    return [sys.executable, "-m", "fraisec", *args]


def stop_servers(cache: Path) -> None:
    from fraisec.pg.server import stop_idle_servers

    stop_idle_servers(cache)


def scaffold(root: Path, env: dict[str, str]) -> Path:
    project = root / "scaffold"
    project.mkdir()
    run(fraisec("init"), project, env)
    (project / "db" / "v_project_count.sql").write_text(EXTRA_VIEW, encoding="utf-8")
    run(fraisec("migrate", "diff", "init"), project, env)
    return project


def hundred_files(root: Path, env: dict[str, str]) -> Path:
    """The scaffold with 100 migration files: its first one, then 99 that each create and drop a
    table (replayed for real, and the history still equals the schema)."""
    project = root / "hundred"
    project.mkdir()
    run(fraisec("init"), project, env)
    run(fraisec("migrate", "diff", "init"), project, env)
    migrations = project / "migrations"
    for n in range(2, 101):
        (migrations / f"{n:04d}_scratch_{n}.sql").write_text(
            f"CREATE TABLE scratch_{n} (id bigint PRIMARY KEY, note text);\n"
            f"CREATE INDEX scratch_{n}_note ON scratch_{n} (note);\n"
            f"DROP TABLE scratch_{n};\n", encoding="utf-8")
    run(fraisec("migrate", "hash"), project, env)
    return project


def median_of(fn, runs: int) -> tuple[float, float]:
    walls, cpus = zip(*(fn() for _ in range(runs)))
    return statistics.median(walls), statistics.median(cpus)


def warm_and_cold(name: str, args: list[str], cwd: Path, env: dict[str, str], cache: Path,
                  runs: int, gap: float) -> None:
    run(args, cwd, env)  # warm-up: the server is up, the replayed states are kept

    def warm() -> tuple[float, float]:
        time.sleep(gap)  # a user edits between two runs; the watcher tops up meanwhile
        return run(args, cwd, env)

    def cold() -> tuple[float, float]:
        stop_servers(cache)
        return run(args, cwd, env)

    w_wall, w_cpu = median_of(warm, runs)
    c_wall, c_cpu = median_of(cold, max(1, runs // 2))
    target = TARGETS.get(name)
    verdict = "" if target is None else f"  target ≤ {target:.1f} s: {'met' if w_wall <= target else 'MISSED'}"
    print(f"{name:<28} warm {w_wall:5.2f} s (cpu {w_cpu:4.2f})   cold {c_wall:5.2f} s "
          f"(cpu {c_cpu:4.2f}){verdict}", flush=True)


def first_run(name: str, args: list[str], cwd: Path, env: dict[str, str], root: Path) -> None:
    """Once, on an empty cache: the cluster is created (initdb) and nothing is kept yet."""
    cache = root / f"first-{len(list(root.glob('first-*')))}"
    wall, cpu = run(args, cwd, {**env, "FRAISEC_CACHE_DIR": str(cache)})
    stop_servers(cache)
    print(f"{name:<28} first run on an empty cache (initdb) {wall:5.2f} s (cpu {cpu:4.2f})",
          flush=True)


def find_sdk(given: str | None) -> tuple[str, list[str]] | None:
    """(the SDK's own interpreter, PYTHONPATH entries under which this one imports it), or None."""
    candidates = [given, os.environ.get("FRAISEC_SDK_PYTHON"), "/tmp/sdkvenv/bin/python"]
    for python in filter(None, candidates):
        if not Path(python).exists():
            continue
        out = subprocess.run([python, "-c", "import fraiseql; print(fraiseql.__file__)"],
                             capture_output=True, text=True)
        if out.returncode == 0:
            return python, [str(Path(out.stdout.strip()).parent.parent)]
    try:
        import fraiseql  # noqa: F401
        return sys.executable, []
    except ImportError:
        return None


def compile_against_sdk(root: Path, env: dict[str, str], runs: int,
                        sdk: tuple[str, list[str]] | None) -> None:
    """fraisec's compile and the SDK's export, interleaved. Three yardsticks: the SDK run by this
    interpreter (same start-up as fraisec: the site's .pth files, the same bytecode rules), the
    SDK in its own interpreter (its venv: a leaner start-up), and an empty interpreter start of
    each (what neither can avoid)."""
    fsc_dir, sdk_dir = root / "seed-fraisec", root / "seed-sdk"
    for d in (fsc_dir, sdk_dir):
        d.mkdir()
        shutil.copy(SEED, d / "schema.py")
    export = "import schema, fraiseql; fraiseql.export_schema('schema.json')"
    jobs = {"fraisec": (fraisec("compile", "schema.py"), fsc_dir, env),
            "python": ([sys.executable, "-c", "pass"], fsc_dir, env)}
    if sdk is not None:
        own_python, path = sdk
        jobs["sdk"] = ([sys.executable, "-c", export], sdk_dir,
                       {**env, "PYTHONPATH": os.pathsep.join(path)})
        jobs["sdk-own"] = ([own_python, "-c", export], sdk_dir, env)
        jobs["python-own"] = ([own_python, "-c", "pass"], sdk_dir, env)
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    for args, cwd, job_env in jobs.values():
        run(args, cwd, job_env)  # warm-up (file cache)
    for _ in range(max(runs, 7)):  # interleaved: all see the same machine load
        for name, (args, cwd, job_env) in jobs.items():
            cpu[name].append(run(args, cwd, job_env)[1])
    m = {name: statistics.median(values) for name, values in cpu.items()}
    label = "compile (no db/), seed 000"
    if sdk is None:
        print(f"{label:<28} cpu {m['fraisec']:4.2f} s   (SDK not found: see --sdk-python)")
        return
    ratio = m["fraisec"] / m["sdk"]
    print(f"{label:<28} cpu {m['fraisec']:4.2f} s   SDK export_schema cpu {m['sdk']:4.2f} s (same "
          f"interpreter)   ratio {ratio:4.2f}×  target ≤ 1.5×: {'met' if ratio <= 1.5 else 'MISSED'}")
    print(f"{'':<28} SDK in its own venv cpu {m['sdk-own']:4.2f} s: ratio "
          f"{m['fraisec'] / m['sdk-own']:4.2f}×; beyond an empty start-up ({m['python']:4.2f} s here, "
          f"{m['python-own']:4.2f} s in the venv): {m['fraisec'] - m['python']:4.2f} s against "
          f"{m['sdk-own'] - m['python-own']:4.2f} s", flush=True)


def quick(name: str, args: list[str], cwd: Path, env: dict[str, str], runs: int) -> None:
    run(args, cwd, env)
    wall, cpu = median_of(lambda: run(args, cwd, env), runs)
    print(f"{name:<28} {wall:5.2f} s (cpu {cpu:4.2f})  target < 1 s: {'met' if wall < 1 else 'MISSED'}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gap", type=float, default=2.0, help="seconds between warm runs")
    parser.add_argument("--sdk-python")
    args = parser.parse_args()
    compileall.compile_dir(str(SRC), quiet=1)
    root = Path(tempfile.mkdtemp(prefix="fraisec-loop-bench-"))
    root.chmod(0o755)  # the embedded server may run as the postgres OS user
    cache = root / "cache"
    env = env_for(cache)
    print(f"loop_bench: median of {args.runs} runs; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs", flush=True)
    try:
        compile_against_sdk(root, env, args.runs, find_sdk(args.sdk_python))
        project = scaffold(root, env)
        quick("fraisec --help", fraisec("--help"), project, env, args.runs)
        quick("validate", fraisec("validate"), project, env, args.runs)
        warm_and_cold("migrate diff", fraisec("migrate", "diff", "again"), project, env, cache,
                      args.runs, args.gap)
        first_run("migrate diff", fraisec("migrate", "diff", "again"), project, env, root)
        warm_and_cold("compile (db/)", fraisec("compile"), project, env, cache, args.runs, args.gap)
        warm_and_cold("check", fraisec("check"), project, env, cache, args.runs, args.gap)
        saas = root / "saas"
        shutil.copytree(SAAS, saas, ignore=shutil.ignore_patterns("build", "migrations"))
        warm_and_cold("compile examples/saas", fraisec("compile"), saas, env, cache, args.runs,
                      args.gap)
        hundred = hundred_files(root, env)
        warm_and_cold("migrate diff, 100 files", fraisec("migrate", "diff", "again"), hundred, env,
                      cache, args.runs, args.gap)
        first_run("migrate diff, 100 files", fraisec("migrate", "diff", "again"), hundred, env, root)
    finally:
        stop_servers(cache)
        shutil.rmtree(root, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
