# Warnings every weld target compiles with.
function(weld_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion)
  if(WELD_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
