#!/bin/bash
# Unit tests of a config's image file (shim/core/image.c): read back equal
# to the parsed config, mapped in place or copied, and refused when stale,
# fresh, damaged, truncated, another build's or owner's, or off.
exec "$(dirname "$0")/../build/t/image_test"
