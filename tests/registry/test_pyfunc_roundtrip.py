"""The logged fusion model: registered with its alias, rebuilt as torch, served as pyfunc."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch

from ivif.fusion.device import prepare_model
from ivif.registry import CANDIDATE, load_torch_model
from ivif.registry.image_codec import decode_image, encode_png
from ivif.registry.pyfunc import FUSED_COLUMN, FusionPyfunc, fusion_signature
from ivif.registry.register import ARCHITECTURE_TAG, RUN_ID_TAG

ODD_HEIGHT, ODD_WIDTH = 23, 37  # neither a multiple of 4


def odd_size_pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    ir = rng.integers(0, 256, (ODD_HEIGHT, ODD_WIDTH), dtype=np.uint8)
    vi = rng.integers(0, 256, (ODD_HEIGHT, ODD_WIDTH, 3), dtype=np.uint8)
    return ir, vi


def test_version_is_registered_as_candidate_with_provenance(registered_cnn):
    version = registered_cnn.version
    assert version.name == "ivif-cnn"
    assert CANDIDATE in version.aliases
    assert version.tags[ARCHITECTURE_TAG] == "cnn"
    assert version.tags[RUN_ID_TAG] == version.run_id
    assert version.tags["paradigm"] == "aptp"


def test_load_torch_model_rebuilds_identical_weights(registered_cnn):
    loaded = load_torch_model("models:/ivif-cnn@candidate", tracking_uri=registered_cnn.tracking_uri)
    expected = registered_cnn.model.state_dict()
    assert not loaded.training
    assert loaded.state_dict().keys() == expected.keys()
    for key, tensor in expected.items():
        assert torch.equal(loaded.state_dict()[key], tensor), key


def test_unknown_alias_is_a_clear_error(registered_cnn):
    with pytest.raises(FileNotFoundError, match="ivif registry"):
        load_torch_model("models:/ivif-cnn@nonexistent", tracking_uri=registered_cnn.tracking_uri)


def test_signature_has_free_image_sizes_and_a_mode_param():
    signature = fusion_signature()
    assert signature.inputs.input_names() == ["ir", "vi"]
    assert signature.outputs.input_names() == [FUSED_COLUMN]
    assert signature.params.params[0].name == "mode"


def test_pyfunc_loads_in_a_fresh_process_and_fuses_an_odd_size_pair(registered_cnn, tmp_path):
    ir, vi = odd_size_pair()
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"ir": encode_png(ir), "vi": encode_png(vi)}))
    script = textwrap.dedent(
        """
        import json, sys
        import mlflow.pyfunc, pandas as pd
        model = mlflow.pyfunc.load_model("models:/ivif-cnn@candidate")
        row = json.load(open(sys.argv[1]))
        fused = model.predict(pd.DataFrame([row]), params={"mode": "full"})
        import ivif
        print(json.dumps({"fused": fused["fused"][0], "ivif_from": ivif.__file__}))
        """
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": registered_cnn.tracking_uri}
    done = subprocess.run([sys.executable, "-c", script, str(request)], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    # the model carries its own snapshot of the ivif package (code_paths)
    assert "/code/ivif/" in answer["ivif_from"]
    fused = decode_image(answer["fused"], "fused")
    assert fused.shape == (ODD_HEIGHT, ODD_WIDTH, 3)  # colour visible input -> RGB output

    in_process = FusionPyfunc()  # the served copy runs channels-last: same layout here
    in_process.model = prepare_model(copy.deepcopy(registered_cnn.model), torch.device("cpu"))
    expected = in_process.predict(None, pd.DataFrame({"ir": [encode_png(ir)], "vi": [encode_png(vi)]}))
    assert np.array_equal(fused, decode_image(expected[FUSED_COLUMN][0], "fused"))


def test_bad_mode_is_rejected(registered_cnn):
    model = FusionPyfunc()
    model.model = registered_cnn.model
    ir, vi = odd_size_pair()
    with pytest.raises(ValueError, match="mode"):
        model.predict(None, {"ir": encode_png(ir), "vi": encode_png(vi)}, params={"mode": "fast"})


def test_logging_with_kwargs_that_do_not_rebuild_the_model_fails_early(registered_cnn):
    import mlflow

    from ivif.registry import log_and_register
    from ivif.tracking.store import use_store

    use_store(registered_cnn.tracking_uri)
    with mlflow.start_run(run_name="wrong-kwargs"):
        with pytest.raises(ValueError, match="weights do not fit model 'cnn'"):
            log_and_register(registered_cnn.model, "cnn", model_kwargs={})  # default widths: wrong
