# Finds the stack the suite links: MPI, parallel HDF5, ScaLAPACK (with BLACS), BLAS with CBLAS,
# LAPACK, LAPACKE's header, zlib. Included once from the top-level CMakeLists.txt. Every choice
# can be overridden from the cache (INSTALL lists the recipes):
#   MPI_C_COMPILER, MPIEXEC_EXECUTABLE          FindMPI's own (a bare name is looked up on PATH)
#   HDF5_C_COMPILER_EXECUTABLE, HDF5_ROOT       FindHDF5's own (h5pcc of a parallel HDF5)
#   NN_SCALAPACK_LIBRARIES                      ScaLAPACK + BLACS, replacing the search
#   NN_BLAS_LIBRARIES, NN_BLAS_INCLUDE_DIRS     BLAS + LAPACK (+ LAPACKE), replacing the search
#   BLA_VENDOR                                  FindBLAS's vendor (OpenBLAS, Intel10_64lp_seq, ...)
# Defines the INTERFACE targets nn_hdf5, nn_blas and nn_scalapack, and NN_MPI_FLAVOR (mpich,
# openmpi, intel, cray-mpich, mvapich or unknown). Debian ships one HDF5 and one ScaLAPACK per
# MPI (hdf5/mpich, hdf5/openmpi, libscalapack-mpich, libscalapack-openmpi) and its alternatives
# point /usr/bin/mpicc, mpiexec and h5pcc at OpenMPI when both are installed: the stack is
# therefore picked by the MPI found, never by those generic names, and checked for mixing.
include(CheckCSourceCompiles)

# Installed binaries keep the run path of libraries outside the system directories (Spack,
# modules): set before any target is created.
set(CMAKE_INSTALL_RPATH_USE_LINK_PATH ON)

# A cache path given as a bare name (-DMPI_C_COMPILER=mpicc.openmpi) is looked up on PATH:
# FindMPI and FindHDF5 accept absolute paths only.
function(nn_absolute_program var)
  if(${var} AND NOT IS_ABSOLUTE "${${var}}")
    find_program(_nn_abs_${var} NAMES "${${var}}")
    if(NOT _nn_abs_${var})
      message(FATAL_ERROR "${var}=${${var}}: no such program on PATH")
    endif()
    set(${var} "${_nn_abs_${var}}" CACHE FILEPATH "${var}" FORCE)
    unset(_nn_abs_${var} CACHE)
  endif()
endfunction()

# The SONAME (field SONAME) or the NEEDED entries (field NEEDED) of a shared library; empty for
# a static library, a linker flag or without objdump.
function(nn_elf_field lib field out)
  set(values "")
  if(CMAKE_OBJDUMP AND IS_ABSOLUTE "${lib}" AND EXISTS "${lib}" AND NOT lib MATCHES "\\.a$")
    execute_process(COMMAND "${CMAKE_OBJDUMP}" -p "${lib}" OUTPUT_VARIABLE dump ERROR_QUIET RESULT_VARIABLE rc)
    if(rc EQUAL 0)
      string(REGEX MATCHALL "[ \t]${field}[ \t]+[^ \t\r\n]+" lines "${dump}")
      foreach(l IN LISTS lines)
        string(REGEX REPLACE "^[ \t]${field}[ \t]+" "" v "${l}")
        list(APPEND values "${v}")
      endforeach()
    endif()
  endif()
  set(${out} "${values}" PARENT_SCOPE)
endfunction()

# Every MPI library that LIBS were linked against (NEEDED libmpi.so.N / libmpich.so.N) must be
# the one found (NN_MPI_SONAMES): a ScaLAPACK or HDF5 built for another MPI links, then crashes
# or deadlocks at run time.
function(nn_check_same_mpi what)
  if(NOT NN_MPI_SONAMES)
    return()
  endif()
  foreach(lib IN LISTS ARGN)
    nn_elf_field("${lib}" NEEDED needed)
    foreach(n IN LISTS needed)
      if(n MATCHES "^libmpi(ch)?\\.so" AND NOT n IN_LIST NN_MPI_SONAMES)
        message(FATAL_ERROR "${what} ${lib} was built against ${n}, but the MPI found is ${NN_MPI_SONAMES} "
                "(${MPI_C_LIBRARIES}, from MPI_C_COMPILER=${MPI_C_COMPILER}). Use the ${what} built for "
                "this MPI, or the MPI it was built for (see INSTALL).")
      endif()
    endforeach()
  endforeach()
