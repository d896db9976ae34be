#!/bin/bash
# Unit tests of the HTTP/1.x status-line reader (shim/core/http.c).
exec "$(dirname "$0")/../build/t/http_test"
