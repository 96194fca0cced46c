"""resolve_base: the tiny model, local folders, hub ids, and clear errors for anything else."""

import pytest

from taigimed.models.config import ModelConfig
from taigimed.models.resolve import BaseModelNotFound, resolve_base
from taigimed.workdir import Workdir


def test_tiny_is_built_once_into_the_workdir(tmp_path):
    wd = Workdir.resolve(tmp_path)
    path = resolve_base(ModelConfig(base="tiny-random"), wd)
    assert path == str(wd.models / "tiny-random")
    assert resolve_base(ModelConfig(base="tiny-random"), wd) == path


def test_local_folder_and_hub_id(tmp_path, tiny_model_dir):
    wd = Workdir.resolve(tmp_path)
    assert resolve_base(ModelConfig(base=str(tiny_model_dir)), wd) == str(tiny_model_dir.resolve())
    assert resolve_base(ModelConfig(base="taide/TAIDE-LX-7B"), wd) == "taide/TAIDE-LX-7B"


def test_unloadable_bases_name_what_to_set(tmp_path):
    wd = Workdir.resolve(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BaseModelNotFound, match=r"without config\.json"):
        resolve_base(ModelConfig(base=str(tmp_path / "empty")), wd)
    with pytest.raises(BaseModelNotFound, match="neither"):
        resolve_base(ModelConfig(base="./no/such/model"), wd)
