"""qmgrade — grade a manufacturer's quality-management capability (经验级 … 卓越级).

The front door: each command loads, calls one engine function, formats, and
turns an engine error into ``Error: path:line:col: message`` with exit 1.
Exit codes: 0 success, 1 invalid input or model, 2 usage error (an option's value too:
``--target 9`` on a five-level model prints ``Error: --target: ...``).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import click

import engine
from engine import api
from engine.errors import Problem, QmgradeError, suggestion
from engine import safeio
from engine.export import dumps, model_to_dict, write_atomic
from engine.limits import DEFAULT as DEFAULT_LIMITS, Limits, capped

LANGS = click.Choice(["zh", "en"])


def _utf8_output() -> None:
    """Write UTF-8 whatever the locale: the same bytes everywhere, and no crash printing 中文."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(encoding="utf-8")


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C (temporary files removed, workers stopped), then exit 143."""


def _on_sigterm(signum, frame):
    raise Terminated()


def _leave_after_stopped_workers(code: int) -> None:
    """After a batch's workers were killed mid-chunk, leave now: an ordinary exit joins the process pool's
    threads, which may wait for ever on a message a killed worker never finished."""
    from engine import batch as batch_module
    if batch_module.workers_stopped:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()   # what is complete reaches its reader
            except (OSError, ValueError):
                pass
        os._exit(code)


class QmgradeGroup(click.Group):
    """Turns every qmgrade error into ``Error: ...`` lines and exit 1, never a traceback."""

    def main(self, *args, **kwargs):
        _utf8_output()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _on_sigterm)
        return super().main(*args, **kwargs)

    def format_help_text(self, ctx, formatter):
        """``qmgrade --model NAME --help`` names that model, its levels and its subject (issue 12)."""
        named = ctx.meta.get("qmgrade.model") if ctx.parent is None else None
        if named is None:
            return super().format_help_text(ctx, formatter)
        try:
            model = engine.load_model(named)
        except QmgradeError:
            return super().format_help_text(ctx, formatter)
        subject = (model.words.get("subjects") or model.words.get("subject") or {}).get("en", "companies")
        levels = " / ".join(f"{lv.rank} {lv.name['en']}" for lv in model.levels)
        formatter.write_paragraph()
        with formatter.indentation():
            formatter.write_text(f"qmgrade with the model {model.name['en']} ({model.id} {model.version}): grade "
                                 f"{subject} on the levels {levels}, explain what holds them back (the "
                                 f"shortest stave sets the level) and plan the way up.")

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QmgradeError as error:
            options = _option_names(ctx.find_root().command)
            if error.problems and all(problem.path in options for problem in error.problems):   # a usage error
                numbered = {problem.path for problem in error.problems if problem.line > 1}
                for problem in capped(error.problems):
                    click.echo(f"Error: {problem.option_text(problem.path in numbered)}", err=True)
                ctx.exit(2)
            for problem in capped(error.problems):   # 200,000 unknown ids print 100 lines and a count
                click.echo(f"Error: {problem}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            safeio.remove_temporaries()
            click.echo("Error: interrupted", err=True)
            _leave_after_stopped_workers(130)
            ctx.exit(130)
        except Terminated:
            safeio.remove_temporaries()
            click.echo("Error: terminated", err=True)
            _leave_after_stopped_workers(143)
            ctx.exit(143)
        except RecursionError:
            click.echo("Error: -:1:1: input nested too deeply", err=True)
            ctx.exit(1)
        except BrokenPipeError:   # the reader went away (`qmgrade batch … | head`): stop quietly, as `cat` does
            safeio.remove_temporaries()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())   # nothing more reaches the closed pipe, not even at exit
            # a batch's workers were stopped: the pool's exit hook would print a traceback (EBADF), so leave now
            _leave_after_stopped_workers(141)
            ctx.exit(141)
        except Exception as error:  # a bug: still no traceback for the user, but say so
            if os.environ.get("QMGRADE_DEBUG"):
                raise
            click.echo(f"Error: -:1:1: internal error ({type(error).__name__}: {error}); "
                       f"set QMGRADE_DEBUG=1 for details and please report it", err=True)
            ctx.exit(1)
        finally:   # a pack's words last for its command only (issue 12)
            from engine.words import use_model_words
            use_model_words(None)


def _option_names(command) -> set:
    """Every option name of ``command`` and its subcommands: a problem naming one is a usage error (exit 2)."""
    names = {name for param in command.params for name in getattr(param, "opts", ()) if name.startswith("--")}
    for sub in getattr(command, "commands", {}).values():
        names |= _option_names(sub)
    return names


def _remember_allow_outside(ctx, param, value):
    if value:
        ctx.meta["qmgrade.allow_outside"] = True
    return value


def _model_before_command(ctx, param, value):
    """``qmgrade --model X kb validate`` as well as ``qmgrade kb validate --model X`` (issue 12)."""
    return value if value is not None else ctx.meta.get("qmgrade.model")


def _remember_model(ctx, param, value):
    if value is not None:
        ctx.meta["qmgrade.model"] = value
    return value


def model_option(command):
    """``--model DIR|NAME``: load another model instead of the shipped default — a directory or the name
    of an installed pack (``--allow-outside``: with files that resolve outside DIR)."""
    command = click.option("--allow-outside", is_flag=True, expose_value=False, callback=_remember_allow_outside,
                           help="Accept model files that resolve outside the model directory (links).")(command)
    return click.option("--model", "model_dir", type=click.Path(file_okay=False), default=None,
                        envvar="QMGRADE_MODEL", show_envvar=True, callback=_model_before_command,
                        help="Model directory (knowledge/ and rules/) or the name of an installed pack "
                             "(qmgrade kb list); default: the shipped model.")(command)


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


_READ_PARAMS = ("file", "input_path", "results", "record_file")   # the arguments a command reads


def protected(extra=()):
    """What ``--out`` must never resolve to: the command's inputs, the model's files, the ``--db`` history."""
    ctx = click.get_current_context(silent=True)
    params = ctx.params if ctx else {}
    meta = ctx.meta if ctx else {}
    files = [*extra, *meta.get("qmgrade.inputs", []), *(params.get(name) for name in _READ_PARAMS)]
    return safeio.protected_files(files, [], [params.get("db_path")]), meta.get("qmgrade.model_dirs", [])


def load(model_dir):
    ctx = click.get_current_context(silent=True)
    # api.load_model: every report then speaks the model's words (its subject, titles, fact labels)
    model = api.load_model(model_dir, allow_outside=bool(ctx and ctx.meta.get("qmgrade.allow_outside")))
    if ctx is not None and ctx.params.get("lang") and ctx.params["lang"] not in model.languages:
        source = ctx.get_parameter_source("lang")
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            raise click.UsageError(f"--lang {ctx.params['lang']}: the model {model.id} is written in "
                                   f"{', '.join(model.languages)} only", ctx)
    if ctx is not None:  # the model's files are inputs too: --out must never replace one
        ctx.meta.setdefault("qmgrade.inputs", []).extend(str(Path(model.path) / rel) for rel, _ in model.files)
        ctx.meta.setdefault("qmgrade.model_dirs", []).append(str(model.path))
        if ctx.params.get("out"):   # refuse a bad --out before any work (or any --db row) is done
            safeio.check_output(ctx.params["out"], *protected())
    return model


def read_assessment_noted(file, model):
    """Read an assessment; its notes (e.g. read through the model's supersedes map) go to stderr."""
    assessment = api.read_assessment(file, model)
    for note in getattr(assessment, "notes", ()):
        click.echo(note, err=True)
    return assessment


def emit(content, out, inputs=()):
    """Print ``content`` (``--out -`` too) or write it to ``out`` atomically (never over an input,
    a model file, the history or a device)."""
    if out and out != "-":
        files, model_dirs = protected(inputs)
        write_atomic(out, content, files, model_dirs)
    else:
        click.echo(content, nl=False)   # bytes go to the binary stream


def open_history(db_path, create=True):
    """Open (create, or migrate from the first schema) the history; migration notices go to stderr."""
    from engine.history import History
    history = History(db_path, create=create)
    for notice in history.notices:
        click.echo(f"Note: {notice}", err=True)
    return history


def emit_report(result, fmt, lang, out, file, text=None, trace=True):
    """Print or write one result as ``fmt``: JSON is its ``to_json()``; Markdown and HTML come from
    engine.render (``--format html`` takes the full report: see ``report_for``); ``text`` renders text.

    ``result`` is a Grade (assess: its JSON with the rule trace unless ``trace`` is false), an
    Explanation, a roadmap, or for HTML a FullReport."""
    if fmt == "json":
        content = result.to_json(trace=trace) if isinstance(result, engine.Grade) else result.to_json()
    elif fmt == "html":
        from engine.render.html import render_html
        content = render_html(result, lang)
    elif fmt == "markdown":
        from engine.diagnosis import Explanation
        from engine.render import markdown
        render = (markdown.render_assess if isinstance(result, engine.Grade) else
                  markdown.render_explain if isinstance(result, Explanation) else markdown.render_roadmap)
        content = render(result, lang)
    else:
        content = text(result, lang)
    emit(content, out, [file])


def report_for(fmt, result, graded, focus, rank=None):
    """The result a format shows: ``--format html`` is the full report (grade, explanation, roadmap)."""
    if fmt != "html":
        return result
    from engine.fullreport import full_report
    return full_report(graded, focus, rank)


@click.group(cls=QmgradeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(engine.__version__, prog_name="qmgrade")
@click.option("--model", type=click.Path(file_okay=False), default=None, expose_value=False, is_eager=True,
              callback=_remember_model, help="Model directory or installed pack for the command that follows "
                                             "(the same as the command's own --model).")
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


def require_complete_option(command):
    """``--require-complete``: a provisional grade (coverage below the model's min_coverage) exits 1 (issue 11)."""
    return click.option("--require-complete", "require_complete", is_flag=True,
                        help="Exit 1 instead of grading when fewer applicable criteria are rated than the "
                             "model's min_coverage (the grade would be provisional).")(command)


def check_complete(required, file, graded):
    if not required:
        return
    from engine.coverage import coverage
    share = coverage(graded.model, graded.assessment.ratings)
    if share["provisional"]:
        raise engine.InputError(Problem(
            file, 1, 1, f"only {share['rated']} of {share['applicable']} applicable criteria are rated "
                        f"({int(share['share'] * 100)}%), below the model's minimum coverage "
                        f"{int(round(share['min_coverage'] * 100))}%: the grade would be provisional "
                        f"(--require-complete)", "incomplete"))


# -- assess ---------------------------------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(dir_okay=True))
@model_option
@output_options(["text", "json", "markdown", "html"])
@click.option("--trace/--no-trace", default=True, show_default=True,
              help="Include the rule-firing trace in JSON output.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Also append the assessment and its result to this history database (SQLite).")
@require_complete_option
def assess(file, model_dir, fmt, lang, out, trace, db_path, require_complete):
    """Grade the assessment FILE (YAML or JSON): the level, each stave's level and
    scores, and what blocks the next level.

    --format html writes one self-contained report (ladder, radar of the staves,
    scores, blockers and minimal fix, roadmap to the next level) that prints on A4."""
    model = load(model_dir)
    assessment = read_assessment_noted(file, model)
    graded = api.grade(model, assessment)
    check_complete(require_complete, file, graded)
    from engine.render.text import render_assess
    report = report_for(fmt, graded, graded, "assess")
    if not db_path:
        emit_report(report, fmt, lang, out, file, render_assess, trace)
        return
    from engine.history import row_of
    if assessment.company.get("id") in (None, ""):
        raise engine.InputError(Problem(file, 1, 1, "--db needs the company's id (company: {id: ...}) to "
                                                    "follow it between rounds"))
    with open_history(db_path) as history:
        history.add(row_of(model, assessment, graded.as_dict(trace=trace)))
        emit_report(report, fmt, lang, out, file, render_assess, trace)
        history.commit()          # stored once the report is out (and only once per input and model)


# -- kb ---------------------------------------------------------------------------------
@main.group(cls=QmgradeGroup)
def kb():
    """Check, read, export and copy the model (knowledge/ and rules/)."""


@kb.command()
@model_option
@click.option("--strict", is_flag=True, help="Exit 1 when there is any warning, too.")
def validate(model_dir, strict):
    """Check the model: schemas, ids, references, cycles, level inversions, rules.

    Every problem is listed as path:line:col: message; exit 1 when there is any.
    Warnings (no evidence guidance, cells with fewer than 3 criteria or none, ...)
    never fail the model unless --strict."""
    model = load(model_dir)
    from engine.inference import get_inference
    get_inference(model)  # durable_rules compiles the rules too
    edges = sum(len(a.depends_on) for a in model.actions.values())
    click.echo(f"OK: {model.id} {model.version}: {len(model.levels)} levels, {len(model.pillars)} pillars, "
               f"{len(model.dimensions)} dimensions, {len(model.criteria)} criteria "
               f"({sum(c.key for c in model.criteria.values())} key), {len(model.actions)} actions "
               f"({edges} dependencies), {len(model.facts)} facts, {len(model.rules)} rules")
    sizes = [len(members) for members in model.cells.values()]
    warnings = list(getattr(model, "warnings", ()))
    click.echo(f"Summary: {len(model.dimensions)} staves x {len(model.criteria_ranks)} levels with criteria "
               f"(L{model.criteria_ranks.start}-L{model.top_rank}), {min(sizes, default=0)}-{max(sizes, default=0)} "
               f"criteria per cell, {len(model.actions)} actions, {edges} edges, "
               f"languages {', '.join(model.languages)}, {len(warnings)} warning(s)")
    for problem in warnings:   # they never fail the model, unless --strict
        click.echo(f"warning: {problem}", err=True)
    if strict and warnings:
        click.echo(f"Error: {len(warnings)} warning(s) and --strict", err=True)
        click.get_current_context().exit(1)


@kb.command("list")
def kb_list():
    """List the models: the shipped one and every installed pack (entry point group qmgrade.models).

    Use a pack with --model NAME."""
    from engine.packs import installed_packs
    shipped = engine.load_model(None)
    click.echo(f"(shipped)\t{shipped.id} {shipped.version}\t{engine.default_model_dir()}")
    for pack in installed_packs():
        try:
            model = engine.load_model(pack.name)
            about = f"{model.id} {model.version}\t{model.path}"
        except QmgradeError as error:
            about = f"does not load: {error.problems[0].message}"
        click.echo(f"{pack.name}\t{about}\t({pack.distribution} {pack.version})")


@kb.command()
@model_option
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language: zh (中文) or en.")
@click.option("--dimension", default=None, help="Show only this dimension (stave), with its rating anchors.")
@click.option("--criterion", default=None, help="Show only this criterion in full, with its rating anchors.")
@click.option("--width", type=click.IntRange(60, 1000), default=None,
              help="Table width in columns [default: the terminal's width; 140 when not a terminal].")
def show(model_dir, lang, dimension, criterion, width):
    """Print the model for people: levels, pillars, staves and their criteria, facts, rules."""
    model = load(model_dir)
    if criterion:
        if criterion not in model.criteria:
            suffix = suggestion(criterion, model.criteria)
            raise engine.InputError(Problem("--criterion", 1, 1, f"unknown criterion {criterion!r}{suffix}"))
        from engine.render.kb import render_criterion
        click.echo(render_criterion(model, criterion, lang), nl=False)
        return
    if dimension and dimension not in model.dimensions_by_id:
        suffix = suggestion(dimension, model.dimensions_by_id)
        raise engine.InputError(Problem("--dimension", 1, 1, f"unknown dimension {dimension!r}{suffix}"))
    from engine.render.kb import render_model
    click.echo(render_model(model, lang, dimension, width=width or _terminal_width()), nl=False)


def _terminal_width() -> int:
    """The terminal's width when standard output is one; else the reports' 140 (a file or a pipe gets the same
    text every time)."""
    from engine.render.text import WIDTH
    if not sys.stdout.isatty():
        return WIDTH
    return max(shutil.get_terminal_size((WIDTH, 24)).columns, 60)


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
@model_option
@output_options(["text", "json", "markdown"])
@click.option("--min-cell", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Report cells with fewer applicable criteria than this.")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for the sensitivity runs.")
def calibrate(model_dir, fmt, lang, out, min_cell, jobs):
    """Grade the model's calibration corpus (knowledge/calibration/*.yaml) and its sensitivity.

    Per company: expected vs graded level, shortest staves, and every one-notch
    rating change that moves the level. Model-wide: thin cells, cliffs from an
    all-largely baseline, na-able keys. Exit 1 when a company grades differently
    from its expected level."""
    from engine.calibrate import calibrate as run_calibration, corpus_files
    from engine.render import calibration as render
    model = load(model_dir)
    progress = None
    if sys.stderr.isatty():
        def progress(done, total):
            click.echo(f"\rcalibrating: {done}/{total} grades", err=True, nl=done >= total)
    result = run_calibration(model, min_cell=min_cell, progress=progress, jobs=jobs)
    data = result.as_dict()
    if fmt == "json":
        content = dumps(data)
    elif fmt == "markdown":
        content = render.render_markdown(result, lang)
    else:
        content = render.render_text(result, lang)
    emit(content, out, [str(p) for p in corpus_files(model)])
    if result.disagreements:   # the corpus disagrees with the model: a failed check, like kb validate
        click.get_current_context().exit(1)


@kb.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--id", "model_id", default=None, help="Start a clean model with this id: the method rules "
                                                     "only, no criteria, caps or sources of the shipped model.")
@click.option("--name", default=None, help="The clean model's name (default: its id).")
@click.option("--language", "languages", type=LANGS, multiple=True, help="A language the model is written in "
                                                                          "(repeat; default en).")
@click.option("--level-one-criteria", is_flag=True, help="Level 1 holds criteria (a level 0 'not yet' below it).")
@click.option("--from-default", is_flag=True, help="With --id: copy the shipped model's content as well.")
def init(directory, model_id, name, languages, level_one_criteria, from_default):
    """Start a custom model in DIRECTORY.

    Without --id, copy the shipped model (its criteria, caps and sources). With
    --id ID, write a clean start: a header, the levels and the method rules
    (cells, staves, barrel, overall level), then add criteria by hand or with
    `qmgrade kb import`. Check with `qmgrade kb validate --model DIRECTORY`."""
    if model_id and not from_default:
        from engine.importer import init_model
        init_model(directory, model_id, name or model_id, languages or ("en",), 0 if level_one_criteria else 1)
        click.echo(f"Created model {model_id} in {directory}: add knowledge/ files (or run `qmgrade kb import`), "
                   f"then run `qmgrade kb validate --model {directory}`")
        return
    source = engine.default_model_dir()
    target = safeio.check_directory(directory, [str(source)])
    try:
        target.mkdir(parents=True, exist_ok=True)
        for part in ("knowledge", "rules"):
            shutil.copytree(source / part, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    except (OSError, shutil.Error) as exc:
        reason = (getattr(exc, "strerror", None) or "a file could not be copied").lower()
        if isinstance(exc, (FileExistsError, NotADirectoryError)):
            reason = "a part of the path is a file, not a folder"
        raise engine.InputError(Problem(directory, 1, 1, f"cannot write: {reason}")) from None
    if model_id:   # --from-default: the shipped content under the new model's id and name
        header = Path(directory) / "knowledge" / "model.yaml"
        text = header.read_text(encoding="utf-8").replace("id: qmgrade-default", f"id: {model_id}", 1)
        header.write_text(text, encoding="utf-8")
    click.echo(f"Created model in {directory}: edit knowledge/ and rules/, then run "
               f"`qmgrade kb validate --model {directory}`")


@kb.command("import")
@click.argument("criteria", type=click.Path(dir_okay=False, exists=True))
@click.option("--actions", "actions", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Actions table (id, name, addresses, depends_on, effort); default: one action per criterion.")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="The new model directory.")
@click.option("--id", "model_id", required=True, help="The model's id.")
@click.option("--name", default=None, help="The model's name (default: its id).")
@click.option("--language", "languages", type=LANGS, multiple=True, help="Language of the texts (default en).")
def kb_import(criteria, actions, out, model_id, name, languages):
    """Make a model from a criteria table CRITERIA (CSV or XLSX: id, dimension,
    level, text, and optionally title, key, weight, evidence, pillar, source, clause).

    \b
    Example:
      qmgrade kb import criteria.csv --actions actions.csv --id my-model --out my-model
      qmgrade kb validate --model my-model"""
    from engine.importer import import_model
    import_model(criteria, out, model_id, name or model_id, actions, languages or ("en",))
    click.echo(f"Created model {model_id} in {out}: run `qmgrade kb validate --model {out}`")


# -- trace ------------------------------------------------------------------------------
class _BareContext(click.Context):
    """The context of a group's default command: its usage line reads ``qmgrade trace ...``."""

    @property
    def command_path(self) -> str:
        return super().command_path.rstrip()


class DefaultCommandGroup(QmgradeGroup):
    """A group that runs its (hidden) default command unless the first argument names a subcommand.

    Click cannot give a group both a FILE argument and subcommands: ``trace FILE``
    and ``trace verify TRACE FILE`` are told apart here by the first argument.
    ``--help`` on the group documents both forms.
    """

    def __init__(self, *args, default: str, default_usage: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.default = default
        self.default_usage = default_usage

    def parse_args(self, ctx, args):
        if args and args[0] not in ctx.help_option_names and args[0] not in self.commands:
            # every argument goes to the default command: name it, and click's own parsing does the rest
            # (the group has no options of its own: parsing stops at the command's name)
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        name = args[0]
        if name in self.commands and name != self.default:
            return super().resolve_command(ctx, args)
        # the default command, named by parse_args or by the user: its usage line reads "qmgrade trace ..."
        return None, self.commands[self.default], args[1:] if name == self.default else args

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, self.default_usage)
        for name, command in self.commands.items():
            if not command.hidden:
                pieces = " ".join(command.collect_usage_pieces(ctx))
                formatter.write_usage(ctx.command_path, f"{name} {pieces}", prefix="   or: ")

    def format_options(self, ctx, formatter):
        records = [record for param in self.commands[self.default].get_params(ctx)
                   if isinstance(param, click.Option) and (record := param.get_help_record(ctx))]
        with formatter.section("Options"):
            formatter.write_dl(records)
        self.format_commands(ctx, formatter)


class _DefaultCommand(click.Command):
    context_class = _BareContext


@main.group(cls=DefaultCommandGroup, default="record", default_usage="[OPTIONS] FILE")
def trace():
    """The full rule-firing trace of the assessment FILE, for auditors: the input hash, the
    model and a fingerprint of every model file, every firing in order (rule, its description,
    the facts it matched with criterion ratings and evidence, its conclusion) and a digest
    over it all.  --format json or jsonl is the record to keep; text reads as a justification
    a person can follow (--lang zh|en).

    `qmgrade trace verify TRACE FILE` re-runs FILE and exits 0 only when it reproduces the
    record TRACE exactly; otherwise 1, naming the first firing or fingerprint that differs.

    \b
    Examples:
      qmgrade trace examples/level-3-assurance.yaml --format json --out trace.json
      qmgrade trace verify trace.json examples/level-3-assurance.yaml
      qmgrade trace examples/level-3-assurance.yaml --lang zh
    """


@trace.command("record", cls=_DefaultCommand, hidden=True)
@click.argument("file", type=click.Path(dir_okay=True))
@model_option
@output_options(["text", "json", "jsonl"])
@click.option("--sign", "key_file", type=click.Path(dir_okay=False), default=None, metavar="KEYFILE",
              help="Sign the record (json or jsonl) with this Ed25519 private key (`qmgrade keys new`).")
def trace_record(file, model_dir, fmt, lang, out, key_file):
    """Write the auditor's record of grading FILE (what `qmgrade trace FILE` runs)."""
    from engine import audit
    if key_file and fmt == "text":
        raise click.UsageError("--sign signs the record itself: use --format json or jsonl")
    private_key = None
    if key_file:
        from engine.keys import load_private_key
        private_key = load_private_key(key_file)
    model = load(model_dir)
    assessment = read_assessment_noted(file, model)
    record = api.trace(model, assessment)
    if private_key is not None:
        record = audit.sign_record(record, private_key)
    if fmt == "json":
        content = record.to_json()
    elif fmt == "jsonl":
        content = record.to_jsonl()
    else:
        from engine.render.trace import render_text
        content = render_text(record, lang)
    emit(content, out, [file, *([key_file] if key_file else [])])


@trace.command("verify")
@click.argument("record_file", metavar="TRACE", type=click.Path(dir_okay=True))
@click.argument("file", type=click.Path(dir_okay=True))
@model_option
@click.option("--pubkey", "public_key_file", type=click.Path(dir_okay=False), default=None, metavar="PUBFILE",
              help="Also check the record's Ed25519 signature with this public key (PEM).")
@click.option("--max-line-bytes", type=click.IntRange(min=1), default=DEFAULT_LIMITS.line_bytes, show_default=True,
              help="Refuse a record with a line longer than this many bytes.")
def trace_verify(record_file, file, model_dir, public_key_file, max_line_bytes):
    """Check that FILE still reproduces the record TRACE exactly.

    TRACE is a record written by `qmgrade trace FILE --format json` (or jsonl).
    Exit 0 on an exact reproduction; otherwise exit 1 naming the first model file,
    input hash or firing that differs, or a digest that no longer matches the record.
    With --pubkey the record must also carry a valid signature by that key."""
    from engine import audit
    record = audit.read_record(record_file, max_line_bytes)
    signed = ""
    if public_key_file:
        from engine.keys import key_id, load_public_key
        public_key = load_public_key(public_key_file)
        problem = audit.check_record_signature(record, public_key, public_key_file)
        if problem:
            raise engine.InputError(Problem(record_file, 1, 1, problem))
        signed = f"; signed by {key_id(public_key)}, checked with {public_key_file}"
    elif "signature" in record:
        signed = "; signed (not checked: pass --pubkey PUBFILE)"
    model = load(model_dir)
    difference = audit.verify_model(record, model)   # before FILE: another model's ids would not resolve
    if difference is None:
        difference = audit.verify(record, read_assessment_noted(file, model), model)
    if difference is not None:
        raise engine.InputError(Problem(record_file, 1, 1, difference.message))
    click.echo(f"OK: {record_file} reproduces exactly: {len(record['firings'])} firings, "
               f"model {model.id} {model.version}, digest {record['digest']} ({audit.format_note(record)})"
               f"{signed}")


# -- keys -------------------------------------------------------------------------------
@main.group(cls=QmgradeGroup)
def keys():
    """Key pairs with which an assessing body signs its trace records (Ed25519)."""


@keys.command("new")
@click.option("--out", "prefix", required=True, metavar="PREFIX",
              help="Write PREFIX.key (private, mode 0600) and PREFIX.pub (public, PEM).")
def keys_new(prefix):
    """Make a new Ed25519 key pair: sign records with `qmgrade trace FILE --format json --sign
    PREFIX.key`, and give PREFIX.pub to whoever checks them with `qmgrade trace verify
    TRACE FILE --pubkey PREFIX.pub`.  Existing files are never overwritten."""
    from engine.keys import key_id, load_public_key, new_key_pair
    private_path, public_path = new_key_pair(prefix)
    click.echo(f"Wrote {private_path} (private: keep it secret) and {public_path} (public, "
               f"{key_id(load_public_key(public_path))})")


# -- explain, roadmap, whatif, kb graph -----------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--level", "level", type=int, default=None,
              help="The level N to explain (1..top; default: the next level).")
@click.option("--rules", "show_rules", is_flag=True,
              help="Also list the rule firings behind the level, in rule notation (for auditors).")
@require_complete_option
@model_option
@output_options(["text", "json", "markdown", "html"])
def explain(file, level, show_rules, require_complete, model_dir, fmt, lang, out):
    """Why the company's level holds (the rules that fired, with the facts they matched)
    and why level N does not: the staves below it (the barrel), each failing
    (dimension, level) with its score against the threshold, key criteria below the
    minimum, caps that fired, and the minimal fix with the evidence each criterion needs.

    A level N at or below the company's level is reported as reached; N outside the
    model's levels is a usage error (exit 2)."""
    from engine.render.text import render_explain
    model = load(model_dir)
    assessment = read_assessment_noted(file, model)
    graded = api.grade(model, assessment)
    check_complete(require_complete, file, graded)
    result = api.explain(model, assessment, level=level, graded=graded)
    emit_report(report_for(fmt, result, graded, "explain", level), fmt, lang, out, file,
                lambda explanation, lg: render_explain(explanation, lg, rules=show_rules))


@main.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--target", "target", type=int, default=None,
              help="The level N to reach (default: the next level).")
@require_complete_option
@model_option
@output_options(["text", "json", "markdown", "html"])
def roadmap(file, target, require_complete, model_dir, fmt, lang, out):
    """An improvement plan from the company's level to level N, one milestone per level:
    milestone k holds exactly the actions level k still needs (start, complete, or
    strengthen what is in place), in dependency order, each dated from the assessment
    day (effort in person-weeks, months until its evidence counts), with the month each
    level can first be claimed.  Actions that clear red flags are listed apart.

    A target at or below the company's level gives an empty plan and says so (exit 0);
    a target outside the model's levels is a usage error (exit 2).  When a cap rule holds
    the company, the plan lists the caps, which no action lifts."""
    from engine.render.roadmap import render_text
    model = load(model_dir)
    assessment = read_assessment_noted(file, model)
    graded = api.grade(model, assessment)
    check_complete(require_complete, file, graded)
    plan = api.roadmap(model, assessment, target=target, graded=graded)
    emit_report(report_for(fmt, plan, graded, "roadmap", target), fmt, lang, out, file, render_text)


@main.command()
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--set", "settings", metavar="ID=RATING", multiple=True, required=True,
              help="Change a criterion's rating (full, largely, partial, none, na, 全部满足 ... or a "
                   "number in [0, 1]); repeat for several.")
