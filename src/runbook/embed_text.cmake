# Writes a C++ source defining a function that returns a text file's content, so the file
# stays the single source of the text compiled into the binary. Run by add_custom_command:
#   cmake -DINPUT=file.yaml -DOUTPUT=out.cc -DNAMESPACE=dbrunbook::runbook
#         -DFUNCTION=DefaultRunbookText -P embed_text.cmake
file(READ "${INPUT}" text)
set(delimiter "dbrunbook_text")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains ')${delimiter}\"', which ends the raw string literal")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_text.cmake at build time: edit that file, not this one.\n"
  "#include <string_view>\n\n"
  "namespace ${NAMESPACE} {\n\n"
  "std::string_view ${FUNCTION}() {\n"
  "  static constexpr std::string_view kText = R\"${delimiter}(${text})${delimiter}\";\n"
  "  return kText;\n"
  "}\n\n"
  "}  // namespace ${NAMESPACE}\n")
# Only touch the output when it changed, so an unrelated re-run does not rebuild the library.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
