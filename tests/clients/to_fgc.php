<?php
// to_fgc.php - PHP's file_get_contents() over its http:// wrapper (PHP
// streams: a non-blocking connect and a poll() before each read) under the
// shim, for tests/80-timeouts-runtimes.t.
//
//   php to_fgc.php connect|request PORT N
//
// Every default timeout is kept (default_socket_timeout = 60 s, for the
// connect and for each read).  N calls, each a new connection (the wrapper
// sends "Connection: close": no keep-alive).  Prints "I MS OUTCOME DETAIL":
// sNNN, or "error" and the warning PHP raised.
[$self, $mode, $port, $n] = $argv;
for ($i = 1; $i <= (int)$n; $i++) {
    $t0 = hrtime(true);
    error_clear_last();
    $body = @file_get_contents("http://127.0.0.1:$port/");
    $ms = intdiv(hrtime(true) - $t0, 1000000);
    if ($body === false) {
        $e = error_get_last();
        $out = "error " . str_replace("\n", " ", $e ? $e['message'] : '?');
    } else {
        $st = isset($http_response_header[0]) ? explode(' ', $http_response_header[0])[1] : '?';
        $out = "s$st";
    }
    echo "$i $ms $out\n";
}
