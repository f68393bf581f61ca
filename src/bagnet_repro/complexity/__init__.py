"""Size and cost of networks: parameters, FLOPs at a fixed input, forward latency, and seed 003's table."""