@model_option
@output_options(["text", "json"])
@click.option("--trace/--no-trace", default=True, show_default=True,
              help="Include the rule-firing traces in JSON output.")
def whatif(file, settings, model_dir, fmt, lang, out, trace):
    """Grade FILE before and after changing some ratings: the level, the staves and the
    blockers that change.  Each of before/after is exactly what `qmgrade assess` gives.

    \b
    Example:
      qmgrade whatif examples/stuck-at-assurance-one-stave.yaml \\
        --set supplier-4-ppap=full --set supplier-4-supply-risk=full"""
    from engine.render.text import render_whatif
    model = load(model_dir)
    assessment = read_assessment_noted(file, model)
    result = api.whatif(model, assessment, settings, trace=trace)
    emit(result.to_json() if fmt == "json" else render_whatif(result, lang), out, [file])


@kb.command("graph")
@model_option
@click.option("--format", "fmt", type=click.Choice(["dot", "mermaid"]), default="dot", show_default=True,
              help="Graphviz DOT or Mermaid.")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of the labels: zh or en.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Write to this file.")
def kb_graph(model_dir, fmt, lang, out):
    """Draw the action dependency graph (prerequisite -> action), grouped and coloured by
    level (an action's level is the lowest level of the criteria it addresses).

    \b
    Examples:
      qmgrade kb graph --format dot | dot -Tsvg > actions.svg
      qmgrade kb graph --format mermaid --lang zh --out actions.mmd"""
    from engine.render.graph import render_graph
    model = load(model_dir)
    emit(render_graph(model, fmt, lang), out)