endfunction()

# --- MPI --------------------------------------------------------------------------------------
# MPICH stays the default on Debian: with no MPI named (no MPI_C_COMPILER, no MPI_HOME) and no
# mpicc on PATH other than Debian's /usr/bin/mpicc (an alternative that may be OpenMPI's),
# take /usr/bin/mpicc.mpich. A module's or Spack's mpicc first on PATH wins as FindMPI would.
set(NN_MPI_HOW "FindMPI")
if(NOT MPI_C_COMPILER AND NOT MPI_HOME AND NOT DEFINED ENV{MPI_HOME} AND EXISTS /usr/bin/mpicc.mpich)
  find_program(_nn_path_mpicc NAMES mpicc)
  if(NOT _nn_path_mpicc OR _nn_path_mpicc STREQUAL "/usr/bin/mpicc")
    set(MPI_C_COMPILER /usr/bin/mpicc.mpich CACHE FILEPATH "MPI C compiler wrapper" FORCE)
  endif()
  unset(_nn_path_mpicc CACHE)
endif()
nn_absolute_program(MPI_C_COMPILER)
if(MPI_C_COMPILER STREQUAL "/usr/bin/mpicc.mpich")
  set(NN_MPI_HOW "Debian's MPICH, the default: -DMPI_C_COMPILER=... for another MPI")
endif()
nn_absolute_program(MPIEXEC_EXECUTABLE)
nn_absolute_program(HDF5_C_COMPILER_EXECUTABLE)
# Debian's wrappers carry the MPI's name (mpicc.mpich, mpicc.openmpi): take the launcher and
# h5pcc of the same name, as /usr/bin/mpiexec and /usr/bin/h5pcc may belong to the other MPI.
set(_nn_suffix "")
if(MPI_C_COMPILER)
  get_filename_component(_nn_cc_name "${MPI_C_COMPILER}" NAME)
  get_filename_component(_nn_cc_dir "${MPI_C_COMPILER}" DIRECTORY)
  if(_nn_cc_name MATCHES "^mpicc(\\.[A-Za-z0-9_-]+)$")
    set(_nn_suffix "${CMAKE_MATCH_1}")
  endif()
endif()
if(_nn_suffix AND NOT MPIEXEC_EXECUTABLE)
  find_program(_nn_mpiexec NAMES mpiexec${_nn_suffix} mpirun${_nn_suffix} HINTS "${_nn_cc_dir}" NO_DEFAULT_PATH)
  if(_nn_mpiexec)
    set(MPIEXEC_EXECUTABLE "${_nn_mpiexec}" CACHE FILEPATH "MPI launcher" FORCE)
  endif()
  unset(_nn_mpiexec CACHE)
endif()
if(_nn_suffix AND NOT HDF5_C_COMPILER_EXECUTABLE)
  find_program(_nn_h5pcc NAMES h5pcc${_nn_suffix} HINTS "${_nn_cc_dir}" NO_DEFAULT_PATH)
  if(_nn_h5pcc)
    set(HDF5_C_COMPILER_EXECUTABLE "${_nn_h5pcc}" CACHE FILEPATH "HDF5 C compiler wrapper" FORCE)
  endif()
  unset(_nn_h5pcc CACHE)
endif()

set(MPI_DETERMINE_LIBRARY_VERSION ON) # MPI_C_LIBRARY_VERSION_STRING: which MPI this is
find_package(MPI REQUIRED COMPONENTS C)

# Which MPI this is: by its version string (first), else by its library's path.
set(NN_MPI_FLAVOR unknown)
set(_nn_mpi_id "${MPI_C_LIBRARY_VERSION_STRING}")
if(NOT _nn_mpi_id)
  set(_nn_mpi_id "${MPI_C_LIBRARIES}")
endif()
if(_nn_mpi_id MATCHES "Open MPI|openmpi|libopen-")
  set(NN_MPI_FLAVOR openmpi)
elseif(_nn_mpi_id MATCHES "Intel\\(R\\) MPI|/intel")
  set(NN_MPI_FLAVOR intel)
