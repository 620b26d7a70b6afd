# dlc run on the CPU (oneDNN). Timings are never asserted; these pin what
# must hold on any machine: every op kind against the reference, the memory
# check, the measured record's shape, and the errors.
set(RUN_SPECS ${CMAKE_CURRENT_SOURCE_DIR}/cli/run)

# oneDNN picks other kernels on AVX-512 machines than on AVX2 ones (and 2.6.3
# has defects on AVX-512 only): a run test through this function runs twice,
# on the machine's own ISA and with ONEDNN_MAX_CPU_ISA=AVX2 (`<name>-avx2`),
# so a developer on either kind of machine sees both paths.
function(dlc_run_test_both_isas name code)
  dlc_cli_test(${name} ${code} ${ARGN})
  dlc_cli_test(${name}-avx2 ${code} ${ARGN})
  set_tests_properties(cli/${name}-avx2 PROPERTIES ENVIRONMENT ONEDNN_MAX_CPU_ISA=AVX2)
endfunction()

# Every op kind the runtime lowers, forward and backward, against the C++
# reference implementations (tolerance 1e-4 relative to the largest value).
dlc_run_test_both_isas(run-check-every-op-training 0 ARGS run ${RUN_SPECS}/every_op.dlc --experiment train --check --threads 2
             STDOUT "\n27 layer\\(s\\) of 21 op kind\\(s\\): 27 passed, 0 failed; largest error [0-9.]+e-[0-9]+ \\(tolerance 1e-04\\)\n$")
dlc_run_test_both_isas(run-check-every-op-inference 0 ARGS run ${RUN_SPECS}/every_op.dlc --experiment infer --check --threads 2
             STDOUT "checked on.*\n27 layer\\(s\\) of 21 op kind\\(s\\): 27 passed, 0 failed")
# The sequence ops (embedding, position_embedding, attention causal or not,
# lstm and gru with their variants, select), forward and backward.
dlc_run_test_both_isas(run-check-sequence-training 0 ARGS run ${RUN_SPECS}/sequence.dlc --experiment train --check --threads 2
             STDOUT "\n12 layer\\(s\\) of 8 op kind\\(s\\): 12 passed, 0 failed; largest error [0-9.]+e-[0-9]+ \\(tolerance 1e-04\\)\n$")
dlc_run_test_both_isas(run-check-sequence-inference 0 ARGS run ${RUN_SPECS}/sequence.dlc --experiment infer --check --threads 2
             STDOUT "checked on.*\n12 layer\\(s\\) of 8 op kind\\(s\\): 12 passed, 0 failed")
dlc_cli_test(run-sequence-training 0 ARGS run ${RUN_SPECS}/sequence.dlc --experiment train --warmup 1 --iters 2 --format json
             STDOUT "\"source\": \"measured\".*\"phase\": \"training\".*\"name\": \"lstm1\".*\"device_model\"")
# The library's CNNs, layer by layer (GoogLeNet: LRN, ceil-mode pooling, inception concats).
dlc_run_test_both_isas(run-check-googlenet 0 ARGS run ${RUN_SPECS}/models.dlc --experiment googlenet --check --threads 2
             STDOUT "\n143 layer\\(s\\) of 10 op kind\\(s\\): 143 passed, 0 failed")

# BERT-base: attention's 12 heads must divide the features, so its layers are
# checked on 8 tokens of their 768 features (the 8 -> 3072 fc crashed oneDNN
# 2.6.3's AVX-512 brgemm backward data with 2 threads).
dlc_run_test_both_isas(run-check-bert 0 ARGS run ${RUN_SPECS}/models.dlc --experiment bert --check --threads 2
             STDOUT "\n129 layer\\(s\\) of 10 op kind\\(s\\): 129 passed, 0 failed")

# The memory check, computed by hand in memory.dlc, refuses before allocating.
# dlc decides the activations, gradients and workspace (pinned); oneDNN decides
# the weights' format (1,000 outputs padded to 1,008 on AVX-512: 4.03 MB) and
# the scratchpad (0 with gemm:jit on AVX2, some kB with brgemm on AVX-512).
dlc_cli_test(run-memory-over-limit 1 ARGS run ${RUN_SPECS}/memory.dlc --experiment small --max-memory 10MB
             STDERR "^[^\n]*memory.dlc:12:12: error: the run needs 12\\.[0-9] MB \\(activations 8.0 MB, gradients 0 B, weights 4\\.[0-9] MB, workspace 0 B, scratchpad ([0-9]+ B|[0-9]+\\.[0-9] kB)\\), more than --max-memory 10MB \\(10.0 MB\\); nothing was allocated. Lower the batch \\(now 1000\\) or raise --max-memory\n")
