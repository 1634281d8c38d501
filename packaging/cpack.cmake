# SPDX-License-Identifier: Apache-2.0
# Install rules and the Debian packages vigil-agent and vigil-collector
# (CPack, one package per component). From a build folder:
#   cpack -G DEB --config CPackConfig.cmake -B OUTDIR
# The binaries find the shipped rules under CMAKE_INSTALL_PREFIX, which is
# /usr by default (CMakeLists.txt) so that the packages and the binaries
# agree.
include_guard(GLOBAL)

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(WARNING "CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}: packages "
    "built from this tree are not Debian's layout (use /usr)")
endif()

set(VIGIL_PKG_SRC ${CMAKE_SOURCE_DIR}/packaging)
set(VIGIL_PKG_OUT ${CMAKE_BINARY_DIR}/packaging)
# Absolute on purpose: the binaries' built-in defaults are /etc/vigil/*.yaml
# whatever the prefix, and Debian 12 keeps units in /lib/systemd/system.
set(VIGIL_ETC /etc/vigil)
set(VIGIL_UNITS /lib/systemd/system)
set(VIGIL_SHARE ${CMAKE_INSTALL_DATADIR}/vigil)
set(VIGIL_DOC ${CMAKE_INSTALL_DATADIR}/doc)
set(VIGIL_MAN8 ${CMAKE_INSTALL_MANDIR}/man8)

# Debian wants the changelog and man pages compressed with gzip -9n (no
# name or time stamp inside, so the packages are reproducible).
file(MAKE_DIRECTORY ${VIGIL_PKG_OUT})
foreach(pair "debian/changelog;changelog.gz" "man/vigil-agent.8;vigil-agent.8.gz"
             "man/vigil-collector.8;vigil-collector.8.gz")
  list(GET pair 0 src)
  list(GET pair 1 dst)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${VIGIL_PKG_SRC}/${src})
  execute_process(COMMAND gzip -9nc
    INPUT_FILE ${VIGIL_PKG_SRC}/${src} OUTPUT_FILE ${VIGIL_PKG_OUT}/${dst}
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "gzip ${src}: failed")
  endif()
endforeach()

