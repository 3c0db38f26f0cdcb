"""Import other tools' SLO specs (Sloth, OpenSLO) as bzzzmon specs.

One module per source format reads its documents into drafts (``draft``), the writer emits them
as spec files with comments on what did not carry over, and the report lists every source field
with how it was mapped. ``import_files`` is what ``bzzzmon import`` runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from bzzzmon.imports import openslo, sloth
from bzzzmon.imports.draft import Collector, Entry
from bzzzmon.imports.writer import render
from bzzzmon.spec.errors import SpecErrors
from bzzzmon.spec.yamlpos import MAX_FILE_BYTES, Document, load_documents

Tool = Literal["sloth", "openslo"]
_TOOLS = {"sloth": ("Sloth", sloth.import_docs), "openslo": ("OpenSLO", openslo.import_docs)}


def read(paths: list[Path], c: Collector) -> list[Document]:
    docs: list[Document] = []
    for path in paths:
        display = str(path)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                c.errors.append(c.error_at(display, "the file is too large"))
                continue
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            c.errors.append(c.error_at(display, "the file is not UTF-8 text"))
            continue
        except OSError as exc:
            c.errors.append(c.error_at(display, f"cannot read the file: {exc.strerror}"))
            continue
        found, errors = load_documents(text, display)
        c.errors += errors
        docs += [d for d in found if d.data is not None]
    return docs


def import_files(tool: Tool, paths: list[Path]) -> tuple[dict[str, str], list[Entry]]:
    """Spec file name -> text, and the report; raises SpecErrors on bad input."""
    c = Collector()
    docs = read(paths, c)
    c.raise_errors()
    title, importer = _TOOLS[tool]
    drafts = importer(docs, c)
    c.raise_errors()
    if not drafts:
        raise SpecErrors([c.error_at(str(paths[0]), f"no {title} SLOs found")])
    return render(drafts, title, c), c.entries