dlc_cli_test(run-memory-terabytes 1 ARGS run ${RUN_SPECS}/memory.dlc --experiment huge
             STDERR "error: the run needs [0-9.]+ TB \\(activations [0-9.]+ TB, .*\\), more than the memory available now \\([0-9.]+ GB\\); nothing was allocated")
dlc_cli_test(run-memory-bad-limit 1 ARGS run ${RUN_SPECS}/memory.dlc --experiment small --max-memory 10
             STDERR "^dlc: error: --max-memory 10: expected a size with a unit \\(8GB, 512MiB\\)\n$")
# Under the limit it runs: the measured record names its layers as dlc simulate does.
dlc_cli_test(run-json 0 ARGS run ${RUN_SPECS}/memory.dlc --experiment small --max-memory 13MB --warmup 1 --iters 2 --format json
             STDOUT "\"source\": \"measured\".*\"name\": \"fc1\",\n      \"op\": \"fc\",.*\"class\": \"matmul\".*\"macs_forward\": 1000000.0.*\"device_model\"")
dlc_cli_test(run-table 0 ARGS run ${RUN_SPECS}/memory.dlc --experiment small --warmup 0 --iters 3 --threads 1 --format table
             STDOUT "OneFc on this machine \\(oneDNN CPU\\) \\(.*, oneDNN avx[a-z0-9_]*\\): inference, fp32.*fc1 +fc .*measured: 3 timed iteration\\(s\\) after 0 warm-up, 1 thread\\(s\\), 1 primitives.*dlc's own time between primitives")

# Errors, located at the experiment.
dlc_cli_test(run-fp16 1 ARGS run ${RUN_SPECS}/errors.dlc --experiment half
             STDERR "errors.dlc:4:12: error: dlc run on the CPU runs fp32; experiment 'half' asks for fp16 \\(set precision = fp32\\)")
dlc_cli_test(run-attention-gqa 1 ARGS run ${RUN_SPECS}/errors.dlc --experiment gqa
             STDERR "errors.dlc:12:12: error: layer 'attention1': the CPU runtime lowers multi-head attention only, and this one has kv_heads = 2, rotary = true\n")
dlc_cli_test(run-several-experiments 1 ARGS run ${RUN_SPECS}/errors.dlc
             STDERR "^dlc: error: .*errors.dlc declares 3 experiments \\(half, recurrent, gqa\\); choose one with --experiment NAME\n$")
dlc_cli_test(run-unknown-experiment 1 ARGS run ${RUN_SPECS}/errors.dlc --experiment hlaf
             STDERR "has no experiment 'hlaf'; did you mean 'half'\\?")
dlc_cli_test(run-no-file 1 ARGS run STDERR "^dlc: error: run needs a .dlc file with an experiment \\(or --describe-device\\)\n$")
dlc_cli_test(run-bad-iters 1 ARGS run ${RUN_SPECS}/errors.dlc --iters 0 STDERR "--iters")
# This machine is one CPU (systems.dlc): a GPU experiment is refused, and one
# on several devices runs one device's share only when asked (--one-device);
# the record names the processor and ISA that ran, device_model the spec's.
dlc_cli_test(run-one-device-share 0 ARGS run ${RUN_SPECS}/systems.dlc --experiment on_node --one-device --iters 1
             --warmup 0 --format json
             STDERR "^dlc run: on_node: this machine runs one device's share \\(batch 8\\) of the 2 devices of 'TwoSockets'; the exchange between them is not run\n$"
             STDOUT "\"system\": \"this machine \\(oneDNN CPU\\)\",\n  \"device\": \"[^\"]+, oneDNN avx[a-z0-9_]*\",.*\"batch\": 8,.*\"device_model\": {\n    \"name\": \"Here\",\n    \"kind\": \"cpu\"")
dlc_cli_test(run-on-gpu 1 ARGS run ${RUN_SPECS}/systems.dlc --experiment on_h100 --color=never
             STDERR "^[^\n]*systems.dlc:8:12: error: experiment 'on_h100' runs on 'H100', a gpu, but dlc run measures this machine's CPU: give the experiment a cpu device as its system \\(dlc run --describe-device writes one for this machine\\), or predict it with dlc simulate\n")
