# What `serve` answers /docs and /openapi.json with, generated at build time and compiled into
# the binary (docs/decisions/0018-docs-embedded-in-the-binary.md):
#  - openapi.json: openapi.yaml without what only API Gateway reads, plus examples
#    (cmake/openapi_json.py; needs python3 with PyYAML);
#  - the page (src/server/docs_page) and Swagger UI's files from the swagger-ui-dist npm
#    package that package-lock.json pins (node_modules, from `npm ci`; `make build` runs
#    scripts/install-deps.sh, which runs it, first);
#  - one C++ source holding them all (cmake/embed_files.py).
# Both inputs are checked at configure time: a build without them would serve a broken page.

find_program(CRUD_PYTHON3 python3)
set(CRUD_SWAGGER_UI_DIR ${PROJECT_SOURCE_DIR}/node_modules/swagger-ui-dist)

function(crud_docs_files target)
  if(NOT CRUD_PYTHON3)
    message(FATAL_ERROR "python3 not found: the build derives /openapi.json from openapi.yaml "
                        "with it (scripts/install-deps.sh installs it)")
  endif()
  execute_process(COMMAND ${CRUD_PYTHON3} -c "import yaml" RESULT_VARIABLE no_yaml
                  OUTPUT_QUIET ERROR_QUIET)
  if(no_yaml)
    message(FATAL_ERROR "${CRUD_PYTHON3} cannot import yaml (PyYAML): the build derives "
                        "/openapi.json from openapi.yaml with it")
  endif()
  if(NOT EXISTS ${CRUD_SWAGGER_UI_DIR}/swagger-ui-bundle.js)
    message(FATAL_ERROR "${CRUD_SWAGGER_UI_DIR} is missing: the build embeds Swagger UI "
                        "from it for GET /docs. Run `npm ci` in ${PROJECT_SOURCE_DIR} (or "
                        "scripts/install-deps.sh, which `make build` runs first).")
  endif()

  set(page ${PROJECT_SOURCE_DIR}/src/server/docs_page)
  set(openapi_json ${CMAKE_CURRENT_BINARY_DIR}/openapi.json)
  add_custom_command(
    OUTPUT ${openapi_json}
    COMMAND ${CRUD_PYTHON3} -B ${PROJECT_SOURCE_DIR}/cmake/openapi_json.py
            ${PROJECT_SOURCE_DIR}/openapi.yaml ${page}/openapi_examples.yaml ${openapi_json}
    DEPENDS ${PROJECT_SOURCE_DIR}/cmake/openapi_json.py ${PROJECT_SOURCE_DIR}/openapi.yaml
            ${page}/openapi_examples.yaml
    COMMENT "Deriving openapi.json from openapi.yaml"
    VERBATIM)

  # URL path = file. swagger-ui-bundle.js is the whole UI with BaseLayout, so the standalone
  # preset (the top bar) is left out.
  set(entries
      /docs=${page}/index.html
      /docs/docs.js=${page}/docs.js
      /docs/swagger-ui.css=${CRUD_SWAGGER_UI_DIR}/swagger-ui.css
      /docs/swagger-ui-bundle.js=${CRUD_SWAGGER_UI_DIR}/swagger-ui-bundle.js
      /docs/favicon-32x32.png=${CRUD_SWAGGER_UI_DIR}/favicon-32x32.png
      /docs/favicon-16x16.png=${CRUD_SWAGGER_UI_DIR}/favicon-16x16.png
      /openapi.json=${openapi_json})
  set(files)
  foreach(entry IN LISTS entries)
    string(REGEX REPLACE "^[^=]*=" "" file ${entry})
    list(APPEND files ${file})
  endforeach()
  set(cpp ${CMAKE_CURRENT_BINARY_DIR}/docs_files.cpp)
  add_custom_command(
    OUTPUT ${cpp}
    COMMAND ${CRUD_PYTHON3} -B ${PROJECT_SOURCE_DIR}/cmake/embed_files.py ${cpp}
            server/docs_files.hpp crud::server::docs_files ${entries}
    DEPENDS ${PROJECT_SOURCE_DIR}/cmake/embed_files.py ${files}
            ${CRUD_SWAGGER_UI_DIR}/package.json
    COMMENT "Embedding the /docs page, Swagger UI and openapi.json"
    VERBATIM)

  add_library(${target} STATIC ${cpp})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  # String literals only: no warnings worth reading, and optimization has nothing to do.
  target_compile_options(${target} PRIVATE -O0 -w)
endfunction()
