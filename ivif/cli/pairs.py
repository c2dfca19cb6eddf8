"""``ivif pairs``: build and inspect pairing manifests (SPTP / UPTP / APTP).

Examples::

    ivif pairs build                       # every manifest of params.yaml pairs.manifests
    ivif pairs build aptp                  # just one
    ivif pairs make data/pairs/x --policy aptp --ir-cache data/cache/m3fd/train \\
        --vis-cache data/cache/msrs/train --samples 10000 --seed 1
    ivif pairs show data/pairs/aptp --epoch 3 --head 5
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ivif.params import DEFAULT_PARAMS

DEFAULT_SHOWN_PAIRS = 10


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("pairs", help="build and inspect pairing manifests (SPTP/UPTP/APTP)")
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")

    build = actions.add_parser("build", help="build the manifests named in params.yaml (pairs.manifests)")
    build.add_argument("names", nargs="*", metavar="NAME", help="manifests to build (default: all)")
    build.add_argument("--params", default=DEFAULT_PARAMS, help="params file (default: params.yaml)")
    build.add_argument("--cache-root", metavar="DIR", help="decoded caches (default: params data.cache_root)")
    build.add_argument("--out", metavar="DIR", help="manifest folder (default: params pairs.out_dir)")
    build.add_argument("--no-progress", action="store_true", help="no progress bars")
    build.set_defaults(func=run_build)

    make = actions.add_parser("make", help="build one manifest from explicit caches and policy")
    make.add_argument("out", metavar="DIR", help="manifest directory to write")
    make.add_argument("--policy", required=True, help="strict|unpaired|arbitrary (or SPTP|UPTP|APTP)")
    make.add_argument("--ir-cache", required=True, metavar="DIR", help="cache whose IR images are paired")
    make.add_argument("--vis-cache", metavar="DIR", help="cache of the visible images (default: --ir-cache)")
    make.add_argument("--subset", type=int, metavar="N", help="use N base images of each cache (seeded)")
    make.add_argument("--samples", type=int, metavar="K", help="K pairs per epoch without replacement (default: all)")
    make.add_argument("--seed", type=int, default=0, help="seed of subset, shuffle and sampling (default: 0)")
    make.add_argument("--no-progress", action="store_true", help="no progress bars")
    make.set_defaults(func=run_make)

    show = actions.add_parser("show", help="print a manifest's summary and its first pairs")
    show.add_argument("manifest", metavar="DIR")
    show.add_argument("--epoch", type=int, default=0, help="epoch whose pairs to list (default: 0)")
    show.add_argument("--head", type=int, default=DEFAULT_SHOWN_PAIRS, help=f"pairs to list (default: {DEFAULT_SHOWN_PAIRS})")
    show.add_argument("--verify", action="store_true", help="check pairs.npy against its recorded sha256")
    show.set_defaults(func=run_show)
    return parser


def run_build(args) -> int:
    from ivif.data.config import DataConfig
    from ivif.pairing.build import build_manifest
    from ivif.pairing.config import PairsConfig
    from ivif.params import load_params, section

    params = load_params(args.params)
    config = section(params, "pairs", PairsConfig)
    cache_root = args.cache_root or section(params, "data", DataConfig).cache_root
    names = args.names or sorted(config.manifests)
    if not names:
        raise ValueError(f"{args.params}: pairs.manifests is empty; add a manifest (see README 'Pairing')")
    for name in names:
        out = build_manifest(name, config.spec(name), cache_root, args.out or config.out_dir, progress=not args.no_progress)
        print(f"{name}: {_one_line(out)}")
    return 0


def run_make(args) -> int:
    from ivif.data.cache import ImageCache
    from ivif.pairing.manifest import plan_manifest, write_manifest

    out = Path(args.out)
    ir_cache = ImageCache(args.ir_cache)
    vis_cache = ImageCache(args.vis_cache or args.ir_cache)
    manifest = plan_manifest(
        out.name,
        ir_cache,
        vis_cache,
        args.policy,
        ir_dataset=ir_cache.meta.get("dataset", ir_cache.root.parent.name),
        vis_dataset=vis_cache.meta.get("dataset", vis_cache.root.parent.name),
        split=ir_cache.meta.get("split", ir_cache.root.name),
        subset=args.subset,
        samples=args.samples,
        seed=args.seed,
    )
    write_manifest(manifest, out, progress=not args.no_progress)
    print(f"{out}: {_one_line(out)}")
    return 0


def run_show(args) -> int:
    from ivif.data.cache import ImageCache
    from ivif.pairing.manifest import load_manifest, read_summary, read_table

    path = Path(args.manifest)
    manifest = load_manifest(path)
    summary = read_summary(path)
    print(_one_line(path))
    for side in ("ir", "vis"):
        source = summary["sources"][side]
        print(
            f"  {side:3s}: {source['dataset']}/{source['split']} ({source['images']} images) from {source['cache']}, content {source['content_hash'][:16]}"
        )
    if args.verify:
        read_table(path, verify=True)
        print(f"  table: {summary['table']['shape'][0]} rows, sha256 {summary['table']['sha256'][:16]} verified")
    names = {side: _names(ImageCache, summary["sources"][side]["cache"]) for side in ("ir", "vis")}
    epoch = manifest.epoch(args.epoch)
    for position, (ir_id, vis_id) in enumerate(manifest.at(args.epoch, range(min(args.head, len(epoch))), epoch)):
        print(f"  epoch {args.epoch} #{position}: ir {_label(names['ir'], ir_id)}  vis {_label(names['vis'], vis_id)}")
    return 0


def _one_line(path: Path) -> str:
    from ivif.pairing.manifest import read_summary

    s = read_summary(path)
    kind = "exhaustive" if s["exhaustive"] else f"{s['samples']} sampled"
    counts = s["counts"]
    return (
        f"{s['policy']} ({kind}, seed {s['seed']}): {counts['pairs_per_epoch']} pairs/epoch of {counts['combinations']} "
        f"combinations, {counts['ir']} IR x {counts['vis']} visible images -> {path}"
    )


def _names(cache_cls, root: str) -> list[str] | None:
    try:
        return cache_cls(root).names
    except (OSError, ValueError):
        return None  # the cache moved: show indices only


def _label(names: list[str] | None, index: int) -> str:
    return f"{index} ({names[index]})" if names is not None else str(index)
