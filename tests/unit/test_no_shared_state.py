"""Audit: no module of the app or its pages keeps per-user data in process-wide state.

Every module under singularity_dash/ and pages/ is imported (the pages through a real app) and read
with ast. A module-level mutable container (dict, list, set, deque, bytearray, writable ndarray) is
only allowed as a named constant (UPPER_CASE) that no function ever mutates; `global` statements
and unbounded functools caches are refused. The few exceptions are listed in ALLOWED with a reason.
"""

from __future__ import annotations

import ast
import collections
import importlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import dash
import numpy as np
import pytest

from singularity_dash.app import create_app
from singularity_dash.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("singularity_dash", "pages")
# Modules that cannot be imported in a plain test process; they are still read with ast.
NOT_IMPORTED = {
    "singularity_dash.celery_app": "exits on purpose without REDIS_URL (the worker needs Redis)",
}
# (module, name) -> why process-wide mutable state is acceptable there. Keep this short.
ALLOWED = {
    ("singularity_dash.mnist_view", "_PREDICTIONS"): (
        "per-process memo of the gallery's predictions, keyed by (digit set, weights sha256): derived from "
        "committed files only, never from a request, so it holds no user data and is bounded by the checkpoints"
    ),
}
MUTATING_METHODS = {
    "append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "remove", "add",
    "discard", "appendleft", "extendleft", "popleft", "sort", "reverse", "fill", "resize", "put",
    "__setitem__", "__delitem__", "difference_update", "intersection_update", "symmetric_difference_update",
}
CONSTANT_NAME = re.compile(r"^_?[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class Finding:
    """One rule broken at one place."""

    module: str
    line: int
    name: str  # the global, function or container concerned
    message: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.message}"


def list_source_modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the app and its pages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def collect_module_assignments(tree: ast.Module) -> dict[str, int]:
    """Names bound at module level (also inside top-level if/try/with blocks) -> first line."""
    names: dict[str, int] = {}

    def visit(statements):
        for node in statements:
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                targets = [node.target] if node.value is not None else []
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody", "handlers"):
                    for child in getattr(node, block, []):
                        visit(child.body if isinstance(child, ast.ExceptHandler) else [child])
                continue
            else:
                continue
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.setdefault(leaf.id, node.lineno)

    visit(tree.body)
    return names


def is_mutable_container(value) -> bool:
    """True for values a function could change in place and so share between users."""
    if isinstance(value, np.ndarray):
        return bool(value.flags.writeable)
    return isinstance(value, (dict, list, set, bytearray, collections.deque))


def _local_names(function: ast.AST) -> set[str]:
    args = function.args
    names = {a.arg for a in args.args + args.kwonlyargs + args.posonlyargs}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _mutated_name(node: ast.AST) -> tuple[str, str] | None:
    """('name' | 'attribute', identifier) of the container a statement mutates in place, if any."""
    target = None
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for t in targets:
            if isinstance(t, ast.Subscript):
                target = t.value
            elif isinstance(node, ast.AugAssign) and isinstance(t, ast.Attribute):
                target = t
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATING_METHODS:
        target = node.func.value
    if isinstance(target, ast.Name):
        return "name", target.id
    if isinstance(target, ast.Attribute):
        return "attribute", target.attr
    return None


def find_mutations(module: str, tree: ast.Module, own: set[str], anywhere: set[str]) -> list[Finding]:
    """Functions that mutate a module-level container (their own module's, or another's via an attribute)."""
    findings = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        local = _local_names(function) if not isinstance(function, ast.Lambda) else set()
        for node in ast.walk(function):
            if isinstance(node, ast.Global):
                for name in node.names:
                    findings.append(Finding(module, node.lineno, name, f"`global {name}` rebinds module state"))
            mutated = _mutated_name(node)
            if mutated is None:
                continue
            kind, name = mutated
            if (kind == "name" and name in own and name not in local) or (kind == "attribute" and name in anywhere):
                findings.append(Finding(module, node.lineno, name, f"a function mutates the module-level container {name}"))
    return findings


def find_unbounded_caches(module: str, tree: ast.Module) -> list[Finding]:
    """functools.cache / lru_cache(maxsize=None) on any function: a memo that grows with every new argument."""
    findings = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            text = ast.unparse(decorator)
            bare = text.split(".")[-1]
            if bare in ("cache", "lru_cache") or "maxsize=None" in text.replace(" ", ""):
                findings.append(Finding(module, node.lineno, node.name, f"{node.name} has an unbounded cache ({text})"))
    return findings


