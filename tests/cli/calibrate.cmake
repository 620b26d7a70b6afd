# dlc calibrate on records of tiny.dlc's model written from known parameters
# (cli/calibrate/make_fixtures.py: conv 0.5, matmul 0.4, elementwise 0.5,
# pooling 0.6, memory 0.9, 2 us on a 100 GFLOP/s, 10 GB/s CPU; infer.json off by
# a few %): the fit recovers them, the spec it writes checks
# clean, and simulating tiny.dlc with it gives back the measured times.
set(CAL ${CMAKE_CURRENT_SOURCE_DIR}/cli/calibrate)
set(CAL_OUT ${CMAKE_CURRENT_BINARY_DIR}/calibrate)
file(MAKE_DIRECTORY ${CAL_OUT})
configure_file(${CAL}/tiny.dlc ${CAL_OUT}/tiny.dlc COPYONLY)  # imports calibrated.dlc from beside it

dlc_cli_test(calibrate-table 0 ARGS calibrate ${CAL}/train.json ${CAL}/infer.json -o ${CAL_OUT}/both.dlc
             STDOUT_FILE ${CAL}/table.expect)
dlc_cli_test(calibrate-json 0 ARGS calibrate ${CAL}/train.json --format json --device Fitted -o ${CAL_OUT}/fitted.dlc
             STDOUT "^{\n  \"schema\": \"dlc.calibration/1\",.*\"class\": \"conv\",.*\"efficiency\": 0.5[0-9]*,.*\"sample_mape_after\": [0-9.e-]+,")
dlc_cli_test(calibrate-write 0 ARGS calibrate ${CAL}/train.json -o ${CAL_OUT}/calibrated.dlc STDOUT "per-sample MAPE")
dlc_cli_test(calibrate-check 0 ARGS check ${CAL_OUT}/calibrated.dlc STDOUT "calibrated.dlc: ok")
dlc_cli_test(calibrate-check-both 0 ARGS check -q ${CAL_OUT}/both.dlc STDOUT "^$")
dlc_cli_test(calibrate-check-fitted 0 ARGS check ${CAL_OUT}/fitted.dlc STDOUT "fitted.dlc: ok")
set_tests_properties(cli/calibrate-write PROPERTIES FIXTURES_SETUP calibrated_spec)
set_tests_properties(cli/calibrate-table PROPERTIES FIXTURES_SETUP calibrated_both)
set_tests_properties(cli/calibrate-json PROPERTIES FIXTURES_SETUP calibrated_fitted)
set_tests_properties(cli/calibrate-check PROPERTIES FIXTURES_REQUIRED calibrated_spec)
set_tests_properties(cli/calibrate-check-both PROPERTIES FIXTURES_REQUIRED calibrated_both)
set_tests_properties(cli/calibrate-check-fitted PROPERTIES FIXTURES_REQUIRED calibrated_fitted)
# The written spec, simulated: each layer's forward, backward and update as measured (train.json).
dlc_cli_test(calibrate-simulate 0 ARGS simulate ${CAL_OUT}/tiny.dlc --format table STDOUT_FILE ${CAL}/simulate.expect)
set_tests_properties(cli/calibrate-simulate PROPERTIES FIXTURES_REQUIRED calibrated_spec)

# Errors: FILE: message, exit code 1.
dlc_cli_test(calibrate-missing 1 ARGS calibrate ${CAL}/nothing.json -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: [^\n]*/nothing.json: cannot read: no such file\n$")
dlc_cli_test(calibrate-not-json 1 ARGS calibrate ${CAL}/tiny.dlc -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: [^\n]*/tiny.dlc: not valid JSON\n$")
dlc_cli_test(calibrate-not-a-result 1 ARGS calibrate ${CAL}/not_a_result.json -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: [^\n]*/not_a_result.json: not a dlc.result/1 record [(]dlc simulate --format json writes one[)]\n$")
dlc_cli_test(calibrate-simulated 1 ARGS calibrate ${CMAKE_CURRENT_SOURCE_DIR}/cli/compare/predicted.json -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: [^\n]*/predicted.json: not a measured record [(]\"source\": \"simulated\"[)]: dlc run writes measured ones\n$")
dlc_cli_test(calibrate-no-device-model 1 ARGS calibrate ${CMAKE_CURRENT_SOURCE_DIR}/cli/compare/measured.json -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: [^\n]*/measured.json: a measured record without \"device_model\": calibration needs the peak and bandwidth it was measured against\n$")
dlc_cli_test(calibrate-no-work 1 ARGS calibrate ${CAL}/no_work.json -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: [^\n]*/no_work.json: no layer has \"work\" and \"class\": nothing to fit\n$")
dlc_cli_test(calibrate-other-device 1 ARGS calibrate train.json other_device.json -o ${CAL_OUT}/x.dlc WORKDIR ${CAL}
             STDERR "^dlc: error: other_device.json: measured against device model 'Other CPU' [(]cpu, peak 2e[+]11 FLOP/s, 1e[+]10 B/s[)], but train.json against 'Test CPU' [(]cpu, peak 1e[+]11 FLOP/s, 1e[+]10 B/s[)]: calibrate one device at a time\n$")
dlc_cli_test(calibrate-precision 1 ARGS calibrate train.json fp16.json -o ${CAL_OUT}/x.dlc WORKDIR ${CAL}
             STDERR "^dlc: error: fp16.json: precision fp16 differs from fp32 of train.json: the peak depends on it, calibrate one precision at a time\n$")
dlc_cli_test(calibrate-bad-name 1 ARGS calibrate ${CAL}/train.json --device 2fast -o ${CAL_OUT}/x.dlc
             STDERR "^dlc: error: --device: '2fast' is not a name [(]a letter or _, then letters, digits and _[)]\n$")
dlc_cli_test(calibrate-unwritable 1 ARGS calibrate ${CAL}/train.json -o /nonexistent/dir/x.dlc
             STDERR "^dlc: error: cannot write '/nonexistent/dir/x.dlc'")
dlc_cli_test(calibrate-no-output 1 ARGS calibrate ${CAL}/train.json STDERR "--output is required")

# A fit that makes its own input's step worse says so (a ResNet-18 training
# record measured on a Zen 5: the step predicted +1.3% off by the defaults,
# -28.7% by the fit, which lowers each class's error but not the sum's).
dlc_cli_test(calibrate-worse-step 0 ARGS calibrate ${CAL}/resnet18_step_worse.json -o ${CAL_OUT}/worse.dlc
             STDERR "^dlc calibrate: warning: the fitted spec predicts the step of ResNet18 \\(e_ResNet18\\) worse than the spec it started from: -28.7% against \\+1.3% before\n$")
dlc_cli_test(calibrate-worse-step-json 0 ARGS calibrate ${CAL}/resnet18_step_worse.json -o ${CAL_OUT}/worse.dlc --format json
             STDOUT "\"warnings\": \\[\n    \"the fitted spec predicts the step of ResNet18")
# A layer that ran on reference kernels is left out of the fit.
dlc_cli_test(calibrate-reference-kernels 0 ARGS calibrate ${CAL}/reference_kernel.json -o ${CAL_OUT}/ref.dlc
             STDOUT "\nnote: 1 layer\\(s\\) ran on the backend's reference kernels and were left out\n")
