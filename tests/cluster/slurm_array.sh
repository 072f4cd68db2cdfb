#!/usr/bin/env bash
# A real SLURM array run of `celegans dataset generate --shard slurm` on this machine:
# starts munge and a one-node SLURM (controller and node daemon on localhost, from Debian's
# slurm-wlm and munge), submits a 4-task `sbatch --array=0-3` job that generates one shard
# each, merges the shards with `celegans dataset merge`, and checks that the merged file
# holds exactly the dataset a single-machine run writes (`cmp`: the same bytes). Stops
# the daemons and removes its folder when it ends.
#
#   tests/cluster/slurm_array.sh [CELEGANS_BINARY]
#
# Needs root (the daemons), `apt-get install slurm-wlm munge`. Exit 0 when the merged file
# equals the single run's. docs/cluster.md explains the same job for a real cluster.
set -euo pipefail

celegans="$(realpath "${1:-target/release/celegans}")"
[ -x "$celegans" ] || { echo "no celegans binary at $celegans (cargo build --release)" >&2; exit 1; }
for tool in slurmctld slurmd sbatch munged; do
    command -v "$tool" >/dev/null || { echo "$tool not found: apt-get install slurm-wlm munge" >&2; exit 1; }
done

work="$(mktemp -d /tmp/celegans-slurm-XXXXXX)"
host="$(hostname -s)"
cpus="$(nproc)"
cleanup() {
    [ -f "$work/slurmd.pid" ] && kill "$(cat "$work/slurmd.pid")" 2>/dev/null || true
    [ -f "$work/slurmctld.pid" ] && kill "$(cat "$work/slurmctld.pid")" 2>/dev/null || true
    [ -f "$work/munged.pid" ] && kill "$(cat "$work/munged.pid")" 2>/dev/null || true
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

# munge: authentication between the SLURM daemons and commands, with its own socket.
mkdir -p "$work/munge"
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    chmod 400 /etc/munge/munge.key
fi
chown root /etc/munge/munge.key "$work/munge"
munged --force --socket="$work/munge/munge.socket" --pid-file="$work/munged.pid" \
    --log-file="$work/munged.log" --seed-file="$work/munge/seed" --key-file=/etc/munge/munge.key

mkdir -p "$work/state" "$work/spool" "$work/out"
cat > "$work/slurm.conf" <<CONF
ClusterName=celegans-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld
slurmd
for _ in $(seq 60); do
    sinfo -h -o %t 2>/dev/null | grep -q -E '^(idle|mix|alloc)' && break
    sleep 1
done
sinfo -h -o "%P %t %D" || { cat "$work/slurmctld.log" "$work/slurmd.log" >&2; exit 1; }

# The job: four tasks, one shard each, as docs/cluster.md gives it.
settings=(--scenario fcm --count 8 --duration 100 --settle 50 --dt 0.5 --seed 3)
cat > "$work/job.sh" <<JOB
#!/usr/bin/env bash
#SBATCH --array=0-3
#SBATCH --cpus-per-task=1
#SBATCH --output=$work/out/task_%a.log
set -euo pipefail
"$celegans" dataset generate ${settings[*]} --shard slurm --out "$work/out/shard_\${SLURM_ARRAY_TASK_ID}.h5"
JOB
sbatch --wait "$work/job.sh" || { cat "$work/out/"*.log "$work/slurmctld.log" >&2; exit 1; }
cat "$work/out/"task_*.log
"$celegans" dataset merge "$work"/out/shard_{0,1,2,3}.h5 --out "$work/merged.h5"
"$celegans" dataset generate "${settings[@]}" --out "$work/single.h5"
cmp "$work/merged.h5" "$work/single.h5"
echo "slurm array: 4 tasks merged into the single run's dataset, byte for byte"
