"""The fusion model as an MLflow ``python_function``: what the registry stores and serves.

Wire format (documented in the README, "Serving")::

    input   DataFrame, one row per pair, string columns
              ir   base64-encoded infrared image (PNG/JPEG/...; read as grayscale)
              vi   base64-encoded visible image (grayscale or RGB), same size as ir
    params  mode: "full" (one padded pass, default) or "tiled" (the paper's protocol)
    output  DataFrame with one string column
              fused  base64 PNG, 8-bit; RGB when vi is colour, else grayscale

Limits, checked from the image headers before anything is decoded: each image obeys
the pixel limit of the image policy (``IVIF_MAX_PIXELS``, :mod:`ivif.io.images`), and a
request holds at most ``IVIF_MAX_REQUEST_PIXELS`` pair pixels in all (default
:data:`DEFAULT_MAX_REQUEST_PIXELS`: 16 megapixels, about a minute of CPU). A bad row or
request is answered HTTP 400 with the cause in ``message`` (:class:`FusionRequestError`);
the server stays up.

Images travel as encoded strings, so height and width are free per row (the signature
has no fixed H/W) and ``mlflow models serve`` takes a plain JSON body::

    {"dataframe_records": [{"ir": "<b64>", "vi": "<b64>"}], "params": {"mode": "full"}}

The logged model holds the weights as an ivif checkpoint artifact
(:mod:`ivif.models.checkpoint`) and a snapshot of the ``ivif`` package (``code_paths``),
so it loads in a fresh process on a machine without ivif installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from ivif.fusion.runner import MODES as FUSION_MODES
from ivif.io.images import ImageError, check_pixels
from ivif.registry.image_codec import decode_image, decoded_size, encode_png

CHECKPOINT_ARTIFACT = "checkpoint"
CHECKPOINT_FILENAME = "model.pt"
IR_COLUMN = "ir"
VI_COLUMN = "vi"
FUSED_COLUMN = "fused"
MODE_PARAM = "mode"
DEFAULT_MODE = "full"
# Distributions the served model imports (through the bundled ivif package), pinned to
# the versions that logged it so the serving environment reproduces the training one.
RUNTIME_DISTRIBUTIONS = ("torch", "numpy", "pandas", "pillow", "scipy", "opencv-python-headless", "mlflow")
# The models-from-code entry file: MLflow executes it instead of unpickling an object.
SERVED_MODEL_FILE = Path(__file__).with_name("served_model.py")
IVIF_PACKAGE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_MAX_REQUEST_PIXELS = 16_000_000
MAX_REQUEST_PIXELS_ENV = "IVIF_MAX_REQUEST_PIXELS"


class FusionRequestError(MlflowException, ValueError):
    """A request the served model refuses; ``mlflow models serve`` answers it with HTTP 400
    and this message (``INVALID_PARAMETER_VALUE``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, error_code=INVALID_PARAMETER_VALUE)


def max_request_pixels() -> int:
    """The per-request limit: ``$IVIF_MAX_REQUEST_PIXELS`` or :data:`DEFAULT_MAX_REQUEST_PIXELS`."""
    import os

    raw = os.environ.get(MAX_REQUEST_PIXELS_ENV, "").replace("_", "").strip()
    if not raw:
        return DEFAULT_MAX_REQUEST_PIXELS
    if not raw.isdigit() or int(raw) < 1:
        raise FusionRequestError(f"{MAX_REQUEST_PIXELS_ENV}={raw!r} on the server is not a positive number of pixels")
    return int(raw)


def check_request(frame: pd.DataFrame) -> None:
    """Check every row's headers against the pixel limits before any image is decoded.

    Raises :class:`ImageError` naming the row and column (each image over the image
    policy's limit, IR and visible sizes differ) or the request (over the per-request limit).
    """
    total = 0
    for row, (ir, vi) in enumerate(zip(frame[IR_COLUMN], frame[VI_COLUMN])):
        sizes = {}
        for column, data in ((IR_COLUMN, ir), (VI_COLUMN, vi)):
            width, height = decoded_size(data, column, row)
            check_pixels(width, height, f"column '{column}' (row {row})")
            sizes[column] = (width, height)
        if sizes[IR_COLUMN] != sizes[VI_COLUMN]:
            (iw, ih), (vw, vh) = sizes[IR_COLUMN], sizes[VI_COLUMN]
            raise ImageError(f"row {row}: ir is {iw}x{ih} but vi is {vw}x{vh}; a pair must be registered to the same size")
        total += sizes[IR_COLUMN][0] * sizes[IR_COLUMN][1]
    limit = max_request_pixels()
    if total > limit:
        raise ImageError(
            f"the request holds {total / 1e6:.1f} megapixels of image pairs, over the per-request limit of "
            f"{limit / 1e6:.1f} megapixels; send fewer or smaller pairs per request, or start the server with "
            f"{MAX_REQUEST_PIXELS_ENV}=<pixels>"
        )


def fusion_signature():
    """Explicit signature: two base64 image columns in, one out, a ``mode`` param."""
    from mlflow.models import ModelSignature
    from mlflow.types.schema import ColSpec, ParamSchema, ParamSpec, Schema

    return ModelSignature(
        inputs=Schema([ColSpec("string", IR_COLUMN), ColSpec("string", VI_COLUMN)]),
        outputs=Schema([ColSpec("string", FUSED_COLUMN)]),
        params=ParamSchema([ParamSpec(MODE_PARAM, "string", DEFAULT_MODE)]),
    )


