package org.sat2diffusers.pipeline.e2e;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 in front of an HTTP server (S3Proxy) that follows the HTTP/1.1 exchanges
 * passing through it: it counts the body bytes the server sends for object GETs (what a conversion
 * downloads, without headers and listings) and the raw bytes, and can play a server that dies in
 * the middle of a download.
 */
final class HttpCountingProxy implements AutoCloseable {
  private final int targetPort;
  private final ServerSocket server;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicLong objectBodyBytes = new AtomicLong();
  private final AtomicLong rawBytes = new AtomicLong();
  private volatile long dropAfterObjectBytes = Long.MAX_VALUE;
  private volatile boolean dead;

  HttpCountingProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Body bytes of object GET responses since the last reset. */
  long objectBodyBytes() {
    return objectBodyBytes.get();
  }

  /** Every byte the server sent since the last reset (headers, listings, bodies). */
  long rawBytes() {
    return rawBytes.get();
  }

  void resetCounts() {
    objectBodyBytes.set(0);
    rawBytes.set(0);
  }

  /**
   * Once {@code bytes} more object body bytes have been served, cuts every connection in the middle
   * of its response and refuses all later ones, like a server that went away.
   */
  void dieAfterObjectBytes(long bytes) {
    dropAfterObjectBytes = objectBodyBytes.get() + bytes;
  }

  @Override
  public void close() throws IOException {
    dead = true;
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (dead) {
          client.close();
          continue;
        }
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true); // small requests and responses: no Nagle delays
        upstream.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(upstream);
        BlockingQueue<Request> requests = new LinkedBlockingQueue<>();
        start(() -> forwardRequests(client, upstream, requests), client, upstream);
        start(() -> forwardResponses(upstream, client, requests), client, upstream);
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private interface Pump {
    void run() throws IOException, InterruptedException;
  }

  private void start(Pump pump, Socket a, Socket b) {
    Thread t = new Thread(() -> {
      try {
        pump.run();
      } catch (IOException | InterruptedException e) {
        // a side closed: close the other
      } finally {
        closeQuietly(a);
        closeQuietly(b);
      }
    }, "proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private record Request(String method, String target) {
    /** GET of /bucket/key (path style), not a listing or another sub-resource. */
    boolean isObjectGet() {
      String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
      return method.equals("GET") && path.indexOf('/', 1) > 0 && path.indexOf('/', 1) < path.length() - 1
          && !target.contains("list-type") && !target.contains("uploads") && !target.contains("uploadId");
    }
  }

  private void forwardRequests(Socket client, Socket upstream, BlockingQueue<Request> requests) throws IOException {
    InputStream in = new BufferedInputStream(client.getInputStream());
    OutputStream out = new BufferedOutputStream(upstream.getOutputStream());
    while (true) {
      Head head = Head.read(in, out);
      if (head == null) {
        return;
      }
      String[] line = head.firstLine.split(" ");
      Request request = new Request(line[0], line[1]);
      requests.add(request);
      copyBody(head, in, out, false, false);
    }
  }

  private void forwardResponses(Socket upstream, Socket client, BlockingQueue<Request> requests)
      throws IOException, InterruptedException {
    InputStream in = new BufferedInputStream(upstream.getInputStream());
    OutputStream out = new CountingOutput(new BufferedOutputStream(client.getOutputStream()), rawBytes);
    while (true) {
      Head head = Head.read(in, out);
      if (head == null) {
        return;
      }
      int status = Integer.parseInt(head.firstLine.split(" ")[1]);
      if (status / 100 == 1) {
        continue; // 100 Continue: the final response follows
      }
      Request request = requests.poll(30, TimeUnit.SECONDS);
      boolean noBody = request == null || request.method.equals("HEAD") || status == 204 || status == 304;
      if (!noBody) {
        copyBody(head, in, out, true, request.isObjectGet() && status / 100 == 2);
      }
    }
  }

  /** Forwards one message body, framed by Content-Length, chunked encoding, or the end of the connection. */
  private void copyBody(Head head, InputStream in, OutputStream out, boolean response, boolean countAsObject)
      throws IOException {
    if (head.chunked) {
      while (true) {
        String size = Head.line(in, out);
        long n = Long.parseLong(size.split(";")[0].trim(), 16);
        if (n == 0) {
          while (!Head.line(in, out).isEmpty()) {
            // trailers
          }
          return;
        }
        copy(in, out, n, countAsObject);
        Head.line(in, out);
      }
    }
    if (head.contentLength >= 0) {
      copy(in, out, head.contentLength, countAsObject);
    } else if (response) {
      copy(in, out, Long.MAX_VALUE, countAsObject);
    }
  }

  private void copy(InputStream in, OutputStream out, long length, boolean countAsObject) throws IOException {
    byte[] buffer = new byte[8192];
    long left = length;
    while (left > 0) {
      int chunk = (int) Math.min(buffer.length, left);
      if (countAsObject) {
        long allowed = dropAfterObjectBytes - objectBodyBytes.get();
        if (allowed <= 0) {
          die();
        }
        chunk = (int) Math.min(chunk, allowed);
      }
      int n = in.read(buffer, 0, chunk);
      if (n < 0) {
        if (length == Long.MAX_VALUE) {
          out.flush();
          return;
        }
        throw new IOException("connection closed in a body");
      }
      out.write(buffer, 0, n);
      out.flush();
      if (countAsObject) {
        objectBodyBytes.addAndGet(n);
      }
      left -= n;
    }
  }

  private void die() throws IOException {
    dead = true;
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    throw new IOException("the proxy cut the connection");
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  /** The start line and headers of one message, forwarded as they are read. */
  private static final class Head {
    String firstLine;
    long contentLength = -1;
    boolean chunked;

    static Head read(InputStream in, OutputStream out) throws IOException {
      String first = line(in, out);
      if (first == null) {
        return null;
      }
      Head head = new Head();
      head.firstLine = first;
      for (String h = line(in, out); h != null && !h.isEmpty(); h = line(in, out)) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          head.contentLength = Long.parseLong(h.substring(h.indexOf(':') + 1).trim());
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          head.chunked = true;
        }
      }
      out.flush();
      return head;
    }

    /** One CRLF-terminated line, forwarded; null at the end of the stream before any byte. */
    static String line(InputStream in, OutputStream out) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      while (true) {
        if (in.available() == 0) {
          out.flush(); // forward what came before waiting: never hold bytes back, whatever the framing
        }
        int b = in.read();
        if (b < 0) {
          break;
        }
        out.write(b);
        if (b == '\n') {
          String s = bytes.toString(StandardCharsets.ISO_8859_1);
          return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
        }
        bytes.write(b);
      }
      if (bytes.size() == 0) {
        return null;
      }
      throw new IOException("connection closed in a header line");
    }
  }

  /** Counts what goes out. */
  private static final class CountingOutput extends OutputStream {
    private final OutputStream out;
    private final AtomicLong count;

    CountingOutput(OutputStream out, AtomicLong count) {
      this.out = out;
      this.count = count;
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count.incrementAndGet();
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
      count.addAndGet(len);
    }

    @Override
    public void flush() throws IOException {
      out.flush();
    }
  }
}
