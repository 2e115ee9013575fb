"""qmgrade — grade a manufacturer's quality-management capability (经验级 … 卓越级).

The front door: each command loads, calls one engine function, formats, and
turns an engine error into ``Error: path:line:col: message`` with exit 1.
Exit codes: 0 success, 1 invalid input or model, 2 usage error.
"""
from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

import click

import engine
from engine.errors import Problem, QmgradeError
from engine.export import dumps, model_to_dict, write_atomic

LANGS = click.Choice(["zh", "en"])


class QmgradeGroup(click.Group):
    """Turns every qmgrade error into ``Error: ...`` lines and exit 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QmgradeError as error:
            for problem in error.problems:
                click.echo(f"Error: {problem}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            ctx.exit(130)
        except RecursionError:
            click.echo("Error: -:1:1: input nested too deeply", err=True)
            ctx.exit(1)
        except Exception as error:  # a bug: still no traceback for the user, but say so
            if os.environ.get("QMGRADE_DEBUG"):
                raise
            click.echo(f"Error: -:1:1: internal error ({type(error).__name__}: {error}); "
                       f"set QMGRADE_DEBUG=1 for details and please report it", err=True)
            ctx.exit(1)


def model_option(command):
    """``--model DIR``: load another model instead of the shipped default."""
    return click.option("--model", "model_dir", type=click.Path(file_okay=False), default=None,
                        envvar="QMGRADE_MODEL", show_envvar=True,
                        help="Model directory (knowledge/ and rules/); default: the shipped model.")(command)


def output_options(formats, default="text"):
    """``--format``, ``--lang`` and ``--out``, shared by every command that prints results."""
    def decorate(command):
        command = click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
                               help="Write to this file (atomically) instead of standard output.")(command)
        command = click.option("--lang", type=LANGS, default="en", show_default=True,
                               help="Language of text reports: zh (中文) or en.")(command)
        command = click.option("--format", "fmt", type=click.Choice(formats), default=default,
                               show_default=True, help="Output format.")(command)
        return command
    return decorate


def load(model_dir):
    return engine.load_model(model_dir)


def emit(content, out, inputs=()):
    """Print ``content`` or write it to ``out`` atomically (never over an input)."""
    if out:
        write_atomic(out, content, inputs)
    elif isinstance(content, bytes):
        click.get_binary_stream("stdout").write(content)
    else:
        click.echo(content, nl=False)


@click.group(cls=QmgradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(engine.__version__, prog_name="qmgrade")
def main():
    """qmgrade: grade a manufacturer's quality-management capability on the five levels
    经验级 / 检验级 / 保证级 / 预防级 / 卓越级, explain what holds it back (the barrel:
    the shortest stave sets the level) and plan the way up.

    \b
    Quick start:
      qmgrade assess examples/level-3-assurance.yaml
      qmgrade assess FILE --format json
      qmgrade kb validate --model DIR
    """


# -- assess ---------------------------------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(dir_okay=True))
@model_option
@output_options(["text", "json"])
@click.option("--trace/--no-trace", default=True, show_default=True,
              help="Include the rule-firing trace in JSON output.")
def assess(file, model_dir, fmt, lang, out, trace):
    """Grade the assessment FILE (YAML or JSON): the level, each stave's level and
    scores, and what blocks the next level."""
    model = load(model_dir)
    assessment = engine.read_assessment(file, model)
    result = engine.grade(model, assessment).as_dict(trace=trace)
    if fmt == "json":
        emit(dumps(result), out, [file])
    else:
        from engine.report import render_assess
        emit(render_assess(result, model, lang), out, [file])


# -- kb ---------------------------------------------------------------------------------
@main.group(cls=QmgradeGroup)
def kb():
    """Check, read, export and copy the model (knowledge/ and rules/)."""


@kb.command()
@model_option
def validate(model_dir):
    """Check the model: schemas, ids, references, cycles, level inversions, rules.

    Every problem is listed as path:line:col: message; exit 1 when there is any."""
    model = load(model_dir)
    from engine.inference import get_inference
    get_inference(model)  # durable_rules compiles the rules too
    edges = sum(len(a.depends_on) for a in model.actions.values())
    click.echo(f"OK: {model.id} {model.version}: {len(model.levels)} levels, {len(model.pillars)} pillars, "
               f"{len(model.dimensions)} dimensions, {len(model.criteria)} criteria "
               f"({sum(c.key for c in model.criteria.values())} key), {len(model.actions)} actions "
               f"({edges} dependencies), {len(model.facts)} facts, {len(model.rules)} rules")


@kb.command()
@model_option
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language: zh (中文) or en.")
@click.option("--dimension", default=None, help="Show only this dimension (stave).")
def show(model_dir, lang, dimension):
    """Print the model for people: levels, pillars, staves and their criteria, facts, rules."""
    model = load(model_dir)
    if dimension and dimension not in model.dimensions_by_id:
        hint = engine.errors.did_you_mean(dimension, model.dimensions_by_id)
        suffix = f"; did you mean {hint!r}?" if hint else ""
        raise engine.InputError(Problem("--dimension", 1, 1, f"unknown dimension {dimension!r}{suffix}"))
    from engine.report import render_model
    click.echo(render_model(model, lang, dimension), nl=False)


@kb.command()
@model_option
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True,
              help="Output format.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file.")
def export(model_dir, fmt, out):
    """Export the whole model as JSON (levels, dimensions, criteria, actions, rules)."""
    model = load(model_dir)
    emit(dumps(model_to_dict(model)), out)


@kb.command()
@click.argument("directory", type=click.Path(file_okay=False))
def init(directory):
    """Copy the default model to DIRECTORY, the start of a custom model.

    Then edit DIRECTORY/knowledge and DIRECTORY/rules and check with
    `qmgrade kb validate --model DIRECTORY`."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise engine.InputError(Problem(directory, 1, 1, "directory exists and is not empty; "
                                                         "choose a new or empty directory"))
    source = engine.default_model_dir()
    target.mkdir(parents=True, exist_ok=True)
    for part in ("knowledge", "rules"):
        shutil.copytree(source / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    click.echo(f"Created model in {directory}: edit knowledge/ and rules/, then run "
               f"`qmgrade kb validate --model {directory}`")


if __name__ == "__main__":  # pragma: no cover
    main()
