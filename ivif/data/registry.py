"""The datasets ivif knows: where each comes from and how its files are laid out.

One :class:`DatasetSpec` per dataset, registered by name in :data:`DATASETS`. Fetching
(:mod:`ivif.data.fetch`) reads ``sources``; sharding (:mod:`ivif.data.shard`) reads
``splits`` to find the ``ir``/``vi`` folders of each split inside the fetched tree
(``data/raw/<dataset>/``).

A spec whose ``splits`` has the single key :data:`POOLED` has no official split: the
shard stage splits it into ``train``/``test`` with the seeded rule of ``params.yaml``.

Your own data is first-class: any other valid name is a dataset of your own
(:func:`user_dataset`), a folder with ``ir/`` + ``vi/`` (same file stems) imported with
``ivif data fetch NAME --from DIR`` and then used like a registered one
(``data.datasets: [NAME]``). Registered datasets accept that plain layout too, next to
their upstream one (:func:`layout_for`). :func:`resolve_dataset` is the one lookup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

# Split names every later stage uses.
TRAIN = "train"
TEST = "test"
SPLITS = (TRAIN, TEST)
# Key of ``DatasetSpec.splits`` for a dataset without an official split.
POOLED = "all"
# The layout of a dataset of your own: <root>/ir/ and <root>/vi/, same file stems.
PLAIN_IR = "ir"
PLAIN_VI = "vi"
# A dataset name is a folder name under data/raw, data/shards... and a DVC stage key
# (fetch@NAME): letters, digits, '_' and '-'.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class Source:
    """One downloadable archive.

    ``sha256`` is ``None`` where the publisher gives no stable checksum (e.g. a GitHub
    branch archive changes with every commit); the fetch then records the hash it
    computed instead of verifying one.
    """

    url: str
    filename: str
    sha256: str | None = None


@dataclass(frozen=True)
class PairFolders:
    """Folders (relative to the dataset root) holding one split's IR and visible images.

    Each entry is a tuple of accepted spellings, tried in order, because some archives
    differ only in the case of folder names (``Ir``/``ir``).
    """

    ir: tuple[str, ...]
    vi: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.ir or not self.vi:
            raise ValueError("PairFolders needs at least one IR and one visible folder name")


@dataclass(frozen=True)
class DatasetSpec:
    """Everything ivif needs to know about one dataset.

    Attributes:
        name: registry key, also the folder name under ``data/raw``, ``data/shards``...
        title: human-readable name.
        homepage: where users read about the dataset and its terms.
        sources: archives to download; empty for import-only datasets.
        import_hint: what the user must download by hand (import-only datasets).
        splits: split name (or :data:`POOLED`) -> IR/visible folders.
        expected_pairs: pair count per split as published (a mismatch is a warning);
            empty when unknown (datasets of your own).
        file_pattern: the image files to expect there (informative; ingest reads any
            supported image, see :mod:`ivif.data.images`).
        licence: licence/terms note, shown by ``ivif data list``.
    """

    name: str
    title: str
    homepage: str
    splits: Mapping[str, PairFolders]
    expected_pairs: Mapping[str, int]
    file_pattern: str
    licence: str
    sources: tuple[Source, ...] = ()
    import_hint: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if self.expected_pairs and set(self.expected_pairs) != set(self.splits):
            raise ValueError(f"{self.name}: expected_pairs keys {sorted(self.expected_pairs)} != splits {sorted(self.splits)}")
        if POOLED in self.splits and len(self.splits) != 1:
            raise ValueError(f"{self.name}: a pooled dataset has exactly one entry, {POOLED!r}")
        if POOLED not in self.splits and not set(self.splits) <= set(SPLITS):
            raise ValueError(f"{self.name}: official splits must be among {SPLITS}, got {sorted(self.splits)}")
        # Read-only views so a registered spec cannot be mutated by a caller.
        object.__setattr__(self, "splits", MappingProxyType(dict(self.splits)))
        object.__setattr__(self, "expected_pairs", MappingProxyType(dict(self.expected_pairs)))

    @property
    def has_official_split(self) -> bool:
        return POOLED not in self.splits

    @property
    def import_only(self) -> bool:
        """True when there is nothing to download: the user passes ``--from PATH``."""
        return not self.sources


def _folders(ir: str | tuple[str, ...], vi: str | tuple[str, ...]) -> PairFolders:
    return PairFolders(ir=_spellings(ir), vi=_spellings(vi))


def _spellings(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


_IMAGES = "*.png, *.jpg, *.bmp"

SAMPLE = DatasetSpec(
    name="sample",
    title="Embedded TNO sample (16 pairs)",
    homepage="https://doi.org/10.6084/m9.figshare.1008029",
    splits={POOLED: _folders("ir", "vi")},
    expected_pairs={POOLED: 16},
    file_pattern="*.png",
    licence="CC BY 4.0 (TNO Image Fusion Dataset, A. Toet); see data/sample/README.md",
    import_hint="ships with the repository in data/sample (params.yaml data.sample_dir)",
    notes="8-bit grayscale PNG converted losslessly from TNO RGB files with equal channels.",
)

MSRS = DatasetSpec(
    name="msrs",
    title="MSRS: Multi-Spectral Road Scenarios",
    homepage="https://github.com/Linfeng-Tang/MSRS",
    sources=(
        Source(
            url="https://github.com/Linfeng-Tang/MSRS/archive/refs/heads/main.zip",
            filename="MSRS-main.zip",
            sha256=None,  # branch archive: regenerated by GitHub, no stable checksum
        ),
    ),
    splits={"train": _folders("train/ir", "train/vi"), "test": _folders("test/ir", "test/vi")},
    expected_pairs={"train": 1083, "test": 361},
    file_pattern="*.png",
    licence="research use; cite Tang et al., Information Fusion 2022 (PIAFusion). No explicit licence file.",
    notes="640x480; IR grayscale, visible RGB. Official train/test split used as is.",
)

M3FD = DatasetSpec(
    name="m3fd",
    title="M3FD: Multi-scenario Multi-modality benchmark (TarDAL)",
    homepage="https://github.com/JinyuanLiu-CV/TarDAL",
    splits={POOLED: _folders(("Ir", "ir"), ("Vis", "vi"))},
    expected_pairs={POOLED: 4200},
    file_pattern="*.png",
    licence="research use; cite Liu et al., CVPR 2022 (TarDAL). Terms on the homepage.",
    import_hint=(
        "download M3FD_Detection.zip (4,200 pairs) or M3FD_Fusion.zip (300 pairs) from the "
        "Google Drive / Baidu links on the homepage, then `ivif data fetch m3fd --from PATH`"
    ),
    notes="1024x768 RGB; folders Ir/ and Vis/ (ir/, vi/ also accepted). Cloud-drive only.",
)

TNO = DatasetSpec(
    name="tno",
    title="TNO Image Fusion Dataset",
    homepage="https://figshare.com/articles/dataset/TNO_Image_Fusion_Dataset/1008029",
    sources=(
        Source(
            url="https://figshare.com/ndownloader/articles/1008029",
            filename="TNO_Image_Fusion_Dataset.zip",
            sha256=None,  # figshare regenerates the bundle; no published checksum
        ),
    ),
    splits={POOLED: _folders("ir", "vi")},
    expected_pairs={POOLED: 42},
    file_pattern=_IMAGES,
    licence="CC BY 4.0 (A. Toet, TNO); credit TNO and cite the figshare record",
    notes=(
        "The figshare bundle groups images per camera system and scene "
        "(e.g. Athena_images/<scene>/IR_*.bmp, VIS_*.bmp), not ir/ + vi/. Shard expects "
        "ir/ and vi/ with matching stems: import an arranged folder (e.g. the 42-pair "
        "evaluation subset) with `ivif data fetch tno --from PATH`."
    ),
)

ROADSCENE = DatasetSpec(
    name="roadscene",
    title="RoadScene (FLIR-derived, aligned)",
    homepage="https://github.com/hanna-xu/RoadScene",
    sources=(
        Source(
            url="https://github.com/hanna-xu/RoadScene/archive/refs/heads/master.zip",
            filename="RoadScene-master.zip",
            sha256=None,  # branch archive: no stable checksum
        ),
    ),
    splits={POOLED: _folders(("cropinfrared", PLAIN_IR), ("crop_LR_visible", PLAIN_VI))},
    expected_pairs={POOLED: 221},
    file_pattern="*.jpg",
    licence="research use; cite Xu et al., TPAMI 2020 (U2Fusion). Derived from the FLIR ADAS dataset.",
    notes="IR grayscale JPEG in cropinfrared/, visible RGB JPEG in crop_LR_visible/ (ir/ + vi/ also accepted); 218 distinct sizes.",
)

DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(
    {spec.name: spec for spec in (SAMPLE, MSRS, M3FD, TNO, ROADSCENE)}
)


class UnknownDatasetError(ValueError):
    """A dataset name that is not in the registry."""


def get_dataset(name: str) -> DatasetSpec:
    """The spec registered as ``name``; a clear error lists the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}") from None


