#!/usr/bin/env bash
# Installs, builds, and runs weld on a model family it generates: a base and two fine-tunes
# shaped like a small Llama, merged three ways. Everything lands in ./demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
weld=build/weld
rm -rf demo && mkdir -p demo

echo "== weld synth: a base and two fine-tunes (8 layers, hidden 256, bf16, a byte vocabulary)"
$weld synth demo/models --layers 8 --hidden 256 --intermediate 704 --vocab bytes --heads 8 --kv-heads 4
$weld inspect demo/models/base | sed -n 1,5p

cat > demo/task_arithmetic.yml <<YAML
merge_method: task_arithmetic
base_model: demo/models/base
models:
  - model: demo/models/ft-1
    parameters: {weight: 0.7}
  - model: demo/models/ft-2
    parameters:
      weight: [{filter: mlp, value: [0.2, 0.8]}, {value: 0.5}]
parameters: {lambda: 1.0}
dtype: float32
out_dtype: bfloat16
YAML
cat > demo/soup.yml <<YAML
merge_method: linear
models:
  - model: demo/models/ft-1
    parameters: {weight: 1.0}
  - model: demo/models/ft-2
    parameters: {weight: 1.0}
YAML
cat > demo/stack.yml <<YAML
merge_method: passthrough
slices:
  - sources: [{model: demo/models/ft-1, layer_range: [0, 6]}]
  - sources: [{model: demo/models/ft-2, layer_range: [2, 8]}]
YAML

echo; echo "== the plan of a task-arithmetic merge (first tensors)"
$weld merge demo/task_arithmetic.yml demo/merged-ta --dry-run | sed -n 1,16p
for recipe in task_arithmetic soup stack; do
  echo; echo "== weld merge demo/$recipe.yml"
  $weld merge demo/$recipe.yml demo/merged-$recipe --out-shard-size 20M
done
echo; echo "== the stacked model: 12 layers from two 8-layer models"
$weld inspect demo/merged-stack | sed -n 1,5p
echo; echo "== weld eval: every model and merge on the bytes of README.md (random weights: about 8 bits per byte)"
$weld eval -q demo/models/base demo/models/ft-1 demo/models/ft-2 demo/merged-task_arithmetic \
  demo/merged-soup demo/merged-stack --text README.md --context 256
echo; echo "demo models and merges are in ./demo"
