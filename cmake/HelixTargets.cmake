# One place for the flags every helix target gets (docs/STYLE.md section 9).

set(HELIX_WARNINGS
    -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual)

if(HELIX_SANITIZE)
  set(HELIX_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all
                            -fno-omit-frame-pointer)
endif()

# helix_target_defaults(target): warnings, sanitizers, include root.
function(helix_target_defaults target)
  target_compile_options(${target} PRIVATE ${HELIX_WARNINGS})
  if(HELIX_SANITIZE)
    target_compile_options(${target} PRIVATE ${HELIX_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE ${HELIX_SANITIZER_FLAGS})
  endif()
endfunction()

# helix_library(name SOURCES... DEPS...): a static library rooted at the
# repository top so includes read "queues/job.h".
function(helix_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  helix_target_defaults(${name})
endfunction()
