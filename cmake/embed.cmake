# Writes a C++ source that defines `NAME` (and NAME + "Size") in namespace sk::shim with
# the bytes of INPUT. Run as: cmake -DINPUT=… -DOUTPUT=… -DNAME=… -P embed.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
# One line per 32 bytes keeps the generated file readable by tools.
string(REGEX REPLACE "(('[^']*',){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed.cmake; do not edit.\n"
  "#include <cstddef>\n"
  "namespace sk::shim {\n"
  "extern const char ${NAME}[];\n"
  "extern const size_t ${NAME}Size;\n"
  "const char ${NAME}[] = {\n${bytes}'\\0'};\n"
  "const size_t ${NAME}Size = ${size};\n"
  "}  // namespace sk::shim\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
