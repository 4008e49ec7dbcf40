# mien_add_plugin(<name> SOURCES <files...> [LINK <targets...>] [OUTPUT_DIRECTORY <dir>]
#                 [INSTALL_DIR <dir>])
#
# Builds a plugin library libmien_<name>.so: a MODULE library with hidden visibility,
# so only the entry symbol mien_plugin_entry_v1 is exported. C and C++ sources both work.
# INSTALL_DIR (default: the variable MIEN_PLUGIN_INSTALL_DIR, if set) also installs it
# there with `cmake --install`; lib/mien/plugins, relative to the prefix, is the folder an
# installed mien in the same prefix searches.
include_guard(GLOBAL)
function(mien_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY;INSTALL_DIR" "SOURCES;LINK" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "mien_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE mien::plugin_api ${ARG_LINK})
  set_target_properties(${name} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "mien_${name}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  # Export only the entry symbol, so two plugins built with different copies of a
  # library (nlohmann_json, the C++ runtime's templates) can never bind to each other.
  set(_script "${CMAKE_CURRENT_BINARY_DIR}/${name}.exports.map")
  # file(CONFIGURE) rewrites it only when the text changes, so a re-configure does not relink.
  file(CONFIGURE OUTPUT "${_script}" CONTENT "{ global: mien_plugin_entry_v1; local: *; };\n")
  target_link_options(${name} PRIVATE "LINKER:--version-script=${_script}")
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${_script}")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED MIEN_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${MIEN_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_INSTALL_DIR AND DEFINED MIEN_PLUGIN_INSTALL_DIR)
    set(ARG_INSTALL_DIR "${MIEN_PLUGIN_INSTALL_DIR}")
  endif()
  if(ARG_INSTALL_DIR)
    install(TARGETS ${name} LIBRARY DESTINATION "${ARG_INSTALL_DIR}")
  endif()
endfunction()
