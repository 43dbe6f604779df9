# What `cmake --install` puts where (GNUInstallDirs), the same tree the Debian
# package ships: the binary, the unit, the example configuration, the man
# pages and the bash completion (made by the binary itself from its command
# line and key tables, daemon/CMakeLists.txt), and the documentation.
#   cmake --install build --prefix /usr      # /usr/bin, /etc, /lib/systemd/system
include(GNUInstallDirs)

set(MB_INSTALLED_BINARY ${CMAKE_INSTALL_FULL_BINDIR}/meterbridge)
set(MB_INSTALLED_CONFIG ${CMAKE_INSTALL_FULL_SYSCONFDIR}/meterbridge/meterbridge.toml)

# The unit: systemd's own directory for a /usr install, <prefix>/lib/systemd/system else.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(MB_SYSTEMD_UNITDIR systemd systemdsystemunitdir)
endif()
if(NOT MB_SYSTEMD_UNITDIR)
  set(MB_SYSTEMD_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()

# systemd/meterbridge.service is the one source of the unit and names the
# /usr paths, so that it verifies as it is; the installed copy names this
# install's binary, configuration and documentation.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
  ${PROJECT_SOURCE_DIR}/systemd/meterbridge.service)
file(READ ${PROJECT_SOURCE_DIR}/systemd/meterbridge.service mb_unit)
string(REPLACE "/usr/bin/meterbridge" "${MB_INSTALLED_BINARY}" mb_unit "${mb_unit}")
string(REPLACE "/etc/meterbridge/meterbridge.toml" "${MB_INSTALLED_CONFIG}" mb_unit "${mb_unit}")
string(REPLACE "/usr/share/doc/meterbridge" "${CMAKE_INSTALL_FULL_DOCDIR}" mb_unit "${mb_unit}")
file(WRITE ${PROJECT_BINARY_DIR}/meterbridge.service "${mb_unit}")

install(TARGETS meterbridge RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_BINARY_DIR}/meterbridge.service DESTINATION ${MB_SYSTEMD_UNITDIR})
# 0640: it may name brokers and users; the package gives it to group meterbridge.
install(FILES ${PROJECT_SOURCE_DIR}/etc/meterbridge.toml
  DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/meterbridge
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/BENCHMARKS.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs)
install(FILES ${PROJECT_BINARY_DIR}/man/meterbridge.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PROJECT_BINARY_DIR}/man/meterbridge.toml.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${PROJECT_BINARY_DIR}/man/meterbridge.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME meterbridge)

# The user and group, the state and spool directories: systemd-sysusers and
# systemd-tmpfiles read these (the package runs them from its maintainer scripts).
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(MB_SYSUSERSDIR systemd sysusersdir)
  pkg_get_variable(MB_TMPFILESDIR systemd tmpfilesdir)
endif()
if(NOT MB_SYSUSERSDIR)
  set(MB_SYSUSERSDIR ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
endif()
if(NOT MB_TMPFILESDIR)
  set(MB_TMPFILESDIR ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d)
endif()
install(FILES ${PROJECT_SOURCE_DIR}/systemd/meterbridge.sysusers DESTINATION ${MB_SYSUSERSDIR}
  RENAME meterbridge.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/meterbridge.tmpfiles DESTINATION ${MB_TMPFILESDIR}
  RENAME meterbridge.conf)
