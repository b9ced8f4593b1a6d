# Registers `target`'s tests once more, on DynamoDB served by moto_server: names prefixed
# "moto.", labels dynamodb, moto and no-sanitizer (the ASan pass leaves them out: it runs the same
# code on dynalite, and moto's start-up would cost it minutes). gtest_discover_tests splits
# list-valued PROPERTIES into separate arguments, so it sets one variable and one label, and an
# include file that CTest reads after the discovery sets the full lists on every test found.
function(crud_discover_moto_tests target)
  cmake_parse_arguments(arg "" "TEST_FILTER" "" ${ARGN})
  gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST
                       WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                       TEST_PREFIX "moto."
                       TEST_FILTER "${arg_TEST_FILTER}"
                       TEST_LIST ${target}_moto_tests
                       PROPERTIES LABELS moto ENVIRONMENT CRUD_DYNAMODB_ENGINE=moto)
  set(properties ${CMAKE_CURRENT_BINARY_DIR}/${target}_moto_properties.cmake)
  file(WRITE ${properties}
       "if(${target}_moto_tests)\n"
       "  set_tests_properties(\${${target}_moto_tests} PROPERTIES\n"
       "    ENVIRONMENT \"CRUD_E2E_STORE=dynamodb;CRUD_DYNAMODB_ENGINE=moto\"\n"
       "    LABELS \"dynamodb;moto;no-sanitizer\")\n"
       "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${properties})
endfunction()
