"""The report's checklist appendix: the ML Code Completeness Checklist's five items and the NeurIPS questions on
reproducibility, compute, error bars and licences, each answered from this run and naming where the answer
comes from; what the run cannot know is said as such (answered: yes, partly or no)."""

from __future__ import annotations

from .licences import LICENCES, licences_used


def _answer(item: str, answered: str, answer: str, where: str) -> dict:
    return {"item": item, "answered": answered, "answer": answer, "where": where}


def code_completeness(run: dict, provenance: dict) -> list[dict]:
    """The five items of papers-with-code's ML Code Completeness Checklist."""
    packages = ", ".join(f"{name} {version}" for name, version in provenance["packages"].items())
    return [
        _answer(
            "Specification of dependencies",
            "yes",
            f"every package pinned with its hashes; this run used {packages}",
            "requirements.lock, envs/*.yaml; the provenance block",
        ),
        _answer(
            "Training code",
            "yes",
            f"bagnet-repro train per model and seed ({run['recipe']} recipe)",
            "rule train (workflow/rules/train.smk), src/bagnet_repro/training/",
        ),
        _answer(
            "Evaluation code",
            "yes",
            "bagnet-repro evaluate (clean and scrambled test), bagnet-repro summarize (intervals, McNemar)",
            "rules evaluate and summarize, src/bagnet_repro/evaluation/",
        ),
        _answer(
            "Pre-trained models",
            "partly",
            "the run's own weights are files of this run (results/models/*/seed*/best.pt); the run cannot say "
            "whether or where they are published",
            "rule train's outputs; the starting weights' sources in the licence table below",
        ),
        _answer(
            "README file with results and the commands to reproduce them",
            "yes",
            "snakemake --cores all rebuilds everything; each table and figure's own target is listed in the "
            "manual's table of results",
            "README.md, docs/results.md",
        ),
    ]


def neurips(run: dict, compute: dict, seeds: str, n_test: str, paired_tests: str) -> list[dict]:
    """The NeurIPS paper checklist's questions on reproducibility, compute, error bars and licences."""
    total = compute["total"]
    energy = total["energy"]
    failed = (
        f"{total['failed_attempts']} failed or killed attempts ({total['epochs_failed']} epochs, "
        f"{total['wall_failed']}) are counted apart"
        if total["failed_attempts"] != "0"
        else "no attempt failed or was killed"
    )
    one_seed = seeds == "1"
    licences = licences_used(run["data_source"], run["weight_sources"], run["pretrain_dataset"])
    unknown = [licence.name for licence in licences if not licence.known]
    return [
        _answer(
            "Experimental result reproducibility",
            "yes",
            f"one command, snakemake --cores all, with this configuration (sha256 in the provenance block): "
            f"seeds {', '.join(map(str, run['seeds']))}, models {', '.join(run['models'])}",
            "config.yaml or the --configfile; the provenance block",
        ),
        _answer(
            "Experiments compute resources",
            "yes" if compute["unrecorded_stages"] == [] else "partly",
            f"{total['jobs']} jobs, {total['wall']} of wall time, {total['gpu_hours']} GPU-hours, "
            f"{total['cpu_hours']} CPU-hours, energy {energy}; {failed}. "
            + (
                f"The stages {', '.join(compute['unrecorded_stages'])} keep no compute record (Snakemake's "
                "benchmarks: no GPUs, device memory or energy). "
                if compute["unrecorded_stages"]
                else ""
            )
            + "Runs made in other working folders (preliminary trials) are not known to this one",
            "report/tables/compute.csv (rule compute_table), the compute records *.compute.json",
        ),
        _answer(
            "Error bars",
            "partly" if one_seed else "yes",
            "95% bootstrap intervals resampling "
            + (
                f"the {n_test} test images only: with one seed they leave out the variation between trainings"
                if one_seed
                else f"{seeds} seeds and {n_test} test images together"
            )
            + (
                f"; {paired_tests} exact McNemar tests pair the models image by image (Holm-corrected)"
                if paired_tests != "0"
                else "; no paired test: the run trains one network"
            ),
            "report/tables/table1.csv, mcnemar.csv (rule summarize)",
        ),
        _answer(
            "Licences of existing assets",
            "partly" if unknown else "yes",
            "see the licence table"
            + (f"; no licence is stated for: {'; '.join(unknown)}" if unknown else "")
            + (
                "; weights given as a path or URL of your own carry the licence of their source, which the run "
                "cannot know"
                if run["own_weights"]
                else ""
            ),
            "bagnet_repro/paper/licences.py",
        ),
    ]


def checklist_values(run: dict, provenance: dict, compute: dict, seeds: str, n_test: str, paired_tests: str) -> dict:
    """The appendix's three tables; the licence table has every row, marked where this run used it."""
    used = licences_used(run["data_source"], run["weight_sources"], run["pretrain_dataset"])
    return {
        "code_completeness": code_completeness(run, provenance),
        "neurips": neurips(run, compute, seeds, n_test, paired_tests),
        "licences": [
            {
                "kind": item.kind,
                "name": item.name,
                "licence": item.licence,
                "where": item.where,
                "used": "yes" if item in used else "no",
            }
            for item in LICENCES.values()
        ],
    }
