"""Records of a run made in other folders are renamed by whole path components: a sibling data folder whose name
begins like the run folder's (``eipx_data`` beside ``eipx``) is left as the run read it."""

from __future__ import annotations

import os

from tiny_workflow import tiny_workflow

from bagnet_repro.runs.export import export_run
from bagnet_repro.runs.importing import import_run
from bagnet_repro.runs.relocation import relocated
from bagnet_repro.runs.workflow_dag import planned_rules


def test_only_whole_path_components_are_renamed():
    moves = [("/w/eipx", "/w/eipy"), ("/w/code", "/c")]
    texts = {
        "/w/eipx": "/w/eipy",
        "/w/eipx/results/a.csv": "/w/eipy/results/a.csv",
        "cd /w/eipx && PYTHONPATH=/w/code/src x --out=/w/eipx/r": "cd /w/eipy && PYTHONPATH=/c/src x --out=/w/eipy/r",
        "'/w/eipx/logs/a.log'": "'/w/eipy/logs/a.log'",
        "/w/eipx_data/images": "/w/eipx_data/images",
        "/w/eipx.bak/x /w/eipx-old /w/eipx2": "/w/eipx.bak/x /w/eipx-old /w/eipx2",
        "/other/w/eipx/x": "/other/w/eipx/x",
        "/w/codebase/x": "/w/codebase/x",
    }
    for before, after in texts.items():
        assert relocated(before, moves) == after, before
    assert relocated({"p": ["/w/eipx_data", "/w/eipx/x"], "n": 3}, moves) == {
        "p": ["/w/eipx_data", "/w/eipy/x"],
        "n": 3,
    }


def test_a_sibling_data_folder_is_left_as_the_run_read_it(tmp_path):
    (tmp_path / "eipx_data").mkdir()
    config = tmp_path / "config.yaml"
    config.write_text(f"data_dir: {tmp_path / 'eipx_data'}\n")
    run = tiny_workflow(tmp_path / "eipx", made=4, configfiles=[str(config)])
    here = os.getcwd()
    try:
        export_run(tmp_path / "run.tar.gz", run, [str(config)])
        moved = tiny_workflow(tmp_path / "eipy")
        import_run(tmp_path / "run.tar.gz", moved, [str(config)])
        planned = planned_rules(moved, [str(config)])
    finally:
        os.chdir(here)
    from snakemake.persistence.file import FilePersistence

    record = FilePersistence(path=moved / ".snakemake")._read_record("results/f0.txt")
    assert record.params == [repr(str(tmp_path / "eipx_data"))]
    assert f"made {moved / 'results/f0.txt'}" in record.shellcmd and str(tmp_path / "eipx_data") in record.shellcmd
    assert "make" not in planned, planned  # the records match this folder's jobs: nothing of the run reruns
