# Crossbar chips (docs/crossbar.md): the example's tables are golden (their
# chip figures are ISAAC-CE's published ones, checked in
# tests/unit/simulator/crossbar_test.cpp), the functional model and the
# Hopfield runs are seeded and reproduce exactly, and refused experiments
# say why at the experiment.
set(XB ${CMAKE_CURRENT_SOURCE_DIR}/cli/crossbar)

dlc_cli_test(crossbar-dpe-summary 0 ARGS simulate ${EX}/dpe.dlc --format table STDOUT_FILE ${XB}/dpe.table.expect)
dlc_cli_test(crossbar-acoustic-layers 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac --format table
             STDOUT_FILE ${XB}/acoustic_isaac.table.expect)
dlc_cli_test(crossbar-functional 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_dpe --functional --format table
             STDOUT_FILE ${XB}/acoustic_dpe.functional.expect)
dlc_cli_test(crossbar-functional-json 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac --functional
             --samples 1 --format json
             STDOUT "\"functional\": \\[\n    {\n      \"name\": \"layer1.fc1\",.*\"inputs\": 540,.*\"exact\": false")
dlc_cli_test(crossbar-functional-not-crossbar 1 ARGS simulate ${EX}/dpe.dlc --experiment resnet50_v100 --functional
             --color=never STDERR "--functional: 'resnet50_v100' runs on 'V100', which is not a crossbar chip")
# A crossbar's figures are the cost model's parameters: a sweep of the read time.
dlc_cli_test(crossbar-scale-read-time 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac
             --scale crossbar.read_time=100ns,50ns --format csv STDOUT "^crossbar.read_time,.*\n100ns,[^\n]*\n50ns,")
dlc_cli_test(crossbar-hopfield 0 ARGS simulate ${EX}/hopfield_maxcut.dlc --experiment torus16 --format table
             STDOUT_FILE ${XB}/torus16.table.expect)
dlc_cli_test(crossbar-hopfield-summary 0 ARGS simulate ${EX}/hopfield_maxcut.dlc --format table
             STDOUT "random20 +hopfield +hopfield_chip +1 +60.0 us")
dlc_cli_test(crossbar-hopfield-set 1 ARGS simulate ${EX}/hopfield_maxcut.dlc --set batch=2
             STDERR "the hopfield experiment 'random20' has none")

# Refused experiments, at the experiment's name (run from the source tree so
# that the paths in the messages are relative).
set(XE tests/cli/crossbar/errors.dlc)
function(crossbar_error name message)
  dlc_cli_test(crossbar-error-${name} 1 ARGS simulate ${XE} --experiment ${name} --color=never
               STDERR "^${XE}:[0-9]+:12: error: ${message}\n  experiment ${name} " WORKDIR ${CMAKE_SOURCE_DIR})
endfunction()
crossbar_error(training "'isaac_ce' is a crossbar chip: it runs inference only, its weights programmed once [(]write phase = inference[)]")
crossbar_error(on_gpu "a hopfield experiment runs on a crossbar chip; 'V100' is a device")
crossbar_error(no_file "cannot read the graph file 'tests/cli/crossbar/missing.txt'")
crossbar_error(bad_file "tests/cli/crossbar/bad_graph.txt:3: node 9 out of range: nodes are numbered 1 to 3")
crossbar_error(no_nodes "random[(]...[)] needs nodes = N [(]at least 2[)]")
crossbar_error(too_big "random[(]nodes = 100000, density = 0.5[)] has about 2.5e[+]09 edges; dlc keeps graphs to 2e[+]07")
crossbar_error(too_long "1000000 trials of 1000000 sweeps over 20 nodes is about 8e[+]14 multiply-adds; dlc runs up to 2e[+]10 [(]fewer trials or sweeps[)]")
crossbar_error(exp_schedule "an exponential schedule needs noise_start and noise_end both above 0 [(]or both 0[)]")

# dlc run measures CPUs: a crossbar chip or a Hopfield experiment is refused.
dlc_cli_test(crossbar-run-refused 1 ARGS run ${EX}/dpe.dlc --experiment acoustic_isaac --color=never
             STDERR "error: experiment 'acoustic_isaac' runs on the crossbar chip 'isaac_ce': dlc run measures")
dlc_cli_test(crossbar-run-hopfield-refused 1 ARGS run ${EX}/hopfield_maxcut.dlc --experiment random20 --color=never
             STDERR "error: experiment 'random20' is a Hopfield network on a crossbar chip")
