"""The plotting libraries stay optional: never imported by ``import ferrotune``, and a
plot without its library names the extra to install."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False
    )


def test_importing_ferrotune_and_its_visualization_imports_no_plotting_library() -> None:
    done = run(
        """
        import sys
        import ferrotune, ferrotune.visualization, ferrotune.visualization.matplotlib
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("plotly", "matplotlib")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("blocked", "module"),
    [("plotly", "ferrotune.visualization"), ("matplotlib", "ferrotune.visualization.matplotlib")],
)
def test_a_plot_without_its_library_says_what_to_install(blocked: str, module: str) -> None:
    done = run(
        f"""
        import sys
        sys.modules[{blocked!r}] = None  # as if it were not installed
        import ferrotune, importlib
        from ferrotune.exceptions import MissingDependencyError
        vis = importlib.import_module({module!r})
        assert vis.is_available() is False
        study = ferrotune.create_study()
        try:
            vis.plot_optimization_history(study)
        except MissingDependencyError as e:
            assert isinstance(e, ImportError)
            print(e)
        """
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "ferrotune[plot]"' in done.stdout and blocked in done.stdout


def test_is_available_with_the_libraries_installed() -> None:
    pytest.importorskip("plotly")
    pytest.importorskip("matplotlib")
    from ferrotune import visualization

    assert visualization.is_available() and visualization.matplotlib.is_available()


def test_submodules_are_attributes_of_the_package_loaded_on_first_use() -> None:
    """`ferrotune.importance.get_param_importances(...)` after a bare `import ferrotune`,
    as with Optuna; the three submodules load only when first reached."""
    done = run(
        """
        import sys
        import ferrotune
        lazy = ("importance", "visualization", "hypergradient")
        print([m for m in lazy if "ferrotune." + m in sys.modules])
        print(ferrotune.importance.get_param_importances.__name__,
              ferrotune.visualization.plot_slice.__name__,
              ferrotune.hypergradient.ridge_hypergradient.__name__)
        print(all("ferrotune." + m in sys.modules for m in lazy), hasattr(ferrotune, "nope"))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [
        "[]",
        "get_param_importances plot_slice ridge_hypergradient",
        "True False",
    ]
