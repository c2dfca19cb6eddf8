"""Importing the released upstream checkpoints: exact mapping, shape checks, clear errors."""

from __future__ import annotations

import pytest
import torch

from ivif.cli import main
from ivif.models import create_model
from ivif.models.checkpoint import FORMAT, load_checkpoint, load_model
from ivif.models.upstream import UpstreamCheckpointError, convert_state_dict, load_upstream_model, read_state_dict


@pytest.mark.parametrize("name", ["cnn", "transformer", "gan"])
def test_every_upstream_tensor_lands_in_the_ivif_model(name, upstream_weights):
    upstream = read_state_dict(upstream_weights[name])
    model = load_upstream_model(name, upstream_weights[name])
    state = model.state_dict()
    # Same number of values (the Transformer's band masks are derived, not stored).
    stored_masks = sum(v.numel() for k, v in upstream.items() if k.endswith("eca.conv.mask"))
    assert sum(v.numel() for v in upstream.values()) - stored_masks == sum(v.numel() for v in state.values())
    assert not model.training


def test_mapping_is_name_by_name(upstream_weights):
    upstream = read_state_dict(upstream_weights["cnn"])
    state = load_upstream_model("cnn", upstream_weights["cnn"]).state_dict()
    assert torch.equal(state["enc1.layers.0.norm2.running_var"], upstream["dense_1.dense_block.0.change.3.running_var"])
    assert torch.equal(state["bottom.layers.1.conv2.weight"], upstream["dense_3.dense_block.1.change.5.weight"])
    assert torch.equal(state["skip2.gate.conv.weight"], upstream["fus_2.eca.conv.weight"])
    transformer = read_state_dict(upstream_weights["transformer"])
    state = load_upstream_model("transformer", upstream_weights["transformer"]).state_dict()
    assert torch.equal(state["dec.layers.0.attn.qkv.weight"], transformer["trans_4.transformer_layers.0.attn.fn.group_qkv.weight"])
    assert torch.equal(state["skip1.gate.weight"], transformer["fuse_1.eca.conv.linear.weight"])


def test_wrong_architecture_names_the_tensor_and_file(upstream_weights):
    with pytest.raises(UpstreamCheckpointError, match=r"cnn\.model: tensor 'inchange\.0\.weight' is not part of the upstream transformer layout"):
        load_upstream_model("transformer", upstream_weights["cnn"])


def test_misshapen_tensor_reports_expected_and_found_shapes(upstream_weights):
    upstream = read_state_dict(upstream_weights["cnn"])
    upstream["outchange.0.weight"] = torch.zeros(32, 80, 3, 3)
    with pytest.raises(UpstreamCheckpointError, match=r"'outchange\.0\.weight' \(ivif 'head\.0\.weight'\) has shape \(32, 80, 3, 3\), expected \(32, 82, 3, 3\)"):
        convert_state_dict("cnn", upstream, create_model("cnn"), source="edited.model")


def test_missing_tensor_is_reported(upstream_weights):
    upstream = read_state_dict(upstream_weights["cnn"])
    del upstream["up_2.upsampler.1.bias"]
    with pytest.raises(UpstreamCheckpointError, match=r"1 tensors .* missing.*up2\.conv\.bias"):
        convert_state_dict("cnn", upstream, create_model("cnn"), source="edited.model")


def test_unexpected_band_mask_is_refused(upstream_weights):
    upstream = read_state_dict(upstream_weights["transformer"])
    upstream["fuse_0.eca.conv.mask"] = torch.ones(64, 64)
    with pytest.raises(UpstreamCheckpointError, match="fuse_0.eca.conv.mask.*band mask"):
        convert_state_dict("transformer", upstream, create_model("transformer"))


def test_garbage_file_is_refused(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(UpstreamCheckpointError, match="bad.model: not a readable PyTorch file"):
        read_state_dict(bad)
    with pytest.raises(FileNotFoundError, match="missing.model"):
        read_state_dict(tmp_path / "missing.model")


def test_import_upstream_cli_writes_an_ivif_checkpoint(tmp_path, upstream_weights, capsys):
    out = tmp_path / "models" / "gan.pt"
    assert main(["import-upstream", "--model", "gan", "--src", str(upstream_weights["gan"]), "--out", str(out)]) == 0
    payload = load_checkpoint(out)
    assert payload["format"] == FORMAT and payload["model_name"] == "gan" and payload["model_kwargs"] == {}
    assert payload["source"]["kind"] == "upstream" and len(payload["source"]["sha256"]) == 64
    reloaded = load_model(out).state_dict()
    direct = load_upstream_model("gan", upstream_weights["gan"]).state_dict()
    assert all(torch.equal(reloaded[k], direct[k]) for k in direct)
    assert "imported upstream gan" in capsys.readouterr().out


def test_import_upstream_cli_error_is_one_line(tmp_path, upstream_weights, capsys):
    code = main(["import-upstream", "--model", "transformer", "--src", str(upstream_weights["gan"]), "--out", str(tmp_path / "x.pt")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "gan.model" in err and "inchange.0.weight" in err
    assert not (tmp_path / "x.pt").exists()
