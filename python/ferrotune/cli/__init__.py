"""The ``ferrotune`` command, with Optuna's CLI commands, options and output formats.

``ferrotune studies --storage URL`` lists the studies of a storage; ``trials``,
``best-trial`` and ``best-trials`` show a study's trials (``-f table|json|yaml|value``);
``create-study``, ``delete-study``, ``ask`` and ``tell`` run a study from a shell script;
``export`` writes its trials as CSV or JSON. ``plot KIND`` writes one figure, ``report`` a
self-contained HTML report, and ``dashboard`` serves a live web page of a storage's
studies. ``demo`` runs a short optimisation of the running example and ``worker`` runs
trials of a study kept in a database (start as many as you like: ``docs/storages.md``).

A mistake (an unknown study, a bad URL, a bad argument) prints one line to stderr and
exits with status 1 (2 for a malformed command line); ``--verbose`` (or Optuna's
``--debug``) shows the traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import ferrotune
from ferrotune.cli import _run, _study
from ferrotune.cli._output import FORMATS
from ferrotune.cli._storage import STORAGE_CLASSES, STORAGE_HELP

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse, with a malformed command line reported on one line (status 2), and
    ``-inf``, ``-nan`` and ``-1e-3`` read as negative numbers rather than as options
    (``tell --values -inf``; argparse's own pattern takes digits and a point only)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(
            r"^-(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|infinity|nan)$", re.IGNORECASE
        )

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("--storage", default=None, help=STORAGE_HELP)
    common.add_argument(
        "--storage-class",
        choices=STORAGE_CLASSES,
        default=None,
        help="the kind of --storage (default: a journal file unless it is a URL)",
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", help="show the traceback of an error"
    )
    common.add_argument("--debug", action="store_true", help="the same as --verbose (Optuna's)")
    return common


def _format(p: argparse.ArgumentParser, default: str, flat: bool = True) -> None:
    p.add_argument(
        "-f", "--format", choices=FORMATS, default=default, help=f"output format ({default})"
    )
    if flat:
        p.add_argument(
            "--flatten",
            action="store_true",
            help="spread nested columns out (params_x, values_0, ...)",
        )


def _study_name(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument(
        "--study-name",
        required=required,
        default=None,
        help="the study's name" + ("" if required else " (optional when only one study)"),
    )


def _create_study_arguments(p: argparse.ArgumentParser) -> None:
    _study_name(p, required=False)
    p.add_argument("--direction", choices=("minimize", "maximize"), default=None)
    p.add_argument(
        "--directions",
        choices=("minimize", "maximize"),
        nargs="+",
        default=None,
        help="one direction per objective, separated by spaces",
    )
    p.add_argument(
        "--skip-if-exists",
        action="store_true",
        help="load the study when one of that name exists instead of failing",
    )


def _ask_arguments(p: argparse.ArgumentParser) -> None:
    _study_name(p, required=False)
    p.add_argument("--sampler", default=None, help="a class name of ferrotune.samplers")
    p.add_argument("--sampler-kwargs", default=None, help="the sampler's arguments, as JSON")
    p.add_argument(
        "--search-space",
        default=None,
        help='JSON: {"x": {"name": "FloatDistribution", "attributes": {"low": 0, "high": 1}}}',
    )
    _format(p, "json")


def _tell_arguments(p: argparse.ArgumentParser) -> None:
    _study_name(p, required=False)
    p.add_argument("--trial-number", type=int, required=True)
    p.add_argument("--values", type=float, nargs="+", default=None, help="objective values")
    p.add_argument("--state", choices=("complete", "pruned", "fail"), default=None)
    p.add_argument(
        "--skip-if-finished",
        action="store_true",
        help="do nothing when the trial has finished already",
    )


def _export_arguments(p: argparse.ArgumentParser) -> None:
    _study_name(p, required=False)
    p.add_argument("-f", "--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", default=None, help="file to write (default: stdout)")


def _read_arguments(default: str, flat: bool = True) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        _format(p, default, flat)

    return add


def _trial_arguments(p: argparse.ArgumentParser) -> None:
    _study_name(p, required=False)
    _format(p, "table")


# name: (handler, one-line help, arguments)
_COMMANDS: dict[str, tuple[Handler, str, Callable[[argparse.ArgumentParser], None]]] = {
    "studies": (_study.studies, "list the studies of a storage", _read_arguments("table")),
    "study-names": (
        _study.study_names,
        "the names of the studies of a storage",
        _read_arguments("value", flat=False),
    ),
    "create-study": (_study.create_study, "create a new study", _create_study_arguments),
    "delete-study": (_study.delete_study, "delete a study and its trials", _study_name),
    "trials": (_study.trials, "list a study's trials", _trial_arguments),
    "best-trial": (_study.best_trial, "show the best trial", _trial_arguments),
    "best-trials": (_study.best_trials, "list the trials of the Pareto front", _trial_arguments),
    "ask": (_study.ask, "start a trial and print its parameters", _ask_arguments),
    "tell": (_study.tell, "finish a trial started with ask", _tell_arguments),
    "export": (_study.export, "write a study's trials as CSV or JSON", _export_arguments),
    "demo": (_run.demo, "a short optimisation of the Transformer example", _run.add_demo_arguments),
    "worker": (
        _run.worker,
        "run trials of a study kept in a database (start several for parallel work)",
        _run.add_worker_arguments,
    ),
}


def _extra_commands() -> dict[str, tuple[Handler, str, Callable[[argparse.ArgumentParser], None]]]:
    """Commands whose modules load their dependencies only when run."""
    from ferrotune.cli import _dashboard, _report

    return {
        "plot": (
            _report.plot,
            "write one figure of a study (.html, or .png with kaleido)",
            _report.add_plot_arguments,
        ),
        "report": (
            _report.report,
            "write a self-contained HTML report of a study",
            _report.add_report_arguments,
        ),
        "dashboard": (
            _dashboard.dashboard,
            "serve a live web page of a storage's studies",
            _dashboard.add_arguments,
        ),
    }


def _parser() -> _Parser:
    parser = _Parser(
        prog="ferrotune",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("--version", action="version", version=f"ferrotune {ferrotune.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (handler, help_text, arguments) in {**_COMMANDS, **_extra_commands()}.items():
        p = sub.add_parser(name, help=help_text, description=help_text, parents=[_common()])
        arguments(p)
        p.set_defaults(handler=handler)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, KeyError) and error.args:
        text = str(error.args[0])
    return " ".join(text.split())


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real stdout (an in-process call under capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferrotune`` command; returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version and a malformed command line
        return e.code if isinstance(e.code, int) else 1
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("ferrotune: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ferrotune trials ... | head`): stop quietly, as other
        # Unix tools do, and keep Python from reporting the pipe again at exit.
        _silence_stdout()
        return 141
    except Exception as e:
        if args.verbose or args.debug:
            traceback.print_exc()
        hint = "" if args.verbose or args.debug else " (--verbose shows the traceback)"
        print(f"ferrotune {args.command}: error: {_one_line(e)}{hint}", file=sys.stderr)
        return 1


def _run_main(argv: Any = None) -> None:  # pragma: no cover - `python -m ferrotune.cli`
    sys.exit(main(argv))


if __name__ == "__main__":  # pragma: no cover
    _run_main()
