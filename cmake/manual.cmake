# cmake -DBIN=meterbridge -DOUT=dir -P manual.cmake: writes the man pages and the
# bash completion that `meterbridge manual` prints (daemon/cli/manual.cpp).
file(MAKE_DIRECTORY ${OUT})
foreach(pair "1;meterbridge.1" "5;meterbridge.toml.5" "completion;meterbridge.bash")
  list(GET pair 0 page)
  list(GET pair 1 name)
  execute_process(COMMAND ${BIN} manual ${page} OUTPUT_FILE ${OUT}/${name}.tmp
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${BIN} manual ${page} failed: ${rc}")
  endif()
  file(RENAME ${OUT}/${name}.tmp ${OUT}/${name})
endforeach()