# The functional model holds each array cell by cell, and refuses a layer of a million 1 x 1 arrays.
dlc_cli_test(crossbar-functional-too-many-arrays 1 ARGS simulate ${XB}/tiny_arrays.dlc --functional --color=never
             STDERR "error: --functional: layer 'layer1.fc1' would take 1.11e[+]06 arrays of 1 x 1; the functional model holds up to 1048576 per layer")
dlc_cli_test(crossbar-hopfield-inherited-file 0 ARGS simulate ${XB}/inherits.dlc --experiment fewer --format table
             STDOUT "graph graphs/mc_16.txt: 16 nodes, 48 edges; best cut 20 [(]brute force[)]\n10 trials of 15 sweeps")
dlc_cli_test(crossbar-csv 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac --format csv
             STDOUT "^name,op,mapped,arrays,replicas,mvms,adc_conversions,latency_s,energy_j,area_m2,utilisation\nlayer1.fc1,fc,true,640,1,1,1320960,[^\n]*\n.*\n[(]total[)],,,17024,,,,")
dlc_cli_test(crossbar-hopfield-csv 0 ARGS simulate ${EX}/hopfield_maxcut.dlc --experiment torus16 --format csv
             STDOUT "^key,value\ngraph,graphs/mc_16.txt\nnodes,16\nedges,48\noptimum,20\n.*success_rate,0.87\nsuccess_rate_noise_free,0.36\n")
# ADC bits: 2x power and area per bit (65.81 W at 8 bits; the ADCs' 32.26 W doubles at 9).
dlc_cli_test(crossbar-scale-adc-bits 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac
             --scale crossbar.adc_bits=7,8,9 --format table
             STDOUT " 7 +1 +33.8 us +473.6K .* 49.68 W [^\n]*\n +8 .* 65.81 W [^\n]*\n +9 .* 98.06 W ")
# A swept chip parameter rebuilds the mapping, and the sweep shows what it
# changes. ResNet-50, B = 16, on ISAAC-CE (16,128 arrays a chip): replication
# fills the chips the model needs anyway, 2 at 64 rows (32,224 arrays), 1 at
# 128 (16,128) and 256 (15,736); area = chips x chip area (85.25, 85.42,
# 85.77 mm²: an array's area grows with its rows), 2 x 85.25 = 170.51 mm².
dlc_cli_test(crossbar-scale-rows 0 ARGS simulate ${EX}/dpe.dlc --experiment resnet50_isaac
             --scale crossbar.rows=64,128,256 --format table STDOUT_FILE ${XB}/resnet50_rows.scale.expect)
# The acoustic model's recurrent layers are never copied: chips =
# ceil(arrays / 16,128) = 3, 2, 1 for 33,920, 17,024 and 8,576 arrays.
dlc_cli_test(crossbar-scale-rows-csv 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac
             --scale crossbar.rows=64,128,256 --format csv
             STDOUT "^crossbar.rows,devices,iteration_s,samples_per_s,total_s,error,arrays,chips,area_m2,chip_power_w,energy_per_sample_j\n64,1,[^\n]*,,,33920,3,0.000255[^\n]*\n128,1,[^\n]*,,,17024,2,0.000170[^\n]*\n256,1,[^\n]*,,,8576,1,8.57[^\n]*\n$")
dlc_cli_test(crossbar-scale-rows-json 0 ARGS simulate ${EX}/dpe.dlc --experiment acoustic_isaac
             --scale crossbar.rows=64,128 --format json
             STDOUT "\"value\": \"64\",.*\"arrays\": 33920.0,\n +\"chips\": 3.0,\n +\"area_m2\": 0.000255[0-9]*,\n +\"chip_power_w\": 61.77[0-9]*,\n +\"energy_per_sample_j\": 0.000239[0-9]*\n.*\"value\": \"128\",.*\"arrays\": 17024.0,\n +\"chips\": 2.0,")
# --set crossbar.rows=64 means what a declared rows = 64 means: the same
# mapping, copies, chips and speed (step = 14.92 ms + 15 x 627.2 us = 24.33 ms;
# 16 / 24.33 ms = 657.6 samples/s).
set(rows64 "\nmodel: 32,224 arrays on 2 chip[(]s[)] [(]99.9% used[)]; latency 14.92 ms, pipelined interval 627.2 us: 657.6 samples/s;.*; 170.51 mm²\n$")
dlc_cli_test(crossbar-rows-set 0 ARGS simulate ${EX}/dpe.dlc --experiment resnet50_isaac --set crossbar.rows=64
             --format table STDOUT "${rows64}")
dlc_cli_test(crossbar-rows-declared 0 ARGS simulate ${XB}/rows64.dlc --experiment resnet50_rows64 --format table
             STDOUT "${rows64}")
