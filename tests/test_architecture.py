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


def private_study_accesses(source: str, filename: str = "<source>") -> list[str]:
    """Every ``<study>._name`` in ``source``, as "file:line: expression", where
    ``<study>`` is a name or attribute called ``study``/``_study`` or a name annotated
    as Study."""
    tree = ast.parse(source, filename)
    studies = STUDY_NAMES | _typed_study_names(tree)
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
            continue
        base = node.value
        name = (
            base.id
            if isinstance(base, ast.Name)
            else base.attr
            if isinstance(base, ast.Attribute)
            else None
        )
        if name in studies:
            found.append((node.lineno, node.col_offset, ast.unparse(node)))
    return [f"{filename}:{line}: {expr}" for line, _, expr in sorted(found)]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != OWNER)


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
"""
    found = private_study_accesses(source)
    assert [f.split(": ", 1)[1] for f in found] == [
        "study._core",
        "self.study._storage",
        "self._study._frozen",
        "s._take_fixed",
        "other._persist",
    ]