def find_mutable_globals(module: str, assignments: dict[str, int], namespace: dict) -> list[Finding]:
    """Module-level mutable containers that are not named as constants."""
    findings = []
    for name, line in assignments.items():
        if name == "__all__" or name not in namespace or not is_mutable_container(namespace[name]):
            continue
        if not CONSTANT_NAME.match(name):
            kind = type(namespace[name]).__name__
            findings.append(Finding(module, line, name, f"module-level mutable {kind} `{name}` is not a named constant"))
    return findings


@pytest.fixture(scope="module")
def loaded_modules(tmp_path_factory) -> dict[str, object]:
    """Every importable module object, the pages as the app itself imports them."""
    create_app(Config(models_dir=PROJECT_ROOT / "models", extra={"jobs_dir": str(tmp_path_factory.mktemp("jobs"))}))
    page_modules = {Path(sys.modules[p["module"]].__file__).resolve(): sys.modules[p["module"]]
                    for p in dash.page_registry.values() if p["module"] in sys.modules}
    loaded = {}
    for name, path in list_source_modules().items():
        if name in NOT_IMPORTED:
            continue
        if name.startswith("pages") and path.resolve() in page_modules:
            loaded[name] = page_modules[path.resolve()]
        elif name.startswith("pages") and name != "pages":
            pytest.fail(f"{name} is not registered as a page by the app")
        else:
            loaded[name] = importlib.import_module(name)
    return loaded


@pytest.fixture(scope="module")
def trees() -> dict[str, ast.Module]:
    return {name: ast.parse(path.read_text(), str(path)) for name, path in list_source_modules().items()}


def _fail_on(findings: list[Finding]) -> None:
    findings = [f for f in findings if (f.module, f.name) not in ALLOWED]
    assert not findings, "process-wide mutable state:\n" + "\n".join(map(str, findings))


def test_every_module_is_audited(loaded_modules, trees):
    assert {"singularity_dash.service", "singularity_dash.api", "pages.xor", "pages.mnist", "pages.home"} <= set(trees)
    assert set(loaded_modules) | set(NOT_IMPORTED) == set(trees)


def test_module_level_mutable_containers_are_named_constants(loaded_modules, trees):
    findings = []
    for name, module in loaded_modules.items():
        findings += find_mutable_globals(name, collect_module_assignments(trees[name]), vars(module))
    _fail_on(findings)


def test_no_function_mutates_module_level_containers(loaded_modules, trees):
    containers = {}
    for name, module in loaded_modules.items():
        namespace = vars(module)
        containers[name] = {n for n in collect_module_assignments(trees[name])
                            if n in namespace and is_mutable_container(namespace[n])}
    anywhere = set().union(*containers.values())
    findings = []
    for name, tree in trees.items():
        findings += find_mutations(name, tree, containers.get(name, set()), anywhere)
    _fail_on(findings)


def test_no_unbounded_function_caches(trees):
    findings = []
    for name, tree in trees.items():
        findings += find_unbounded_caches(name, tree)
    _fail_on(findings)


def test_allowlist_entries_still_exist_and_are_justified(loaded_modules):
    for (module, name), reason in ALLOWED.items():
        assert module in loaded_modules and hasattr(loaded_modules[module], name), f"stale allowlist entry {module}.{name}"
        assert len(reason) > 40


SEEDED = '''
import functools
_SEEN = {}
history = []
TABLE = {"a": 1}

def remember(user, value):
    _SEEN[user] = value
    history.append(value)

def count():
    global COUNTER
    COUNTER = 1

def shadowed():
    TABLE = {}
    TABLE["x"] = 1
    return TABLE

@functools.lru_cache(maxsize=None)
def slow(x):
    return x

def other(mod):
    mod._SEEN.clear()
'''


def test_the_audit_catches_seeded_violations():
    tree = ast.parse(SEEDED)
    namespace = {}
    exec(compile(tree, "seeded", "exec"), namespace)
    assignments = collect_module_assignments(tree)
    globals_found = find_mutable_globals("seeded", assignments, namespace)
    assert [f.line for f in globals_found] == [assignments["history"]]
    containers = {n for n in assignments if is_mutable_container(namespace.get(n))}
    assert containers == {"_SEEN", "history", "TABLE"}
    mutations = find_mutations("seeded", tree, containers, containers)
    assert sorted(f.name for f in mutations) == ["COUNTER", "_SEEN", "_SEEN", "history"]  # not the local TABLE
    assert [f.name for f in find_unbounded_caches("seeded", tree)] == ["slow"]
    frozen = np.zeros(2)
    frozen.setflags(write=False)
    assert is_mutable_container(np.zeros(2)) and not is_mutable_container(frozen)
