"""Register one Vietnamese-complete TTF family with ReportLab, once.

The default family is Be Vietnam Pro (OFL) from the PyPI package
``fontpkg-be-vietnam-pro``, so no font file is copied into the repository.

``VOTES_PDF_FONT_DIR`` may point at a directory holding another family. Expected file
names (the first match of each pattern wins; the prefix is the family's own)::

    <Family>-Regular.ttf      required (or <Family>.ttf, as DejaVu names it)
    <Family>-Bold.ttf         required
    <Family>-Italic.ttf       optional (or <Family>-Oblique.ttf); falls back to Regular
    <Family>-BoldItalic.ttf   optional (or <Family>-BoldOblique.ttf); falls back to Bold

Every face must cover the Vietnamese alphabet; a family that does not is refused with
a clear message rather than printing "th■p" in a signed document.

Codes (voter codes, seal digests) are ASCII and are drawn in a monospaced face:
DejaVu Sans Mono when Debian's ``fonts-dejavu-core`` is installed, else the PDF
built-in Courier (no embedding needed, and it has every ASCII glyph).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fontpkg_be_vietnam_pro
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

__all__ = ["FONT_DIR_ENV", "FontError", "FontFamily", "register_fonts"]

FONT_DIR_ENV = "VOTES_PDF_FONT_DIR"

#: Where Debian's fonts-dejavu-core puts the monospaced face.
DEJAVU_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")

#: Every letter of the Vietnamese alphabet with its tone marks, NFC, both cases.
VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
REQUIRED_CHARS = VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + "0123456789.,:;%()/–—…-"

_FACES = {
    "regular": ("-Regular.ttf", ".ttf"),
    "bold": ("-Bold.ttf",),
    "italic": ("-Italic.ttf", "-Oblique.ttf"),
    "bold_italic": ("-BoldItalic.ttf", "-BoldOblique.ttf"),
}


class FontError(RuntimeError):
    """The configured font family is missing or cannot draw Vietnamese."""


@dataclass(frozen=True)
class FontFamily:
    """ReportLab names of the registered faces."""

    family: str
    regular: str
    bold: str
    italic: str
    bold_italic: str
    mono: str
    directory: Path


_lock = threading.Lock()
_registered: dict[Path, FontFamily] = {}


def default_font_dir() -> Path:
    """Return the directory of the Be Vietnam Pro files shipped by the PyPI package."""
    return Path(fontpkg_be_vietnam_pro.__file__).resolve().parent / "files"


def _find_faces(directory: Path) -> tuple[str, dict[str, Path]]:
    """Find the four faces of one family in ``directory``; return (prefix, faces)."""
    if not directory.is_dir():
        raise FontError(f"{FONT_DIR_ENV}: {directory} is not a directory")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() == ".ttf")
    prefixes = sorted(
        {p.name[: -len("-Bold.ttf")] for p in files if p.name.endswith("-Bold.ttf")},
        key=lambda prefix: (prefix != "BeVietnamPro", len(prefix), prefix),
    )
    for prefix in prefixes:
        faces: dict[str, Path] = {}
        for face, suffixes in _FACES.items():
            for suffix in suffixes:
                candidate = directory / f"{prefix}{suffix}"
                if candidate.is_file():
                    faces[face] = candidate
                    break
        if "regular" in faces and "bold" in faces:
            faces.setdefault("italic", faces["regular"])
            faces.setdefault("bold_italic", faces["bold"])
            return prefix, faces
    raise FontError(
        f"{directory}: no font family found; expected <Family>-Regular.ttf and "
        "<Family>-Bold.ttf (optionally -Italic.ttf and -BoldItalic.ttf)"
    )


def _check_coverage(font: TTFont, path: Path) -> None:
    """Refuse a face that lacks a glyph for any Vietnamese letter."""
    char_to_glyph = font.face.charToGlyph
    missing = sorted({ch for ch in REQUIRED_CHARS if ord(ch) not in char_to_glyph})
    if missing:
        raise FontError(f"{path.name} cannot draw Vietnamese: no glyph for {''.join(missing)}")


def _register_mono() -> str:
    if DEJAVU_MONO.is_file():
        if "VotesMono" not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont("VotesMono", str(DEJAVU_MONO)))
        return "VotesMono"
    return "Courier"


class _Subset(bytes):
    """A kept font subset: its bytes, and once a document has compressed them, the result."""

    deflated: bytes | None = None


class _CMap(str):
    """A kept ToUnicode map of a subset, and once compressed, the result."""

    deflated: bytes | None = None


class _Formatted(pdfdoc.PDFObject):
    """A PDF value formatted once (a subset's widths): the same bytes in every document."""

    def __init__(self, formatted: bytes) -> None:
        self.formatted = formatted

    def format(self, document: Any) -> bytes:
        return self.formatted


# What the subsets of earlier documents formatted: widths (by the widths) and maps (by text).
_widths: dict[tuple[int, ...], _Formatted] = {}
_cmaps: dict[str, _CMap] = {}
_KEPT_OBJECTS = 256


class _KeptTTFont(TTFont):
    """A TrueType face whose subsets' widths and Unicode maps are formatted once per process.

    ReportLab makes them again for every document (a list of ~150 numbers formatted one by
    one, and a map compressed, for each face of each document): the minutes use three or
    four faces. They depend on the subset only, so the same subset gives the same bytes.
    """

    def addObjects(self, doc: Any) -> None:
        state = self.state.get(doc)
        count = len(state.subsets) if state is not None else 0
        names = [self.getSubsetInternalName(n, doc)[1:] for n in range(count)]
        super().addObjects(doc)
        fonts = doc.idToObject["BasicFonts"].dict
        for name in names:
            font = fonts[name]
            key = tuple(font.Widths.sequence)
            kept = _widths.get(key)
            if kept is None:
                if len(_widths) >= _KEPT_OBJECTS:
                    _widths.clear()
                kept = _widths[key] = _Formatted(font.Widths.format(doc))
            font.Widths = kept
            stream = doc.idToObject[font.ToUnicode.name]
            cmap = _cmaps.get(stream.content)
            if cmap is None:
                if len(_cmaps) >= _KEPT_OBJECTS:
                    _cmaps.clear()
                cmap = _cmaps[stream.content] = _CMap(stream.content)
            stream.content = cmap


def _compress_once(encode: Any) -> Any:
    """Wrap ReportLab's Flate filter so that a kept subset is compressed once per process.

    Compressing the three faces' subsets was the largest fixed cost of a short document
    (≈ 1.4 ms a face of ≈ 30 KB); the bytes written are those `zlib.compress` gives.
    """

    def compress(text: Any) -> bytes:
        if isinstance(text, _Subset | _CMap):
            if text.deflated is None:
                text.deflated = encode(text)
            return text.deflated
        result: bytes = encode(text)
        return result

    return compress


def _keep_subsets(font: TTFont, kept: int = 32) -> None:
    """Let a font reuse the subsets it embedded in earlier documents.

    ReportLab builds, for every document, a TrueType subset of the glyphs that document
    uses (≈ 3 ms a face, three faces a document), then compresses it (≈ 1.4 ms): the same
    text in the same faces gives the same subset, so the last `kept` subsets of each face are
    kept, keyed by their glyphs, with their compressed bytes. The bytes are those ReportLab
    makes; only the work is saved.
    """
    face: Any = font.face
    make = face.makeSubset
    made: dict[tuple[int, ...], _Subset] = {}

    def make_subset(subset: list[int]) -> bytes:
        key = tuple(subset)
        found = made.get(key)
        if found is None:
            found = _Subset(make(subset))
            if len(made) >= kept:
                made.pop(next(iter(made)), None)
            made[key] = found
        return found

    face.makeSubset = make_subset


# ReportLab's one Flate filter, used by every stream of every document.
_flate: Any = pdfdoc.PDFZCompress
_flate.encode = _compress_once(_flate.encode)


def register_fonts(directory: str | os.PathLike[str] | None = None) -> FontFamily:
    """Register the document font family (idempotent) and return its face names.

    ``directory`` defaults to ``$VOTES_PDF_FONT_DIR``, then to Be Vietnam Pro.
    """
    chosen = directory or os.environ.get(FONT_DIR_ENV) or default_font_dir()
    path = Path(chosen).expanduser().resolve()
    with _lock:
        if path in _registered:
            return _registered[path]
        prefix, faces = _find_faces(path)
        names: dict[str, str] = {}
        registered = set(pdfmetrics.getRegisteredFontNames())
        for face, file in faces.items():
            # The file stem is the ReportLab name ("BeVietnamPro-Bold"); a face that
            # falls back to another file shares its name and is embedded once.
            name = file.stem
            names[face] = name
            if name not in registered:
                font = _KeptTTFont(name, str(file))
                _check_coverage(font, file)
                _keep_subsets(font)
                pdfmetrics.registerFont(font)
                registered.add(name)
        family = prefix
        pdfmetrics.registerFontFamily(
            family,
            normal=names["regular"],
            bold=names["bold"],
            italic=names["italic"],
            boldItalic=names["bold_italic"],
        )
        # <b>/<i> inside a Paragraph in any face of the family resolve to the right face.
        for face_name in set(names.values()):
            addMapping(face_name, 0, 0, names["regular"])
            addMapping(face_name, 1, 0, names["bold"])
            addMapping(face_name, 0, 1, names["italic"])
            addMapping(face_name, 1, 1, names["bold_italic"])
        result = FontFamily(
            family=family,
            regular=names["regular"],
            bold=names["bold"],
            italic=names["italic"],
            bold_italic=names["bold_italic"],
            mono=_register_mono(),
            directory=path,
        )
        _registered[path] = result
        return result
