"""Planning helpers of the data stage (its rules: workflow/rules/data.smk)."""

from bagnet_repro.config.urls import archive_name
from bagnet_repro.config.listing import listing_digest

# Verified downloads are kept here as well as in the rule's output (a hard link): Snakemake deletes an
# output before rerunning its rule (e.g. after a pinned sha256 changed), and the kept copy is reused when
# it still verifies, or replaced only once a new download does. Partial transfers (.part) wait here too.
DOWNLOAD_STORE = "results/downloads/.verified"


def data_source():
    return config["data"]["source"]


def archive_names():
    """File names of the configured downloads, in order (the last path component of each URL)."""
    return [archive_name(entry) for entry in config["data"]["urls"]]


def archive_entry(name):
    return dict(zip(archive_names(), config["data"]["urls"]))[name]


def data_root_input():
    """Input of the inventory step; the demo folder, the extracted downloads, or nothing (local dir)."""
    source = data_source()
    if source == "demo":
        return "results/data/demo"
    if source == "url":
        return "results/data/extracted"
    return []


def data_root_path(wildcards, input):
    """The folder the inventory lists: the rule's input, or ``data.local_dir``."""
    return input[0] if input else config["data"]["local_dir"]


def local_data_digest():
    """For ``source: local``, a digest of data.local_dir's listing (see data/listing.py): a parameter of the
    inventory rule, so pointing at another folder or changing a file in it reruns the inventory and all
    that depends on it. The other sources are outputs of this workflow, which Snakemake tracks itself."""
    if data_source() != "local":
        return ""
    return listing_digest(config["data"]["local_dir"])


def split_file_input():
    split_file = config["data"].get("split_file")
    return [split_file] if split_file else []
