"""Size and cost of networks: parameters, FLOPs at a fixed input, forward latency, the vision-toolbox table."""
