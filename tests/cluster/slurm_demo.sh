#!/usr/bin/env bash
# Run a small demo through `--profile profiles/slurm` (with the workflow profile, profiles/default, as users
# run it) on a real one-node SLURM (slurmctld, slurmd, munge from apt; a CPU and a GPU partition on the node,
# a stand-in GPU GRES so --gpus=1 jobs run on the CPU) and check its results equal a local run's, that the
# GPU jobs went to the GPU partition and the CPU jobs to the CPU one. Needs root on Debian (as in CI). Every
# daemon is stopped by PID on exit. Usage: bash tests/cluster/slurm_demo.sh [--dry-run]
# (--dry-run: only the planning, without SLURM: the jobs and the resources they would ask for.)
set -euo pipefail
PROJECT="$(cd "$(dirname "$0")/../.." && pwd)"
# The project's venv (scripts/test.sh makes it); SLURM jobs inherit this environment.
if [ -f "$PROJECT/.venv/bin/activate" ]; then source "$PROJECT/.venv/bin/activate"; fi
WORK="$(mktemp -d /tmp/bagnet-slurm.XXXXXX)"
PIDS=()
# The machine is left as found: /etc/slurm's two files are put back (or removed) on exit. A slurm.conf naming a
# controller that no longer runs makes every `snakemake` start 9 s late (the SLURM plugin asks `scontrol show
# config` when it is imported), which would slow every later test on this machine.
SAVED=""  # where the files found in /etc/slurm wait, once this script writes its own
restore_config() {
    [ -n "$SAVED" ] || return 0
    for name in slurm.conf gres.conf; do
        if [ -e "$SAVED/$name" ]; then cp -p "$SAVED/$name" "/etc/slurm/$name"; else rm -f "/etc/slurm/$name"; fi
    done
    rm -rf "$SAVED"
}
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    restore_config
    if [ -d "$WORK" ]; then echo "logs and results kept in $WORK"; fi
}
trap cleanup EXIT
started=$(date +%s)

# A small demo: two models (one BagNet, one baseline), one seed, one epoch; compute.device auto asks a GPU for
# each GPU job (the stand-in GRES), which then finds no CUDA and runs on the CPU: the jobs' check that a GPU they
# were given is usable is off for these stand-ins (docs/environments.md). The backbones' latency table and the
# feature-amount study are switched off: their jobs are device jobs like train's, and their results are not among
# those compared below, so they would only double the minutes the demo takes (it runs twice).
export BAGNET_REPRO_GPU_CHECK=off
cat >"$WORK/small.yaml" <<CONF
models: [bagnet9, resnet50]
seeds: [0]
train: {epochs: 1}
compute: {device: auto, threads: 1}
studies: {backbones: false, feature_amounts: false}
CONF
SMALL=(--configfile "$PROJECT/configs/demo.yaml" "$WORK/small.yaml")
SNAKEMAKE=(python -m snakemake -s "$PROJECT/Snakefile")
# The plugin picks each job's partition from this file (profiles/slurm/partitions.yaml names a real cluster's).
cat >"$WORK/partitions.yaml" <<CONF
partitions:
  cpu: {}
  gpu: {max_gpu: 1}
CONF
# As users run it, but sized for this node: the command line's --set-resources replace the rules' own sizes
# (config/planning.py JOB_SIZES: 32 GB for a training job) and --default-resources the profile's defaults (the
# GPU requests come from the config, so they stay).
read -r -a SIZED < <(PYTHONPATH="$PROJECT/src" python -c \
    "from bagnet_repro.config.planning import JOB_SIZES; print(*(f'{r}:mem_mb=1000 {r}:runtime=30' for r in JOB_SIZES))")
ON_SLURM=("${SNAKEMAKE[@]}" --directory "$WORK/slurm" --profile "$PROJECT/profiles/slurm"
          --slurm-partition-config "$WORK/partitions.yaml" --set-threads pretrain=1
          --set-resources "${SIZED[@]}" --default-resources mem_mb=1000 runtime=30 --jobs 4 "${SMALL[@]}")
if [ "${1:-}" = --dry-run ]; then
    "${ON_SLURM[@]}" -n 2>&1 | grep -E "^(rule|localrule) |resources:|^total"
    rm -rf "$WORK"
    exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >/dev/null; }
fi

