#!/bin/bash
# Unit tests of the clock: rc_now_us on clock_gettime, then on the TSC.
exec "$(dirname "$0")/../build/t/clock_test"
