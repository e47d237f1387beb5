# Writes OUTPUT, a C++ file defining FindWebAsset over the files in ASSETS,
# a list of "served/path=source/file" pairs. Run by a custom command, so it
# reruns when a source file changes.
set(entries "")
set(arrays "")
set(i 0)
string(REPLACE "|" ";" ASSETS "${ASSETS}")
foreach(pair ${ASSETS})
  string(REPLACE "=" ";" parts "${pair}")
  list(GET parts 0 served)
  list(GET parts 1 source)
  file(READ "${source}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  if(served MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(served MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(served MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(served MATCHES "\\.svg$")
    set(type "image/svg+xml")
  else()
    set(type "application/octet-stream")
  endif()
  string(APPEND arrays "const char kAsset${i}[] = {${bytes} 0};\n")
  string(APPEND entries "    {\"${served}\", \"${type}\", std::string_view(kAsset${i}, ${len})},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE "${OUTPUT}.tmp" "// Generated from web/ by cmake/embed_assets.cmake; do not edit.
#include \"observatory/api/web_assets.h\"

namespace backspan::observatory {
namespace {
${arrays}
const WebAsset kAssets[] = {
${entries}};
}  // namespace

const WebAsset* FindWebAsset(std::string_view path) {
  for (const WebAsset& a : kAssets)
    if (path == a.path) return &a;
  return nullptr;
}

}  // namespace backspan::observatory
")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
