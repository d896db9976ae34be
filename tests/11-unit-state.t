#!/bin/bash
# Unit tests of the shared state file and the breaker state machine.
exec "$(dirname "$0")/../build/t/state_test"
