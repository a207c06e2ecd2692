# Overlay port: builds libdurablestreams from the checkout this file is in.
#   vcpkg install durablestreams --overlay-ports=<checkout>/ports
# (A registry port would use vcpkg_from_github with a release tag instead.)
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    server DS_BUILD_SERVER
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DDS_BUILD_TESTS=OFF
    -DDS_BUILD_EXAMPLES=OFF
    -DDS_INSTALL=ON
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH lib/cmake/durablestreams)
vcpkg_fixup_pkgconfig()

if("server" IN_LIST FEATURES)
  vcpkg_copy_tools(TOOL_NAMES durable-streams-server AUTO_CLEAN)
endif()

file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug/include")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
