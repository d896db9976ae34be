#!/bin/bash
# Unit tests of the INI parser and matcher (shim/core/config.c).
exec "$(dirname "$0")/../build/t/config_test"
