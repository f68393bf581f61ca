"""One copy of each fact: where a fact must be written twice (the schema and the code that reads
it, the schema's defaults and the annotated config.yaml), these tests hold the copies equal."""

import pytest

from bagnet_repro.config import cache_paths
from bagnet_repro.config import datasets as data_catalog
from bagnet_repro.config.loading import load_schema, load_yaml_file
from helpers import PROJECT

SCHEMA = load_schema()


def _node(path: tuple[str, ...]) -> dict:
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node


def _leaves(value, path=()):
    """(key path, value) of config.yaml, down to the first key without sub-keys in the schema."""
    node = _node(path) if path else SCHEMA
    if isinstance(value, dict) and "properties" in node:
        for key, sub in value.items():
            yield from _leaves(sub, (*path, key))
    else:
        yield path, value


# Keys whose config.yaml value is not the schema's default, and why (the schema's default suits any config
# that leaves the key out, such as configs/demo.yaml; config.yaml is the full reproduction).
DIFFERS = {
    ("data", "urls"): "the 15-scene archive of the full run; a config without urls has none",
    ("weights", "models"): "the report's starting points for those networks",
    ("evaluate", "reference_model"): "the report compares every network with BagNet33; by default the first BagNet",
}


CONFIG_LEAVES = list(_leaves(load_yaml_file(PROJECT / "config.yaml")))


@pytest.mark.parametrize("path,value", CONFIG_LEAVES, ids=[".".join(path) for path, _ in CONFIG_LEAVES])
def test_config_yaml_repeats_the_schema_default(path, value):
    """config.yaml shows each key with its value; where that is the schema's default it must stay equal."""
    if path in DIFFERS:
        assert _node(path).get("default") != value, f"{'.'.join(path)} now equals its default: drop it from DIFFERS"
        return
    if "default" not in _node(path):
        return  # the schema has no default: config.yaml holds the value's only copy
    assert _node(path)["default"] == value, f"config.yaml's {'.'.join(path)} is not the schema's default"


def test_pretrain_datasets_are_the_schemas():
    assert _node(("pretrain", "dataset"))["enum"] == ["none", *data_catalog.PRETRAIN_DATASETS]


def test_feature_amount_datasets_are_the_schemas():
    enum = _node(("feature_amounts", "dataset"))["enum"]
    assert enum[0] == "none"
    assert sorted(enum[1:]) == sorted(data_catalog.FEATURE_AMOUNT_DATASETS)


def test_one_cache_for_weights_and_data_sets(monkeypatch, tmp_path):
    """$BAGNET_REPRO_CACHE moves both; without it both live under ~/.cache/bagnet-repro."""
    monkeypatch.setenv(cache_paths.CACHE_ENV, str(tmp_path))
    assert cache_paths.weights_cache() == tmp_path
    assert cache_paths.datasets_cache() == tmp_path / "datasets"
    assert cache_paths.datasets_cache("~/elsewhere") == cache_paths.Path("~/elsewhere").expanduser()
    monkeypatch.delenv(cache_paths.CACHE_ENV)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_paths.weights_cache() == tmp_path / ".cache" / "bagnet-repro" / "weights"
    assert cache_paths.datasets_cache() == tmp_path / ".cache" / "bagnet-repro" / "datasets"


def test_a_blank_cache_variable_is_unset(monkeypatch, tmp_path):
    """Spaces name no folder: the default, never a folder called "  " in the working directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for blank in ("", "  "):
        monkeypatch.setenv(cache_paths.CACHE_ENV, blank)
        assert cache_paths.weights_cache() == tmp_path / ".cache" / "bagnet-repro" / "weights"
        assert cache_paths.datasets_cache() == tmp_path / ".cache" / "bagnet-repro" / "datasets"


def test_the_cache_location_is_spelled_in_one_module():
    """Code and rules ask cache_paths.py; a second spelling of the folder would drift from it."""
    allowed = {"src/bagnet_repro/config/cache_paths.py"}
    sources = [*PROJECT.glob("src/bagnet_repro/**/*.py"), *PROJECT.glob("workflow/**/*.smk"), PROJECT / "Snakefile"]
    spelled = {
        str(path.relative_to(PROJECT))
        for path in sources
        if any(word in path.read_text() for word in (cache_paths.CACHE_ENV, ".cache/bagnet-repro", '".cache"'))
    }
    assert spelled <= allowed, sorted(spelled - allowed)