# -- template, batch, stats, history (many companies) -------------------------------------
@main.command()
@model_option
@click.option("--format", "fmt", type=click.Choice(["xlsx", "yaml"]), default="xlsx", show_default=True,
              help="Output format.")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language: zh (中文) or en.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of standard output.")
def template(model_dir, fmt, lang, out):
    """Write a blank questionnaire from the model: XLSX (one row per criterion with its
    texts, evidence guidance and a drop-down of ratings, plus a company sheet) or YAML.

    Fill it in and grade it with `qmgrade assess FILE`."""
    from engine.spreadsheet import template_workbook, template_yaml
    model = load(model_dir)
    if fmt == "xlsx":
        if (not out or out == "-") and sys.stdout.isatty():
            raise click.UsageError("refusing to write a binary XLSX workbook to the terminal: "
                                   "use --out FILE.xlsx or redirect standard output")
        emit(template_workbook(model, lang), out)
    else:
        emit(template_yaml(model, lang), out)


def _csv_encoding(name):
    """``--encoding``: a codec Python knows that reads lines as bytes do (UTF-16 does not); a usage error else."""
    if name is None:
        return None
    import codecs
    try:
        codec = codecs.lookup(name).name
        ascii_safe = "company_id,\n".encode(codec) == b"company_id,\n"
    except (LookupError, UnicodeError):
        raise click.BadParameter(f"unknown encoding {name!r} (e.g. utf-8, gb18030, gbk, big5)") from None
    if not ascii_safe:
        raise click.BadParameter(f"{name!r} is not read line by line: save the CSV as UTF-8 or GB18030")
    return codec


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path())
@model_option
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: the cores available, at most 3, so that all processes "
                   "together stay within about 200 MB).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
              help="jsonl: one assess object per company; csv: one summary row per company.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Write the results to this file (atomically) instead of standard output.")
