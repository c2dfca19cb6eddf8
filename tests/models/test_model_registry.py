"""Registry behaviour and the architectures' parameter counts."""

from __future__ import annotations

import pytest
import torch

from ivif.models import create_model, is_model, list_models, register_model

# Parameter counts of the released checkpoints (the paper's models).
EXPECTED_PARAMETERS = {"cnn": 214_882, "transformer": 187_417, "gan": 214_882}


def test_builtin_models_are_registered():
    assert list_models() == ["cnn", "gan", "transformer"]


@pytest.mark.parametrize("name", sorted(EXPECTED_PARAMETERS))
def test_parameter_count_matches_released_checkpoint(name):
    model = create_model(name)
    assert sum(p.numel() for p in model.parameters()) == EXPECTED_PARAMETERS[name]


def test_unknown_model_names_the_available_ones():
    with pytest.raises(ValueError, match="unknown model 'unet'.*cnn, gan, transformer"):
        create_model("unet")


def test_registering_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        register_model(lambda: torch.nn.Identity(), name="cnn")


def test_register_and_create_a_custom_model():
    @register_model(name="test-identity-model")
    def factory(scale: float = 1.0):
        return torch.nn.Identity()

    assert is_model("test-identity-model")
    assert isinstance(create_model("test-identity-model", scale=2.0), torch.nn.Identity)


def test_kwargs_configure_the_architecture():
    small = create_model("cnn", stem_width=4, growth=[2, 2, 4, 4], head_width=4)
    assert sum(p.numel() for p in small.parameters()) < EXPECTED_PARAMETERS["cnn"] / 5
    with pytest.raises(ValueError, match="growth needs 4 values"):
        create_model("cnn", growth=(4, 4))
    with pytest.raises(TypeError):
        create_model("transformer", no_such_option=1)
