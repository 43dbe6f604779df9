# CMAKE_PROJECT_INCLUDE hook used by bench/run.sh only while the top-level
# CMakeLists.txt does not yet include bench/ itself: reads bench/CMakeLists.txt
# at the end of the top-level directory, once every library and imported
# target exists (deferred calls may not add subdirectories, hence include()).
if(CMAKE_CURRENT_SOURCE_DIR STREQUAL CMAKE_SOURCE_DIR AND NOT MB_BENCH_STANDALONE_HOOKED)
  set(MB_BENCH_STANDALONE_HOOKED ON)
  # EVAL: expand the path now, not when the deferred call runs.
  cmake_language(EVAL CODE
    "cmake_language(DEFER CALL include [[${CMAKE_CURRENT_LIST_DIR}/CMakeLists.txt]])")
endif()