@click.option("--trace/--no-trace", default=False, show_default=True,
              help="Include each company's rule-firing trace (jsonl).")
@click.option("--summary", is_flag=True, help="Also print the statistics (to standard output with --out, "
                                              "else to standard error).")
@click.option("--lang", type=LANGS, default="en", show_default=True, help="Language of the summary.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="Also append every graded assessment to this history database (SQLite).")
@click.option("--max-line-bytes", type=click.IntRange(min=1), default=DEFAULT_LIMITS.line_bytes, show_default=True,
              help="Longest JSON Lines or CSV line; a longer line is an error entry.")
@click.option("--max-field-size", type=click.IntRange(min=1), default=DEFAULT_LIMITS.field_chars,
              show_default=True, help="Longest CSV field (characters); a longer one is an error entry.")
@click.option("--max-xlsx-bytes", type=click.IntRange(min=1), default=DEFAULT_LIMITS.xlsx_bytes,
              show_default=True, help="Largest uncompressed size of an XLSX workbook.")
@click.option("--max-rows", type=click.IntRange(min=1), default=DEFAULT_LIMITS.rows, show_default=True,
              help="Most rows of an XLSX worksheet.")
@click.option("--encoding", default=None, metavar="NAME", callback=lambda ctx, param, value: _csv_encoding(value),
              help="Text encoding of CSV input, e.g. gb18030 (default: UTF-8 with or without a BOM, else GB18030, "
                   "as Excel and WPS save in China).")
@click.option("--bom/--no-bom", default=True, show_default=True,
              help="Begin --format csv output with a byte-order mark, so that Excel shows Chinese names right.")
@click.option("--require-complete", is_flag=True, expose_value=False,
              callback=lambda ctx, param, value: ctx.meta.__setitem__("require_complete", value),
              help="A company with fewer applicable criteria rated than the model's min_coverage (a "
                   "provisional grade) becomes an error entry.")
@click.pass_context
def batch(ctx, input_path, model_dir, jobs, fmt, out, trace, summary, lang, db_path, max_line_bytes,
          max_field_size, max_xlsx_bytes, max_rows, encoding, bom):
    """Grade many companies: INPUT is a folder, JSON Lines (.jsonl), or the wide CSV/XLSX
    layout of survey tools (company_id, company_name, industry, region, assessed_on, then
    one column per criterion id).  A folder is read file by file — YAML/JSON assessments,
    XLSX questionnaires, JSON Lines, wide CSV/XLSX — and every file it skips is named on
    standard error.  CSV may be UTF-8 (with or without a BOM) or GB18030, delimited by
    commas, semicolons or tabs.

    Results come in input order. A bad record becomes an error entry and the batch
    goes on; the exit code is 1 when any record failed."""
    from engine.batch import AtomicOutput, open_source, run_batch
    from engine.render.stats import render_text
    from engine.stats import Tally
    model = load(model_dir)
    limits = Limits(line_bytes=max_line_bytes, field_chars=max_field_size, xlsx_bytes=max_xlsx_bytes, rows=max_rows)
    source = open_source(input_path, model, limits, encoding=encoding)
    for skipped, why in source.skipped:   # nothing in a folder vanishes silently (issue 10)
        click.echo(f"Note: skipped {skipped}: {why}", err=True)
    tally = Tally() if summary else None
    failures = []
    unstored = [0]        # graded, but without a company id to store under
    history = open_history(db_path) if db_path else None

    def on_result(record, row):
        if tally is not None:
            tally.add(record)
        if record["error"] and len(failures) < 20:
            failures.append(record["message"])
        if history is not None and row is not None and not history.add(row):
            unstored[0] += 1

    progress = None
    if sys.stderr.isatty():
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
        from rich.console import Console
        progress = Progress(TextColumn("grading"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
    try:
        files, model_dirs = protected(source.inputs)
        # the lines come as UTF-8 bytes, encoded in the workers (issue 13), to a file or to standard output's
        # bytes (UTF-8 whatever the locale, see _utf8_output)
        to_file = bool(out and out != "-")
        encoded = to_file or hasattr(sys.stdout, "buffer")
        if encoded and not to_file:
            sys.stdout.flush()
        writer = AtomicOutput(out, files, model_dirs, text=False) if to_file else \
            contextlib.nullcontext(sys.stdout.buffer if encoded else sys.stdout)
        with writer as stream:
            if progress is not None:
                with progress:
                    task = progress.add_task("grading", total=source.total or None)
                    report = run_batch(source, model, model_dir=model_dir, jobs=jobs, fmt=fmt, trace=trace,
                                       sink=stream.write, on_result=on_result, with_db=bool(db_path),
                                       require_complete=ctx.meta.get("require_complete", False), bom=bom,
                                       summaries=tally is not None, encoded=encoded,
                                       on_progress=lambda units: progress.advance(task, units))
            else:
                report = run_batch(source, model, model_dir=model_dir, jobs=jobs, fmt=fmt, trace=trace,
                                   sink=stream.write, on_result=on_result, with_db=bool(db_path),
                                   require_complete=ctx.meta.get("require_complete", False), bom=bom,
                                   summaries=tally is not None, encoded=encoded)
        if history is not None:   # the rows go in only together with the finished results
            history.commit()
    finally:
        if history is not None:
            history.close()
    if tally is not None:
        click.echo(render_text(tally.statistics(model), lang), nl=False, err=not out or out == "-")
    if unstored[0]:
        click.echo(f"Warning: {unstored[0]} graded assessment(s) without a company id were not stored in "
                   f"{db_path}", err=True)
    if report.failed:
        for message in failures:
            click.echo(f"Error: {message}", err=True)
        if report.failed > len(failures):
            click.echo(f"Error: … and {report.failed - len(failures)} more", err=True)
        click.echo(f"Error: {report.failed} of {report.records} records failed (error entries in the results)",
                   err=True)
        ctx.exit(1)


@main.command()
@click.argument("results", type=click.Path(dir_okay=False))
@model_option
@output_options(["text", "json", "html"])
@click.option("--max-line-bytes", type=click.IntRange(min=1), default=DEFAULT_LIMITS.line_bytes, show_default=True,
              help="Refuse a results line longer than this many bytes.")
def stats(results, model_dir, fmt, lang, out, max_line_bytes):
    """Statistics over batch results (RESULTS = the JSON Lines of `qmgrade batch`): the
    level distribution overall, by region and by industry, the most frequent shortest
    staves, blockers and minimal-fix criteria."""
    from engine.render.stats import render_html, render_text
    from engine.stats import read_results
    model = load(model_dir)
    statistics = read_results(results, line_bytes=max_line_bytes).statistics(model)
    if fmt == "json":
        emit(statistics.to_json(), out, [results])
    elif fmt == "html":
        emit(render_html(statistics, lang), out, [results])
    else:
        emit(render_text(statistics, lang), out, [results])


@main.group(cls=DefaultCommandGroup, default="show", default_usage="[OPTIONS] COMPANY --db PATH")
def history():
    """The trend of COMPANY (its id) between rounds of assessment (复核): level and stave
    changes, blockers cleared, roadmap actions that look done.  The history's hash chain
    is checked first: a broken chain is refused unless --no-verify.

    `qmgrade history verify --db PATH` walks the hash chain and names the first row that
    was changed, inserted, deleted or replaced (exit 1), or prints OK and the chain's head.

    \b
    Examples:
      qmgrade history acme-001 --db history.sqlite
      qmgrade history verify --db history.sqlite
    """


@history.command("show", cls=_DefaultCommand, hidden=True)
@click.argument("company")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), required=True,
              help="The history database written by assess --db or batch --db.")
@click.option("--verify/--no-verify", "check", default=True, show_default=True,
              help="Check the history's hash chain before reading it.")
@model_option
@output_options(["text", "json"])
def history_show(company, db_path, check, model_dir, fmt, lang, out):
    """The trend of COMPANY between rounds (what `qmgrade history COMPANY` runs)."""
    from engine.render.trend import render_text
    from engine.trend import trend     # issue 11: rounds re-graded, criteria that got worse
    model = load(model_dir)
    with open_history(db_path, create=False) as db:
        if check:
            db.require_intact()
        rounds = db.rounds(company)
    result = trend(rounds, model)
    if fmt == "json":
        emit(result.to_json(), out, [db_path])
    else:
        emit(render_text(result, lang), out, [db_path])


@history.command("verify")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), required=True,
              help="The history database to check.")
