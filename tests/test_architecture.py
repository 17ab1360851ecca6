"""Architecture rules checked on the source: samplers, pruners, trials, storages and
callbacks read a study through its public API, never its private attributes."""

from __future__ import annotations

import ast
from pathlib import Path

import ferrotune

PACKAGE = Path(ferrotune.__file__).parent
# The one module that may touch a Study's private attributes: Study's own.
OWNER = PACKAGE / "study" / "_study.py"
# Names that stand for a study wherever they appear (`study._x`, `self.study._x`,
# `self._study._x`).
STUDY_NAMES = frozenset({"study", "_study"})


def _mentions_study(annotation: ast.expr | None) -> bool:
    """True when an annotation names the Study class (``Study``, ``"Study"``,
    ``Study | None``, ``ferrotune.Study``...)."""
    if annotation is None:
        return False
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name) and node.id == "Study":
            return True
        if isinstance(node, ast.Attribute) and node.attr == "Study":
            return True
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                inner = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                continue
            if _mentions_study(inner):
                return True
    return False


def _typed_study_names(tree: ast.AST) -> set[str]:
    """Names annotated as Study anywhere in the module (parameters and annotated
    assignments): ``def hook(self, s: Study)`` makes ``s`` a study."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and _mentions_study(node.annotation):
            names.add(node.arg)
        elif (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and _mentions_study(node.annotation)
        ):
            names.add(node.target.id)
    return names


def _is_private(attr: str) -> bool:
    return attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))


def _class_privates(tree: ast.AST) -> dict[str, tuple[set[str], list[str]]]:
    """Per class of a module: the private names it defines (methods, ``self._x``
    assignments, class-level names and ``__slots__``) and the names of its bases."""
    out: dict[str, tuple[set[str], list[str]]] = {}
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        names: set[str] = set()
        for node in ast.walk(cls):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
            ):
                names.add(node.attr)
        for stmt in cls.body:
            targets = (
                stmt.targets
                if isinstance(stmt, ast.Assign)
                else [stmt.target]
                if isinstance(stmt, ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
                    if target.id == "__slots__" and stmt.value is not None:
                        names |= {
                            c.value
                            for c in ast.walk(stmt.value)
                            if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        }
        bases = [ast.unparse(b).rsplit(".", 1)[-1] for b in cls.bases]
        out[cls.name] = ({n for n in names if _is_private(n)}, bases)
    return out


def _resolve(classes: dict[str, tuple[set[str], list[str]]]) -> dict[str, set[str]]:
    """Each class's private names, its bases' included."""

    def names(name: str, seen: frozenset[str]) -> set[str]:
        if name not in classes or name in seen:
            return set()
        own, bases = classes[name]
        out = set(own)
        for base in bases:
            out |= names(base, seen | {name})
        return out

    return {name: names(name, frozenset()) for name in classes}


def _package_classes() -> dict[str, tuple[set[str], list[str]]]:
    out: dict[str, tuple[set[str], list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        out.update(_class_privates(ast.parse(path.read_text())))
    return out


def study_private_names() -> frozenset[str]:
    """Study's private names, read from study/_study.py: its methods named ``_x`` and
    the attributes it assigns as ``self._x``."""
    tree = ast.parse(OWNER.read_text())
    study = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Study")
    return frozenset(_class_privates(study)["Study"][0])


STUDY_PRIVATE = study_private_names()
PACKAGE_CLASSES = _package_classes()


def _annotated_classes(tree: ast.AST) -> dict[str, set[str]]:
    """The class names each annotated name of a module is annotated with."""
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.annotation is not None:
            name, annotation = node.arg, node.annotation
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, annotation = node.target.id, node.annotation
        else:
            continue
        text = ast.unparse(annotation).replace("'", " ").replace('"', " ")
        words = {w.rsplit(".", 1)[-1] for w in text.replace("|", " ").replace("[", " ").split()}
        out.setdefault(name, set()).update(w.strip(",]() ") for w in words)
    return out


def _enclosing_classes(tree: ast.AST) -> dict[int, str]:
    """For each node inside a class, the innermost class's name (by ``id`` of the
    node)."""
    out: dict[int, str] = {}

    def visit(node: ast.AST, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.ClassDef) else cls
            if inner is not None:
                out[id(child)] = inner
            visit(child, inner)

    visit(tree, None)
    return out


def private_study_accesses(source: str, filename: str = "<source>") -> list[str]:
    """Every private access to a study in ``source``, as "file:line: expression":

    - ``<study>._x`` for any private ``_x``, where ``<study>`` is a name or attribute
      called ``study``/``_study`` or a name annotated as Study;
    - ``<anything>._x`` where ``_x`` is one of Study's private names (an unannotated
      alias, a call's result...), except on bases known not to be a Study: ``self``
      and ``cls``; a name annotated with a class (not Study) that defines ``_x``
      (``dist: BaseDistribution`` and ``dist._core``); and a name inside a class that
      defines ``_x`` itself (``other._study_id`` in StudySummary's comparisons);
    - ``getattr``/``hasattr``/``setattr``/``delattr`` of a study name with a literal
      private name, or of anything with a literal private name of Study.
    """
    tree = ast.parse(source, filename)
    studies = STUDY_NAMES | _typed_study_names(tree)
    local = _class_privates(tree)
    classes = _resolve({**PACKAGE_CLASSES, **local})
    annotated = _annotated_classes(tree)
    enclosing = _enclosing_classes(tree)

    def known_not_study(node: ast.AST, base: ast.expr, attr: str) -> bool:
        if not isinstance(base, ast.Name):
            return False
        if base.id in ("self", "cls"):
            return True
        kinds = annotated.get(base.id, set())
        if "Study" not in kinds and any(attr in classes.get(k, ()) for k in kinds):
            return True
        cls = enclosing.get(id(node))
        return cls is not None and cls != "Study" and attr in classes.get(cls, ())

    def base_name(base: ast.expr) -> str | None:
        if isinstance(base, ast.Name):
            return base.id
        return base.attr if isinstance(base, ast.Attribute) else None

    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base, attr = node.value, node.attr
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr", "delattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
        ):
            base, attr = node.args[0], node.args[1].value
        else:
            continue
        if base_name(base) in studies or (
            attr in STUDY_PRIVATE and not known_not_study(node, base, attr)
        ):
            found.append((node.lineno, node.col_offset, ast.unparse(node)))
    return [f"{filename}:{line}: {expr}" for line, _, expr in sorted(found)]


# Reads an Optuna Study's storage and id (not ferrotune's Study), as Optuna's own samplers
# do: the one place ferrotune.integration.optuna touches them.
OPTUNA_ACCESS = PACKAGE / "integration" / "optuna" / "_access.py"


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p not in (OWNER, OPTUNA_ACCESS))


def test_no_module_reads_a_studys_private_attributes() -> None:
    """Samplers, pruners, trials, storages and callbacks use Study's public API (see
    the section "for samplers and pruners" of study/_study.py); a private access means
    a public method is missing."""
    found: list[str] = []
    for path in _modules():
        found += private_study_accesses(path.read_text(), str(path.relative_to(PACKAGE)))
    assert found == [], "private Study attributes read outside study/_study.py:\n" + "\n".join(
        found
    )


def test_the_scan_covers_the_packages_that_use_a_study() -> None:
    """The rule above cannot pass by scanning nothing: every sampler, pruner, storage
    and trial module is scanned, and the sampler hooks' ``study: Study`` parameters
    are recognised."""
    scanned = {str(p.relative_to(PACKAGE)) for p in _modules()}
    for module in (
        "samplers/_base.py",
        "samplers/_tpe.py",
        "samplers/_grid.py",
        "samplers/_brute_force.py",
        "samplers/_partial_fixed.py",
        "samplers/_qmc.py",
        "pruners/_base.py",
        "storages/_callbacks.py",
        "storages/_rdb/_storage.py",
        "study/_callbacks.py",
        "trial/_trial.py",
        "trial/_frozen.py",
    ):
        assert module in scanned, module
    assert "study/_study.py" not in scanned
    typed = _typed_study_names(ast.parse((PACKAGE / "samplers" / "_base.py").read_text()))
    assert "study" in typed


def test_the_checker_finds_every_form_of_private_access() -> None:
    """The accesses that samplers, trials and storages made before Study had a public
    API are all caught: by the name ``study``, through ``self.study`` and
    ``self._study``, and through any name annotated as Study."""
    source = """
