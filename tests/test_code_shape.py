"""Code shape rules over src/rotoscope, read from the syntax tree (nothing is imported).

A function with more than MAX_PARAMETERS parameters is a sign that an options object
(or a smaller function) is missing: callers can no longer see what each argument means.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "rotoscope"
MAX_PARAMETERS = 12


def parameter_count(node: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> int:
    """Positional (incl. positional-only) + keyword-only parameters, *args and **kwargs one each;
    a method's first parameter (self / cls) is not counted."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    is_static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)
    if in_class and not is_static and positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    return len(positional) + len(args.kwonlyargs) + (args.vararg is not None) + (args.kwarg is not None)


def functions(tree: ast.AST):
    """(qualified name, node, defined directly in a class) for every function, nested ones included."""

    def walk(node: ast.AST, prefix: str, in_class: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                yield name, child, in_class
                yield from walk(child, f"{name}.", False)
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.", True)
            else:
                yield from walk(child, prefix, in_class)

    yield from walk(tree, "", False)


def too_many_parameters() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node, in_class in functions(tree):
            count = parameter_count(node, in_class)
            if count > MAX_PARAMETERS:
                found.append(f"{path.relative_to(SRC.parent)}:{node.lineno} {name}() takes {count} parameters")
    return found


def test_the_counting_rules():
    tree = ast.parse(
        "def f(a, b, /, c, *args, d, e=1, **kw): pass\n"
        "class C:\n"
        "    def m(self, a): pass\n"
        "    @classmethod\n"
        "    def c(cls, a, b): pass\n"
        "    @staticmethod\n"
        "    def s(self, a): pass\n"
        "    def outer(self):\n"
        "        def inner(self, a): pass\n"
    )
    counts = {name: parameter_count(node, in_class) for name, node, in_class in functions(tree)}
    assert counts == {"f": 7, "C.m": 1, "C.c": 2, "C.s": 2, "C.outer": 0, "C.outer.inner": 2}


def test_no_function_takes_more_than_12_parameters():
    offenders = too_many_parameters()
    assert not offenders, "use an options object or split the function:\n" + "\n".join(offenders)