@click.option("--head", default=None, metavar="HASH",
              help="A head printed by an earlier verify: it must still be in the chain (rows cut off "
                   "the end show).")
def history_verify(db_path, head):
    """Walk the history's hash chain: exit 0 and print its length and head when every row
    is as written; otherwise exit 1 naming the first row that was changed, inserted,
    deleted or replaced, and any trigger that was dropped or altered."""
    if head is not None and not (len(head) == 64 and all(c in "0123456789abcdef" for c in head)):
        raise click.BadParameter("a head is the 64 lowercase hex digits printed by `history verify`",
                                 param_hint="--head")
    with open_history(db_path, create=False) as db:
        report = db.verify(head=head)
    if not report.ok:
        raise engine.InputError([Problem(db_path, 1, 1, problem) for problem in report.problems])
    click.echo(f"OK: {db_path}: {report.rows} rows, the hash chain is intact; head {report.head}")


if __name__ == "__main__":  # pragma: no cover
    main()


# -- migrate ----------------------------------------------------------------------------
@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@model_option
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True,
              help="Output format of the rewritten assessment.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of standard output.")
def migrate(file, model_dir, fmt, out):
    """Rewrite the assessment FILE (YAML or JSON), written for an earlier model version,
    for the current model, through the model's supersedes map.

    Ratings of kept and moved criteria are carried under their new ids; when two
    old criteria became one, the lower rating is carried; ratings of removed
    criteria are dropped. A summary (moved, merged, removed, not rated) goes to
    stderr; the rewritten assessment to stdout or --out."""
    from engine.migrate import header_lines, migrated_document, render_document, summary_lines
    from engine.yamlio import load_file
    model = load(model_dir)
    if file.lower().endswith((".xlsx", ".xlsm")):
        raise engine.InputError(Problem(file, 1, 1, "migrate reads YAML or JSON assessments; "
                                                    "an XLSX questionnaire is rewritten by filling a new template"))
    data = load_file(file, engine.InputError)
    assessment = engine.assessment_from_data(data, file, model, migrating=True)
    document = migrated_document(data, assessment, model)
    for line in summary_lines(assessment.migration, model, assessment, file):
        click.echo(line, err=True)
    emit(render_document(document, fmt, header_lines(assessment.migration, model)), out, [file])


