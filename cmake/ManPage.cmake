# SPDX-License-Identifier: MIT
# Man pages made from the tools' own --help at build time, so that they say
# what the installed tool does: build/man/<tool>.1 (cmake/ManPageGen.cmake
# writes the roff), installed into <mandir>/man1 (component host).
# tests/install checks that a rendered page shows every option of --help.

# bdtrace_man_page(<tool target> "<one-line summary for NAME>")
function(bdtrace_man_page tool summary)
  set(page ${CMAKE_BINARY_DIR}/man/${tool}.1)
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DTOOL=$<TARGET_FILE:${tool}> -DNAME=${tool} -DSUMMARY=${summary}
            -DVERSION=${PROJECT_VERSION} -DOUT=${page} -P ${PROJECT_SOURCE_DIR}/cmake/ManPageGen.cmake
    DEPENDS ${tool} ${PROJECT_SOURCE_DIR}/cmake/ManPageGen.cmake
    COMMENT "Man page ${tool}.1 from ${tool} --help"
    VERBATIM)
  add_custom_target(man-${tool} ALL DEPENDS ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT host)
endfunction()
