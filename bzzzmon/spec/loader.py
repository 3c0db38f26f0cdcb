"""Read every spec file of a directory and check each against the wire format."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bzzzmon.spec import safety, wire
from bzzzmon.spec.errors import SpecError
from bzzzmon.spec.yamlpos import MAX_FILE_BYTES, Document, load_text

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadedFile:
    doc: Document
    spec: wire.SpecFile


# Spec file names appear in generated headers and error messages: plain names only.
FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")


def spec_files(spec_dir: Path) -> list[Path]:
    """The spec files of a directory, sorted: ``*.yaml`` and ``*.yml`` directly in it, except
    hidden files (``.x.yaml``, macOS's ``._x.yaml``); ``specs/tests/`` holds user tests."""
    return sorted(
        p for p in spec_dir.iterdir() if p.suffix in SPEC_SUFFIXES and not p.name.startswith(".")
    )


def _file_problem(path: Path, display: str) -> SpecError | None:
    """A spec-named entry that is not a readable regular file with a plain name."""
    if not FILE_NAME.match(path.name):
        return SpecError(
            repr(display)[1:-1],
            1,
            1,
            "a spec file name uses letters, digits, '.', '_' and '-' only",
            "rename the file",
        )
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return SpecError(display, 1, 1, "the file is a symbolic link loop")
    except OSError:
        return SpecError(display, 1, 1, "the file is a symbolic link to nothing")
    if path.is_dir():
        return SpecError(display, 1, 1, "a directory is named like a spec file", "rename it")
    if not path.is_file():
        return SpecError(display, 1, 1, "not a regular file")
    if path.stat().st_size > MAX_FILE_BYTES:
        return SpecError(
            display,
            1,
            1,
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB",
            "split the spec into several files",
        )
    return None


def _decode_error(data: bytes, exc: UnicodeDecodeError, display: str) -> SpecError:
    """Where the first undecodable byte is, by line and column."""
    before = data[: exc.start]
    line = before.count(b"\n") + 1
    column = len(before.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")) + 1
    return SpecError(
        display,
        line,
        column,
        f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
        "save it as UTF-8",
    )


def _known_fields(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every key name (with aliases) the wire models accept, for did-you-mean hints."""
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, info in model.model_fields.items():
        names.add(info.alias or name)
        for arg in _model_args(info.annotation):
            names |= _known_fields(arg, seen)
    return names


def _model_args(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_model_args(arg))
    return found


_KNOWN_KEYS = sorted(_known_fields(wire.SpecFile))


def _path_text(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union/validator tags so the path matches the YAML document."""
    cleaned: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (
            part.startswith("function-")
            or part in ("[key]",)
            or part.startswith("literal[")
            or (part.endswith("]") and "[" in part and not part.startswith("["))
        ):
            continue
        cleaned.append(part)
    return tuple(cleaned)


def _describe(err: Any, doc: Document) -> SpecError:
    loc = _clean_loc(tuple(err["loc"]))
    where = _path_text(loc)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else "remove it; see `bzzzmon schema`"
        return doc.error(loc, f"unknown key '{key}' in {_path_text(loc[:-1])}", hint)
    if kind == "missing":
        return doc.error(loc[:-1], f"missing required key '{loc[-1]}' in {_path_text(loc[:-1])}")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return doc.value_error(loc, f"{where}: '{value}' is not allowed", f"expected {expected}")
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern", "")
        return doc.value_error(
            loc, f"{where}: '{value}' has the wrong form", f"it must match {pattern}"
        )
    if kind == safety.ERROR_TYPE:
        # The value is not echoed: it may be a secret. A refused mapping key points at the key.
        at = doc.error if "[key]" in err["loc"] else doc.value_error
        return at(loc, f"{where}: {err['msg']}", err.get("ctx", {}).get("hint", ""))
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    shown = "" if isinstance(value, (dict, list)) or value is None else f" (got '{value}')"
    return doc.value_error(loc, f"{where}: {msg[0].lower() + msg[1:]}{shown}")


def _without_echoes(errors: list[SpecError]) -> list[SpecError]:
    """Drop "missing key 'x'" where the same mapping has a misspelt key suggesting 'x'."""
    suggested = {
        (e.file, e.message.rsplit(" in ", 1)[-1], e.hint.split("'")[1])
        for e in errors
        if e.message.startswith("unknown key") and e.hint.startswith("did you mean")
    }
    return [
        e
        for e in errors
        if not (
            e.message.startswith("missing required key")
            and (e.file, e.message.rsplit(" in ", 1)[-1], e.message.split("'")[1]) in suggested
        )
    ]


def load_file(path: Path, display: str) -> tuple[LoadedFile | None, list[SpecError]]:
    problem = _file_problem(path, display)
    if problem is not None:
        return None, [problem]
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [_decode_error(data, exc, display)]
    except OSError as exc:
        return None, [SpecError(display, 1, 1, f"cannot read the file: {exc.strerror}")]
    doc, errors = load_text(text, display)
    if doc is None:
        return None, errors
    return check_document(doc)


def check_document(doc: Document) -> tuple[LoadedFile | None, list[SpecError]]:
    """A loaded YAML document checked against the wire format (also for the importers' output)."""
    if not isinstance(doc.data, dict):
        return None, [
            doc.error(
                (), "a spec file is a mapping of sections", "start it with 'apiVersion: bzzzmon/v1'"
            )
        ]
    try:
        spec = wire.SpecFile.model_validate(doc.data)
    except ValidationError as exc:
        return None, _without_echoes([_describe(e, doc) for e in exc.errors()])
    return LoadedFile(doc, spec), []


def load_dir(
    spec_dir: Path, label: str | None = None, *, allow_empty: bool = False
) -> tuple[list[LoadedFile], list[SpecError]]:
    """Load and check every file; every problem in every file is reported, not just the first.
    Files are shown as ``label/name`` (``label``: the directory's name); ``allow_empty``: a
    directory without spec files is no error (the shared top of a multi-service directory)."""
    label = label or spec_dir.name or str(spec_dir)
    if not spec_dir.is_dir():
        return [], [SpecError(str(spec_dir), 1, 1, "spec directory does not exist")]
    files = spec_files(spec_dir)
    if not files and not allow_empty:
        return [], [SpecError(str(spec_dir), 1, 1, "no spec files (*.yaml, *.yml) in directory")]
    loaded: list[LoadedFile] = []
    errors: list[SpecError] = []
    for path in files:
        result, errs = load_file(path, f"{label}/{path.name}")
        errors.extend(errs)
        if result is not None:
            loaded.append(result)
    return loaded, errors