# -- serve, users (issue 14) --------------------------------------------------------------------
@main.command()
@model_option
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="qmgrade.sqlite", show_default=True,
              help="The SQLite store: drafts, accounts, batches, and the history `qmgrade history` reads.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but loopback needs accounts (`qmgrade users add`).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Server threads (grading itself runs one request at a time: durable_rules is process-wide).")
@click.option("--secure-cookies/--no-secure-cookies", default=None,
              help="Send the session cookie over HTTPS only (default: on for non-loopback addresses, which "
                   "should sit behind a TLS proxy).")
def serve(model_dir, db_path, host, port, threads, secure_cookies):
    """Serve qmgrade in the browser: a company fills the questionnaire stave by stave and sees its
    level, the explanation, the roadmap and what-ifs; a bureau uploads batches and reads the
    statistics and each company's history; /api/ gives the CLI's JSON (OpenAPI at /api/openapi.json).

    Bound to 127.0.0.1 it needs no login (a consultant's laptop); on any other address it
    refuses to start until `qmgrade users add` has made an account.

    \b
    Example:
      qmgrade serve --db qmgrade.sqlite      # then open http://127.0.0.1:8000/"""
    from engine.web.app import LOOPBACK, create_app
    from engine.web.store import Store
    model = load(model_dir)
    has_users = Store(db_path).has_users()
    if host not in LOOPBACK and not has_users:
        raise click.UsageError(f"refusing to listen on {host} without accounts: add one with "
                               f"`qmgrade users add NAME --role bureau --db {db_path}`, or serve on 127.0.0.1")
    secure = (host not in LOOPBACK) if secure_cookies is None else secure_cookies
    app = create_app(model, db_path, login=has_users, secure_cookies=secure)
    import waitress
    click.echo(f"qmgrade serving {model.id} {model.version} on http://{host}:{port}/ "
               f"({'accounts required' if has_users else 'no login: local use only'}; store {db_path}); "
               f"Ctrl-C stops", err=True)
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="qmgrade")
    stopped = []

    def on_sigterm(signum, frame):
        # waitress swallows any other exception raised inside a connection's handler (then the server ran
        # on after SIGTERM, about once in three): SystemExit is what its loop lets through and stops on
        stopped.append(signum)
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_sigterm)
    server.run()   # returns once SIGTERM or Ctrl-C closed the server and its threads
    if stopped:
        click.echo("Error: terminated", err=True)
        sys.exit(143)


@main.group(cls=QmgradeGroup)
def users():
    """Accounts of `qmgrade serve`: bureau (sees every company) or company (sees only its own)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["bureau", "company"]), required=True, help="What the account may see.")
@click.option("--company", "company_id", default=None, help="The company id a company account belongs to.")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default="qmgrade.sqlite", show_default=True,
              help="The store `qmgrade serve --db` uses.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def users_add(username, role, company_id, db_path, password_stdin):
    """Add (or replace) the account USERNAME; the password is asked for twice (or read with
    --password-stdin) and stored as an scrypt hash."""
    from engine.web.store import Store
    if role == "company" and not company_id:
        raise click.UsageError("a company account needs --company ID")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    Store(db_path).add_user(username, password, role, company_id)
    click.echo(f"Added {role} account {username}" + (f" of company {company_id}" if company_id else "")
               + f" to {db_path}")