elseif(_nn_mpi_id MATCHES "CRAY MPICH|/cray/")
  set(NN_MPI_FLAVOR cray-mpich)
elseif(_nn_mpi_id MATCHES "MVAPICH|mvapich")
  set(NN_MPI_FLAVOR mvapich)
elseif(_nn_mpi_id MATCHES "MPICH|mpich")
  set(NN_MPI_FLAVOR mpich)
endif()
# Debian's name for this MPI in its per-MPI packages (hdf5/<name>, libscalapack-<name>)
set(NN_MPI_DEBIAN_NAME "")
if(NN_MPI_FLAVOR STREQUAL "mpich" OR NN_MPI_FLAVOR STREQUAL "openmpi")
  set(NN_MPI_DEBIAN_NAME ${NN_MPI_FLAVOR})
endif()
set(NN_MPI_SONAMES "")
foreach(lib IN LISTS MPI_C_LIBRARIES)
  nn_elf_field("${lib}" SONAME so)
  if(so MATCHES "^libmpi(ch)?\\.so")
    list(APPEND NN_MPI_SONAMES ${so})
  endif()
endforeach()

# The launcher must start this MPI's programs: Debian's /usr/bin/mpiexec is OpenMPI's as soon
# as OpenMPI is installed, and MPICH's hydra cannot start OpenMPI programs (nor the reverse).
if(MPIEXEC_EXECUTABLE AND NN_MPI_DEBIAN_NAME)
  execute_process(COMMAND "${MPIEXEC_EXECUTABLE}" --version OUTPUT_VARIABLE _nn_launcher_v
                  ERROR_VARIABLE _nn_launcher_v TIMEOUT 20 RESULT_VARIABLE _nn_rc)
  if((NN_MPI_FLAVOR STREQUAL "mpich" AND _nn_launcher_v MATCHES "OpenRTE|Open MPI") OR
     (NN_MPI_FLAVOR STREQUAL "openmpi" AND _nn_launcher_v MATCHES "HYDRA"))
    message(FATAL_ERROR "MPIEXEC_EXECUTABLE=${MPIEXEC_EXECUTABLE} is not a launcher of ${NN_MPI_FLAVOR} "
            "(MPI_C_COMPILER=${MPI_C_COMPILER}): pass -DMPIEXEC_EXECUTABLE=/usr/bin/mpiexec.${NN_MPI_FLAVOR}")
  endif()
endif()

