"""``ivif data``: list, fetch, validate, shard and cache datasets.

Paths default to ``params.yaml`` (``data:`` section); the DVC stages pass them
explicitly. Examples::

    ivif data list
    ivif data fetch msrs
    ivif data fetch m3fd --from ~/Downloads/M3FD_Detection.zip
    ivif data fetch mytno --from ../shared/data/tno42   # your own data: ir/ + vi/
    ivif data validate data/raw/roadscene --ir cropinfrared --vi crop_LR_visible
    ivif data shard sample
    ivif data cache sample
    ivif data verify sample            # shards and caches against their recorded hashes
    ivif data verify data/cache/sample/test
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ivif.params import DEFAULT_PARAMS


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("data", help="fetch, validate, shard and cache datasets")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    listing = actions.add_parser("list", help="show the dataset registry")
    listing.set_defaults(func=run_list)

    fetch = actions.add_parser("fetch", help="download or import a dataset into data/raw/<dataset>")
    fetch.add_argument("dataset", help="a registry name (ivif data list) or a name of your own (with --from)")
    fetch.add_argument("--from", dest="source", metavar="PATH", help="local archive or folder to import instead of downloading")
    fetch.add_argument("--dest", metavar="DIR", help="destination (default: <data.raw_root>/<dataset>)")
    fetch.add_argument("--downloads", metavar="DIR", help="where archives are downloaded (default: data.download_dir)")
    _common(fetch)
    fetch.set_defaults(func=run_fetch)

    validate = actions.add_parser("validate", help="check every IR/visible pair of a folder")
    validate.add_argument("folder", help="folder holding the IR and visible sub-folders")
    validate.add_argument("--ir", default="ir", help="IR sub-folder (default: ir)")
    validate.add_argument("--vi", default="vi", help="visible sub-folder (default: vi)")
    validate.add_argument("--skip-bad", action="store_true", help="list bad pairs instead of failing")
    validate.set_defaults(func=run_validate)

    shard = actions.add_parser("shard", help="write deterministic WebDataset shards per split and modality")
    shard.add_argument("dataset")
    shard.add_argument("--raw", metavar="DIR", help="fetched dataset (default: <data.raw_root>/<dataset>)")
    shard.add_argument("--out", metavar="DIR", help="shard folder (default: <data.shard_root>/<dataset>)")
    shard.add_argument("--skip-bad", action="store_true", default=None, help="leave out and list bad pairs (default: shard.skip_bad)")
    _common(shard)
    shard.set_defaults(func=run_shard)

    cache = actions.add_parser("cache", help="decode shards into the random-access cache the trainer reads")
    cache.add_argument("dataset")
    cache.add_argument("--shards", metavar="DIR", help="shard folder (default: <data.shard_root>/<dataset>)")
    cache.add_argument("--out", metavar="DIR", help="cache folder (default: <data.cache_root>/<dataset>)")
    _common(cache)
    cache.set_defaults(func=run_cache)

    verify = actions.add_parser("verify", help="check shards and caches against the hashes recorded when they were written")
    verify.add_argument(
        "targets",
        nargs="*",
        metavar="DATASET|PATH",
        help="dataset names, shard folders or cache folders (default: every dataset of data.datasets)",
    )
    verify.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    verify.set_defaults(func=run_verify)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _data_config(args):
    from ivif.data.config import DataConfig
    from ivif.params import load_params, section

    return section(load_params(args.params), "data", DataConfig)


def run_list(args) -> int:
    from ivif.data.registry import DATASETS

    for spec in DATASETS.values():
        counts = ", ".join(f"{split} {n}" for split, n in spec.expected_pairs.items())
        origin = spec.sources[0].url if spec.sources else f"import only: {spec.import_hint}"
        print(
            f"{spec.name:10s} {spec.title}\n{'':10s} pairs: {counts}; files: {spec.file_pattern}\n"
            f"{'':10s} source: {origin}\n{'':10s} licence: {spec.licence}"
        )
    return 0


def run_fetch(args) -> int:
    from ivif.cli import CLIError
    from ivif.data.download import DownloadError
    from ivif.data.fetch import fetch_dataset
    from ivif.data.registry import resolve_dataset

    config = _data_config(args)
    spec = resolve_dataset(args.dataset)
    dest = Path(args.dest or config.raw_dir(spec.name))
    source = args.source or config.local_source(spec.name)
    try:
        fetch_dataset(
            spec,
            dest,
            local_source=source,
            download_dir=args.downloads or config.download_dir,
            progress=not args.no_progress,
        )
    except DownloadError as exc:
        raise CLIError(str(exc)) from exc
    return 0


def run_validate(args) -> int:
    from ivif.data.ingest import validate_folder

    folder = Path(args.folder)
    names, problems = validate_folder(folder / args.ir, folder / args.vi, skip_bad=args.skip_bad)
    for problem in problems:
        print(f"skipped: {problem}")
    print(f"{folder}: {len(names)} valid pair(s), {len(problems)} problem(s)")
    return 0


def run_shard(args) -> int:
    from ivif.data.config import ShardConfig
    from ivif.data.layout import plan_splits
    from ivif.data.registry import layout_for, resolve_dataset
    from ivif.data.shard import write_shards
    from ivif.params import load_params, section

    params = load_params(args.params)
    config = _data_config(args)
    shard_config = section(params, "shard", ShardConfig)
    spec = resolve_dataset(args.dataset)
    raw = Path(args.raw or config.raw_dir(spec.name))
    spec = layout_for(spec, raw)  # upstream layout or plain ir/ + vi/
    out = Path(args.out or config.shard_dir(spec.name))
    skip_bad = shard_config.skip_bad if args.skip_bad is None else args.skip_bad
    plan = plan_splits(spec, raw, shard_config.split_rule(spec.name))
    summary = write_shards(
        spec.name, plan, out, samples_per_tar=shard_config.samples_per_tar, skip_bad=skip_bad, progress=not args.no_progress
    )
    for skipped in summary["skipped"]:
        print(f"skipped: {skipped['path']}: {skipped['reason']}")
    counts = ", ".join(f"{split} {info['count']}" for split, info in summary["splits"].items())
    print(f"{spec.name}: shards in {out} ({counts} pairs)")
    _warn_on_count(spec, summary)
    return 0


def _warn_on_count(spec, summary) -> None:
    from ivif.data.registry import POOLED

    found = {split: info["count"] for split, info in summary["splits"].items()}
    expected = dict(spec.expected_pairs)
    if POOLED in expected:
        found = {POOLED: sum(found.values())}
    for split, n in expected.items():
        if found.get(split) != n:
            print(f"warning: {spec.name} {split}: {found.get(split)} pairs, the published dataset has {n}")


def run_cache(args) -> int:
    from ivif.data.cache_build import build_caches

    config = _data_config(args)
    shards = Path(args.shards or config.shard_dir(args.dataset))
    out = Path(args.out or config.cache_dataset_dir(args.dataset))
    caches = build_caches(shards, out, progress=not args.no_progress)
    print(f"{args.dataset}: caches {', '.join(str(p) for p in caches.values())}")
    return 0


def run_verify(args) -> int:
    """Print one line per checked folder and per bad file; exit 1 when any file is bad."""
    from ivif.cli import CLIError

    config = _data_config(args)
    folders = []
    for target in args.targets or config.datasets:
        found = _verify_folders(Path(target), config)
        if not found:
            raise CLIError(f"{target}: not a dataset with shards or caches, nor a shard or cache folder; build it with `dvc repro`")
        folders.extend(found)
    bad = 0
    for kind, folder, check in folders:
        problems = check(folder)
        for problem in problems:
            print(f"BAD {problem}")
        bad += len(problems)
        print(f"{'ok ' if not problems else 'BAD'} {kind} {folder}")
    print(f"{len(folders)} folder(s) checked, {bad} bad file(s)")
    return 1 if bad else 0


def _verify_folders(target: Path, config) -> list:
    """(kind, folder, check) for every shard set and cache found at ``target``."""
    from ivif.data.cache import META_NAME, verify_cache
    from ivif.data.shard import SUMMARY_NAME, verify_shards

    def at(folder: Path) -> list:
        if (folder / SUMMARY_NAME).is_file():
            return [("shards", folder, verify_shards)]
        if (folder / META_NAME).is_file():
            return [("cache", folder, verify_cache)]
        if folder.is_dir():  # <cache_root>/<dataset>: one cache per split
            return [("cache", sub, verify_cache) for sub in sorted(folder.iterdir()) if (sub / META_NAME).is_file()]
        return []

    if target.exists():
        return at(target)
    name = str(target)
    return at(Path(config.shard_root) / name) + at(Path(config.cache_root) / name)
