# Installs headers, libraries and apps, plus dualpipeConfig.cmake for find_package(dualpipe).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dualpipe DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ${DUALPIPE_EXPORTED_LIBRARIES} EXPORT dualpipeTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(DUALPIPE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/dualpipe)
install(EXPORT dualpipeTargets NAMESPACE dualpipe:: DESTINATION ${DUALPIPE_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/dualpipeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/dualpipeConfig.cmake INSTALL_DESTINATION ${DUALPIPE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/dualpipeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/dualpipeConfig.cmake
              ${PROJECT_BINARY_DIR}/dualpipeConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/Findre2.cmake
        DESTINATION ${DUALPIPE_CMAKE_DIR})
