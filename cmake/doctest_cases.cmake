# Registers each doctest test case of a target as its own ctest test, from the
# list of TEST_CASE names found in its sources (no need to run the binary at
# configure time, which a cross or sanitizer build may not allow).
function(dlc_add_doctest_cases target)
  get_target_property(sources ${target} SOURCES)
  get_target_property(dir ${target} SOURCE_DIR)
  foreach(src IN LISTS sources)
    if(NOT IS_ABSOLUTE ${src})
      set(src ${dir}/${src})
    endif()
    # Re-run the configuration when a test file changes, so new cases register.
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
    file(STRINGS ${src} lines REGEX "^[ \t]*TEST_CASE\\(\"")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*TEST_CASE\\(\"([^\"]+)\".*" "\\1" name "${line}")
      # doctest splits a filter at commas: escape them, or a name with one matches nothing.
      string(REPLACE "," "\\," filter "${name}")
      add_test(NAME unit/${name} COMMAND ${target} "--test-case=${filter}" --no-version)
      # A filter that runs no case passes in doctest: make it fail here.
      set_tests_properties(unit/${name} PROPERTIES FAIL_REGULAR_EXPRESSION "test cases: +0 [|]")
    endforeach()
  endforeach()
endfunction()