# The captures and GeoIP databases that the rule test cases name
# (capture: ../../tests/data/pcap/...), so that "vigil-agent rules test
# /usr/share/vigil/rules/tests" runs on an installed system.
file(GLOB vigil_cases ${CMAKE_SOURCE_DIR}/rules/tests/*.yaml)
set(vigil_case_pcaps "")
foreach(case ${vigil_cases})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${case})
  file(STRINGS ${case} lines REGEX "^capture: *\\.\\./\\.\\./tests/data/pcap/")
  foreach(line ${lines})
    string(REGEX REPLACE "^capture: *\\.\\./\\.\\./" "" rel "${line}")
    string(STRIP "${rel}" rel)
    list(APPEND vigil_case_pcaps ${CMAKE_SOURCE_DIR}/${rel})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES vigil_case_pcaps)

# Stripped binaries (CPACK_STRIP_FILES) also lose the compilers' .comment
# notes, as Debian's dh_strip does.
function(vigil_strip_comment target component)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment
        \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/${target}\"
        RESULT_VARIABLE rc)
      if(NOT rc EQUAL 0)
        message(FATAL_ERROR \"strip ${target}: failed\")
      endif()
    endif()" COMPONENT ${component})
endfunction()

# --- vigil-agent ------------------------------------------------------
install(TARGETS vigil-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        COMPONENT agent)
vigil_strip_comment(vigil-agent agent)
install(FILES ${VIGIL_PKG_SRC}/debian/agent.yaml DESTINATION ${VIGIL_ETC}
        COMPONENT agent)
install(DIRECTORY DESTINATION ${VIGIL_ETC}/rules.d COMPONENT agent)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/rules/ DESTINATION ${VIGIL_SHARE}/rules
        COMPONENT agent)
install(FILES ${vigil_case_pcaps} ${CMAKE_SOURCE_DIR}/tests/data/pcap/SOURCES.md
        DESTINATION ${VIGIL_SHARE}/tests/data/pcap COMPONENT agent)
install(FILES ${CMAKE_SOURCE_DIR}/tests/data/geoip/country-geolite2.mmdb
              ${CMAKE_SOURCE_DIR}/tests/data/geoip/asn-geolite2.mmdb
        DESTINATION ${VIGIL_SHARE}/tests/data/geoip COMPONENT agent)
install(FILES ${VIGIL_PKG_SRC}/systemd/vigil-agent.service
        DESTINATION ${VIGIL_UNITS} COMPONENT agent)
install(FILES ${VIGIL_PKG_OUT}/vigil-agent.8.gz DESTINATION ${VIGIL_MAN8}
        COMPONENT agent)
install(FILES ${VIGIL_PKG_SRC}/debian/copyright ${VIGIL_PKG_OUT}/changelog.gz
              ${CMAKE_SOURCE_DIR}/SECURITY.md
        DESTINATION ${VIGIL_DOC}/vigil-agent COMPONENT agent)
install(FILES ${VIGIL_PKG_SRC}/config/agent.yaml
        DESTINATION ${VIGIL_DOC}/vigil-agent/examples COMPONENT agent)
install(FILES ${CMAKE_SOURCE_DIR}/dashboards/grafana/vigil-agent.json
        ${CMAKE_SOURCE_DIR}/dashboards/grafana/README.md
        DESTINATION ${VIGIL_DOC}/vigil-agent/examples/grafana COMPONENT agent)

install(FILES ${VIGIL_PKG_SRC}/debian/agent/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME vigil-agent COMPONENT agent)

# --- vigil-collector --------------------------------------------------
if(TARGET vigil-collector)
  install(TARGETS vigil-collector RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
          COMPONENT collector)
  vigil_strip_comment(vigil-collector collector)
  install(FILES ${VIGIL_PKG_SRC}/debian/collector.yaml DESTINATION ${VIGIL_ETC}
          COMPONENT collector)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/dashboards/web/
          DESTINATION ${VIGIL_SHARE}/dashboards/web COMPONENT collector)
  install(FILES ${VIGIL_PKG_SRC}/systemd/vigil-collector.service
          DESTINATION ${VIGIL_UNITS} COMPONENT collector)
  install(FILES ${VIGIL_PKG_OUT}/vigil-collector.8.gz DESTINATION ${VIGIL_MAN8}
          COMPONENT collector)
  install(FILES ${VIGIL_PKG_SRC}/debian/copyright ${VIGIL_PKG_OUT}/changelog.gz
          DESTINATION ${VIGIL_DOC}/vigil-collector COMPONENT collector)
  install(FILES ${VIGIL_PKG_SRC}/config/collector.yaml
          DESTINATION ${VIGIL_DOC}/vigil-collector/examples COMPONENT collector)
  install(FILES ${VIGIL_PKG_SRC}/debian/collector/lintian-overrides
          DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
          RENAME vigil-collector COMPONENT collector)
  set(CPACK_COMPONENTS_ALL agent collector)
else()
  set(CPACK_COMPONENTS_ALL agent)
endif()

# --- CPack --------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The Vigil contributors")
set(CPACK_PACKAGE_CONTACT "Vigil developers <security@vigil.invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES TRUE)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
    WORLD_READ WORLD_EXECUTE)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_SOURCE vigil)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# Library dependencies from dpkg-shlibdeps (dpkg-dev), plus adduser for
# the maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

set(CPACK_DEBIAN_AGENT_PACKAGE_NAME vigil-agent)
set(CPACK_DEBIAN_AGENT_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_AGENT_DESCRIPTION
"network and file security monitoring agent
Vigil captures traffic with libpcap, classifies every flow with nDPI,
matches flows against detection rules and indicator lists (with GeoIP and
ASN enrichment), scans the files of watched folders with YARA, and reports
what it finds as EVE JSON events to a monitoring center through Redis
Streams, with an on-disk spool so that no alert is lost while the center
is out of reach.
.
This package holds the agent, its shipped rules with their test cases and
a hardened systemd unit running it as the system user vigil.")
set(CPACK_DEBIAN_AGENT_PACKAGE_CONTROL_EXTRA
    "${VIGIL_PKG_SRC}/debian/agent/conffiles;${VIGIL_PKG_SRC}/debian/agent/postinst;${VIGIL_PKG_SRC}/debian/agent/prerm;${VIGIL_PKG_SRC}/debian/agent/postrm")

set(CPACK_DEBIAN_COLLECTOR_PACKAGE_NAME vigil-collector)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_RECOMMENDS redis-server)
set(CPACK_DEBIAN_COLLECTOR_DESCRIPTION
"event archive, API and dashboard of a Vigil monitoring center
The collector reads the event streams that Vigil agents publish to Redis,
as a member of a consumer group, archives every event in a daily file per
agency, and serves an HTTP API and a web dashboard of the alerts.
.
This package holds the collector, the dashboard's files and a hardened
systemd unit running it as the system user vigil-collector.")
set(CPACK_DEBIAN_COLLECTOR_PACKAGE_CONTROL_EXTRA
    "${VIGIL_PKG_SRC}/debian/collector/conffiles;${VIGIL_PKG_SRC}/debian/collector/postinst;${VIGIL_PKG_SRC}/debian/collector/prerm;${VIGIL_PKG_SRC}/debian/collector/postrm")

include(CPack)
