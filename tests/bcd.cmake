# Tests of the BCD engine of --method admm --preset best (issue 6); included from tests/CMakeLists.txt.
# test_bcd_<prec>: each block step against its optimality condition or a brute-force search,
# the merit non-increasing within sweeps, re-anchoring = forward loss, pair initialisation,
# at 1 and 2 ranks; then 3 sweeps dumped at 1 and 2 ranks and compared, and 3 mini-batch epochs
# (--bcd-batches 7, without and with --augment 1) likewise.
set(BCD_MPIEXEC ${MPIEXEC}) # tests/CMakeLists.txt: nn-mpiexec, MPIEXEC_* honoured
set(BCD_DIR ${CMAKE_CURRENT_BINARY_DIR})

foreach(prec f64 f32)
  add_executable(test_bcd_${prec} ${CMAKE_CURRENT_LIST_DIR}/test_bcd.c)
  target_link_libraries(test_bcd_${prec} PRIVATE nnkernels_${prec})
  if(prec STREQUAL f32)
    target_compile_definitions(test_bcd_${prec} PRIVATE NN_FLOAT32)
  endif()
  foreach(np 1 2)
    add_test(NAME bcd_${prec}_np${np} COMMAND ${BCD_MPIEXEC} -n ${np} $<TARGET_FILE:test_bcd_${prec}>)
    set_tests_properties(bcd_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         LABELS bcd PROCESSORS ${np})
    add_test(NAME bcd_dump_${prec}_np${np}
             COMMAND ${BCD_MPIEXEC} -n ${np} $<TARGET_FILE:test_bcd_${prec}> dump ${BCD_DIR}/bcd-${prec}-np${np}.bin)
    set_tests_properties(bcd_dump_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         FIXTURES_SETUP bcd_dump_${prec}_np${np} LABELS bcd PROCESSORS ${np})
    add_test(NAME bcd_dump_batches_${prec}_np${np}
             COMMAND ${BCD_MPIEXEC} -n ${np} $<TARGET_FILE:test_bcd_${prec}> dump-batches ${BCD_DIR}/bcd-batches-${prec}-np${np}.bin)
    set_tests_properties(bcd_dump_batches_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         FIXTURES_SETUP bcd_dump_batches_${prec}_np${np} LABELS bcd PROCESSORS ${np})
    add_test(NAME bcd_dump_augment_${prec}_np${np}
             COMMAND ${BCD_MPIEXEC} -n ${np} $<TARGET_FILE:test_bcd_${prec}> dump-augment ${BCD_DIR}/bcd-augment-${prec}-np${np}.bin)
    set_tests_properties(bcd_dump_augment_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         FIXTURES_SETUP bcd_dump_augment_${prec}_np${np} LABELS bcd PROCESSORS ${np})
  endforeach()
endforeach()

# The same sweeps at 1 and 2 ranks: equal up to the order of the cross-rank sums.
add_test(NAME bcd_np1_vs_np2_f64 COMMAND ${BCD_MPIEXEC} -n 1 $<TARGET_FILE:test_bcd_f64> cmp
                                         ${BCD_DIR}/bcd-f64-np1.bin ${BCD_DIR}/bcd-f64-np2.bin 1e-8)
set_tests_properties(bcd_np1_vs_np2_f64 PROPERTIES FIXTURES_REQUIRED "bcd_dump_f64_np1;bcd_dump_f64_np2" TIMEOUT 60
                     LABELS bcd)
add_test(NAME bcd_np1_vs_np2_f32 COMMAND ${BCD_MPIEXEC} -n 1 $<TARGET_FILE:test_bcd_f64> cmp
                                         ${BCD_DIR}/bcd-f32-np1.bin ${BCD_DIR}/bcd-f32-np2.bin 1e-3)
set_tests_properties(bcd_np1_vs_np2_f32 PROPERTIES FIXTURES_REQUIRED "bcd_dump_f32_np1;bcd_dump_f32_np2" TIMEOUT 60
                     LABELS bcd)
# Mini-batch bcd (--bcd-batches): the batches are fixed by global sample index, so 1 and 2 ranks
# run the same sweeps, equal up to the order of the cross-rank sums.
foreach(prec f64 f32)
  if(prec STREQUAL f64)
    set(tol 1e-8)
  else()
    set(tol 1e-3)
  endif()
  add_test(NAME bcd_batches_np1_vs_np2_${prec} COMMAND ${BCD_MPIEXEC} -n 1 $<TARGET_FILE:test_bcd_f64> cmp
                                         ${BCD_DIR}/bcd-batches-${prec}-np1.bin ${BCD_DIR}/bcd-batches-${prec}-np2.bin ${tol})
  set_tests_properties(bcd_batches_np1_vs_np2_${prec} PROPERTIES
                       FIXTURES_REQUIRED "bcd_dump_batches_${prec}_np1;bcd_dump_batches_${prec}_np2" TIMEOUT 60 LABELS bcd)
  # and with --augment 1 on 4 x 4 inputs: the shifts are drawn by global sample index too
  add_test(NAME bcd_augment_np1_vs_np2_${prec} COMMAND ${BCD_MPIEXEC} -n 1 $<TARGET_FILE:test_bcd_f64> cmp
                                         ${BCD_DIR}/bcd-augment-${prec}-np1.bin ${BCD_DIR}/bcd-augment-${prec}-np2.bin ${tol})
  set_tests_properties(bcd_augment_np1_vs_np2_${prec} PROPERTIES
                       FIXTURES_REQUIRED "bcd_dump_augment_${prec}_np1;bcd_dump_augment_${prec}_np2" TIMEOUT 60 LABELS bcd)
endforeach()
