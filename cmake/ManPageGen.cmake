# SPDX-License-Identifier: MIT
# cmake -DTOOL=PATH -DNAME=NAME -DSUMMARY=TEXT -DVERSION=V -DOUT=FILE -P ManPageGen.cmake
# Writes FILE, a man(7) page whose body is `TOOL --help` verbatim (cmake/ManPage.cmake).
# Only the text matters here: in a sanitized build (build-sanitize) the
# leak check at exit must not fail the build.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
execute_process(COMMAND ${TOOL} --help
  OUTPUT_VARIABLE help ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR help STREQUAL "")
  message(FATAL_ERROR "${TOOL} --help failed (status ${rc}): ${err}")
endif()

# roff: a backslash is \e; '-' is \- so that options print as the ASCII
# hyphen-minus users type (groff would make a typographic hyphen of it); a
# line that starts with '.' or '\'' would be a request: \& before it.
string(REPLACE "\\" "\\e" help "${help}")
string(REPLACE "-" "\\-" help "${help}")
string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
string(REGEX REPLACE "\n+$" "" help "${help}")
string(TOUPPER "${NAME}" title)
string(REPLACE "-" "\\-" summary "${SUMMARY}")

file(WRITE ${OUT} ".\\\" Generated from `${NAME} --help` by bdtrace's cmake/ManPageGen.cmake: edit the tool's help, not this.
.TH ${title} 1 \"\" \"bdtrace ${VERSION}\" \"bdtrace manual\"
.SH NAME
${NAME} \\- ${summary}
.SH DESCRIPTION
The text below is what
.B ${NAME} \\-\\-help
prints.
.PP
.nf
${help}
.fi
.SH SEE ALSO
.BR bd\\-run (1),
.BR bd\\-analyze (1),
.BR bd\\-mark (1),
.BR lttng (1),
.BR babeltrace2 (1)
")
