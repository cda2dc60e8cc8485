"""Reading an intake file (CSV or XLSX, one row per member) into numbered rows of text cells.

Row numbers are the spreadsheet's: the header is row 1, the first member row 2."""

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

COLUMNS = ("household_key", "village_code", "relation", "name", "id_number", "health", "disability_grade", "labor",
           "school_stage", "boarding", "annual_income", "income_year", "causes", "food_clothing_secure",
           "compulsory_education_ok", "basic_medical_ok", "housing_safe", "drinking_water_safe",
           "low_income_guarantee", "status")
REQUIRED = ("household_key", "village_code", "relation", "name", "id_number", "labor", "annual_income",
            "income_year", "causes", "food_clothing_secure", "compulsory_education_ok", "basic_medical_ok",
            "housing_safe", "drinking_water_safe")
MAX_BYTES = 64 * 1024 * 1024

Row = dict[str, str]


class UnreadableFile(ValueError):
    """The upload is not a CSV or XLSX file with the required header."""


def file_format(filename: str, content: bytes) -> str:
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        return "xlsx"
    return "csv"


def _header(cells: list[object]) -> list[str]:
    header = [str(c or "").strip().lower() for c in cells]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise UnreadableFile(f"missing columns: {', '.join(missing)}")
    return header


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China often saves CSV as GBK
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the CSV is neither UTF-8 nor GB18030 text")


def _file_encoding(path: Path) -> str:
    """The CSV file's encoding, decided as `_decode` does but reading the file in pieces (never whole)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as file:
                while piece := file.read(1 << 20):
                    decoder.decode(piece)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("the CSV is neither UTF-8 nor GB18030 text")


def read_rows(content: bytes, fmt: str) -> Iterator[tuple[int, Row]]:
    """Yield (row number, {column: text}) for every non-empty row; raises UnreadableFile."""
    if fmt == "xlsx":
        yield from _xlsx_rows(io.BytesIO(content))
        return
    yield from _csv_rows(io.StringIO(_decode(content), newline=""))


def read_file_rows(path: Path, fmt: str) -> Iterator[tuple[int, Row]]:
    """`read_rows` of a file on disk, read as it is parsed (an upload is spooled to disk, never held whole)."""
    if fmt == "xlsx":
        with path.open("rb") as workbook:  # a file object: openpyxl refuses a path not named .xlsx
            yield from _xlsx_rows(workbook)
        return
    with path.open(encoding=_file_encoding(path), newline="") as text:
        yield from _csv_rows(text)


def key_of(cell: str, number: int) -> str:
    """The household of row `number` whose `household_key` cell is `cell` (stripped): that key, or the row alone
    when the cell is blank."""
    return cell or f"(row {number})"


def household_key(number: int, row: Row) -> str:
    """The household a row belongs to (`key_of` its `household_key` cell)."""
    return key_of(row.get("household_key", ""), number)


def household_sizes(path: Path, fmt: str) -> dict[str, int]:
    """Rows per household of a file on disk, households in order of first appearance (the first of an import's two
    passes: the second then holds a household's rows only until it is whole, never the whole file)."""
    sizes: dict[str, int] = {}
    if fmt == "xlsx":
        for number, row in read_file_rows(path, fmt):
            key = household_key(number, row)
            sizes[key] = sizes.get(key, 0) + 1
        return sizes
    with path.open(encoding=_file_encoding(path), newline="") as text:
        reader = csv.reader(text)
        try:
            column = _header(list(next(reader))).index("household_key")
            for number, cells in enumerate(reader, start=2):  # the keys `_csv_rows` gives, without building rows
                if "".join(cells).strip():  # any cell not blank
                    key = key_of(cells[column].strip() if column < len(cells) else "", number)
                    sizes[key] = sizes.get(key, 0) + 1
        except StopIteration as exc:
            raise UnreadableFile("the file is empty") from exc
        except csv.Error as exc:
            raise UnreadableFile(f"CSV error at row {reader.line_num}: {exc}") from exc
    return sizes


def _csv_rows(text: Iterable[str]) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(text)
    try:
        header = _header(list(next(reader)))
    except StopIteration as exc:
        raise UnreadableFile("the file is empty") from exc
    except csv.Error as exc:
        raise UnreadableFile(f"not a CSV file: {exc}") from exc
    width = len(header)
    try:
        for number, cells in enumerate(reader, start=2):
            if "".join(cells).strip():  # any cell not blank
                # csv gives text cells: `_text` is a strip; a short row's missing cells are blank
                yield number, ({name: cell.strip() for name, cell in zip(header, cells, strict=False)}
                               if len(cells) >= width else
                               {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)})
    except csv.Error as exc:
        raise UnreadableFile(f"CSV error at row {reader.line_num}: {exc}") from exc


def _xlsx_rows(source: BinaryIO) -> Iterator[tuple[int, Row]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a corrupt workbook
        raise UnreadableFile(f"not an XLSX workbook: {type(exc).__name__}") from exc
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        try:
            header = _header(list(next(rows)))
        except StopIteration as exc:
            raise UnreadableFile("the workbook is empty") from exc
        for number, cells in enumerate(rows, start=2):
            if any(c not in (None, "") for c in cells):
                yield number, {name: _text(cells[i]) if i < len(cells) else "" for i, name in enumerate(header)}
    finally:
        workbook.close()


def check_header(content: bytes, fmt: str) -> None:
    """Fail fast (in the request) on a file that cannot be an intake file."""
    if not content:
        raise UnreadableFile("the file is empty")
    if len(content) > MAX_BYTES:
        raise UnreadableFile(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    for _ in read_rows(content, fmt):
        return
    raise UnreadableFile("the file has a header but no member rows")


def check_file(path: Path, fmt: str) -> None:
    """`check_header` of a spooled upload (its size is checked before: 413)."""
    if path.stat().st_size == 0:
        raise UnreadableFile("the file is empty")
    for _ in read_file_rows(path, fmt):
        return
    raise UnreadableFile("the file has a header but no member rows")
