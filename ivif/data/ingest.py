"""Finding and validating IR/visible pairs in an ``ir/`` + ``vi/`` folder pair.

Pairs are matched by file stem (``ir/00012N.png`` with ``vi/00012N.jpg``). Validation
collects *every* problem before failing, so one run tells the user about all of the
bad files at once: a missing counterpart, an unreadable or truncated image, an
unsupported mode or bit depth, IR and visible of different sizes, two files with the
same stem. :class:`IngestError` lists them; with ``skip_bad`` they are left out and
returned instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ivif.data.images import DecodedImage, ImageProblem, read_ir, read_vi
from ivif.io.images import is_image_file

# What reading one file may raise besides ImageProblem: any corrupt-data error of the
# decoder, and PIL's decompression-bomb refusal (not a ValueError/OSError), so one bad
# file is listed (and skippable with --skip-bad), never an uncaught crash.
READ_ERRORS = (ValueError, OSError, SyntaxError, Image.DecompressionBombError)

SKIP_HINT = "fix or remove the files listed, or pass --skip-bad to leave those pairs out"


@dataclass(frozen=True)
class PairFiles:
    """The two files of one scene; ``name`` is their shared stem."""

    name: str
    ir: Path
    vi: Path


@dataclass(frozen=True)
class Problem:
    """One offending file and what is wrong with it (including the fix)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True)
class LoadedPair:
    """A validated pair: IR (H, W) and visible (H, W) or (H, W, 3), same H and W."""

    files: PairFiles
    ir: DecodedImage
    vi: DecodedImage


class IngestError(ValueError):
    """Some pairs cannot be ingested; ``problems`` lists each offending file."""

    def __init__(self, problems: Iterable[Problem], where: str):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in {where}:\n{lines}\n{SKIP_HINT}")


def match_pairs(ir_dir: str | Path, vi_dir: str | Path) -> tuple[list[PairFiles], list[Problem]]:
    """Pair the images of ``ir_dir`` and ``vi_dir`` by stem, sorted by name.

    Returns the matched pairs and the problems found by names alone (a file without a
    counterpart, two files with one stem). Pixels are not read here.
    """
    ir_dir, vi_dir = Path(ir_dir), Path(vi_dir)
    for folder, what in ((ir_dir, "infrared"), (vi_dir, "visible")):
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: {what} image folder not found; check the dataset layout (ivif data list)")
    problems: list[Problem] = []
    ir_files = _images_by_stem(ir_dir, problems)
    vi_files = _images_by_stem(vi_dir, problems)
    for stem in sorted(ir_files.keys() - vi_files.keys()):
        problems.append(Problem(ir_files[stem], f"no visible counterpart {vi_dir}/{stem}.*; add it or remove this file"))
    for stem in sorted(vi_files.keys() - ir_files.keys()):
        problems.append(Problem(vi_files[stem], f"no infrared counterpart {ir_dir}/{stem}.*; add it or remove this file"))
    pairs = [PairFiles(stem, ir_files[stem], vi_files[stem]) for stem in sorted(ir_files.keys() & vi_files.keys())]
    return pairs, problems


def load_pair(pair: PairFiles) -> tuple[LoadedPair | None, list[Problem]]:
    """Decode both images of ``pair``; ``(None, problems)`` when it cannot be used."""
    problems: list[Problem] = []
    ir = _read(read_ir, pair.ir, problems)
    vi = _read(read_vi, pair.vi, problems)
    if ir is None or vi is None:
        return None, problems
    if (ir.height, ir.width) != (vi.height, vi.width):
        problems.append(
            Problem(
                pair.vi,
                f"size {vi.width}x{vi.height} differs from infrared {pair.ir} ({ir.width}x{ir.height}); "
                "register/crop the pair to the same size",
            )
        )
        return None, problems
    return LoadedPair(pair, ir, vi), problems


def iter_loaded(pairs: Iterable[PairFiles], problems: list[Problem]) -> Iterator[LoadedPair]:
    """Yield every usable pair, appending the problems of the others to ``problems``."""
    for pair in pairs:
        loaded, found = load_pair(pair)
        problems.extend(found)
        if loaded is not None:
            yield loaded


def validate_folder(ir_dir: str | Path, vi_dir: str | Path, skip_bad: bool = False) -> tuple[list[str], list[Problem]]:
    """Check every pair of a folder; returns (usable pair names, problems).

    Raises :class:`IngestError` listing all problems unless ``skip_bad``.
    """
    pairs, problems = match_pairs(ir_dir, vi_dir)
    names = [loaded.files.name for loaded in iter_loaded(pairs, problems)]
    if problems and not skip_bad:
        raise IngestError(problems, f"{ir_dir} + {vi_dir}")
    return names, problems


def _images_by_stem(folder: Path, problems: list[Problem]) -> dict[str, Path]:
    by_stem: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if not is_image_file(path):
            continue  # hidden/temporary files, sub-folders and non-images (README, Thumbs.db) are not pairs
        if path.stem in by_stem:
            problems.append(Problem(path, f"same stem as {by_stem[path.stem].name}; keep one of the two"))
            continue
        by_stem[path.stem] = path
    return by_stem


def _read(reader: Callable[[Path], DecodedImage], path: Path, problems: list[Problem]) -> DecodedImage | None:
    try:
        return reader(path)
    except ImageProblem as exc:
        # The message already starts with the path; keep only the reason.
        reason = str(exc).removeprefix(f"{path}: ")
        problems.append(Problem(path, reason))
        return None
    except READ_ERRORS as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        problems.append(Problem(path, f"unreadable image ({type(exc).__name__}: {reason}); re-export it or leave it out"))
        return None
