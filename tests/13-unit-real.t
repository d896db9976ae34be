#!/bin/bash
# Unit test of the real-function table: a hooked name dlsym cannot find
# fails with ENOSYS and one log line, never a call through NULL.
exec "$(dirname "$0")/../build/t/real_test"
