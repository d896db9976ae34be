// to_httpclient.java - Java 17's java.net.http.HttpClient (NIO: it waits in
// a selector, epoll) under the shim, for tests/80-timeouts-runtimes.t.
// Run from source (java to_httpclient.java ...) or compiled (class ToHttpClient).
//
//   ToHttpClient connect|request|keepalive PORT N [CTL]
//
// Every default timeout is kept: no connectTimeout on the client, no
// timeout on the request (the JDK's defaults: none).  Only HTTP/1.1 is
// asked for (no h2c upgrade), which is no timeout.
//   connect    N GETs to http://127.0.0.1:PORT/ (a blackhole: the connect hangs)
//   request    N GETs (a server that accepts and never answers)
//   keepalive  one GET answered (call 0) on a kept-alive connection, then
//              "hang" is written to the faultserver control file CTL, then
//              N GETs (the first on the pooled connection)
// Prints one line per call, "I MS OUTCOME DETAIL": I the call's number, MS
// its wall time in ms, OUTCOME sNNN for an answer, else the exception's
// class chain (outer/cause/...), DETAIL the innermost message.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

class ToHttpClient {
    public static void main(String[] a) throws Exception {
        String mode = a[0];
        int port = Integer.parseInt(a[1]);
        int n = Integer.parseInt(a[2]);
        HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).GET().build();
        if (mode.equals("keepalive")) {
            call(0, c, r);
            Path ctl = Path.of(a[3]), tmp = Path.of(a[3] + ".tmp");
            Files.writeString(tmp, "hang\n");
            Files.move(tmp, ctl, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(250);
        }
        for (int i = 1; i <= n; i++)
            call(i, c, r);
        System.exit(0);
    }

    static void call(int i, HttpClient c, HttpRequest r) {
        long t0 = System.nanoTime();
        String out;
        try {
            HttpResponse<String> resp = c.send(r, HttpResponse.BodyHandlers.ofString());
            out = "s" + resp.statusCode();
        } catch (Exception e) {
            out = chain(e);
        }
        System.out.println(i + " " + (System.nanoTime() - t0) / 1000000 + " " + out);
        System.out.flush();
    }

    static String chain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        String msg = "";
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) sb.append('/');
            sb.append(t.getClass().getName());
            if (t.getMessage() != null) msg = t.getMessage();
        }
        return sb + " " + msg;
    }
}
