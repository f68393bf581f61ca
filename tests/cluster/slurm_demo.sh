#!/usr/bin/env bash
# Run a small demo through `--profile profiles/slurm` on a real one-node SLURM (slurmctld, slurmd, munge from
# apt, a stand-in GPU GRES so --gpus=1 jobs run on the CPU) and check its results equal a local run's.
# Needs root on Debian (as in CI). Every daemon is stopped by PID on exit. Usage: bash tests/cluster/slurm_demo.sh
set -euo pipefail
PROJECT="$(cd "$(dirname "$0")/../.." && pwd)"
# The project's venv (scripts/test.sh makes it); SLURM jobs inherit this environment.
if [ -f "$PROJECT/.venv/bin/activate" ]; then source "$PROJECT/.venv/bin/activate"; fi
WORK="$(mktemp -d /tmp/bagnet-slurm.XXXXXX)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    if [ -d "$WORK" ]; then echo "logs and results kept in $WORK"; fi
}
trap cleanup EXIT
started=$(date +%s)

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
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
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

# A small demo: two models (one BagNet, one baseline), one seed, one epoch.
cat >"$WORK/small.yaml" <<CONF
models: [bagnet9, resnet50]
seeds: [0]
train: {epochs: 1}
CONF
SMALL=(--configfile "$PROJECT/configs/demo.yaml" "$WORK/small.yaml")
SNAKEMAKE=(python -m snakemake -s "$PROJECT/Snakefile")
# As the profile, but sized for this node; training and evaluation still ask for the (stand-in) GPU.
RESOURCES=(train:mem_mb=2000 train:gpu=1 evaluate:mem_mb=2000 evaluate:gpu=1 heatmaps:mem_mb=2000
           precision:mem_mb=2000 receptive_fields:mem_mb=2000 feature_amount_run:mem_mb=2000 feature_amount_run:gpu=1
           backbone_table:mem_mb=2000)
export BAGNET_SLURM_PARTITION=debug BAGNET_SLURM_ACCOUNT=ci
mkdir -p "$WORK/slurm" "$WORK/local"
timeout -k 30 900 "${SNAKEMAKE[@]}" --directory "$WORK/slurm" --profile "$PROJECT/profiles/slurm" --workflow-profile none \
    --set-threads train=1 evaluate=1 heatmaps=1 precision=1 feature_amount_run=1 backbone_table=1 --set-resources "${RESOURCES[@]}" \
    --jobs 4 "${SMALL[@]}" 2>&1 | tail -n 25
# slurmctld keeps finished jobs for MinJobAge (300 s): the training jobs must have had a GPU.
gpu_jobs=$(scontrol show job -o | grep -ci "gres[:/]gpu" || true)
echo "jobs with a GPU request: $gpu_jobs"
[ "$gpu_jobs" -ge 4 ] || { echo "expected the train and evaluate jobs to request a GPU"; exit 1; }
timeout 900 "${SNAKEMAKE[@]}" --directory "$WORK/local" --cores 2 "${SMALL[@]}" >"$WORK/local.log" 2>&1

# Same numbers: every metrics file and the statistics tables must be identical.
status=0
for file in $(cd "$WORK/local" && ls results/metrics/*/*.json results/statistics/*.csv report/tables/figure1.csv \
                 results/feature_amounts/*/*/seed*/metrics.json report/tables/table1.csv); do
    if ! cmp -s "$WORK/local/$file" "$WORK/slurm/$file"; then
        echo "differs: $file"; status=1
    fi
done
[ -s "$WORK/slurm/report/paper.pdf" ] || { echo "the SLURM run built no report/paper.pdf"; status=1; }
echo "SLURM demo vs local: $([ $status = 0 ] && echo identical || echo DIFFERENT); total $(( $(date +%s) - started )) s"
# Both runs' results are kept only when something failed (an earlier exit keeps them too).
if [ $status = 0 ]; then rm -rf "$WORK"; fi
exit $status
