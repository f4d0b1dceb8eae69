"""Read publishers' text files whatever their encoding, keeping line numbers for error messages."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from oresight.errors import InputError

__all__ = [
    "CsvTable",
    "clean_cell",
    "decode_bytes",
    "parse_json",
    "parse_yaml",
    "read_bytes_prefix",
    "read_csv_table",
    "read_text",
    "read_text_prefix",
]


#: the largest text file an importer reads (a publisher's table is a few MB; this bounds memory, not formats)
MAX_TEXT_BYTES = 512 * 2**20


def read_text(path: str | Path) -> str:
    """The text of a file: UTF-8 (with or without BOM), else Windows-1252, decided line by line where a file
    mixes them. Binary, empty, oversized and non-regular files (devices, pipes) are errors."""
    text, cut = read_text_prefix(path, MAX_TEXT_BYTES)
    if cut:
        raise InputError(f"file larger than {MAX_TEXT_BYTES // 2**20} MB", path=path, expected="a publisher's table")
    return text


def read_text_prefix(path: str | Path, max_bytes: int | None) -> tuple[str, bool]:
    """The text of at most the first ``max_bytes`` bytes of a file (decoded as :func:`read_text` does, without
    a character split at the cut), and whether the file was longer."""
    raw, cut = read_bytes_prefix(path, max_bytes)
    return _decode(raw, cut), cut


def decode_bytes(raw: bytes, cut: bool = False) -> str:
    """Bytes as text: UTF-8 (a BOM dropped; a character split at a cut dropped), else line by line UTF-8 where a
    line is, cp1252 or latin-1 where not."""
    return _decode(raw, cut)


def read_bytes_prefix(path: str | Path, max_bytes: int | None) -> tuple[bytes, bool]:
    """At most the first ``max_bytes`` bytes of a text file, and whether the file was longer (for formats that
    decide the encoding per line)."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=path)
    if path.is_dir():
        raise InputError("is a directory, not a file", path=path)
    if not path.is_file():
        raise InputError("not a regular file (a device or a pipe)", path=path, expected="a CSV, JSON or text file")
    with path.open("rb") as handle:
        raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    cut = max_bytes is not None and len(raw) > max_bytes
    if cut:
        raw = raw[:max_bytes]
    if not raw.strip():
        raise InputError("file is empty", path=path)
    if b"\x00" in raw[:4096]:
        raise InputError("file is binary, not text", path=path, expected="a CSV, JSON or text file")
    return raw, cut


