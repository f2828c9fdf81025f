# Tests of --anderson (solver/anderson.c); included from tests/CMakeLists.txt.
# test_anderson_<prec>: the wrapper on a linear contraction against a serial reference
# implementation, its convergence against the plain iteration's, and the safeguard, at 1 and 2
# ranks; then 8 iterations of dladmm with --anderson 3 dumped at 1 and 2 ranks and compared
# (within a tolerance), and twice at 2 ranks (bit for bit).
set(ANDERSON_DIR ${CMAKE_CURRENT_BINARY_DIR})

foreach(prec f64 f32)
  add_executable(test_anderson_${prec} ${CMAKE_CURRENT_LIST_DIR}/test_anderson.c)
  target_link_libraries(test_anderson_${prec} PRIVATE nnkernels_${prec})
  if(prec STREQUAL f32)
    target_compile_definitions(test_anderson_${prec} PRIVATE NN_FLOAT32)
  endif()
  foreach(np 1 2)
    add_test(NAME anderson_${prec}_np${np} COMMAND ${MPIEXEC} -n ${np} $<TARGET_FILE:test_anderson_${prec}>)
    set_tests_properties(anderson_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         LABELS bcd PROCESSORS ${np})
  endforeach()
  foreach(run np1 np2 np2b)
    string(SUBSTRING ${run} 2 1 np)
    add_test(NAME anderson_dump_${prec}_${run}
             COMMAND ${MPIEXEC} -n ${np} $<TARGET_FILE:test_anderson_${prec}> dump ${ANDERSON_DIR}/anderson-${prec}-${run}.bin)
    set_tests_properties(anderson_dump_${prec}_${run} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         FIXTURES_SETUP anderson_dump_${prec}_${run} LABELS bcd PROCESSORS ${np})
  endforeach()
  # 1 vs 2 ranks: equal up to the order of the cross-rank sums (float64 1e-8, float32 1e-3 of the largest weight)
  if(prec STREQUAL f32)
    set(tol 1e-3)
  else()
    set(tol 1e-8)
  endif()
  add_test(NAME anderson_np1_vs_np2_${prec} COMMAND ${MPIEXEC} -n 1 $<TARGET_FILE:test_anderson_${prec}> cmp
                                                    ${ANDERSON_DIR}/anderson-${prec}-np1.bin ${ANDERSON_DIR}/anderson-${prec}-np2.bin ${tol})
  set_tests_properties(anderson_np1_vs_np2_${prec} PROPERTIES
                       FIXTURES_REQUIRED "anderson_dump_${prec}_np1;anderson_dump_${prec}_np2" TIMEOUT 60 LABELS bcd)
  add_test(NAME anderson_same_bits_${prec} COMMAND ${MPIEXEC} -n 1 $<TARGET_FILE:test_anderson_${prec}> cmp
                                                   ${ANDERSON_DIR}/anderson-${prec}-np2.bin ${ANDERSON_DIR}/anderson-${prec}-np2b.bin 0)
  set_tests_properties(anderson_same_bits_${prec} PROPERTIES
                       FIXTURES_REQUIRED "anderson_dump_${prec}_np2;anderson_dump_${prec}_np2b" TIMEOUT 60 LABELS bcd)
endforeach()
