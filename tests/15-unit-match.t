#!/bin/bash
# Unit tests of the compiled matcher (shim/core/index.c) against the linear
# scan, on random configs and on 100,000 patterns, and of the same configs
# read back from their images (core/image.h), in place and moved.
exec "$(dirname "$0")/../build/t/match_test"
