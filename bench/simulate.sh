#!/usr/bin/env bash
# Benchmark: simulate ResNet-152 training on a 1,024-node cluster (target
# <= 5 ms for lowering, building and evaluating the model) and a 1,000-point
# sweep of the node count; then the same through the command line.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bin/dlc_bench_simulate bench/resnet152_1024_nodes.dlc resnet152_big
build/bin/dlc simulate bench/resnet152_1024_nodes.dlc --stats --format json > /dev/null
build/bin/dlc simulate bench/resnet152_1024_nodes.dlc --stats --scale "nodes=$(seq -s, 1 1000)" --format csv > /dev/null
# Llama 3.1 405B on 16,384 H100 with tensor, pipeline (interleaved) and data parallelism (target < 10 ms).
build/bin/dlc_bench_simulate bench/llama405b_16k.dlc llama405b_16k
build/bin/dlc simulate bench/llama405b_16k.dlc --stats --format json > /dev/null
