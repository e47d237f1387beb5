# One static library per source folder, so a target is what a folder is:
#
#   backspan_folder_library(<folder> [PUBLIC deps...] [PRIVATE deps...] [EXTRA sources...])
#
# builds every src/<folder>/*.cc (not its subfolders: each is a library of
# its own) into backspan_<folder>, with "/" in the folder's name as "_"
# (src/backend/s3 -> backspan_backend_s3). docs/architecture.md lists which
# folder may include which; the PUBLIC dependencies here follow it.
function(backspan_folder_library folder)
  cmake_parse_arguments(ARG "" "" "PUBLIC;PRIVATE;EXTRA;EXCLUDE" ${ARGN})
  string(REPLACE "/" "_" name "backspan_${folder}")
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${folder}/*.cc)
  foreach(excluded ${ARG_EXCLUDE})
    list(REMOVE_ITEM sources ${PROJECT_SOURCE_DIR}/src/${folder}/${excluded})
  endforeach()
  if(NOT sources AND NOT ARG_EXTRA)
    message(FATAL_ERROR "src/${folder} has no sources")
  endif()
  add_library(${name} STATIC ${sources} ${ARG_EXTRA})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
endfunction()
