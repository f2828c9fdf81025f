# Tests of the gradient baselines (issue 3); included from tests/CMakeLists.txt.
# test_gradient_<prec>: backprop vs finite differences and plain loops, whole epochs vs a
# naive optimiser, at 1 and 2 ranks. The grad_* tests run admm-train itself and compare its
# results files with test_gradient's h5cmp / h5learn modes.
set(GRAD_MPIEXEC ${MPIEXEC}) # tests/CMakeLists.txt: nn-mpiexec, MPIEXEC_* honoured
set(GRAD_DIR ${CMAKE_CURRENT_BINARY_DIR})
set(GRAD_DATA --data synthetic --n-train 1024 --n-test 512 --validation 0 --layers 16,32,4 --quiet 1)

foreach(prec f64 f32)
  add_executable(test_gradient_${prec} ${CMAKE_CURRENT_LIST_DIR}/test_gradient.c)
  target_link_libraries(test_gradient_${prec} PRIVATE nnkernels_${prec})
  if(prec STREQUAL f32)
    target_compile_definitions(test_gradient_${prec} PRIVATE NN_FLOAT32)
  endif()
  foreach(np 1 2 4)
    # 4 ranks (tiny problem, latency-bound on 2 cores): node-shared sums in groups of 2 with an
    # allreduce across them, as on two nodes
    if(np EQUAL 4 AND prec STREQUAL f32)
      continue()
    endif()
    add_test(NAME gradient_${prec}_np${np} COMMAND ${GRAD_MPIEXEC} -n ${np} $<TARGET_FILE:test_gradient_${prec}>)
    set_tests_properties(gradient_${prec}_np${np} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                         LABELS gradient PROCESSORS ${np})
  endforeach()
endforeach()

# One admm-train run whose results file grad-<name>.h5 later tests read (fixture grad_<name>).
function(grad_run name np)
  add_test(NAME grad_run_${name}
           COMMAND ${GRAD_MPIEXEC} -n ${np} $<TARGET_FILE:admm-train> ${GRAD_DATA} ${ARGN} --force
                   --output ${GRAD_DIR}/grad-${name}.h5)
  set_tests_properties(grad_run_${name} PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 120
                       FIXTURES_SETUP grad_${name} LABELS gradient PROCESSORS ${np})
endfunction()

# /weights of two runs agree to tol x max |w| (tol 0: identical bits).
function(grad_compare test a b tol)
  add_test(NAME ${test} COMMAND ${GRAD_MPIEXEC} -n 1 $<TARGET_FILE:test_gradient_f64> h5cmp
                                ${GRAD_DIR}/grad-${a}.h5 ${GRAD_DIR}/grad-${b}.h5 ${tol})
  set_tests_properties(${test} PROPERTIES FIXTURES_REQUIRED "grad_${a};grad_${b}" TIMEOUT 60
                       LABELS gradient)
endfunction()

# One epoch on 1 and on 2 ranks: the same global batches, so the same weights up to the
# order of summation (gd at 1 rank even takes the fused path, W += -lr/B dW in the GEMM).
foreach(m gd momentum adam)
  grad_run(${m}_np1 1 --method ${m} --epochs 1)
  grad_run(${m}_np2 2 --method ${m} --epochs 1)
  grad_compare(grad_np1_vs_np2_${m} ${m}_np1 ${m}_np2 1e-10)
endforeach()
grad_run(gd_f32_np1 1 --method gd --epochs 1 --precision float32)
grad_run(gd_f32_np2 2 --method gd --epochs 1 --precision float32)
grad_compare(grad_np1_vs_np2_gd_f32 gd_f32_np1 gd_f32_np2 1e-5)

# The gradient sum through node-shared memory (the default) against one MPI_Allreduce of all
# gradients with the update on every rank (--reduce-group 1): two terms add up to the same
# bits in either order, so 2 ranks give identical weights.
foreach(m gd adam)
  grad_run(${m}_np2_allreduce 2 --method ${m} --epochs 1 --reduce-group 1)
  grad_compare(grad_shared_vs_allreduce_${m} ${m}_np2 ${m}_np2_allreduce 0)
endforeach()

# The same seed twice: identical bits.
grad_run(adam_np1_again 1 --method adam --epochs 1)
grad_run(momentum_np2_again 2 --method momentum --epochs 1)
grad_compare(grad_same_seed_adam_np1 adam_np1 adam_np1_again 0)
grad_compare(grad_same_seed_momentum_np2 momentum_np2 momentum_np2_again 0)

# Learning: the mean mini-batch loss at least halves from the first epoch to the last, the
# test accuracy rises and ends above 0.9 (chance is 0.25 on 512 samples). Batch and lr are
# set so that no method has already converged after its first epoch.
set(GRAD_LEARN_gd 2 --batch 32)
set(GRAD_LEARN_momentum 2)
set(GRAD_LEARN_adam 2 --batch 32)
set(GRAD_LEARN_sgd 1 --lr 0.001)
foreach(m gd momentum adam sgd)
  grad_run(learn_${m} ${GRAD_LEARN_${m}} --method ${m} --epochs 4)
  add_test(NAME grad_learns_${m} COMMAND ${GRAD_MPIEXEC} -n 1 $<TARGET_FILE:test_gradient_f64> h5learn
                                         ${GRAD_DIR}/grad-learn_${m}.h5 0.9)
  set_tests_properties(grad_learns_${m} PROPERTIES FIXTURES_REQUIRED grad_learn_${m} TIMEOUT 60
                       LABELS gradient)
endforeach()

# Pure SGD on 2 ranks is refused: non-zero exit, a one-line reason, no results file left.
add_test(NAME grad_sgd_np2_refused
         COMMAND sh -c "out=$(\"$0\" -n 2 \"$1\" --method sgd --data synthetic --n-train 64 --validation 0 --layers 4,3 --epochs 1 --output \"$2\" 2>&1) && exit 1 || ( echo \"$out\" && echo \"$out\" | grep -q 'pure SGD' && test ! -e \"$2\" && test ! -e \"$2.part\" )"
                 ${GRAD_MPIEXEC} $<TARGET_FILE:admm-train> ${GRAD_DIR}/grad-sgd-np2.h5)
set_tests_properties(grad_sgd_np2_refused PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1" TIMEOUT 60
                     LABELS gradient PROCESSORS 2)