from ferrotune.study._study import Study

def sample(study, trial):
    return study._core.sample_independent(trial.number)

class Trial:
    def suggest(self):
        return self.study._storage, self._study._frozen(0)

def hook(s: "Study", other: Study | None) -> None:
    s._take_fixed(0)
    other._persist

def fine(study: Study, x) -> None:
    study.core, study.get_trial(0), x._private, study.__class__

def aliases(name):
    dst = load_study(name)
    dst._storage.set_trial_system_attr(dst._study_id, 0, "k", 1)
    create_study()._core
    getattr(dst, "_fixed"), getattr(load_study(name), "_take_fixed", None)
    getattr(study, "_anything"), hasattr(x, "_stop_flag")

class Distribution:
    def __init__(self):
        self._core = 1

    def same(self, twin):
        return self._core == twin._core

def known(dist: Distribution, space: "Distribution | None", study_like) -> None:
    dist._core, space._core, getattr(dist, "_private"), study_like._unrelated
"""
    found = private_study_accesses(source)
    assert [f.split(": ", 1)[1] for f in found] == [
        "study._core",
        "self.study._storage",
        "self._study._frozen",
        "s._take_fixed",
        "other._persist",
        "dst._storage",
        "dst._study_id",
        "create_study()._core",
        "getattr(dst, '_fixed')",
        "getattr(load_study(name), '_take_fixed', None)",
        "getattr(study, '_anything')",
        "hasattr(x, '_stop_flag')",
    ]


def test_the_checker_knows_studys_private_names() -> None:
    """The names it looks for are read from Study's source, so a new private
    attribute is covered without editing this file."""
    assert {"_core", "_storage", "_study_id", "_fixed", "_take_fixed", "_frozen"} <= (STUDY_PRIVATE)
    assert not any(n.startswith("__") for n in STUDY_PRIVATE)
