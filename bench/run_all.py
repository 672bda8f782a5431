"""Run every benchmark under bench/ with modest sizes: ``make bench``.

    python bench/run_all.py [--full] [--only NAME ...] [--list]

A benchmark is any ``bench/*.py`` that runs as a script (it has an
``if __name__ == "__main__":`` block); helper modules are skipped. A script says
what "modest" means for it with a module-level constant read without importing
it, for instance ``QUICK_ARGS = ["--records", "20000"]``; a script without one
runs with its own defaults. ``--full`` ignores QUICK_ARGS. Each script prints its
own figures as it goes; a summary of what ran follows. Exits 1 when one failed.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def discover() -> list[Path]:
    scripts = []
    for path in sorted(BENCH.glob("*.py")):
        if path.name == Path(__file__).name:
            continue
        if _is_script(ast.parse(path.read_text(encoding="utf-8"))):
            scripts.append(path)
    return scripts


def quick_args(path: Path) -> list[str] | None:
    """The script's QUICK_ARGS (a literal list of strings), or None."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "QUICK_ARGS" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return [str(v) for v in value]
    return None


def _is_script(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = [node.test.left, *node.test.comparators]
            if any(isinstance(n, ast.Name) and n.id == "__name__" for n in names) and any(
                isinstance(n, ast.Constant) and n.value == "__main__" for n in names
            ):
                return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="ignore QUICK_ARGS: default sizes")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these (file stems)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args()

    scripts = discover()
    if args.only:
        unknown = set(args.only) - {s.stem for s in scripts}
        if unknown:
            parser.error(f"no benchmark named {', '.join(sorted(unknown))}")
        scripts = [s for s in scripts if s.stem in args.only]
    plan = [(s, [] if args.full else (quick_args(s) or [])) for s in scripts]
    if args.list:
        for script, extra in plan:
            print(f"{script.stem}: python bench/{script.name} {' '.join(extra)}".rstrip())
        return 0

    results = []
    for script, extra in plan:
        command = [sys.executable, str(script), *extra]
        print(f"\n=== {script.stem}: python bench/{script.name} {' '.join(extra)}".rstrip())
        if not extra and not args.full:
            print("(no QUICK_ARGS in the script: its own default sizes)")
        sys.stdout.flush()
        started = time.monotonic()
        code = subprocess.run(command, cwd=ROOT).returncode
        results.append((script.stem, code, time.monotonic() - started))

    print("\n=== summary")
    for name, code, seconds in results:
        outcome = "ok" if code == 0 else f"exit {code}"
        print(f"{name:<24}{outcome:<10}{seconds:>8.0f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