# munge: a key, its run directory, the daemon in the foreground as user munge.
mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
[ -s /etc/munge/munge.key ] || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key && chmod 0755 /run/munge
setsid su -s /bin/sh munge -c "exec munged -F" >"$WORK/munged.log" 2>&1 &
PIDS+=($!)

# slurm: one node with all its cores, ~85% of its memory and a stand-in GPU.
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEMORY=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 85 / 100 ))
STATE=/var/spool/slurmctld-bagnet
rm -rf "$STATE" /var/spool/slurmd-bagnet && mkdir -p "$STATE" /var/spool/slurmd-bagnet /etc/slurm
SAVED="$(mktemp -d /tmp/bagnet-slurm-etc.XXXXXX)"
for name in slurm.conf gres.conf; do
    if [ -e "/etc/slurm/$name" ]; then cp -p "/etc/slurm/$name" "$SAVED/$name"; fi
done
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=bagnet
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=/var/spool/slurmd-bagnet
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MailProg=/bin/true
ReturnToService=2
GresTypes=gpu
DefMemPerCPU=1000
NodeName=$HOST CPUs=$CPUS RealMemory=$MEMORY Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$HOST MaxTime=INFINITE State=UP
CONF
echo "Name=gpu File=/dev/null" >/etc/slurm/gres.conf
sleep 1
setsid slurmctld -D >"$WORK/slurmctld.log" 2>&1 &
PIDS+=($!)
setsid slurmd -D >"$WORK/slurmd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 60); do
    [ "$(sinfo -h -o %T 2>/dev/null | head -1)" = "idle" ] && break
    sleep 1
done
[ "$(sinfo -h -o %T | head -1)" = "idle" ] || { echo "SLURM node not idle"; cat "$WORK"/*.log; exit 1; }
echo "SLURM up after $(( $(date +%s) - started )) s"

mkdir -p "$WORK/slurm" "$WORK/local"
timeout -k 30 900 "${ON_SLURM[@]}" 2>&1 | tail -n 25
# slurmctld keeps finished jobs for MinJobAge (300 s): the GPU jobs must have had a GPU, in the GPU partition.
jobs_file="$WORK/jobs.txt"
scontrol show job -o >"$jobs_file"
gpu_jobs=$(grep -i "gres[:/]gpu" "$jobs_file" | grep -c "Partition=gpu " || true)
cpu_jobs=$(grep -vi "gres[:/]gpu" "$jobs_file" | grep -c "Partition=cpu " || true)
echo "jobs with a GPU request in the GPU partition: $gpu_jobs; CPU jobs in the CPU partition: $cpu_jobs"
[ "$gpu_jobs" -ge 4 ] || { echo "expected the train and evaluate jobs to request a GPU in partition gpu"; exit 1; }
[ "$cpu_jobs" -ge 3 ] || { echo "expected the data jobs in partition cpu"; exit 1; }
if grep -i "gres[:/]gpu" "$jobs_file" | grep -q "Partition=cpu "; then echo "a GPU job went to partition cpu"; exit 1; fi
timeout 900 "${SNAKEMAKE[@]}" --directory "$WORK/local" --cores 2 "${SMALL[@]}" >"$WORK/local.log" 2>&1

# Same numbers: every metrics file and the statistics tables must be identical. The compute records
# (`*.compute.json`) hold each job's own wall time, memory and host, which differ between any two runs.
status=0
for file in $(cd "$WORK/local" && ls results/metrics/*/*.json results/statistics/*.csv report/tables/figure1.csv \
                 results/feature_amounts/*/*/seed*/metrics.json report/tables/table1.csv | grep -v '\.compute\.json$'); do
    if ! cmp -s "$WORK/local/$file" "$WORK/slurm/$file"; then
        echo "differs: $file"; status=1
    fi
done
for file in $(cd "$WORK/local" && ls results/metrics/*/*.compute.json); do
    [ -s "$WORK/slurm/$file" ] || { echo "the SLURM run wrote no $file"; status=1; }
done
[ -s "$WORK/slurm/report/paper.pdf" ] || { echo "the SLURM run built no report/paper.pdf"; status=1; }
echo "SLURM demo vs local: $([ $status = 0 ] && echo identical || echo DIFFERENT); total $(( $(date +%s) - started )) s"
# Both runs' results are kept only when something failed (an earlier exit keeps them too).
if [ $status = 0 ]; then rm -rf "$WORK"; fi
exit $status
