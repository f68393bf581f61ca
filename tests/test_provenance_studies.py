"""The PDF's code provenance covers every result it uses: the feature-amount study's jobs too."""

from __future__ import annotations

import json

from bagnet_repro.files.code_digest import code_check, code_sha256
from bagnet_repro.paper.provenance import results_used


def test_the_feature_amount_studys_jobs_are_checked(tmp_path):
    (tmp_path / "report/tables").mkdir(parents=True)
    table = tmp_path / "report/tables/feature_amounts.tsv"
    table.write_text(
        "dataset\tdepth\tmodel_id\tseed\tbest_val_acc\ncifar10\t6\t3\t0\t0.5\ncifar10\t6\tuniform\t1\t0.6\n"
    )
    for variant, seed, code in (("3", 0, code_sha256()), ("uniform", 1, "0" * 64)):
        folder = tmp_path / f"results/feature_amounts/cifar10_depth6/{variant}/seed{seed}"
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"code_sha256": code}))
        (folder / "history.csv").write_text(f"epoch,code_sha256\n1,{code}\n")
    used = results_used([], [], {"feature_amounts_table": str(table), "table1": "report/tables/table1.csv"})
    assert len(used) == 4
    checked = code_check(used)
    other = [name.removeprefix(str(tmp_path) + "/") for name in checked["other"]]
    assert other == [
        "results/feature_amounts/cifar10_depth6/uniform/seed1/metrics.json",
        "results/feature_amounts/cifar10_depth6/uniform/seed1/history.csv",
    ]
    assert checked["unrecorded"] == [] and results_used(["h.csv"], ["m.json"], {}) == ["h.csv", "m.json"]
