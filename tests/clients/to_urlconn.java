// to_urlconn.java - Java's java.net.HttpURLConnection (blocking sockets:
// it waits in connect() and read()) under the shim, for
// tests/80-timeouts-runtimes.t.  Class ToUrlConn.
//
//   ToUrlConn connect|request|keepalive PORT N [CTL]
//
// Every default timeout is kept (connectTimeout 0 and readTimeout 0: none).
// Modes and output as tests/clients/to_httpclient.java: "I MS OUTCOME DETAIL".
// keepalive: the answer of call 0 is read to its end and closed, so the
// connection goes back to the JDK's KeepAliveCache and call 1 reuses it.
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

class ToUrlConn {
    public static void main(String[] a) throws Exception {
        String mode = a[0];
        int port = Integer.parseInt(a[1]);
        int n = Integer.parseInt(a[2]);
        URL u = new URL("http://127.0.0.1:" + port + "/");
        if (mode.equals("keepalive")) {
            call(0, u);
            Path ctl = Path.of(a[3]), tmp = Path.of(a[3] + ".tmp");
            Files.writeString(tmp, "hang\n");
            Files.move(tmp, ctl, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Thread.sleep(250);
        }
        for (int i = 1; i <= n; i++)
            call(i, u);
        System.exit(0);
    }

    static void call(int i, URL u) {
        long t0 = System.nanoTime();
        String out;
        try {
            HttpURLConnection h = (HttpURLConnection) u.openConnection();
            int st = h.getResponseCode();
            try (InputStream in = h.getInputStream()) {
                in.readAllBytes();
            }
            out = "s" + st;
        } catch (Exception e) {
            out = ToUrlConnChain.chain(e);
        }
        System.out.println(i + " " + (System.nanoTime() - t0) / 1000000 + " " + out);
        System.out.flush();
    }
}

class ToUrlConnChain {
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
