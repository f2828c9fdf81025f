# Tests of the checkpoint file module (io/checkpoint.c, issue 14); included from tests/CMakeLists.txt.
# checkpoint_npN: the suite at N ranks (round trips under several partitions, every refusal,
# damaged files). checkpoint_write_npW / checkpoint_read_npW_npR: written at W ranks, read back
# bit for bit at R. checkpoint_full_disk: a checkpoint that meets a full file system (a 1 MiB
# tmpfs) fails and leaves the previous one intact; skipped (ctest: Skipped) where mount is denied.
set(CKPT_MPIEXEC ${MPIEXEC}) # tests/CMakeLists.txt: nn-mpiexec, MPIEXEC_* honoured
set(CKPT_DIR ${CMAKE_CURRENT_BINARY_DIR}/checkpoint)
file(MAKE_DIRECTORY ${CKPT_DIR})

add_executable(test_checkpoint ${CMAKE_CURRENT_LIST_DIR}/test_checkpoint.c)
target_link_libraries(test_checkpoint PRIVATE nncore)

foreach(np 1 2 3)
  add_test(NAME checkpoint_np${np} COMMAND ${CKPT_MPIEXEC} -n ${np} $<TARGET_FILE:test_checkpoint> ${CKPT_DIR}/np${np})
  set_tests_properties(checkpoint_np${np} PROPERTIES TIMEOUT 300 LABELS io PROCESSORS ${np})
endforeach()

foreach(w 2 3)
  add_test(NAME checkpoint_write_np${w}
           COMMAND ${CKPT_MPIEXEC} -n ${w} $<TARGET_FILE:test_checkpoint> write ${CKPT_DIR}/written-np${w}.h5)
  set_tests_properties(checkpoint_write_np${w} PROPERTIES TIMEOUT 120 LABELS io PROCESSORS ${w}
                       FIXTURES_SETUP checkpoint_np${w}_file)
endforeach()
foreach(pair 2:1 2:3 3:2)
  string(REPLACE ":" ";" wr ${pair})
  list(GET wr 0 w)
  list(GET wr 1 r)
  add_test(NAME checkpoint_read_np${w}_np${r}
           COMMAND ${CKPT_MPIEXEC} -n ${r} $<TARGET_FILE:test_checkpoint> read ${CKPT_DIR}/written-np${w}.h5)
  set_tests_properties(checkpoint_read_np${w}_np${r} PROPERTIES TIMEOUT 120 LABELS io PROCESSORS ${r}
                       FIXTURES_REQUIRED checkpoint_np${w}_file)
endforeach()

add_test(NAME checkpoint_full_disk COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_checkpoint_disk.sh
                                           $<TARGET_FILE:test_checkpoint> ${CKPT_MPIEXEC})
set_tests_properties(checkpoint_full_disk PROPERTIES TIMEOUT 180 LABELS io PROCESSORS 2 SKIP_RETURN_CODE 77
                     ENVIRONMENT "NN_TEST_MPI_FLAVOR=${NN_MPI_FLAVOR}")
