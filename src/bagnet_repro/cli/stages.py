"""Stages declared once: a stage is a typed function whose docstring gives one line of help per parameter; its
command line (``bagnet-repro <stage> --help`` included) is derived from it by tyro, and the manual's command
page from the same signature and docstring (``option_rows``).

A rule passes the stage its config section as one JSON object, ``--params '{"image_size": 224, ...}'``: each key
is a parameter of the stage (``image_size`` is ``--image-size``), and an option given after it wins. Outputs stay
explicit options. A renamed option keeps its old spelling refused in one line that names the new one."""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import UserError

PARAMS = "--params"


@dataclass(frozen=True)
class Stage:
    """One command: ``function`` run with the options its signature declares."""

    name: str
    function: Callable[..., object]
    renamed: dict[str, str] = field(default_factory=dict)  # old option -> its new spelling

    @property
    def help(self) -> str:
        """The first line of the function's docstring: the command's line in ``bagnet-repro --help``."""
        return (inspect.getdoc(self.function) or "").splitlines()[0]

    def parameters(self) -> list[str]:
        return list(inspect.signature(self.function).parameters)


def option(parameter: str) -> str:
    """The option of a parameter: ``weights_cache`` is ``--weights-cache``."""
    return "--" + parameter.replace("_", "-")


def _words(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [json.dumps(value) if isinstance(value, dict) else str(value)]


def params_arguments(stage: Stage, text: str) -> list[str]:
    """The options a ``--params`` JSON object stands for; a key the stage does not declare is refused by name."""
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{PARAMS} of {stage.name} is not JSON: {exc}") from None
    if not isinstance(values, dict):
        raise UserError(f"{PARAMS} of {stage.name} must be a JSON object of its options, not {type(values).__name__}")
    unknown = sorted(set(values) - set(stage.parameters()))
    if unknown:
        raise UserError(
            f"{PARAMS} of {stage.name}: unknown key(s) {', '.join(unknown)} (see bagnet-repro {stage.name} --help)"
        )
    arguments: list[str] = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            arguments.append(option(key) if value else "--no-" + option(key)[2:])
        else:
            arguments += [option(key), *_words(value)]
    return arguments


def command_line(stage: Stage, argv: Sequence[str]) -> list[str]:
    """``argv`` with each ``--params`` object spelled out as options in its place (later options win), and an
    old spelling of a renamed option refused in one line that names the new one."""
    arguments: list[str] = []
    words = list(argv)
    while words:
        word = words.pop(0)
        name = word.split("=", 1)[0]
        if name in stage.renamed:
            raise UserError(f"{name} of {stage.name} is now {stage.renamed[name]}")
        if name == PARAMS:
            if "=" in word:
                text = word.split("=", 1)[1]
            elif words:
                text = words.pop(0)
            else:
                raise UserError(f"{PARAMS} of {stage.name} needs a JSON object")
            arguments += params_arguments(stage, text)
        else:
            arguments.append(word)
    return arguments


def run(stage: Stage, argv: Sequence[str]) -> object:
    """Parse ``argv`` as the stage's command line (tyro, from the signature) and run the stage."""
    import tyro
    from tyro import _errors as tyro_errors

    with tyro_errors.on_parse_error(lambda event: _refuse_in_one_line(stage, event)):
        return tyro.cli(
            stage.function,
            args=command_line(stage, argv),
            prog=f"bagnet-repro {stage.name}",
            description=_description(stage),
            config=(tyro.conf.PositionalMetavarFromFieldName,),
        )


def _refuse_in_one_line(stage: Stage, event: object) -> None:
    """A command line tyro rejects, as one line that names the option (tyro's own message is a box of many lines).

    tyro's parse-error hook is private (``tyro._errors``), so the lock pins tyro's version; an event this does not
    know falls through to tyro's box."""
    from tyro import _errors as tyro_errors

    where = f"bagnet-repro {stage.name}"
    if isinstance(event, tyro_errors.MissingArgs):
        names = ", ".join(argument.arg.display_name() for argument in event.missing_arguments)
        raise UserError(f"{where}: missing {names} (see {where} --help)")
    if isinstance(event, tyro_errors.InvalidChoice):
        choices = ", ".join(event.choices)
        raise UserError(f"{where}: {event.argument.display_name()} {event.value!r} is not one of {choices}")
    if isinstance(event, tyro_errors.BadValue):
        name = event.argument.display_name()
        if event.offending_value is None:
            raise UserError(f"{where}: {name} needs a value (see {where} --help)")
        raise UserError(f"{where}: {name} takes no value, got {event.offending_value!r}")
    if isinstance(event, tyro_errors.UnrecognizedArgs):
        raise UserError(f"{where}: unknown option(s) {' '.join(event.tokens)} (see {where} --help)")
    if isinstance(event, tyro_errors.InstantiationFailure):
        name = f"{event.argument.display_name()}: " if event.argument is not None else ""
        raise UserError(f"{where}: {name}{' '.join(event.message.split())}")


def _description(stage: Stage) -> str:
    parsed = _docstring(stage.function)
    text = "\n\n".join(part for part in (parsed.short_description, parsed.long_description) if part)
    return f"{text}\n\n{PARAMS} JSON: a config section, each key an option of this command (later options win)."


def _docstring(function: Callable[..., object]):
    import docstring_parser

    return docstring_parser.parse(inspect.getdoc(function) or "")


def _type_name(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return str(text).replace("typing.", "")


def _is_positional(annotation: object) -> bool:
    """Whether a parameter is given by place (``tyro.conf.Positional``), not as ``--name``."""
    from tyro.conf import Positional

    marker = typing.get_args(Positional[int])[1]
    return typing.get_origin(annotation) is typing.Annotated and marker in typing.get_args(annotation)[1:]


def option_rows(stage: Stage) -> list[tuple[str, str, str, str]]:
    """(option, type, default, help) of every parameter: the manual's table of the command. A positional
    parameter is shown by its upper-case name (``CONFIGFILE``), as its --help shows it."""
    helps = {p.arg_name: " ".join((p.description or "").split()) for p in _docstring(stage.function).params}
    hints = typing.get_type_hints(stage.function, include_extras=True)
    rows = []
    for name, parameter in inspect.signature(stage.function).parameters.items():
        default = "required" if parameter.default is inspect.Parameter.empty else repr(parameter.default)
        annotation = hints.get(name, parameter.annotation)
        if _is_positional(annotation):
            kind = _type_name(typing.get_args(annotation)[0])
            rows.append((name.upper().replace("_", "-"), kind, default, helps.get(name, "")))
        else:
            rows.append((option(name), _type_name(parameter.annotation), default, helps.get(name, "")))
    return rows
