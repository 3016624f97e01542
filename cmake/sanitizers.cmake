# WELD_SANITIZE="address;undefined" instruments every target (tests included).
if(WELD_SANITIZE)
  string(REPLACE ";" "," _weld_sanitizers "${WELD_SANITIZE}")
  add_compile_options(-fsanitize=${_weld_sanitizers} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_weld_sanitizers})
endif()