dlc_cli_test(run-on-cluster 1 ARGS run ${RUN_SPECS}/systems.dlc --experiment on_cluster --color=never
             STDERR "^[^\n]*systems.dlc:10:12: error: experiment 'on_cluster' runs on the 64 devices of 'Racks' \\(32 node\\(s\\) of 2\\); this machine is one: add --one-device to run one device's share \\(batch 8\\) here, without the exchange between them\n")
dlc_cli_test(run-on-node-unasked 1 ARGS run ${RUN_SPECS}/systems.dlc --experiment on_node --color=never
             STDERR "error: experiment 'on_node' runs on the 2 devices of 'TwoSockets' \\(1 node\\(s\\) of 2\\); this machine is one: add --one-device")

# --describe-device: a spec for this machine (figures vary; the form does not), that checks clean.
dlc_cli_test(run-describe-device 0 ARGS run --describe-device --threads 1 -o ${CMAKE_CURRENT_BINARY_DIR}/local_device.dlc
             STDERR "clock: [0-9.]+ GHz.*fp32: [0-9.]+ GFLOP/s measured.*memory_bandwidth: [0-9.]+ GB/s")
dlc_cli_test(run-describe-device-checks 0 ARGS check ${CMAKE_CURRENT_BINARY_DIR}/local_device.dlc
             STDOUT "local_device.dlc: ok")
set_tests_properties(cli/run-describe-device PROPERTIES FIXTURES_SETUP described_device)
set_tests_properties(cli/run-describe-device-checks PROPERTIES FIXTURES_REQUIRED described_device)

# oneDNN 2.6.3's AVX-512 brgemm inner product backward data crashed (exit 139)
# on a 16 -> 2048 fc with 2 threads, in a plain training run and in --check.
foreach(e batch2 batch64)
  dlc_run_test_both_isas(run-onednn-defect-${e} 0 ARGS run ${RUN_SPECS}/onednn_defects.dlc --experiment ${e}
                         --threads 2 --warmup 1 --iters 2 --format csv STDOUT "^name,op,forward_s,backward_s,update_s,bound\n")
endforeach()
dlc_run_test_both_isas(run-onednn-defect-check 0 ARGS run ${RUN_SPECS}/onednn_defects.dlc --experiment batch64
                       --threads 2 --check STDOUT "\n5 layer\\(s\\) of 2 op kind\\(s\\): 5 passed, 0 failed")

# No layer on a reference kernel where an optimised one exists (kernels.dlc):
# a causal mask, global average pooling's backward, softmax's backward on
# AVX2, a position embedding's gradient. dlc run names any layer that still
# runs on one, in a warning and with a mark in the table.
foreach(e causal_infer causal_train cnn_train positions)
  dlc_run_test_both_isas(run-no-reference-kernels-${e} 0 ARGS run ${RUN_SPECS}/kernels.dlc --experiment ${e}
                         --warmup 0 --iters 1 --format csv STDERR "^$")
endforeach()
# Softmax over a leading axis runs oneDNN 2.6's reference kernel on any ISA
# (dlc has no formulation of its own for it): that one is marked.
dlc_run_test_both_isas(run-reference-kernel-marked 0 ARGS run ${RUN_SPECS}/kernels.dlc --experiment column_softmax
                       --warmup 0 --iters 1 --format table
                       STDERR "^dlc run: warning: softmax1 ran on oneDNN's reference kernels \\(softmax forward \\(ref:any\\)\\); its time is far from what this machine can do: do not calibrate on it\n$"
                       STDOUT "\nsoftmax1 +softmax +[^\n]+ measured [*] [^\n]+\n[*] ran on reference kernels, far slower than this machine allows; do not calibrate on them:\n  softmax1: softmax forward \\(ref:any\\)\n")
dlc_run_test_both_isas(run-reference-kernel-json 0 ARGS run ${RUN_SPECS}/kernels.dlc --experiment column_softmax
                       --warmup 0 --iters 1 --format json
                       STDOUT "\"name\": \"softmax1\",[^}]*\"reference_kernels\": \\[\n +\"softmax forward \\(ref:any\\)\"\n +\\]")
# Each formulation computes what the reference does (kernels.dlc, --check).
dlc_run_test_both_isas(run-check-kernels 0 ARGS run ${RUN_SPECS}/kernels.dlc --experiment column_softmax --check
                       --threads 2 STDOUT "passed, 0 failed")