def _decode(raw: bytes, cut: bool) -> str:
    r"""UTF-8 where the whole file is UTF-8; otherwise each line on its own: UTF-8 if it is, else Windows-1252
    (a file that mixes them, one Latin-1 line in a UTF-8 file, keeps its UTF-8 lines intact).

    >>> _decode("Zürich\n".encode() + "Gen\xe8ve\n".encode("cp1252"), False)
    'Zürich\nGenève\n'
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    # a cut may fall inside a UTF-8 sequence of up to four bytes
    for trim in range(4 if cut else 1):
        try:
            return raw[: len(raw) - trim].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return "".join(_decode_line(line) for line in raw.splitlines(keepends=True))


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        # cp1252 maps almost every byte; the five it leaves undefined fall back to latin-1.
        return line.decode("cp1252") if _is_cp1252(line) else line.decode("latin-1")


def parse_json(text: str, origin: str | Path):
    """JSON as publishers' APIs write it, read strictly: ``NaN``/``Infinity`` and numbers too large for a float
    (``1e400``) are refused rather than read as non-finite numbers, a key given twice in one object is refused
    (the last would silently win), and nesting too deep to read is an error naming the file, not a crash.

    >>> parse_json('{"a": [1, 2.5]}', "x.json")
    {'a': [1, 2.5]}
    >>> parse_json('{"a": 1e400}', "x.json")
    Traceback (most recent call last):
    oresight.errors.InputError: x.json, line 1: not a finite number: 1e400
    """
    try:
        return json.loads(
            text,
            parse_float=_finite_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_repeats,
        )
    except _JsonProblem as exc:
        raise InputError(exc.message, path=origin, line=exc.line_in(text)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=origin, line=exc.lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read", path=origin, expected="a publisher's JSON file") from None


class _JsonProblem(ValueError):
    """A problem the parser's hooks find; they see no positions, so the line is that of the token's ``nth``
    occurrence in the text (the repeat of a repeated key is its second)."""

    def __init__(self, message: str, token: str, nth: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.token = token
        self.nth = nth

    def line_in(self, text: str) -> int | None:
        position = -1
        for _ in range(self.nth):
            position = text.find(self.token, position + 1)
            if position < 0:
                return None
        return text.count("\n", 0, position) + 1


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _JsonProblem(f"not a finite number: {text}", text)
    return value


def _refuse_constant(name: str):
    raise _JsonProblem(f"not a finite number: {name}", name)


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) < len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _JsonProblem(f"key {repeated!r} given twice in one object", f'"{repeated}"', nth=2)
    return result


#: bounds on YAML that comes from users: nesting depth, and nodes once every alias is expanded (an alias bomb is
#: a few hundred bytes that expand to billions of nodes when a program walks the result)
YAML_MAX_DEPTH = 64
YAML_MAX_NODES = 100_000


def parse_yaml(
    text: str,
    origin: str | Path,
    error: type[InputError] = InputError,
    *,
    max_depth: int = YAML_MAX_DEPTH,
    max_nodes: int = YAML_MAX_NODES,
):
    r"""YAML read safely: no object construction, nesting and alias expansion bounded before anything walks
    the result; syntax errors name the file and line.

    >>> parse_yaml("a: [1, 2]", "x.yaml")
    {'a': [1, 2]}
    >>> bomb = ["k0: &k0 [x, x]", *(f"k{i}: &k{i} [*k{i - 1}, *k{i - 1}]" for i in range(1, 21))]
    >>> parse_yaml("\n".join(bomb), "bomb.yaml")
    Traceback (most recent call last):
    oresight.errors.InputError: bomb.yaml: YAML too large once its aliases are expanded (more than 100000 nodes)
    >>> parse_yaml("\x1f", "x.yaml")
    Traceback (most recent call last):
    oresight.errors.InputError: x.yaml, line 1: not valid YAML: special characters are not allowed (character #x001f)
    """
    try:
        loader = _BoundedLoader(text, max_depth)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, found before any parsing
        line = text.count("\n", 0, exc.position) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        message = f"not valid YAML: {exc.reason} (character #x{code:04x})"
        raise error(message, path=origin, line=line) from None
    except yaml.YAMLError as exc:
        raise error(f"not valid YAML: {exc}", path=origin) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node, {}, max_nodes) > max_nodes:
            raise error(f"YAML too large once its aliases are expanded (more than {max_nodes} nodes)", path=origin)
        return loader.construct_document(node)
    except _TooDeep as exc:
        raise error(f"YAML nested more than {max_depth} levels deep", path=origin, line=exc.line) from None
    except _Recursive:
        raise error("YAML with an alias that refers to itself", path=origin) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error(
            f"not valid YAML: {getattr(exc, 'problem', exc)}", path=origin, line=mark.line + 1 if mark else None
        ) from None
    finally:
        loader.dispose()


class _TooDeep(Exception):
    def __init__(self, line: int | None) -> None:
        self.line = line


class _Recursive(Exception):
    pass


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that refuses nesting deeper than a bound while it composes (PyYAML's composer recurses, so
    deep input would otherwise end in a RecursionError)."""

    def __init__(self, stream: str, max_depth: int) -> None:
        super().__init__(stream)
        self.max_depth = max_depth
        self.depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                raise _TooDeep(self.peek_event().start_mark.line + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _expanded_size(node, memo: dict[int, int], limit: int) -> int:
    """Nodes in the document once aliases are expanded, counted on the composed graph (the size of a shared node
    is computed once, so counting costs time linear in the text, not in the expansion); stops past ``limit``."""
    key = id(node)
    if key in memo:
        if memo[key] < 0:
            raise _Recursive
        return memo[key]
    memo[key] = -1
    total = 1
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    else:
        children = []
    for child in children:
        total += _expanded_size(child, memo, limit)
        if total > limit:
            break
    memo[key] = total
    return total


def _is_cp1252(raw: bytes) -> bool:
    return not any(b in raw for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))


def clean_cell(value: str | None) -> str:
    """Fold no-break spaces and runs of white space; strip."""
    if value is None:
        return ""
    return re.sub(r"\s+", " ", value.replace("\u00a0", " ")).strip()


@dataclass
class CsvTable:
    path: Path
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number in the file, cells by header name)

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def read_csv_table(
    path: str | Path, *, required: Sequence[str] = (), text: str | None = None, repeated: str = "refuse"
) -> CsvTable:
    """Read a CSV into rows keyed by cleaned header names, each with its line number.

    Header names are cleaned (``"PROD_EST_ 2024"`` -> ``"PROD_EST_ 2024"`` with folded spaces); a trailing empty
    column (a comma at the end of every line) is dropped. Missing ``required`` columns, a column name given twice
    (unless ``repeated="number"``: then each of its columns is named ``name#1``, ``name#2`` ... for the importer
    to resolve) and a last line cut off mid-way (the file ends without a line break and the line is shorter than
    the header, or ends in a cell that may have been cut) are errors naming the file, line and field.
    """
    path = Path(path)
    text = read_text(path) if text is None else text
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        raw_header = next(reader)
        header = _header(raw_header, path, required, repeated)
        rows: list[tuple[int, dict[str, str]]] = []
        cells: list[str] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            rows.append((line, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}))
    except StopIteration:
        raise InputError("file has no header line", path=path) from None
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path=path, line=reader.line_num) from None
    if rows and not text.endswith(("\n", "\r")) and any(c.strip() for c in cells) and not _complete(cells, raw_header):
        raise InputError(
            "the file ends inside this line (no line break after it): it looks cut off",
            path=path,
            line=rows[-1][0],
            expected="a complete file whose last line ends with a line break",
        )
    return CsvTable(path, [h for h in header if h], rows)


def _header(raw_header: list[str], path: Path, required: Sequence[str], repeated: str) -> list[str]:
    """Cleaned header names (empty names kept in place so that cells stay aligned); a name given twice is an
    error or, with ``repeated="number"``, numbered."""
    header = [clean_cell(h) for h in raw_header]
    while header and header[-1] == "":
        header.pop()
    counts = Counter(name for name in header if name)
    twice = [name for name, n in counts.items() if n > 1]
    if twice and repeated != "number":
        raise InputError(
            "column name given twice", path=path, line=1, field=twice[0], expected="each column named once"
        )
    seen: Counter = Counter()
    for i, name in enumerate(header):
        if name in twice:
            seen[name] += 1
            header[i] = f"{name}#{seen[name]}"
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"missing column(s) {missing}", path=path, line=1, expected=f"a header with {list(required)}")
    return header


def _complete(cells: list[str], raw_header: list[str]) -> bool:
    """Whether a last line without a line break is whole: every column there and the last cell empty (a cut can
    only shorten the line or its last cell, and an empty last cell has nothing left to cut)."""
    return len(cells) >= len(raw_header) and cells[-1].strip() == ""
