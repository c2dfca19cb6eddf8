"""Load the paper's released checkpoints (``*.model`` state_dicts) into ivif's modules.

The upstream code names its layers differently (``dense_1.dense_block.0.change.3`` is
ivif's ``enc1.layers.0.norm2``). Each supported layout is an explicit, ordered table of
``(upstream pattern, ivif name)`` rules; every upstream tensor must match one rule and
have the ivif tensor's shape, and every ivif tensor must be covered. Anything else is an
error naming the tensor, the expected and found shapes, and the file. Files are always
read as weights only (:func:`ivif.io.safe_load.load_weights`).

The Transformer's upstream layout also stores each channel gate's band mask; ivif
derives it from the sizes, so import checks the stored mask equals it and drops it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from ivif.io.safe_load import WeightsLoadError, load_weights
from ivif.models.blocks.gates import band_mask
from ivif.models.checkpoint import save_checkpoint
from ivif.models.registry import create_model

# What to do with an upstream file that cannot be read as weights only.
UPSTREAM_FIX = (
    "the paper's releases are plain state_dicts: download the *.model file again, or save the model's state_dict() with torch.save"
)

# The upstream names of the four dense blocks / encoder stages, in ivif's order.
_STAGES = {"1": "enc1", "2": "enc2", "3": "bottom", "4": "dec"}
_STAGE = r"(?P<stage>[1-4])"
_INDEX = r"(?P<i>\d+)"
_SKIP = r"(?P<k>[0-2])"
_PARAM = r"(?P<p>weight|bias|running_mean|running_var|num_batches_tracked)"

# (upstream regex, ivif template). Templates use the named groups; {stage} is mapped via _STAGES.
CNN_RULES: tuple[tuple[str, str], ...] = (
    (rf"inchange\.0\.{_PARAM}", "stem.0.{p}"),  # 1x1 conv
    (rf"inchange\.1\.{_PARAM}", "stem.1.{p}"),  # GroupNorm
    (rf"fus_{_SKIP}\.linear1\.0\.{_PARAM}", "skip{k}.expand.{p}"),
    (rf"fus_{_SKIP}\.eca\.conv\.{_PARAM}", "skip{k}.gate.conv.{p}"),
    (rf"fus_{_SKIP}\.linear2\.0\.{_PARAM}", "skip{k}.project.{p}"),
    (rf"dense_{_STAGE}\.dense_block\.{_INDEX}\.change\.0\.{_PARAM}", "{stage}.layers.{i}.norm1.{p}"),
    (rf"dense_{_STAGE}\.dense_block\.{_INDEX}\.change\.2\.{_PARAM}", "{stage}.layers.{i}.conv1.{p}"),
    (rf"dense_{_STAGE}\.dense_block\.{_INDEX}\.change\.3\.{_PARAM}", "{stage}.layers.{i}.norm2.{p}"),
    (rf"dense_{_STAGE}\.dense_block\.{_INDEX}\.change\.5\.{_PARAM}", "{stage}.layers.{i}.conv2.{p}"),
    (rf"down_(?P<n>[12])\.downsampler\.0\.{_PARAM}", "down{n}.conv.{p}"),
    (rf"up_(?P<n>[12])\.upsampler\.1\.{_PARAM}", "up{n}.conv.{p}"),
    (rf"outchange\.0\.{_PARAM}", "head.0.{p}"),
    (rf"outchange\.2\.{_PARAM}", "head.2.{p}"),
)

_LAYER = rf"trans_{_STAGE}\.transformer_layers\.{_INDEX}"
TRANSFORMER_RULES: tuple[tuple[str, str], ...] = (
    (rf"proj\.{_PARAM}", "stem.{p}"),
    (rf"fuse_{_SKIP}\.linear1\.0\.{_PARAM}", "skip{k}.expand.{p}"),
    (rf"fuse_{_SKIP}\.eca\.conv\.linear\.weight", "skip{k}.gate.weight"),
    (rf"fuse_{_SKIP}\.linear2\.0\.{_PARAM}", "skip{k}.project.{p}"),
    (rf"{_LAYER}\.attn\.norm\.{_PARAM}", "{stage}.layers.{i}.attn_norm.{p}"),
    (rf"{_LAYER}\.attn\.fn\.t", "{stage}.layers.{i}.attn.temperature"),
    (rf"{_LAYER}\.attn\.fn\.group_qkv\.{_PARAM}", "{stage}.layers.{i}.attn.qkv.{p}"),
    (rf"{_LAYER}\.attn\.fn\.group_fus\.{_PARAM}", "{stage}.layers.{i}.attn.merge.{p}"),
    (rf"{_LAYER}\.ff\.norm\.{_PARAM}", "{stage}.layers.{i}.ff_norm.{p}"),
    (rf"{_LAYER}\.ff\.fn\.net\.0\.{_PARAM}", "{stage}.layers.{i}.ff.expand.{p}"),
    (rf"{_LAYER}\.ff\.fn\.net\.3\.{_PARAM}", "{stage}.layers.{i}.ff.project.{p}"),
    (rf"down_(?P<n>[12])\.downsampler\.0\.{_PARAM}", "down{n}.conv.{p}"),
    (rf"up_(?P<n>[12])\.upsampler\.1\.{_PARAM}", "up{n}.conv.{p}"),
    (rf"final\.0\.{_PARAM}", "head.0.{p}"),
    (rf"final\.2\.{_PARAM}", "head.2.{p}"),
)
# Upstream buffers ivif derives instead of storing: pattern -> ivif gate that must agree.
TRANSFORMER_DERIVED: tuple[tuple[str, str], ...] = ((rf"fuse_{_SKIP}\.eca\.conv\.mask", "skip{k}.gate"),)

LAYOUTS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]] = {
    "cnn": (CNN_RULES, ()),
    "gan": (CNN_RULES, ()),  # the GAN generator is the CNN architecture
    "transformer": (TRANSFORMER_RULES, TRANSFORMER_DERIVED),
}


class UpstreamCheckpointError(ValueError):
    """An upstream checkpoint that does not fit the ivif model; the message names the tensor and file."""


def supported_models() -> list[str]:
    return sorted(LAYOUTS)


def _match(rules: tuple[tuple[str, str], ...], key: str) -> str | None:
    for pattern, template in rules:
        found = re.fullmatch(pattern, key)
        if found:
            groups = found.groupdict()
            if "stage" in groups:
                groups["stage"] = _STAGES[groups["stage"]]
            return template.format(**groups)
    return None


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of an upstream ``*.model`` file (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"upstream checkpoint not found: {path}")
    try:
        payload = load_weights(path, fix=UPSTREAM_FIX)
    except WeightsLoadError as exc:  # its message names the file and the fix, without torch's advice
        raise UpstreamCheckpointError(str(exc)) from None
    if not isinstance(payload, Mapping) or not all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise UpstreamCheckpointError(f"{path} is not an upstream state_dict (a flat name -> tensor mapping)")
    return dict(payload)


def convert_state_dict(
    model_name: str, upstream: Mapping[str, torch.Tensor], model: nn.Module, source: str | Path = "<state_dict>"
) -> dict[str, torch.Tensor]:
    """Rename ``upstream`` tensors onto ``model``'s state_dict names, checking every shape.

    Raises :class:`UpstreamCheckpointError` for an unknown, misshapen or missing tensor.
    """
    if model_name not in LAYOUTS:
        raise UpstreamCheckpointError(f"no upstream layout for model {model_name!r}; supported: {', '.join(supported_models())}")
    rules, derived = LAYOUTS[model_name]
    expected = model.state_dict()
    converted: dict[str, torch.Tensor] = {}
    for key, tensor in upstream.items():
        derived_target = _match(derived, key)
        if derived_target is not None:
            _check_band_mask(key, tensor, model.get_submodule(derived_target), source)
            continue
        target = _match(rules, key)
        if target is None or target not in expected:
            raise UpstreamCheckpointError(
                f"{source}: tensor {key!r} is not part of the upstream {model_name} layout (is this a {model_name} checkpoint?)"
            )
        if tuple(tensor.shape) != tuple(expected[target].shape):
            raise UpstreamCheckpointError(
                f"{source}: tensor {key!r} (ivif {target!r}) has shape {tuple(tensor.shape)}, "
                f"expected {tuple(expected[target].shape)} for model {model_name!r}"
            )
        converted[target] = tensor
    missing = [name for name in expected if name not in converted]
    if missing:
        raise UpstreamCheckpointError(
            f"{source}: {len(missing)} tensors of model {model_name!r} missing from the checkpoint, e.g. {missing[:3]}"
        )
    return converted


def _check_band_mask(key: str, stored: torch.Tensor, gate: nn.Module, source: str | Path) -> None:
    expected = band_mask(gate.weight.shape[0], gate.kernel_size)
    if tuple(stored.shape) != tuple(expected.shape):
        raise UpstreamCheckpointError(f"{source}: tensor {key!r} has shape {tuple(stored.shape)}, expected {tuple(expected.shape)}")
    if not torch.equal(stored.float(), expected):
        raise UpstreamCheckpointError(f"{source}: tensor {key!r} is not the band mask of width {gate.kernel_size} ivif assumes")


def load_upstream_model(model_name: str, path: str | Path) -> nn.Module:
    """The ivif ``model_name`` with the upstream weights at ``path``, in eval mode."""
    model = create_model(model_name)
    model.load_state_dict(convert_state_dict(model_name, read_state_dict(path), model, source=path), strict=True)
    return model.eval()


def import_upstream(model_name: str, src: str | Path, out: str | Path) -> Path:
    """Convert the upstream checkpoint ``src`` into an ivif checkpoint at ``out`` (atomic)."""
    model = load_upstream_model(model_name, src)
    digest = hashlib.sha256(Path(src).read_bytes()).hexdigest()
    return save_checkpoint(
        out,
        model_name=model_name,
        model_kwargs={},
        state_dict=model.state_dict(),
        source={"kind": "upstream", "file": str(src), "sha256": digest},
    )