# --- parallel HDF5 ----------------------------------------------------------------------------
set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 REQUIRED COMPONENTS C)
set(NN_HDF5_INCLUDE_DIRS ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
list(REMOVE_DUPLICATES NN_HDF5_INCLUDE_DIRS)
set(NN_HDF5_LIBRARIES ${HDF5_C_LIBRARIES})
if(NOT NN_HDF5_LIBRARIES)
  set(NN_HDF5_LIBRARIES ${HDF5_LIBRARIES})
endif()
add_library(nn_hdf5 INTERFACE IMPORTED)
target_include_directories(nn_hdf5 INTERFACE ${NN_HDF5_INCLUDE_DIRS})
target_link_libraries(nn_hdf5 INTERFACE ${NN_HDF5_LIBRARIES} MPI::MPI_C)
if(HDF5_C_DEFINITIONS OR HDF5_DEFINITIONS)
  string(REGEX REPLACE "(^| )-D" "\\1" _nn_h5defs "${HDF5_C_DEFINITIONS} ${HDF5_DEFINITIONS}")
  separate_arguments(_nn_h5defs)
  target_compile_definitions(nn_hdf5 INTERFACE ${_nn_h5defs})
endif()
if(DEFINED HDF5_IS_PARALLEL AND NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "HDF5 ${HDF5_VERSION} at ${NN_HDF5_LIBRARIES} is serial (HDF5_IS_PARALLEL is false): "
          "the suite writes its results with MPI-IO. Point -DHDF5_C_COMPILER_EXECUTABLE at the h5pcc "
          "of an HDF5 built with MPI (or -DHDF5_ROOT at its prefix).")
endif()
foreach(lib IN LISTS NN_HDF5_LIBRARIES)
  if(lib MATCHES "/hdf5/(mpich|openmpi)/" AND NOT CMAKE_MATCH_1 STREQUAL NN_MPI_DEBIAN_NAME)
    message(FATAL_ERROR "HDF5 ${lib} is Debian's ${CMAKE_MATCH_1} build, but the MPI is ${NN_MPI_FLAVOR} "
            "(${MPI_C_COMPILER}): pass -DHDF5_C_COMPILER_EXECUTABLE=/usr/bin/h5pcc.${NN_MPI_DEBIAN_NAME} "
            "(or the h5pcc of an HDF5 built with this MPI)")
  endif()
endforeach()
nn_check_same_mpi(HDF5 ${NN_HDF5_LIBRARIES})
# The check that matters: H5Pset_fapl_mpio exists and links with this MPI.
set(CMAKE_REQUIRED_INCLUDES ${NN_HDF5_INCLUDE_DIRS})
set(CMAKE_REQUIRED_LIBRARIES nn_hdf5)
set(CMAKE_REQUIRED_QUIET ON)
unset(NN_HDF5_HAS_MPIO CACHE)
check_c_source_compiles("
#include <hdf5.h>
#include <mpi.h>
int main(void) { hid_t p = H5Pcreate(H5P_FILE_ACCESS); return H5Pset_fapl_mpio(p, MPI_COMM_WORLD, MPI_INFO_NULL) < 0; }"
  NN_HDF5_HAS_MPIO)
if(NOT NN_HDF5_HAS_MPIO)
  message(FATAL_ERROR "HDF5 ${HDF5_VERSION} (${NN_HDF5_LIBRARIES}, headers ${NN_HDF5_INCLUDE_DIRS}) has no "
          "H5Pset_fapl_mpio that links with this MPI: it is not a parallel HDF5, or not built for "
          "${MPI_C_COMPILER}. See CMakeFiles/CMakeError.log.")
endif()

# --- BLAS with CBLAS, LAPACK, LAPACKE's header --------------------------------------------------
set(NN_BLAS_LIBRARIES "" CACHE STRING
    "BLAS with CBLAS and LAPACK (and LAPACKE), replacing the search: e.g. /opt/openblas/lib/libopenblas.so, or MKL's mkl_intel_lp64;mkl_sequential;mkl_core;pthread;m;dl")
set(NN_BLAS_INCLUDE_DIRS "" CACHE STRING "where cblas.h and lapacke.h are, if not found by themselves")
find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(NN_PC_OPENBLAS QUIET openblas)
  pkg_check_modules(NN_PC_LAPACKE QUIET lapacke)
endif()
if(NN_BLAS_LIBRARIES)
  set(_nn_blas ${NN_BLAS_LIBRARIES})
  set(NN_BLAS_HOW "NN_BLAS_LIBRARIES")
else()
  find_package(BLAS QUIET)
  find_package(LAPACK QUIET)
  if(BLAS_FOUND AND LAPACK_FOUND)
    set(_nn_blas ${LAPACK_LIBRARIES} ${BLAS_LIBRARIES})
    list(REMOVE_DUPLICATES _nn_blas)
    set(NN_BLAS_HOW "FindBLAS/FindLAPACK, BLA_VENDOR=${BLA_VENDOR}")
  elseif(NN_PC_OPENBLAS_FOUND)
    set(_nn_blas ${NN_PC_OPENBLAS_LINK_LIBRARIES})
    set(NN_BLAS_HOW "pkg-config openblas")
  else()
    message(FATAL_ERROR "no BLAS with LAPACK found (FindBLAS/FindLAPACK, pkg-config openblas): install "
            "OpenBLAS, or give -DBLA_VENDOR=... or -DNN_BLAS_LIBRARIES=... (see INSTALL)")
  endif()
endif()
# Headers: cblas.h and lapacke.h (solver/real.h, bench/). Looked for beside the libraries and in
# OpenBLAS's own folders first, so that the cblas.h matches the library (OPENBLAS_VERSION).
set(_nn_hints ${NN_BLAS_INCLUDE_DIRS} ${NN_PC_OPENBLAS_INCLUDE_DIRS} ${NN_PC_LAPACKE_INCLUDE_DIRS})
foreach(lib IN LISTS _nn_blas)
  if(IS_ABSOLUTE "${lib}")
    get_filename_component(d "${lib}" DIRECTORY)
    list(APPEND _nn_hints "${d}/../include")
  endif()
endforeach()
if(DEFINED ENV{MKLROOT})
  list(APPEND _nn_hints "$ENV{MKLROOT}/include")
endif()
set(NN_BLAS_INCLUDES "")
foreach(h cblas lapacke)
  find_path(NN_${h}_INCLUDE_DIR ${h}.h HINTS ${_nn_hints} PATH_SUFFIXES openblas)
  if(NN_${h}_INCLUDE_DIR)
    list(APPEND NN_BLAS_INCLUDES ${NN_${h}_INCLUDE_DIR})
  else()
    # MKL ships mkl_cblas.h and mkl_lapacke.h only: a one-line header of the plain name
    find_path(NN_mkl_${h}_INCLUDE_DIR mkl_${h}.h HINTS ${_nn_hints})
    if(NOT NN_mkl_${h}_INCLUDE_DIR)
      message(FATAL_ERROR "${h}.h not found (BLAS: ${_nn_blas}): give -DNN_BLAS_INCLUDE_DIRS=DIR")
    endif()
    file(WRITE ${CMAKE_BINARY_DIR}/generated/blas/${h}.h "#include <mkl_${h}.h> /* generated by cmake/dependencies.cmake */\n")
    list(APPEND NN_BLAS_INCLUDES ${CMAKE_BINARY_DIR}/generated/blas ${NN_mkl_${h}_INCLUDE_DIR})
  endif()
endforeach()
list(REMOVE_DUPLICATES NN_BLAS_INCLUDES)
# LAPACKE: its library where there is one (the code needs only its header today)
set(NN_LAPACKE_LIBRARY "")
if(NOT NN_BLAS_LIBRARIES)
  if(NN_PC_LAPACKE_FOUND)
    set(NN_LAPACKE_LIBRARY ${NN_PC_LAPACKE_LINK_LIBRARIES})
  else()
    find_library(NN_LAPACKE_LIB NAMES lapacke)
    if(NN_LAPACKE_LIB)
      set(NN_LAPACKE_LIBRARY ${NN_LAPACKE_LIB})
    endif()
  endif()
endif()
add_library(nn_blas INTERFACE IMPORTED)
target_include_directories(nn_blas INTERFACE ${NN_BLAS_INCLUDES})
target_link_libraries(nn_blas INTERFACE ${NN_LAPACKE_LIBRARY} ${_nn_blas})
set(CMAKE_REQUIRED_INCLUDES ${NN_BLAS_INCLUDES})
set(CMAKE_REQUIRED_LIBRARIES nn_blas m)
unset(NN_BLAS_LINKS CACHE)
check_c_source_compiles("
#include <cblas.h>
#include <lapacke.h>
void dpotrf_(const char *, const int *, double *, const int *, int *, size_t);
int main(void) { double a = 4; int n = 1, info; dpotrf_(\"L\", &n, &a, &n, &info, 1);
  cblas_dscal(1, 0.5, &a, 1); return (int)a; }" NN_BLAS_LINKS)
if(NOT NN_BLAS_LINKS)
  message(FATAL_ERROR "BLAS ${_nn_blas} (headers ${NN_BLAS_INCLUDES}) does not provide cblas_dscal and "
          "LAPACK's dpotrf_: see CMakeFiles/CMakeError.log; give -DNN_BLAS_LIBRARIES=... (see INSTALL)")
endif()

# --- ScaLAPACK (with BLACS and PBLAS) -----------------------------------------------------------
set(NN_SCALAPACK_LIBRARIES "" CACHE STRING
    "ScaLAPACK with BLACS for this MPI, replacing the search: e.g. MKL's mkl_scalapack_lp64;mkl_blacs_intelmpi_lp64, Cray LibSci's sci_gnu_mpi, or /opt/scalapack/lib/libscalapack.so")
if(NN_SCALAPACK_LIBRARIES)
  set(_nn_scalapack ${NN_SCALAPACK_LIBRARIES})
  set(NN_SCALAPACK_HOW "NN_SCALAPACK_LIBRARIES")
else()
  # Debian: one library per MPI, named after it (not scalapack-<mpi>.pc, whose "Requires: mpi"
  # follows the alternative); elsewhere plain libscalapack (netlib, Spack).
  set(_nn_names scalapack)
  if(NN_MPI_DEBIAN_NAME)
    set(_nn_names scalapack-${NN_MPI_DEBIAN_NAME} scalapack)
  endif()
  find_library(NN_SCALAPACK_LIB NAMES ${_nn_names} NAMES_PER_DIR)
  if(NOT NN_SCALAPACK_LIB)
    message(FATAL_ERROR "ScaLAPACK not found (names: ${_nn_names}): install libscalapack-${NN_MPI_DEBIAN_NAME}-dev "
            "on Debian, or give -DNN_SCALAPACK_LIBRARIES=... (see INSTALL)")
  endif()
  set(_nn_scalapack ${NN_SCALAPACK_LIB})
  set(NN_SCALAPACK_HOW "found by name (${_nn_names})")
endif()
foreach(lib IN LISTS _nn_scalapack)
  get_filename_component(n "${lib}" NAME)
  if(n MATCHES "scalapack-(mpich|openmpi)" AND NOT CMAKE_MATCH_1 STREQUAL NN_MPI_DEBIAN_NAME)
    message(FATAL_ERROR "ScaLAPACK ${lib} is Debian's ${CMAKE_MATCH_1} build, but the MPI is ${NN_MPI_FLAVOR} "
            "(${MPI_C_COMPILER}): use libscalapack-${NN_MPI_DEBIAN_NAME}, or the MPI it was built for")
  endif()
endforeach()
nn_check_same_mpi(ScaLAPACK ${_nn_scalapack})
add_library(nn_scalapack INTERFACE IMPORTED)
target_link_libraries(nn_scalapack INTERFACE ${_nn_scalapack} nn_blas MPI::MPI_C)
set(CMAKE_REQUIRED_INCLUDES "")
set(CMAKE_REQUIRED_LIBRARIES nn_scalapack)
unset(NN_SCALAPACK_LINKS CACHE)
check_c_source_compiles("
void Cblacs_get(int, int, int *);
void pdpotrf_(void);
void pdgemm_(void);
int main(int argc, char **argv) { (void)argv; if (argc > 99) { int c; Cblacs_get(-1, 0, &c); pdpotrf_(); pdgemm_(); }
  return 0; }" NN_SCALAPACK_LINKS)
unset(CMAKE_REQUIRED_LIBRARIES)
unset(CMAKE_REQUIRED_INCLUDES)
unset(CMAKE_REQUIRED_QUIET)
if(NOT NN_SCALAPACK_LINKS)
  message(FATAL_ERROR "ScaLAPACK ${_nn_scalapack} does not link with BLACS (Cblacs_get), pdpotrf_ and pdgemm_ "
          "against ${_nn_blas} and ${MPI_C_LIBRARIES}: see CMakeFiles/CMakeError.log; give "
          "-DNN_SCALAPACK_LIBRARIES=... (with BLACS; see INSTALL)")
endif()

find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED) # the I/O watchdog (io/io_failure.c)

# --- what was picked --------------------------------------------------------------------------
message(STATUS "admm-nn ${PROJECT_VERSION} configuration:")
string(REGEX REPLACE "[\r\n].*" "" _nn_mpi_line "${MPI_C_LIBRARY_VERSION_STRING}")
message(STATUS "  MPI        ${NN_MPI_FLAVOR} (${_nn_mpi_line}), MPI ${MPI_C_VERSION}: ${MPI_C_COMPILER} [${NN_MPI_HOW}]")
message(STATUS "             libraries ${MPI_C_LIBRARIES}")
message(STATUS "  launcher   ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} N ${MPIEXEC_PREFLAGS} PROGRAM ${MPIEXEC_POSTFLAGS}")
string(REPLACE ";" " " _nn_h5libs "${NN_HDF5_LIBRARIES}")
message(STATUS "  HDF5       ${HDF5_VERSION}, parallel: ${_nn_h5libs}")
message(STATUS "  ScaLAPACK  ${_nn_scalapack} [${NN_SCALAPACK_HOW}]")
message(STATUS "  BLAS       ${_nn_blas} [${NN_BLAS_HOW}]")
message(STATUS "  LAPACKE    ${NN_LAPACKE_LIBRARY}; headers ${NN_BLAS_INCLUDES}")
message(STATUS "  zlib       ${ZLIB_LIBRARIES}")
message(STATUS "  -march     ${NN_MARCH}")
