"""Data stage: demo data or verified downloads, safe extraction, inventory, split and duplicate audit."""

import shlex

from bagnet_repro.config.report_entries import report_entry


rule make_demo_data:
    output:
        directory("results/data/demo"),
    log:
        "logs/data/make_demo_data.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        section=plan.section("data.demo"),
    shell:
        "{params.cli} make-demo-data --params {params.section:q} --out {output} > {log} 2>&1"


localrules:
    download,
    class_counts,


rule download:
    output:
        "results/downloads/{archive}",
    log:
        "logs/data/download_{archive}.log",
    wildcard_constraints:
        archive=r"[^/]+",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        url=lambda wildcards: plan.archive_entry(wildcards.archive)["url"],
        sha256=lambda wildcards: plan.archive_entry(wildcards.archive).get("sha256") or "",
        retries=lambda wildcards: config["data"]["retries"],
        # verified downloads are kept here as well as in the output (a hard link): Snakemake deletes an output
        # before rerunning its rule, and the kept copy is reused while it verifies; partial transfers wait here too
        store=lambda wildcards, output: run_place(output[0], "results/downloads/", "results/downloads/.verified"),
    shell:
        "{params.cli} download --url {params.url:q} --sha256={params.sha256:q} --retries {params.retries} "
        "--store {params.store:q} --out {output} > {log} 2>&1"


rule extract:
    input:
        lambda wildcards: expand(rules.download.output[0], archive=plan.archive_names()),
    output:
        directory("results/data/extracted"),
    log:
        "logs/data/extract.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        archives=lambda wildcards, input: " ".join(f"--archive {shlex.quote(a)}" for a in input),
    shell:
        "{params.cli} extract {params.archives} --out {output} > {log} 2>&1"


rule inventory:
    input:
        plan.data_root_input(demo=rules.make_demo_data.output[0], extracted=rules.extract.output[0]),
    output:
        "results/data/inventory.tsv",
    log:
        "logs/data/inventory.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        root=lambda wildcards, input: plan.data_root(input),
        local_listing=plan.local_data_digest(),
        per_class=config["split"]["course_train_per_class"],
        seed=config["split"]["seed"],
        layout=plan.data_layout,
    shell:
        "{params.cli} inventory --root {params.root:q} --layout {params.layout} --out {output} "
        "--course-train-per-class {params.per_class} --seed {params.seed} > {log} 2>&1"


rule split:
    input:
        inventory=rules.inventory.output[0],
        split_file=plan.split_file_input(),
    output:
        "results/data/manifest.tsv",
    log:
        "logs/data/split.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        split_file=lambda wildcards, input: (
            f"--split-file {shlex.quote(input.split_file[0])}" if input.split_file else ""
        ),
        section=plan.section("split"),
        layout=plan.data_layout,
    shell:
        "{params.cli} split --params {params.section:q} --inventory {input.inventory} --out {output} "
        "{params.split_file} --layout {params.layout} > {log} 2>&1"


rule audit:
    input:
        inventory=rules.inventory.output[0],
        manifest=rules.split.output[0],
    output:
        table=report_entry("results/data/audit.tsv", "audit", "Data", "duplicate-image audit", "table"),
        summary="results/data/audit_summary.json",
    log:
        "logs/data/audit.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
    shell:
        "{params.cli} audit --inventory {input.inventory} --manifest {input.manifest} "
        "--out-table {output.table} --out-summary {output.summary} > {log} 2>&1"


# The run's classes and images per split, for the HTML report's front page (which shows this table) and entry.
# The package module is run directly until the command is declared among the stages (cli/).
rule class_counts:
    input:
        manifest=rules.split.output[0],
    output:
        report_entry("report/tables/classes.csv", "classes", "Data", "classes and images per split", "table"),
    log:
        "logs/data/class_counts.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        data=data_words(config["data"]),  # the data set in the caption's words
    shell:
        "{params.cli} class-counts --manifest {input.manifest} --out {output} > {log} 2>&1"
