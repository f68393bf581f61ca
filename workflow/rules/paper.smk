"""The report as one PDF: the values its text quotes (with the run's provenance), then Typst."""


# Seconds of work each, on files already on the submitting host: not worth a cluster job.
localrules:
    paper_values,
    paper,


rule paper_values:
    input:
        unpack(lambda wildcards: paper_files()),
        sweep=rules.summarize.output.sweep,
        precision=rules.precision_report.output.table,
        dead_layers=rules.precision_report.output.census,
        audit=rules.audit.output.summary,
        manifest=rules.split.output[0],
        inventory=rules.inventory.output[0],
        histories=per_seed(rules.train.output.history),
        results=per_seed(rules.evaluate.output.metrics),
    output:
        "results/paper/values.json",
    log:
        "logs/paper/values.log",
    conda:
        "../../envs/torch.yaml"
    params:
        cli=BAGNET,
        files=" ".join(f"--file {name} {path}" for name, path in paper_files().items()),
        config=shlex.quote(json.dumps(config, sort_keys=True)),
        train=train_options,
        snakemake_version=SNAKEMAKE_VERSION,
    shell:
        "{params.cli} paper-values {params.files} --sweep {input.sweep} --precision {input.precision} "
        "--dead-layers {input.dead_layers} --audit-summary {input.audit} --manifest {input.manifest} "
        "--inventory {input.inventory} --histories {input.histories} --results {input.results} --config {params.config} --train-settings {params.train} "
        '--project "$BAGNET_REPRO_PROJECT" --snakemake-version {params.snakemake_version} --out {output} > {log} 2>&1'


rule paper:
    input:
        unpack(lambda wildcards: paper_files()),
        values=rules.paper_values.output[0],
        template=source_file("workflow/report/paper.typ"),
    output:
        report(
            "report/paper.pdf",
            caption="../report/captions/paper.rst",
            category="Report",
            labels={"name": "the report", "type": "PDF"},
        ),
    log:
        "logs/paper/paper.log",
    conda:
        "../../envs/report.yaml"
    params:
        cli=BAGNET,
    shell:
        "{params.cli} paper --template {input.template:q} --values {input.values} --out {output} > {log} 2>&1"
