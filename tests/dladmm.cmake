# Tests of --method dladmm (issue 15); included from tests/CMakeLists.txt.
# test_dladmm_<prec>: every step against plain-loop references (exact b, W and a steps by
# backtracking with their sufficient-decrease condition, the z steps against brute force, the
# output step against gradient descent), the augmented Lagrangian never rising at rho = 2, at
# 1 and 2 ranks; then 5 iterations dumped at 1 and 2 ranks and compared.
set(DLADMM_DIR ${CMAKE_CURRENT_BINARY_DIR})

foreach(prec f64 f32)
  add_executable(test_dladmm_${prec} ${CMAKE_CURRENT_LIST_DIR}/test_dladmm.c)
  target_link_libraries(test_dladmm_${prec} PRIVATE nnkernels_${prec})
  if(prec STREQUAL f32)
    target_compile_definitions(test_dladmm_${prec} PRIVATE NN_FLOAT32)
  endif()
  foreach(np 1 2)
    add_test(NAME dladmm_${prec}_np${np} COMMAND ${MPIEXEC} -n ${np} $<TARGET_FILE:test_dladmm_${prec}>)
    set_tests_properties(dladmm_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         LABELS bcd PROCESSORS ${np})
    add_test(NAME dladmm_dump_${prec}_np${np}
             COMMAND ${MPIEXEC} -n ${np} $<TARGET_FILE:test_dladmm_${prec}> dump
                     ${DLADMM_DIR}/dladmm-${prec}-np${np}.bin)
    set_tests_properties(dladmm_dump_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         FIXTURES_SETUP dladmm_dump_${prec}_np${np} LABELS bcd PROCESSORS ${np})
  endforeach()
endforeach()

# The same iterations at 1 and 2 ranks: equal up to the order of the cross-rank sums (and of
# the backtracking decisions, which take the same branch unless a sum lands on a power of 2).
add_test(NAME dladmm_np1_vs_np2_f64 COMMAND ${MPIEXEC} -n 1 $<TARGET_FILE:test_dladmm_f64> cmp
                                            ${DLADMM_DIR}/dladmm-f64-np1.bin ${DLADMM_DIR}/dladmm-f64-np2.bin 1e-8)
set_tests_properties(dladmm_np1_vs_np2_f64 PROPERTIES FIXTURES_REQUIRED "dladmm_dump_f64_np1;dladmm_dump_f64_np2"
                     TIMEOUT 60 LABELS bcd)
add_test(NAME dladmm_np1_vs_np2_f32 COMMAND ${MPIEXEC} -n 1 $<TARGET_FILE:test_dladmm_f64> cmp
                                            ${DLADMM_DIR}/dladmm-f32-np1.bin ${DLADMM_DIR}/dladmm-f32-np2.bin 1e-4)
set_tests_properties(dladmm_np1_vs_np2_f32 PROPERTIES FIXTURES_REQUIRED "dladmm_dump_f32_np1;dladmm_dump_f32_np2"
                     TIMEOUT 60 LABELS bcd)
