# to_net_http.rb - Ruby's Net::HTTP (Ruby 3 sockets are non-blocking: it
# waits in poll via IO#wait_readable / connect_nonblock) under the shim, for
# tests/80-timeouts-runtimes.t.
#
#   ruby to_net_http.rb connect|request|keepalive PORT N [CTL]
#
# Every default timeout is kept (open_timeout 60 s, read_timeout 60 s,
# write_timeout 60 s) and so is max_retries (1: an idempotent GET that
# fails is tried once more).  Modes as tests/clients/to_httpclient.java:
# connect and request make a new Net::HTTP session per call; keepalive
# keeps one started session (call 0 and call 1 on one connection; after an
# error Net::HTTP reconnects by itself).  Prints "I MS OUTCOME DETAIL":
# sNNN, or the exception's class and message.
require 'net/http'
mode, port, n, ctl = ARGV
port = port.to_i
def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)
def call(i)
  t0 = now
  out = begin
    "s#{yield.code}"
  rescue StandardError => e
    "#{e.class} #{e.message.gsub("\n", ' ')}"
  end
  puts "#{i} #{((now - t0) * 1000).round} #{out}"
  $stdout.flush
end
if mode == 'keepalive'
  h = Net::HTTP.new('127.0.0.1', port)
  h.start
  call(0) { h.get('/') }
  File.write(ctl + '.tmp', "hang\n")
  File.rename(ctl + '.tmp', ctl)
  sleep 0.25
  (1..n.to_i).each do |i|
    call(i) do
      h.start unless h.started?
      h.get('/')
    end
  end
else
  (1..n.to_i).each { |i| call(i) { Net::HTTP.new('127.0.0.1', port).start { |s| s.get('/') } } }
end
