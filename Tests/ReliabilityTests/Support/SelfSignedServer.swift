import DriftTestSupport
import Foundation
import Testing

/// A local HTTPS server with a freshly generated self-signed certificate (for 127.0.0.1), run with
/// python3's `http.server` + `ssl`: what a receiver or an API with a bad certificate looks like.
/// It logs every HTTP request it reads; a client that verifies certificates never gets that far.
final class SelfSignedServer {
    let port: Int
    let requestLog: String
    private let process: ChildProcess

    var url: String { "https://127.0.0.1:\(port)" }
    /// HTTP request lines the server read (after a completed TLS handshake).
    var requests: [String] {
        ((try? String(contentsOfFile: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    private init(port: Int, requestLog: String, process: ChildProcess) {
        self.port = port
        self.requestLog = requestLog
        self.process = process
    }

    static func start(in dir: TemporaryDirectory) async throws -> SelfSignedServer {
        let cert = dir.file("selfsigned.pem")
        let key = dir.file("selfsigned.key")
        let openssl = try await ChildProcess.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], logDirectory: dir.path, name: "openssl")
        guard openssl.status == 0 else { throw HarnessError("openssl failed: \(openssl.stderr)") }
        let log = dir.file("https-requests.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let script = try dir.write("https_server.py", """
            import http.server, ssl, sys
            cert, key, log = sys.argv[1], sys.argv[2], sys.argv[3]
            class Handler(http.server.BaseHTTPRequestHandler):
                def record(self):
                    length = int(self.headers.get("content-length") or 0)
                    if length: self.rfile.read(length)
                    with open(log, "a") as f: f.write(self.command + " " + self.path + "\\n")
                    self.send_response(204); self.end_headers()
                do_GET = do_POST = record
                def log_message(self, *args): pass
            server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """)
        let python = try ChildProcess("/usr/bin/env", ["python3", script, cert, key, log], logDirectory: dir.path, name: "https-server")
        try await eventually(timeout: .seconds(15), "the self-signed HTTPS server listens") {
            if !python.isRunning { throw HarnessError("https server exited: \(python.stderr)") }
            return Int(python.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) != nil
        }
        let port = Int(python.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
        return SelfSignedServer(port: port, requestLog: log, process: python)
    }

    /// SIGKILL: Foundation's `Process` hands its children a blocked signal mask, so SIGTERM would wait.
    func stop() async {
        process.signal(SIGKILL)
        _ = try? await process.waitForExit(timeout: .seconds(10))
    }
}