def user_dataset(name: str) -> DatasetSpec:
    """A dataset of your own called ``name``: ``ir/`` + ``vi/`` with matching stems, no
    official split (the seeded rule splits it; ``shard.test_fraction: 1.0`` puts every
    pair in ``test`` to score it whole), imported with ``--from``."""
    check_name(name)
    return DatasetSpec(
        name=name,
        title=f"{name} (your own data)",
        homepage="",
        splits={POOLED: _folders(PLAIN_IR, PLAIN_VI)},
        expected_pairs={},
        file_pattern=_IMAGES,
        licence="yours",
        import_hint=(
            f"{name!r} is not a registered dataset (ivif data list), so it is imported from your own folder: "
            f"`ivif data fetch {name} --from DIR` (or params data.import_from: {{{name}: DIR}}), "
            f"DIR holding {PLAIN_IR}/ and {PLAIN_VI}/ with the same file stems"
        ),
        notes=f"your own data: {PLAIN_IR}/ + {PLAIN_VI}/ with matching file stems",
    )


def check_name(name: str) -> str:
    """``name`` if it can name a dataset (folder and DVC stage key), else a clear error."""
    if not _NAME.match(name):
        raise UnknownDatasetError(
            f"dataset name {name!r} is not allowed: use letters, digits, '_' and '-' (at most 64, first a letter or digit)"
        )
    return name


def resolve_dataset(name: str) -> DatasetSpec:
    """The registered spec of ``name``, or a dataset of your own by that name."""
    return DATASETS[name] if name in DATASETS else user_dataset(name)


def is_registered(name: str) -> bool:
    return name in DATASETS


def layout_for(spec: DatasetSpec, root: str | Path) -> DatasetSpec:
    """``spec`` as it applies to the fetched folder ``root``.

    A registered dataset imported in the plain ``ir/`` + ``vi/`` layout instead of its
    upstream one (MSRS without ``train/``/``test/``, RoadScene...) is read as a pooled
    dataset in that layout; otherwise ``spec`` is returned unchanged.
    """
    root = Path(root)
    upstream = [c for folders in spec.splits.values() for c in (*folders.ir, *folders.vi)]
    if any((root / candidate).is_dir() for candidate in upstream):
        return spec
    if not ((root / PLAIN_IR).is_dir() and (root / PLAIN_VI).is_dir()):
        return spec  # neither: the shard step names the folders it expected
    total = sum(spec.expected_pairs.values())
    return replace(
        spec,
        splits={POOLED: _folders(PLAIN_IR, PLAIN_VI)},
        expected_pairs={POOLED: total} if total else {},
    )