def pinned_requirements(distributions: Sequence[str] = RUNTIME_DISTRIBUTIONS) -> list[str]:
    """``name==version`` for each installed distribution (local tags such as +cpu dropped)."""
    pins = []
    for dist in distributions:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        pins.append(f"{dist}=={version.split('+')[0]}")
    return pins


def as_pair_frame(model_input: Any) -> pd.DataFrame:
    """Accept a DataFrame, a dict of columns or a list of row dicts; check the columns."""
    if isinstance(model_input, pd.DataFrame):
        frame = model_input
    elif isinstance(model_input, Mapping):
        frame = pd.DataFrame({key: _as_list(value) for key, value in model_input.items()})
    else:
        frame = pd.DataFrame(list(model_input))
    missing = [col for col in (IR_COLUMN, VI_COLUMN) if col not in frame.columns]
    if missing:
        raise ValueError(
            f"fusion input lacks column(s) {missing}; send {{'{IR_COLUMN}': <b64 image>, '{VI_COLUMN}': <b64 image>}} per pair"
        )
    return frame


def _as_list(value: Any) -> list:
    return [value] if isinstance(value, (str, bytes)) else list(value)


def fuse_encoded_pair(model, ir_b64: str, vi_b64: str, mode: str = DEFAULT_MODE, device=None) -> str:
    """Fuse one base64 image pair with ``model`` (on ``device``, default CPU); return
    the fused image as base64 PNG."""
    import torch

    from ivif.evaluation.images import fuse_uint8_pair

    ir = decode_image(ir_b64, IR_COLUMN, grayscale=True)
    vi = decode_image(vi_b64, VI_COLUMN)
    fused = fuse_uint8_pair(model, ir, vi, mode, device or torch.device("cpu"))
    del ir, vi
    return encode_png(fused)


def check_mode(mode: str) -> str:
    if mode not in FUSION_MODES:
        raise ValueError(f"param '{MODE_PARAM}' must be one of {FUSION_MODES}, got {mode!r}")
    return mode


class FusionPyfunc(PythonModel):
    """MLflow wrapper: loads the ivif checkpoint artifact, fuses base64 image pairs."""

    device = None  # CPU unless load_context finds a GPU

    def load_context(self, context) -> None:
        from ivif.fusion.device import prepare_model, resolve_device
        from ivif.models.checkpoint import load_model

        self.device = resolve_device("auto")
        self.model = prepare_model(load_model(context.artifacts[CHECKPOINT_ARTIFACT]), self.device)

    def predict(self, context, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        try:
            frame = as_pair_frame(model_input)
            mode = check_mode((params or {}).get(MODE_PARAM, DEFAULT_MODE))
            check_request(frame)
            fused = [fuse_encoded_pair(self.model, ir, vi, mode, self.device) for ir, vi in zip(frame[IR_COLUMN], frame[VI_COLUMN])]
        except FusionRequestError:
            raise
        except ValueError as exc:  # bad input (ImageError is one): HTTP 400 with the cause, not a 500 with a trace
            raise FusionRequestError(str(exc)) from None
        return pd.DataFrame({FUSED_COLUMN: fused})


def example_pair(height: int = 12, width: int = 10) -> pd.DataFrame:
    """A tiny grayscale pair of odd-ish size: the logged input example."""
    import numpy as np

    ramp = np.linspace(0, 255, height * width, dtype=np.float64).reshape(height, width).astype(np.uint8)
    return pd.DataFrame({IR_COLUMN: [encode_png(ramp)], VI_COLUMN: [encode_png(ramp[::-1].copy())]})


def log_fusion_model(
    model,
    model_name: str,
    model_kwargs: Mapping[str, Any] | None = None,
    *,
    name: str = "model",
    checkpoint_extra: Mapping[str, Any] | None = None,
    with_input_example: bool = True,
):
    """Log ``model`` (an ivif architecture ``model_name`` built with ``model_kwargs``) as a
    pyfunc in the active MLflow run; return MLflow's ``ModelInfo``.

    The weights go in as an ivif checkpoint, so the registry copy can be rebuilt with
    :func:`ivif.registry.load_torch_model` without unpickling anything.
    """
    import tempfile

    from ivif.models.checkpoint import save_checkpoint

    with tempfile.TemporaryDirectory(prefix="ivif-pyfunc-") as tmp:
        checkpoint = save_checkpoint(
            Path(tmp) / CHECKPOINT_FILENAME,
            model_name=model_name,
            model_kwargs=dict(model_kwargs or {}),
            state_dict=model.state_dict(),
            **dict(checkpoint_extra or {}),
        )
        return log_fusion_checkpoint(checkpoint, name=name, with_input_example=with_input_example)


def log_fusion_checkpoint(checkpoint: str | Path, *, name: str = "model", with_input_example: bool = True):
    """Log the ivif checkpoint file ``checkpoint`` itself (byte for byte) as a fusion
    pyfunc in the active MLflow run; return MLflow's ``ModelInfo``."""
    import mlflow

    from ivif.models.checkpoint import load_model

    # Fail here, not at serving time, when the checkpoint does not rebuild its model
    # (MLflow only warns when the input example fails).
    load_model(checkpoint)
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=str(SERVED_MODEL_FILE),
        artifacts={CHECKPOINT_ARTIFACT: str(checkpoint)},
        code_paths=[str(IVIF_PACKAGE_DIR)],
        signature=fusion_signature(),
        input_example=example_pair() if with_input_example else None,
        pip_requirements=pinned_requirements(),
    )
