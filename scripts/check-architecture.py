#!/usr/bin/env python3
"""Fails when a module imports a project module that ARCHITECTURE.md does not allow it to.

ARCHITECTURE.md holds the rule as a table under the heading "## Who may import whom":
one row per module, its allowed project imports in the second column (comma-separated,
"-" for none). Every module under Sources/ and Benchmarks/ must have a row; imports of
packages outside the project are not checked here (Package.swift names those).
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
text = (root / "ARCHITECTURE.md").read_text()
section = text.split("## Who may import whom", 1)
if len(section) != 2:
    sys.exit("ARCHITECTURE.md has no '## Who may import whom' section")
allowed = {}
for line in section[1].splitlines():
    if line.startswith("## "):
        break
    cells = [cell.strip().strip("`") for cell in line.strip().strip("|").split("|")]
    if len(cells) < 2 or not cells[0] or cells[0] in ("module",) or set(cells[0]) <= set("-: "):
        continue
    names = [name.strip().strip("`") for name in cells[1].split(",")]
    allowed[cells[0]] = {name for name in names if name and name != "-"}

modules = {}
for folder in ("Sources", "Benchmarks"):
    base = root / folder
    if base.is_dir():
        for path in sorted(base.iterdir()):
            if path.is_dir():
                modules[path.name] = path

problems = []
for name, path in modules.items():
    if name not in allowed:
        problems.append(f"{name}: no row in ARCHITECTURE.md's table")
        continue
    for source in sorted(path.rglob("*.swift")):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            match = re.match(r"\s*(?:@testable\s+|@_exported\s+)?import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?(\w+)", line)
            if not match:
                continue
            imported = match.group(1)
            if imported in modules and imported != name and imported not in allowed[name]:
                problems.append(f"{source.relative_to(root)}:{number}: {name} may not import {imported}")
for name in sorted(set(allowed) - set(modules)):
    problems.append(f"{name}: in ARCHITECTURE.md's table but not a module under Sources/ or Benchmarks/")

if problems:
    print("architecture check failed:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"architecture check: {len(modules)} modules import only what ARCHITECTURE.md allows")
