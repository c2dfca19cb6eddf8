import pytest

from ivif.registry.aliases import alias_uri, architecture_of, is_model_uri, parse_alias_uri, registered_name


def test_registered_names_round_trip():
    assert registered_name("cnn") == "ivif-cnn"
    assert registered_name("ivif-cnn") == "ivif-cnn"
    assert architecture_of("ivif-transformer") == "transformer"


def test_alias_uris():
    assert alias_uri("gan", "champion") == "models:/ivif-gan@champion"
    assert parse_alias_uri("models:/ivif-cnn@candidate") == ("ivif-cnn", "candidate")
    assert is_model_uri("models:/ivif-cnn/3") and is_model_uri("runs:/abc/model")
    assert not is_model_uri("models/cnn.pt")


@pytest.mark.parametrize("bad", ["models:/ivif-cnn", "models:/ivif-cnn/2", "ivif-cnn@champion", "models:/a@b/c"])
def test_parse_rejects_non_alias_uris(bad):
    with pytest.raises(ValueError, match="models:/NAME@ALIAS"):
        parse_alias_uri(bad)
